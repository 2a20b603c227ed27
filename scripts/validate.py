"""``validate(root)``: load every record, run every check, return one report."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Iterable, Optional

from .diagnostics import Report
from .repository import Repository, load, load_rels


def default_jobs() -> int:
    return max(1, min(os.cpu_count() or 1, 8))


def validate(
    root: Path | str,
    today: Optional[dt.date] = None,
    jobs: int = 1,
    use_cache: bool = True,
) -> tuple[Repository, Report]:
    """Load and check the whole repository under ``root``: every record (the
    Repository the rules and the site read) and every problem.

    When the validation cache (``crmdocs validate`` writes it) can answer —
    same code, same ``today``, no universe file changed — the report comes
    from it (new or changed daily files are checked) and the Repository from
    :func:`load_rels` alone, without running the cross-record checks again.
    Both must have seen the same bytes: every file loaded is compared with
    the hash the report stands on; any difference (a file written in
    between) means the plain run. Otherwise (or with ``use_cache`` False):
    :func:`validate_plain`. The cache is read, never written here."""
    from .cache import validate_report

    root = Path(root)
    today = today or dt.date.today()
    if not use_cache:
        return validate_plain(root, today, jobs)
    stats: dict = {}
    report = validate_report(root, today=today, jobs=jobs, stats=stats, cached_only=True)
    rels = stats.get("rels")
    hashes = stats.get("hashes")
    if report is None or rels is None or hashes is None:
        return validate_plain(root, today, jobs)
    repo, loading = load_rels(root, rels, jobs, digest=True)
    for rel, digest in repo.digests.items():
        known = hashes.get(rel)
        if known is not None and known != digest:
            return validate_plain(root, today, jobs)
    if not set(loading.diagnostics) <= set(report.diagnostics):  # e.g. a file unreadable since
        return validate_plain(root, today, jobs)
    return repo, report


def validate_plain(
    root: Path | str,
    today: Optional[dt.date] = None,
    jobs: int = 1,
) -> tuple[Repository, Report]:
    """Load everything and run every check, no cache: the reference answer."""
    from .checks import run_checks

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
