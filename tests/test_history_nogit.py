"""Hand-in times where there is no git history (a tarball, the benchmark's
data): ``None``, found without importing GitPython (~80 ms of every
``crmdocs recalc`` there); in a repository, a worktree or a bare-layout
folder, git is asked as before."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import build_mini_repo
from crmdocs.scripts import history

PROBE = """
import sys
from pathlib import Path
from crmdocs.scripts.history import handed_in_times
print(handed_in_times(Path(sys.argv[1])) is None, "git" in sys.modules)
"""


def probe(root: Path, env: dict | None = None) -> str:
    import os

    run = subprocess.run([sys.executable, "-c", PROBE, str(root)], capture_output=True, text=True,
                         env={**os.environ, **(env or {})}, cwd=root)
    assert run.returncode == 0, run.stderr
    return run.stdout.strip()


def test_no_git_history_found_without_importing_git(tmp_path):
    root = build_mini_repo(tmp_path / "office")
    assert probe(root) == "True False"


def test_a_git_variable_means_git_is_asked(tmp_path):
    root = build_mini_repo(tmp_path / "office")
    assert probe(root, {"GIT_DIR": str(tmp_path / "nowhere")}) == "True True"


def test_a_repository_above_is_still_found(git_office):
    sub = git_office.root
    assert history._maybe_git(sub) and history._maybe_git(sub / "records")
    assert history.handed_in_times(sub) is not None


def test_a_worktree_file_or_bare_layout_counts(tmp_path):
    (tmp_path / "w").mkdir()
    (tmp_path / "w" / ".git").write_text("gitdir: /elsewhere\n")
    assert history._maybe_git(tmp_path / "w")
    bare = tmp_path / "bare"
    (bare / "objects").mkdir(parents=True)
    (bare / "refs").mkdir()
    (bare / "HEAD").write_text("ref: refs/heads/main\n")
    assert history._maybe_git(bare)
    assert not history._maybe_git(tmp_path / "plain") or (tmp_path / ".git").exists()
