"""crmdocs audit: who may change what, commit by commit and field by field."""

from __future__ import annotations

import pytest

from conftest import DIARY, PLAN, POLICY, RETAILER, RETAILER_WEST, CM_LI, COMPLAINT, run_cli
from crmdocs.scripts.audit import audit


def rules(office, base):
    return [(v.path, v.field, v.rule, v.commit.email.split("@")[0]) for v in audit(office.root, base)]


def new_diary(office, manager="cm-li", day="2026-09-02", retailer="r-0001"):
    rel = f"diaries/{manager}/2026/{day}.yaml"
    office.write(rel, {"manager": manager, "date": day, "visits": [{"retailer": retailer, "time": "09:00"}]})
    return rel


def test_own_diary_is_allowed(git_office):
    base = git_office.head()
    new_diary(git_office)
    git_office.commit("cm-li", "日记")
    assert rules(git_office, base) == []


def test_comment_in_anothers_diary_is_refused(git_office):
    base = git_office.head()
    git_office.write(DIARY, git_office.text(DIARY) + "# 顺手加个注释\n")
    git_office.commit("cm-wang")
    assert rules(git_office, base) == [(f"records/{DIARY}", "", "own_records", "cm-wang")]


def test_anothers_diary_is_refused(git_office):
    base = git_office.head()
    git_office.edit(DIARY, lambda d: d.update(business_analysis="改别人的日记"))
    git_office.commit("cm-wang")
    assert rules(git_office, base) == [(f"records/{DIARY}", "business_analysis", "own_records", "cm-wang")]


def test_new_diary_for_someone_else_is_refused(git_office):
    base = git_office.head()
    new_diary(git_office, manager="cm-wang", retailer="r-0003")
    git_office.commit("cm-li")
    found = rules(git_office, base)
    assert found and {r[2] for r in found} == {"own_records"}


def test_retailer_in_own_territory_is_allowed(git_office):
    base = git_office.head()
    git_office.edit(RETAILER, lambda d: d["basic"].update(shop_name="李记便利店（新址）"))
    git_office.commit("cm-li")
    assert rules(git_office, base) == []


def test_retailer_outside_territory_is_refused(git_office):
    base = git_office.head()
    git_office.edit(RETAILER_WEST, lambda d: d["basic"].update(shop_name="抢来的店"))
    git_office.commit("cm-li")
    assert rules(git_office, base) == [(f"records/{RETAILER_WEST}", "", "territory", "cm-li")]


ADJUSTMENT = {"coefficient": 1.5, "reason": "节日备货", "approver": "mm-zhao", "since": "2026-09-01"}


def test_coefficient_by_customer_manager_is_refused_at_field_level(git_office):
    base = git_office.head()

    def change(d):
        d["basic"]["shop_name"] = "李记便利店二店"  # allowed
        d["sales"] = {"adjustment": ADJUSTMENT}  # not allowed

    git_office.edit(RETAILER, change)
    git_office.commit("cm-li")
    assert rules(git_office, base) == [(f"records/{RETAILER}", "sales.adjustment", "protected_field", "cm-li")]


def test_coefficient_by_market_manager_is_allowed(git_office):
    base = git_office.head()
    git_office.edit(RETAILER, lambda d: d.update(sales={"adjustment": ADJUSTMENT}))
    git_office.commit("mm-zhao")
    assert rules(git_office, base) == []


def test_coefficient_signed_by_someone_else_is_refused(git_office):
    base = git_office.head()
    git_office.edit(RETAILER, lambda d: d.update(sales={"adjustment": {**ADJUSTMENT, "approver": "mm-qian"}}))
    git_office.commit("mm-zhao")
    assert [r[1:3] for r in rules(git_office, base)] == [("sales.adjustment.approver", "signed_by_author")]


def test_market_manager_of_another_department_may_not_touch_archive(git_office):
    base = git_office.head()
    git_office.edit(RETAILER, lambda d: d.update(sales={"adjustment": {**ADJUSTMENT, "approver": "mm-qian"}}))
    git_office.commit("mm-qian")
    assert [r[2] for r in rules(git_office, base)] == ["department"]


def test_reassigning_a_retailer_is_the_market_managers(git_office):
    base = git_office.head()
    git_office.edit(RETAILER, lambda d: d["management"].update(order_day=3, manager="cm-li"))
    git_office.commit("cm-li")
    assert rules(git_office, base) == []  # order day: fine; manager unchanged
    base = git_office.head()
    git_office.edit(RETAILER_WEST, lambda d: d["management"].update(manager="cm-li"))
    git_office.commit("cm-li")
    assert [r[2] for r in rules(git_office, base)] == ["territory"]


def test_review_by_the_departments_market_manager_is_allowed(git_office):
    base = git_office.head()
    rel = new_diary(git_office)
    git_office.commit("cm-li", "日记", "2026-09-02 18:00")
    git_office.edit(rel, lambda d: d.update(review={"reviewer": "mm-zhao", "at": "2026-09-03 10:00", "rating": 4}))
    git_office.commit("mm-zhao", "批阅", "2026-09-03 10:00")
    assert rules(git_office, base) == []


def test_review_by_another_market_manager_is_refused(git_office):
    base = git_office.head()
    rel = new_diary(git_office)
    git_office.commit("cm-li")
    git_office.edit(rel, lambda d: d.update(review={"reviewer": "mm-qian", "at": "2026-09-03 10:00", "rating": 2}))
    git_office.commit("mm-qian")
    assert rules(git_office, base) == [(f"records/{rel}", "review", "review_by_market_manager", "mm-qian")]


def test_review_written_by_the_customer_manager_is_refused(git_office):
    base = git_office.head()
    git_office.edit(DIARY, lambda d: d["review"].update(rating=5))
    git_office.commit("cm-li")
    assert rules(git_office, base) == [(f"records/{DIARY}", "review", "review_by_market_manager", "cm-li")]


def test_market_manager_may_not_edit_the_diary_itself(git_office):
    base = git_office.head()
    git_office.edit(DIARY, lambda d: d.update(market_analysis="市场经理代写"))
    git_office.commit("mm-zhao")
    assert [r[1:3] for r in rules(git_office, base)] == [("market_analysis", "market_manager_scope")]


def test_plan_approval_by_market_manager_signed_by_another_is_refused(git_office):
    base = git_office.head()
    git_office.edit(PLAN, lambda d: d["approval"].update(by="mm-qian", comment="同意"))
    git_office.commit("mm-zhao")
    assert [r[1:3] for r in rules(git_office, base)] == [("approval.by", "signed_by_author")]


def test_plan_approval_by_customer_manager_is_refused(git_office):
    base = git_office.head()
    git_office.edit(PLAN, lambda d: d["approval"].update(comment="我自己批了"))
    git_office.commit("cm-li")
    assert [r[1:3] for r in rules(git_office, base)] == [("approval", "approval_by_market_manager")]


def test_policy_by_admin_is_allowed(git_office):
    base = git_office.head()
    git_office.edit(POLICY, lambda d: d["visits"].update(plan_max=35))
    git_office.commit("ad-sun")
    assert rules(git_office, base) == []


@pytest.mark.parametrize("rel", [POLICY, CM_LI, "org/d-east.yaml", "calendar/2026.yaml", "brands/b-yunyan.yaml"])
def test_admin_records_by_customer_manager_are_refused(git_office, rel):
    base = git_office.head()
    git_office.write(rel, git_office.text(rel) + "# 注释\n")
    git_office.commit("cm-li")
    assert [r[2] for r in rules(git_office, base)] == ["admin_only"]


def test_computed_by_ci_is_allowed_and_by_a_person_refused(git_office):
    base = git_office.head()
    git_office.write("computed/2026-09/retailers/d-east.yaml", {"month": "2026-09"})
    git_office.commit("ci-bot", "recalc")
    assert rules(git_office, base) == []
    base = git_office.head()
    git_office.write("computed/2026-09/retailers/d-east.yaml", {"month": "2026-09", "hand": "edit"})
    git_office.commit("ad-sun", "手改计算结果")
    assert rules(git_office, base) == [("records/computed/2026-09/retailers/d-east.yaml", "", "ci_only", "ad-sun")]


def test_ci_identity_changes_nothing_else(git_office):
    base = git_office.head()
    new_diary(git_office)
    git_office.commit("ci-bot")
    assert [r[2] for r in rules(git_office, base)] == ["ci_scope"]


def test_unknown_author_is_refused(git_office):
    base = git_office.head()
    new_diary(git_office)
    git_office.commit("stranger")
    assert rules(git_office, base) == [("records/diaries/cm-li/2026/2026-09-02.yaml", "", "unknown_author", "stranger")]


def test_nobody_authorises_themselves_in_the_same_commit(git_office):
    base = git_office.head()
    git_office.edit(CM_LI, lambda d: d.update(role="admin", grade=None))
    git_office.edit(POLICY, lambda d: d["visits"].update(plan_max=20))
    git_office.commit("cm-li")
    assert sorted(r[2] for r in rules(git_office, base)) == ["admin_only", "admin_only"]


def test_new_person_may_commit_after_the_admin_added_them(git_office):
    base = git_office.head()
    git_office.write("people/cm-zhou.yaml", {"id": "cm-zhou", "name": "周杰", "role": "customer_manager", "unit": "d-east",
                                             "grade": "trainee", "emails": ["cm-zhou@example.com"]})
    git_office.commit("ad-sun", "新人")
    new_diary(git_office, manager="cm-zhou", retailer="r-0002")
    git_office.commit("cm-zhou")
    assert rules(git_office, base) == []


def test_complaint_of_own_retailer_allowed_of_others_refused(git_office):
    base = git_office.head()
    git_office.edit(COMPLAINT, lambda d: d.update(result="已解决，客户满意"))
    git_office.commit("cm-li")
    assert rules(git_office, base) == []
    git_office.edit(COMPLAINT, lambda d: d.update(result="别人改的"))
    git_office.commit("cm-wang")
    assert [r[1:4] for r in rules(git_office, base)] == [("retailer", "territory", "cm-wang")]


def test_code_outside_records_needs_an_admin(git_office):
    base = git_office.head()
    git_office.write("../.github/workflows/x.yml", "name: x\n")
    git_office.commit("cm-li")
    assert rules(git_office, base) == [(".github/workflows/x.yml", "", "admin_only", "cm-li")]


def test_cli_prints_one_line_per_violation_and_exits_1(git_office):
    base = git_office.head()
    git_office.edit(DIARY, lambda d: d.update(business_analysis="x"))
    git_office.edit(RETAILER_WEST, lambda d: d["basic"].update(shop_name="y"))
    git_office.commit("cm-wang", "两处")  # the diary is not hers; r-0003 is hers
    code, out = run_cli("--root", str(git_office.root), "audit", "--base", base)
    assert code == 1
    lines = [line for line in out.splitlines() if "[own_records]" in line]
    assert len(lines) == 1
    assert lines[0].startswith(git_office.head()[:8] + " cm-wang <cm-wang@example.com>: records/diaries/cm-li/2026/2026-09-01.yaml: business_analysis:")


def test_cli_passes_clean_range_and_refuses_unknown_base(git_office):
    base = git_office.head()
    new_diary(git_office)
    git_office.commit("cm-li")
    assert run_cli("--root", str(git_office.root), "audit", "--base", base)[0] == 0
    code, out = run_cli("--root", str(git_office.root), "audit", "--base", "no-such-rev")
    assert code == 1 and "no-such-rev" in out and "Traceback" not in out


def test_merge_commit_brings_no_violation_of_its_own(git_office):
    from conftest import git

    base = git_office.head()
    git(git_office.root, "checkout", "-q", "-b", "diary")
    new_diary(git_office)
    git_office.commit("cm-li", "日记", "2026-09-02 18:00")
    git(git_office.root, "checkout", "-q", "main")
    git_office.edit(POLICY, lambda d: d["visits"].update(plan_max=30))
    git_office.commit("ad-sun", "政策", "2026-09-02 19:00")
    env_merge = ["-c", "user.name=mm-zhao", "-c", "user.email=mm-zhao@example.com", "merge", "-q", "--no-edit", "diary"]
    git(git_office.root, *env_merge)
    assert rules(git_office, base) == []


OVERRIDE = "tier-overrides/2026-10/r-0001.yaml"


def override(approver="mm-zhao"):
    return {"period": "2026-10", "retailer": "r-0001", "tier": 12, "reason": "新开超市", "approver": approver, "date": "2026-10-08"}


def test_tier_override_by_the_departments_market_manager(git_office):
    base = git_office.head()
    git_office.write(OVERRIDE, override())
    git_office.commit("mm-zhao")
    assert rules(git_office, base) == []


@pytest.mark.parametrize("who, approver, expected", [
    ("cm-li", "mm-zhao", ["override_by_market_manager"]),
    ("mm-qian", "mm-qian", ["department"]),
    ("mm-zhao", "mm-qian", ["signed_by_author"]),
])
def test_tier_override_by_others_is_refused(git_office, who, approver, expected):
    base = git_office.head()
    git_office.write(OVERRIDE, override(approver))
    git_office.commit(who)
    assert [r[2] for r in rules(git_office, base)] == expected


def test_unknown_record_files_and_sales_are_the_admins(git_office):
    base = git_office.head()
    git_office.write("notes/todo.yaml", {"a": 1})
    git_office.write("sales/2026-10.csv", "date,retailer,brand,quantity,amount\n")
    git_office.commit("mm-zhao")
    assert [r[2] for r in rules(git_office, base)] == ["admin_only", "admin_only"]


def test_a_change_made_inside_a_merge_commit_is_checked(git_office):
    from conftest import git, git_env

    base = git_office.head()
    git(git_office.root, "checkout", "-q", "-b", "diary")
    rel = new_diary(git_office)
    git_office.commit("cm-li", "日记", "2026-09-02 18:00")
    git(git_office.root, "checkout", "-q", "main")
    git_office.edit(POLICY, lambda d: d["visits"].update(plan_max=30))
    git_office.commit("ad-sun", "政策", "2026-09-02 19:00")
    who = ["-c", "user.name=mm-zhao", "-c", "user.email=mm-zhao@example.com"]
    git(git_office.root, *who, "merge", "-q", "--no-commit", "--no-ff", "diary")
    git_office.edit(rel, lambda d: d.update(business_analysis="合并时顺手改的"))
    env = git_env()
    env.update(GIT_AUTHOR_DATE="2026-09-03T09:00:00+08:00", GIT_COMMITTER_DATE="2026-09-03T09:00:00+08:00")
    git(git_office.root, "add", "-A", env=env)
    git(git_office.root, *who, "commit", "-qm", "merge", env=env)
    assert rules(git_office, base) == [(f"records/{rel}", "business_analysis", "market_manager_scope", "mm-zhao")]


def test_broken_yaml_in_own_archive_is_not_taken_for_a_territory_breach(git_office):
    base = git_office.head()
    git_office.write(RETAILER, git_office.text(RETAILER) + "basic: [\n")  # validate reports the YAML error
    git_office.commit("cm-li")
    assert rules(git_office, base) == []
    git_office.write(RETAILER_WEST, git_office.text(RETAILER_WEST) + "basic: [\n")
    git_office.commit("cm-li")
    assert [r[2] for r in rules(git_office, base)] == ["territory"]


def test_cli_json_lists_each_violation_with_commit_path_field_and_rule(git_office):
    import json

    base = git_office.head()
    git_office.edit(DIARY, lambda d: d.update(business_analysis="x"))
    git_office.commit("cm-wang", "改了别人的日记")
    code, out = run_cli("--root", str(git_office.root), "audit", "--base", base, "--format", "json")
    assert code == 1
    found = json.loads(out)["violations"]
    assert [(v["path"], v["field"], v["rule"], v["email"]) for v in found] == [
        (f"records/{DIARY}", "business_analysis", "own_records", "cm-wang@example.com")
    ]
    assert found[0]["commit"] == git_office.head()
    assert "自己的计划和日记" in found[0]["message"] and "cm-li" in found[0]["detail"]


def test_cli_json_of_a_clean_range_is_an_empty_list_and_exit_0(git_office):
    import json

    base = git_office.head()
    new_diary(git_office)
    git_office.commit("cm-li")
    code, out = run_cli("--root", str(git_office.root), "audit", "--base", base, "--format", "json")
    assert code == 0 and json.loads(out) == {"violations": []}
