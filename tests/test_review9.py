"""Regressions found reviewing session 8's recalc (review9): each test failed before its fix."""

from __future__ import annotations

import datetime as dt
import os

from conftest import TODAY, MiniRepo
from crmdocs.scripts import repository
from crmdocs.scripts.validate import validate


def _same_bytes_new_files(mini: MiniRepo) -> None:
    """Every record file written afresh with its bytes and time (``cp -a`` of the tree, a checkout, a restore)."""
    for path in sorted(mini.records.rglob("*")):
        if path.is_file():
            data, st = path.read_bytes(), path.stat()
            copy = path.with_name(f".{path.name}.copy")  # (made while the old one exists: another inode)
            copy.write_bytes(data)
            os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns))
            os.replace(copy, path)


def test_after_a_copy_crmdocs_validate_lets_recalc_hold_the_facts_without_reading_the_files(mini, monkeypatch):
    mini.age()
    assert mini.cli("validate")[0] == 0
    _same_bytes_new_files(mini)
    assert mini.cli("validate")[0] == 0  # sees the new signatures: the facts are signed again
    assert mini.cli("validate")[0] == 0  # (nothing changed since: as before)
    read: list[str] = []
    real = repository._read_signed
    monkeypatch.setattr(repository, "_read_signed", lambda root, rel: read.append(rel) or real(root, rel))
    repo, report = validate(mini.root, today=TODAY, facts=True)  # as recalc loads
    assert not report.errors and repo.facts["diary"]
    assert not [rel for rel in read if "/diaries/" in rel or "/plans/" in rel or "/retailers/" in rel], read


def test_the_side_worker_writes_limits_in_the_first_week_of_sales(mini, monkeypatch):
    """``as_of`` in the first sales week (an office's first days, a past ``build --at``, after a gap in
    the sales longer than turnover_weeks): no retailer has a main brand in the weeks before. The worker's limits
    texts failed (IndexError), so every recalc there fell back to computing everything in one process."""
    from crmdocs.scripts import recalc, sidecar

    sides: list = []
    real = sidecar.start
    monkeypatch.setattr(sidecar, "start", lambda *a, **k: sides.append(real(*a, **k)) or sides[-1])
    mini.age()
    as_of = dt.date(2026, 9, 3)  # (the sales start on 2026-09-01: no week before it)
    want = recalc.render(recalc.compute(mini.root, handed_in=None, as_of=as_of, jobs=1))
    got = recalc.render(recalc.compute(mini.root, handed_in=None, as_of=as_of, jobs=2, files_only=True))
    assert got == want and any("/limits/" in rel for rel in got)
    assert len(sides) == 1 and sides[0].why == ""
