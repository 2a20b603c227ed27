"""crmdocs codeowners: who must approve, generated from the people and org records."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import pytest

from conftest import MM_ZHAO, build_mini_repo, run_cli, valid_records
from crmdocs.scripts.codeowners import GITHUB, GITLAB, codeowners_texts, stale_codeowners
from crmdocs.scripts.diagnostics import CrmdocsError

ROOT = Path(__file__).resolve().parents[1]


def github_owner(text: str, path: str) -> list[str]:
    """GitHub's rule: the last matching line wins (directory patterns match below)."""
    found: list[str] = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        pattern, *owners = line.split()
        if pattern == "*" or (pattern.endswith("/") and ("/" + path).startswith(pattern)) or "/" + path == pattern or fnmatch.fnmatch(path, pattern):
            found = owners
    return found


def gitlab_sections(text: str, path: str) -> dict[str, list[str]]:
    """GitLab: per section, the last matching line; owners are the section's defaults."""
    out: dict[str, list[str]] = {}
    section, defaults = "", []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            name, _, rest = line[1:].partition("]")
            section, defaults = name, rest.split()
            continue
        pattern, *owners = line.split()
        if (pattern.endswith("/") and ("/" + path).startswith(pattern)) or "/" + path == pattern:
            out[section] = owners or defaults
    return out


@pytest.fixture
def office(tmp_path):
    return build_mini_repo(tmp_path)


def test_diaries_and_plans_need_the_departments_market_manager(office):
    text = codeowners_texts(office)[GITHUB]
    assert github_owner(text, "records/diaries/cm-li/2026/2026-09-01.yaml") == ["mm-zhao@example.com"]
    assert github_owner(text, "records/plans/cm-wang/2026/2026-09-01.yaml") == ["mm-qian@example.com"]
    assert github_owner(text, "records/retailers/d-west/r-0003.yaml") == ["mm-qian@example.com"]


@pytest.mark.parametrize("path", ["records/policy.yaml", "records/people/cm-li.yaml", "records/org/d-east.yaml",
                                  "records/calendar/2026.yaml", "records/brands/b-yunyan.yaml", "scripts/audit.py",
                                  "records/computed/2026-09/x.yaml"])
def test_policy_people_org_and_code_need_an_admin(office, path):
    assert github_owner(codeowners_texts(office)[GITHUB], path) == ["ad-sun@example.com"]


def test_gitlab_variant_has_sections(office):
    text = codeowners_texts(office)[GITLAB]
    assert "[d-east] mm-zhao@example.com" in text
    assert gitlab_sections(text, "records/diaries/cm-li/2026/2026-09-01.yaml") == {"d-east": ["mm-zhao@example.com"]}
    assert gitlab_sections(text, "records/policy.yaml") == {"admins 管理员": ["ad-sun@example.com"]}
    assert gitlab_sections(text, "records/complaints/2026/c-2026-0001.yaml") == {
        "market-managers 市场经理": ["mm-qian@example.com", "mm-zhao@example.com"]}


def test_usernames_win_over_e_mails(tmp_path):
    records = valid_records()
    records["people/mm-zhao.yaml"] = {**records["people/mm-zhao.yaml"], "github": "zhao-qiang", "gitlab": "zhaoq"}
    build_mini_repo(tmp_path, records)
    texts = codeowners_texts(tmp_path)
    assert github_owner(texts[GITHUB], "records/diaries/cm-li/2026/2026-09-01.yaml") == ["@zhao-qiang"]
    assert "[d-east] @zhaoq" in texts[GITLAB]


def test_department_without_market_manager_falls_back_to_admins(office):
    (office / "records" / "people" / "mm-qian.yaml").unlink()
    text = codeowners_texts(office)[GITHUB]
    assert github_owner(text, "records/diaries/cm-wang/2026/2026-09-01.yaml") == ["ad-sun@example.com"]
    assert "暂无市场经理，由管理员审核" in text


def test_inactive_market_manager_is_no_owner(office):
    path = office / "records" / MM_ZHAO
    path.write_text(path.read_text(encoding="utf-8") + "active: false\n", encoding="utf-8")
    assert github_owner(codeowners_texts(office)[GITHUB], "records/diaries/cm-li/2026/2026-09-01.yaml") == ["ad-sun@example.com"]


def test_no_admin_is_a_clear_error(office):
    (office / "records" / "people" / "ad-sun.yaml").unlink()
    with pytest.raises(CrmdocsError, match="管理员"):
        codeowners_texts(office)
    code, out = run_cli("--root", str(office), "codeowners")
    assert code == 1 and "Traceback" not in out


def test_check_exits_1_when_stale_and_0_after_writing(office):
    assert run_cli("--root", str(office), "codeowners", "--check")[0] == 1
    code, out = run_cli("--root", str(office), "codeowners")
    assert code == 0 and GITHUB in out and GITLAB in out
    assert run_cli("--root", str(office), "codeowners", "--check")[0] == 0
    before = (office / GITHUB).read_bytes()
    assert run_cli("--root", str(office), "codeowners")[1].startswith("CODEOWNERS 已是最新")
    assert (office / GITHUB).read_bytes() == before
    (office / "records" / "people" / "mm-sun.yaml").write_text(
        "id: mm-sun\nname: 孙新\nrole: market_manager\nunit: d-west\nemails: [mm-sun@example.com]\n", encoding="utf-8")
    code, out = run_cli("--root", str(office), "codeowners", "--check")
    assert code == 1 and ".github/CODEOWNERS: 已过期" in out


@pytest.mark.skipif(not (ROOT / "records" / "people").is_dir(), reason="the demo office is not generated")
def test_committed_codeowners_match_the_demo_office():
    assert stale_codeowners(ROOT) == [], "run `crmdocs codeowners` and commit .github/CODEOWNERS and .gitlab/CODEOWNERS"
