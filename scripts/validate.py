"""``validate(root)``: load every record, run every check, return one report."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Iterable, Optional

from .checks import run_checks
from .diagnostics import Report
from .repository import Repository, load


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def validate(
    root: Path | str,
    today: Optional[dt.date] = None,
    jobs: int = 1,
) -> tuple[Repository, Report]:
    """Load and check the whole repository under ``root``."""
    repo, report = load(root, jobs=jobs)
    report.extend(run_checks(repo, today or dt.date.today()))
    return repo, report


def restrict(report: Report, root: Path, paths: Iterable[str]) -> Report:
    """Keep only the problems inside ``paths`` (files or folders)."""
    wanted = []
    for p in paths:
        full = Path(p).resolve()
        try:
            wanted.append(full.relative_to(root.resolve()).as_posix())
        except ValueError:
            wanted.append(Path(p).as_posix())
    wanted = [w for w in wanted if w not in ("", ".")]
    if not wanted:
        return report
    out = Report(files=report.files)
    for d in report.diagnostics:
        if any(d.path == w or d.path.startswith(w.rstrip("/") + "/") for w in wanted):
            out.add(d)
    return out
