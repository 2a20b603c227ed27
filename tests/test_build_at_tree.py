"""`crmdocs build --at REV` and `crmdocs recalc --diff REV` get the past tree
one way (history.tree_at): written by git itself (read-tree into a temporary
index + checkout-index; the archive extracted here only when git cannot), in
memory when it fits, with a copy of the working tree's caches — and build the
same site as the archive extracted here, from nothing, did."""

import os
import shutil
from pathlib import Path

import pytest

from conftest import run_cli
from test_history import _shop, two_months  # noqa: F401 - the fixture

from crmdocs.scripts import history

REPO = Path(__file__).resolve().parents[1]


def tree(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and ".cache" not in p.relative_to(folder).parts}


def test_the_past_tree_is_written_by_git_with_today_s_site_and_its_commit(two_months, monkeypatch):
    office, first, _ = two_months
    with monkeypatch.context() as m:
        m.setattr(history.tarfile, "open", lambda *a, **k: pytest.fail("the archive read in Python"))
        with history.tree_at(office.root, first) as past:
            ours = tree(past)
            assert _shop(past) == "李记便利店"
            assert (past / "mkdocs.yml").read_text() == "site_name: now\n"  # today's site configuration
            assert history.head_commit(past).sha == first
    assert not past.exists()
    monkeypatch.setattr(history, "_git_checkout", lambda src, sha, into: False)  # git cannot: extracted here
    with history.tree_at(office.root, first) as past:
        assert tree(past) == ours


def with_site(office):
    if not (REPO / "site").is_dir():
        pytest.skip("no site/ pages to build with")
    shutil.copy(REPO / "mkdocs.yml", office.root / "mkdocs.yml")
    shutil.copytree(REPO / "site", office.root / "site")


def test_the_past_tree_gets_a_copy_of_the_caches_and_leaves_the_working_ones(two_months):
    office, first, _ = two_months
    with_site(office)
    assert office.cli("validate")[0] == 0
    cache = office.root / ".cache" / "crmdocs"
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in cache.rglob("*") if p.is_file()}
    assert before
    with history.tree_at(office.root, first) as past:
        copied = {p.relative_to(past / ".cache" / "crmdocs") for p in (past / ".cache" / "crmdocs").rglob("*") if p.is_file()}
        assert copied == {p.relative_to(cache) for p in before}
    assert run_cli("--root", str(office.root), "build", "--at", first, "--quiet")[0] == 0
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in cache.rglob("*") if p.is_file()} == before


def test_build_at_builds_the_site_the_archive_extracted_from_nothing_built(two_months, monkeypatch, tmp_path):
    office, _, _ = two_months
    with_site(office)
    assert office.cli("validate")[0] == 0  # the working tree's caches filled, as a checkout in use has them
    shared = []
    real = history._share_caches
    monkeypatch.setattr(history, "_share_caches", lambda root, there: (shared.append(there), real(root, there)))
    code, out = run_cli("--root", str(office.root), "build", "--at", "2026-10-07", "--quiet", "--site-dir", str(tmp_path / "new"))
    assert code == 0, out
    assert len(shared) == 1 and not shared[0].exists()  # the past tree had the caches, and is gone
    monkeypatch.setattr(history, "_share_caches", lambda root, there: None)
    monkeypatch.setattr(history, "_git_checkout", lambda src, sha, into: False)
    code, out = run_cli("--root", str(office.root), "build", "--at", "2026-10-07", "--quiet", "--site-dir", str(tmp_path / "old"))
    assert code == 0, out
    new, old = tree(tmp_path / "new"), tree(tmp_path / "old")
    assert new == old and any("李记便利店".encode() in b for b in new.values())


def test_a_killed_run_s_tree_in_memory_is_swept_by_the_next(tmp_path):
    """A run killed with SIGKILL leaves its tree in /dev/shm (memory until a reboot): the next
    run's new folder there removes the trees of processes that are gone, never a live one's."""
    import subprocess
    import sys

    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead = tmp_path / f"crmdocs-at-{gone.stdout.strip()}-abc"
    (dead / "records").mkdir(parents=True)
    live = tmp_path / f"crmdocs-at-{os.getpid()}-def"
    live.mkdir()
    other = tmp_path / "something-else"
    other.mkdir()
    fresh = history._fresh(str(tmp_path))
    assert fresh.is_dir() and fresh.name.startswith(f"crmdocs-at-{os.getpid()}-")
    assert not dead.exists() and live.is_dir() and other.is_dir()
