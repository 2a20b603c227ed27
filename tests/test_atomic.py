"""Nothing lost: writers killed halfway (SIGKILL) leave every file either old
or new, temporary files are hidden and never read as records, and running
again completes the work; running twice changes nothing."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import SALES, TODAY, MiniRepo, build_mini_repo, sales_csv, SALES_ROWS

from crmdocs.scripts import recalc
from crmdocs.scripts.repository import discover

REPO = Path(__file__).resolve().parents[1]


def _files(base: Path) -> dict[str, bytes]:
    return {p.relative_to(base).as_posix(): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}


def _visible(base: Path) -> list[str]:
    return sorted(rel for rel in _files(base) if not any(part.startswith(".") for part in rel.split("/")))


def _hidden(base: Path) -> list[str]:
    return sorted(rel for rel in _files(base) if any(part.startswith(".") for part in rel.split("/")))


def _wait_for(predicate, proc: subprocess.Popen, seconds: float = 60.0) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return
        if proc.poll() is not None:
            out = proc.stdout.read() if proc.stdout else ""
            pytest.fail(f"the writer ended (exit {proc.returncode}) before it could be killed:\n{out}")
        time.sleep(0.01)
    proc.kill()
    pytest.fail("the writer never reached the point where it is killed")


def _kill(proc: subprocess.Popen) -> None:
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL


# ---------------------------------------------------------------- the atomic writer itself


WRITER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from crmdocs.scripts.yamlwrite import write_atomic
    base, n, rounds = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    i = 0
    while rounds == 0 or i < n * rounds:  # rounds 0: for ever, new and old in turn
        tag = "new" if (i // n) % 2 == 0 else "old"
        write_atomic(base / f"f{i % n:03d}.yaml", f"# {tag} {i % n}\\n" + ("x: " + tag * 4000 + "\\n") * 16)
        if i == 3:
            print("writing", flush=True)
        i += 1
    """
)


def _content(tag: str, i: int) -> bytes:
    return (f"# {tag} {i}\n" + ("x: " + tag * 4000 + "\n") * 16).encode()


@pytest.mark.parametrize("delay", [0.0, 0.05, 0.2])
def test_write_atomic_killed_at_any_moment(tmp_path, delay):
    """A writer rewriting files for ever (new, old, new, …) is SIGKILLed: each file is whole."""
    n = 20
    for i in range(n):
        (tmp_path / f"f{i:03d}.yaml").write_bytes(_content("old", i))
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), str(n), "0"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "writing\n"
    time.sleep(delay)
    _kill(proc)
    files = {rel: data for rel, data in _files(tmp_path).items() if not rel.startswith(".")}
    assert sorted(files) == [f"f{i:03d}.yaml" for i in range(n)]
    torn = [rel for i, (rel, data) in enumerate(files.items()) if data not in (_content("old", i), _content("new", i))]
    assert torn == []
    assert files["f000.yaml"] == _content("new", 0) or files["f000.yaml"] == _content("old", 0)
    # a leftover temporary file (when the kill hit one) is hidden
    assert all(rel.startswith(".f") and rel.endswith(".tmp") for rel in _hidden(tmp_path))


def test_write_atomic_twice_changes_nothing(tmp_path):
    done = subprocess.run([sys.executable, "-c", WRITER, str(tmp_path), "5", "1"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    first = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tmp_path.iterdir()}
    subprocess.run([sys.executable, "-c", WRITER, str(tmp_path), "5", "1"], check=True, capture_output=True)
    assert {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in tmp_path.iterdir()} == first
    assert sorted(first) == [f"f{i:03d}.yaml" for i in range(5)]  # and no temporary file left


def test_a_refused_write_names_the_file_meant_not_the_temporary_one(tmp_path):
    """recalc with a folder where a computed file goes said 无法读写 …/.cm-li.yaml.lsugg_90.tmp
    (a file that no longer exists); a full disk said 无法读写 ： with no file at all."""
    from crmdocs.scripts.cli import main

    root = build_mini_repo(tmp_path / "repo")
    assert main(["--root", str(root), "recalc"]) == 0
    target = sorted((root / "records" / "computed").rglob("*.yaml"))[0]
    target.unlink()
    target.mkdir()
    with pytest.raises(IsADirectoryError) as caught:
        recalc.write(root, {target.relative_to(recalc.computed_dir(root)).as_posix(): "x: 1\n"})
    assert caught.value.filename == str(target)
    assert not [p for p in target.parent.iterdir() if p.name.endswith(".tmp")]


def test_a_full_disk_names_the_file_being_written(tmp_path, monkeypatch):
    import errno

    from crmdocs.scripts import yamlwrite

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(yamlwrite.os, "fsync", full)
    with pytest.raises(OSError) as caught:
        yamlwrite.write_atomic(tmp_path / "a.yaml", "x: 1\n")
    assert caught.value.errno == errno.ENOSPC and caught.value.filename == str(tmp_path / "a.yaml")
    assert list(tmp_path.iterdir()) == []  # no temporary file left


# ---------------------------------------------------------------- crmdocs recalc / crmdocs demo


KILL_AT = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    marker, stop_at = Path(sys.argv[1]), int(sys.argv[2])
    real_replace, calls = os.replace, [0]

    def replace(src, dst):  # the temporary file is complete; the target not yet replaced
        if "/.cache/" in str(dst):  # the caches (parsed records, sales) are not the files written
            return real_replace(src, dst)
        calls[0] += 1
        if calls[0] == stop_at:
            marker.write_text(str(dst))
            time.sleep(120)
        return real_replace(src, dst)

    os.replace = replace
    from crmdocs.scripts.cli import main
    sys.exit(main(sys.argv[3:]))
    """
)


def _killed_run(tmp_path: Path, stop_at: int, argv: list[str]) -> Path:
    """Run ``crmdocs ARGV`` and SIGKILL it just before its ``stop_at``-th atomic rename; return the file it was writing."""
    marker = tmp_path / "marker"
    marker.unlink(missing_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_AT, str(marker), str(stop_at), *argv],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    _wait_for(lambda: marker.exists() and marker.read_text(), proc, 120)
    _kill(proc)
    return Path(marker.read_text())


def _change_inputs(mini: MiniRepo) -> None:
    """Inputs that change most computed files: more sales, a lower rating."""
    rows = [dict(r, quantity=r["quantity"] * 3, amount=r["amount"] * 3) for r in SALES_ROWS]
    mini.write(SALES, sales_csv(rows))
    mini.edit("diaries/cm-li/2026/2026-09-01.yaml", lambda d: d["review"].update(rating=2))


def test_recalc_killed_halfway_leaves_old_or_new_files(tmp_path):
    work = MiniRepo(build_mini_repo(tmp_path / "work"))
    assert work.cli("recalc")[0] == 0
    computed = work.records / "computed"
    old = _files(computed)
    assert len(old) >= 6

    _change_inputs(work)
    reference = MiniRepo(tmp_path / "reference")
    shutil.copytree(work.root, reference.root)
    assert reference.cli("recalc")[0] == 0
    new = _files(reference.records / "computed")
    changed = sorted(rel for rel in new if old.get(rel) != new[rel])
    assert len(changed) >= 3, "the input change must change several computed files"

    writing = _killed_run(tmp_path, 3, ["--root", str(work.root), "recalc"])
    after = _files(computed)
    visible = {rel: data for rel, data in after.items() if not Path(rel).name.startswith(".")}
    for rel, data in visible.items():
        assert data in (old.get(rel), new.get(rel)), f"{rel} is neither the old nor the new content"
    assert sum(visible[rel] == new[rel] for rel in changed) == 2  # two renames done, the third killed
    assert visible[writing.relative_to(computed).as_posix()] == old[writing.relative_to(computed).as_posix()]
    leftovers = [rel for rel in after if Path(rel).name.startswith(".")]
    assert leftovers and all(Path(rel).name.endswith(".tmp") for rel in leftovers)
    # the leftover is not a computed record, and --check says the files are stale, not broken
    assert all(not Path(rel).name.startswith(".") for rel in recalc.on_disk(work.root))
    code, out = work.cli("recalc", "--check")
    assert code == 1 and ".tmp" not in out and "Traceback" not in out

    assert work.cli("recalc")[0] == 0  # the next run completes the work and tidies up
    assert _files(computed) == new
    code, out = work.cli("recalc")
    assert code == 0 and "写入 0 个文件" in out  # running twice changes nothing
    assert _files(computed) == new


def test_validate_ignores_temporary_files_of_a_killed_writer(tmp_path):
    mini = MiniRepo(build_mini_repo(tmp_path))
    # what a killed write_atomic leaves behind: a hidden, half-written temporary file
    mini.write("retailers/d-east/.r-0001.yaml.k2j3h4.tmp", "id: r-0001\nbasic:\n  licence_no: \"53")
    rels, diags = discover(mini.root)
    assert not any(".tmp" in rel for rel in rels) and diags == []
    assert mini.cli("validate")[0] == 0


@pytest.mark.skipif(not (REPO / "records" / "policy.yaml").exists(), reason="no demo records yet")
def test_demo_killed_halfway_leaves_old_or_new_files(tmp_path):
    out = tmp_path / "records"
    shutil.copytree(REPO / "records", out, ignore=shutil.ignore_patterns("computed"))
    old = {rel: b"# old\n" + data for rel, data in _files(out).items()}
    for rel, data in old.items():
        (out / rel).write_bytes(data)
    writing = _killed_run(tmp_path, 150, ["demo", "--seed", "1", "--out", str(out)])
    after = _files(out)
    target = writing.relative_to(out).as_posix()
    assert after[target] == old[target]  # the file being written when killed is whole and old
    torn = []
    new = 0
    from crmdocs.scripts.repository import load_file

    for rel, data in after.items():
        if Path(rel).name.startswith("."):  # temporary files (and the demo's own marker): never records
            continue
        if data == old.get(rel):
            continue
        new += 1
        if rel.endswith(".yaml"):
            loaded = load_file(tmp_path, f"records/{rel}")
            if loaded.diagnostics:
                torn.append((rel, loaded.diagnostics[0].format()))
    assert 100 <= new < len(after), new
    assert torn == []
    assert not any(".tmp" in rel for rel in discover(tmp_path)[0])


def test_kill_helper_really_kills(tmp_path):
    """Guard: the kill point is reached before the command could finish on its own."""
    mini = MiniRepo(build_mini_repo(tmp_path / "w"))
    start = time.monotonic()
    _killed_run(tmp_path, 1, ["--root", str(mini.root), "recalc"])
    assert time.monotonic() - start < 60
    assert not (mini.records / "computed").exists() or _visible(mini.records / "computed") == []


# ---------------------------------------------------------------- pool workers of a killed run


POOL = textwrap.dedent(
    """
    import multiprocessing, os, sys, time
    from crmdocs.scripts.pools import executor

    def task(i):
        os.write(1, b"%d\\n" % os.getpid())  # (one write: two workers' lines never mix)
        time.sleep(120)

    with executor(2, multiprocessing.get_context("fork")) as pool:
        list(pool.map(task, range(2)))
    """
)


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie no parent reaps has ended)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


def _running_with(word: str) -> list[int]:
    """The processes whose command line holds ``word`` (a forked worker keeps its parent's)."""
    pids = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                cmdline = (proc / "cmdline").read_bytes()
            except OSError:
                continue
            if word.encode() in cmdline and _alive(int(proc.name)):
                pids.append(int(proc.name))
    return pids


def _gone_within(seconds: float, pids) -> list[int]:
    end = time.monotonic() + seconds
    while time.monotonic() < end and [pid for pid in pids() if _alive(pid)]:
        time.sleep(0.1)
    return [pid for pid in pids() if _alive(pid)]


@pytest.mark.skipif(not Path("/proc").is_dir() or not hasattr(os, "fork"), reason="needs fork and /proc")
def test_pool_workers_leave_when_their_parent_is_killed():
    """A pool's workers, busy or waiting, end within a second or two of a SIGKILL of the
    process that started them, instead of waiting for work for ever."""
    proc = subprocess.Popen([sys.executable, "-c", POOL], stdout=subprocess.PIPE, text=True)
    workers = [int(proc.stdout.readline()) for _ in range(2)]
    assert all(_alive(pid) for pid in workers)
    _kill(proc)
    assert _gone_within(5, lambda: workers) == []


KILL_IN_POOL = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    marker, main_pid, real_replace = Path(sys.argv[1]), os.getpid(), os.replace

    def replace(src, dst):  # in a pool worker, before its first computed file is in place: wait
        if os.getpid() != main_pid and "/.cache/" not in str(dst):
            marker.write_text(str(os.getpid()))
            time.sleep(120)
        return real_replace(src, dst)

    os.replace = replace
    from crmdocs.scripts import recalc
    recalc._PARALLEL_FILES = 10  # (the demo office's files are written by the pool, as a county's are)
    from crmdocs.scripts.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


@pytest.mark.skipif(not (REPO / "records" / "policy.yaml").exists(), reason="no demo records yet")
@pytest.mark.skipif(not Path("/proc").is_dir() or not hasattr(os, "fork"), reason="needs fork and /proc")
def test_recalc_killed_while_its_pool_writes_leaves_no_process_behind(tmp_path):
    root = tmp_path / "office"
    shutil.copytree(REPO / "records", root / "records", ignore=shutil.ignore_patterns("computed"))
    marker = tmp_path / "marker"
    proc = subprocess.Popen(
        [sys.executable, "-c", KILL_IN_POOL, str(marker), "--root", str(root), "recalc", "--jobs", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )
    _wait_for(lambda: marker.exists() and marker.read_text(), proc, 120)
    assert _running_with(str(marker))  # the pool's workers, at work
    _kill(proc)
    assert _gone_within(5, lambda: _running_with(str(marker))) == []
    # and the next run completes the work
    assert subprocess.run([sys.executable, "-m", "crmdocs.scripts.cli", "--root", str(root), "recalc"], capture_output=True).returncode == 0


SLOW_START = textwrap.dedent(
    """
    import multiprocessing, os, time
    from crmdocs.scripts import pools

    real = pools.worker_start

    def slow_start(*args):  # a worker that starts while its parent is being killed
        os.write(1, b"%d\\n" % os.getpid())
        time.sleep(1.5)
        real(*args)

    def task(i):
        time.sleep(120)

    pools.worker_start = slow_start
    with pools.executor(2, multiprocessing.get_context("fork")) as pool:
        list(pool.map(task, range(2)))
    """
)


@pytest.mark.skipif(not Path("/proc").is_dir() or not hasattr(os, "fork"), reason="needs fork and /proc")
def test_pool_workers_leave_when_their_parent_was_killed_before_they_started():
    """A worker whose parent is killed before the worker's watch starts (it would
    take its new parent for its own) leaves all the same."""
    proc = subprocess.Popen([sys.executable, "-c", SLOW_START], stdout=subprocess.PIPE, text=True)
    workers = [int(proc.stdout.readline()) for _ in range(2)]
    _kill(proc)  # before either worker's initializer has looked at its parent
    try:
        assert _gone_within(6, lambda: workers) == []
    finally:  # (a failure leaves none behind)
        for pid in workers:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
