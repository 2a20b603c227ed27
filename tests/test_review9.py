"""Regressions found reviewing session 8's recalc (review9): each test failed before its fix."""

from __future__ import annotations

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
