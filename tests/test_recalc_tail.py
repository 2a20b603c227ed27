"""What `crmdocs recalc` does after the side worker's files come: while it
waits for them, this process renders its own records (``Computed.rendered``,
UTF-8 bytes), so that only comparing or writing is left — the same files,
bytes and differences as rendering them all at the end."""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import MiniRepo, build_mini_repo

from crmdocs.scripts import recalc


@pytest.fixture
def office(tmp_path) -> MiniRepo:
    mini = MiniRepo(build_mini_repo(tmp_path))
    mini.age()
    recalc.compute(mini.root, handed_in=None, jobs=1)  # (the caches written: the worker can answer)
    return mini


def overlapped(root: Path):
    return recalc.compute(root, handed_in=None, jobs=2, files_only=True)


def plain(root: Path):
    return recalc.compute(root, handed_in=None, jobs=1)


def test_this_process_s_records_are_rendered_while_waiting(office):
    computed = overlapped(office.root)
    assert computed.texts, "the side worker's files were not taken"
    assert computed.rendered and set(computed.rendered) == set(computed.records)
    assert all(computed.rendered[rel] == recalc.render_record(rec).encode("utf-8") for rel, rec in computed.records.items())
    assert recalc.render(computed) == recalc.render(plain(office.root))


@pytest.mark.parametrize("jobs", [1, 2])
def test_writing_and_checking_with_rendered_records_gives_the_same_files(office, jobs):
    assert recalc.settle(office.root, overlapped(office.root), write_files=True, jobs=jobs).written
    expected = recalc.render(plain(office.root))
    base = recalc.computed_dir(office.root)
    assert {rel: (base / rel).read_text(encoding="utf-8") for rel in expected} == expected
    assert recalc.settle(office.root, overlapped(office.root), write_files=False, jobs=jobs) == []


def test_a_hand_edited_file_is_reported_as_without_rendering_ahead(office):
    recalc.settle(office.root, plain(office.root), write_files=True, jobs=1)
    computed = overlapped(office.root)
    mine = next(rel for rel in sorted(computed.rendered) if "/managers/" in rel)
    theirs = next(rel for rel in sorted(computed.texts))
    for rel in (mine, theirs):
        path = recalc.computed_dir(office.root) / rel
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        lines[3] = "  edited: by hand\n"
        path.write_text("".join(lines), encoding="utf-8")
    (recalc.computed_dir(office.root) / "2026-09" / "stray.yaml").write_text("x: 1\n", encoding="utf-8")
    found = recalc.settle(office.root, overlapped(office.root), write_files=False, jobs=2)
    expected = recalc.check(office.root, recalc.render(plain(office.root)))
    assert [d.format() for d in found] == [d.format() for d in expected]
    assert {d.kind for d in found} == {"differs", "extra"} and len(found) == 3
