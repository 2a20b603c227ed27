"""The CI templates users copy: every crmdocs command they run exists with
those options, and the main-branch job's steps work on a repository with
commits by several people."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from conftest import git, run_cli
from crmdocs.scripts import yamlio
from crmdocs.scripts.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
GITHUB = ROOT / ".github/workflows/crmdocs.yml"
GITLAB = ROOT / ".gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
CONFIG = ROOT / ".pre-commit-config.yaml"


def load(path: Path):
    return yamlio.parse(path.read_text(encoding="utf-8"))  # YAML 1.2: `on:` stays a key


def shell_texts(path: Path) -> list[str]:
    """What a template runs: GitHub steps' ``run``, GitLab jobs' ``script``,
    pre-commit hooks' ``entry``."""
    data = load(path)
    if path == GITHUB:
        return [str(s["run"]) for job in data["jobs"].values() for s in job["steps"] if "run" in s]
    if path == GITLAB:
        return [line for job in data.values() if isinstance(job, dict) and "script" in job for line in job["script"]]
    hooks = data if isinstance(data, list) else [h for repo in data["repos"] for h in repo["hooks"]]
    return [h["entry"] for h in hooks]


def crmdocs_commands(path: Path) -> list[list[str]]:
    """Every ``crmdocs …`` command a template runs, placeholders filled in."""
    out = []
    for text in shell_texts(path):
        for m in re.finditer(r"(?<![\w-])crmdocs ([a-z][^\n)|;&]*)", text):
            cmd = re.sub(r"\$\{\{[^}]*\}\}", "REV", m.group(1))
            cmd = re.sub(r"\"?\$\{?[A-Z_]+\}?\"?", "REV", cmd).rstrip('"')
            out.append(shlex.split(cmd))
    return out


@pytest.mark.parametrize("path", [GITHUB, GITLAB, HOOKS, CONFIG], ids=lambda p: p.name)
def test_every_crmdocs_command_in_the_templates_exists(path):
    commands = crmdocs_commands(path)
    assert commands, f"no crmdocs command found in {path.name}"
    parser = build_parser()
    for argv in commands:
        try:
            parser.parse_args(argv)
        except SystemExit:
            pytest.fail(f"{path.name}: `crmdocs {' '.join(argv)}` is not a valid command")


def _steps(job) -> str:
    return "\n".join(str(s.get("run", "")) + str(s.get("uses", "")) for s in job["steps"])


def test_github_pull_requests_validate_audit_and_check():
    flow = load(GITHUB)
    assert {"pull_request", "push"} <= set(flow["on"])
    check = _steps(flow["jobs"]["check"])
    for needed in ("crmdocs validate", "crmdocs audit --base ${{ github.event.pull_request.base.sha }}",
                   "crmdocs recalc --diff ${{ github.event.pull_request.base.sha }}"):
        assert needed in check
    assert "recalc --check" not in check  # red on every pull request that adds a diary (see below)
    assert "pull_request" in flow["jobs"]["check"]["if"]


def test_github_main_recalculates_commits_as_ci_builds_and_deploys():
    flow = load(GITHUB)
    job = flow["jobs"]["publish"]
    steps = _steps(job)
    order = [steps.index(s) for s in ("crmdocs recalc\n", "crmdocs audit --ci-email", "git push", "crmdocs build", "actions/deploy-pages")]
    assert order == sorted(order)
    assert job["permissions"]["contents"] == "write" and job["permissions"]["pages"] == "write"


def test_full_history_is_fetched_everywhere():
    flow = load(GITHUB)
    for job in flow["jobs"].values():
        for step in job["steps"]:
            if str(step.get("uses", "")).startswith("actions/checkout"):
                assert step["with"]["fetch-depth"] == 0
    assert load(GITLAB)["variables"]["GIT_DEPTH"] == "0"


def test_gitlab_merge_requests_and_pages():
    ci = load(GITLAB)
    check = "\n".join(ci["check"]["script"])
    assert "crmdocs audit --base \"$CI_MERGE_REQUEST_DIFF_BASE_SHA\"" in check
    assert "crmdocs recalc --diff \"$CI_MERGE_REQUEST_DIFF_BASE_SHA\"" in check and "recalc --check" not in check
    assert ci["check"]["rules"][0]["if"] == '$CI_PIPELINE_SOURCE == "merge_request_event"'
    pages = "\n".join(ci["pages"]["script"])
    assert pages.index("crmdocs recalc") < pages.index("crmdocs audit --ci-email") < pages.index("crmdocs build")
    assert ci["pages"]["artifacts"]["paths"] == ["public"]


def test_pre_commit_hooks_offer_validate_on_records_only():
    hooks = {h["id"]: h for h in load(HOOKS)}
    validate = hooks["crmdocs-validate"]
    assert validate["entry"] == "crmdocs validate" and validate["language"] == "python"
    assert re.search(validate["files"], "records/diaries/cm-li/2026/2026-09-01.yaml")
    assert re.search(validate["exclude"], "records/computed/2026-09/x.yaml")
    assert not re.search(validate["files"], "scripts/cli.py")
    local = {h["id"] for repo in load(CONFIG)["repos"] for h in repo["hooks"]}
    assert {"crmdocs-validate", "crmdocs-codeowners"} <= local


def test_the_main_branch_job_on_a_repository(git_office):
    """The publish job's steps, run by hand: a customer manager's diary
    arrives, CI recalculates and commits as the CI identity, the audit of the
    whole push passes; the same commit by a person would not."""
    root = str(git_office.root)
    before = git_office.head()
    git_office.write("diaries/cm-li/2026/2026-09-02.yaml", {
        "manager": "cm-li", "date": "2026-09-02", "visits": [{"retailer": "r-0001", "time": "09:00"}]})
    git_office.commit("cm-li", "日记 2026-09-02", "2026-09-02 18:00")
    assert run_cli("--root", root, "validate")[0] == 0
    code, out = run_cli("--root", root, "recalc")
    assert code == 0, out
    code, email = run_cli("--root", root, "audit", "--ci-email")
    assert (code, email.strip()) == (0, "ci-bot@example.com")
    git(git_office.root, "add", "records/computed")
    git_office.commit(email.strip().split("@")[0], "重新计算 recalc [skip ci]", "2026-09-02 18:05")
    assert run_cli("--root", root, "audit", "--base", before)[0] == 0
    assert run_cli("--root", root, "recalc", "--check")[0] == 0
    # a person touching the computed records is refused
    computed = sorted((git_office.root / "records" / "computed").rglob("*.yaml"))
    assert computed
    computed[0].write_text(computed[0].read_text(encoding="utf-8") + "# 手改\n", encoding="utf-8")
    git_office.commit("ad-sun", "手改", "2026-09-02 18:10")
    code, out = run_cli("--root", root, "audit", "--base", before)
    assert code == 1 and "[ci_only]" in out


def test_ci_identity_missing_is_a_clear_error(git_office):
    (git_office.root / "records/people/ci-bot.yaml").unlink()
    code, out = run_cli("--root", str(git_office.root), "audit", "--ci-email")
    assert code == 1 and "role: ci" in out and "Traceback" not in out


def test_the_pull_request_job_on_a_repository(git_office):
    """The check job's steps, run by hand on a customer manager's pull request that adds a diary: all pass.
    The job ran recalc --check, which is red on every such pull request (a new diary changes the computed
    records) and told the manager to commit a recalc, which the audit refuses (only CI writes records/computed)."""
    root = str(git_office.root)
    assert run_cli("--root", root, "recalc")[0] == 0
    git_office.commit("ci-bot", "重新计算 recalc [skip ci]", "2026-09-01 20:00")
    base = git_office.head()
    git_office.write("diaries/cm-li/2026/2026-09-02.yaml", {
        "manager": "cm-li", "date": "2026-09-02", "visits": [{"retailer": "r-0001", "time": "09:00"}]})
    git_office.commit("cm-li", "日记 2026-09-02", "2026-09-02 18:00")
    assert run_cli("--root", root, "validate")[0] == 0
    assert run_cli("--root", root, "audit", "--base", base)[0] == 0
    code, out = run_cli("--root", root, "recalc", "--diff", base)
    assert code == 0 and "考核总分" in out, out  # what the diary does, for the reviewer
    assert run_cli("--root", root, "recalc", "--check")[0] == 1  # why the job no longer runs it
