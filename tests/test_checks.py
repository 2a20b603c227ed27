"""Cross-record checks: one valid mini repository, one mutation per test.

Every bad case asserts the diagnostic names the file, the line and the field.
"""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import (
    CALENDAR,
    CM_LI,
    COMPLAINT,
    DIARY,
    PLAN,
    POLICY,
    RETAILER,
    RETAILER_WEST,
    SURVEY,
    TARGETS,
    codes,
    only,
    valid_record,
)


def test_the_mini_repository_is_valid(mini):
    report = mini.validate()
    assert report.diagnostics == [], report.to_text()
    assert report.files >= 20


# ---------------------------------------------------------------- duplicates


def test_duplicate_retailer_id_in_two_departments(mini):
    data = valid_record(RETAILER)
    data["management"].update(department="d-west", manager="cm-wang")
    data["basic"]["licence_no"] = "530102199999"
    rel = mini.write("retailers/d-west/r-0001.yaml", data)
    d = only(mini.validate(), "duplicate")
    assert (d.path, d.line, d.field) == (rel, mini.line_of("retailers/d-west/r-0001.yaml", "id: r-0001"), "id")
    assert "r-0001" in d.message and "records/retailers/d-east/r-0001.yaml" in d.message


def test_two_diaries_for_one_manager_and_day(mini):
    # the only way to write a second diary for a day is under another file name
    data = valid_record(DIARY)
    other = "diaries/cm-li/2026/2026-09-02.yaml"
    rel = mini.write(other, data)
    report = mini.validate()
    d = only(report, "duplicate")
    assert (d.path, d.line, d.field) == (rel, mini.line_of(other, "date:"), "date")
    assert "两篇日记" in d.message and f"records/{DIARY}" in d.message
    assert only(report, "name_mismatch").path == rel


def test_two_plans_for_one_manager_and_day(mini):
    other = "plans/cm-li/2026/2026-09-02.yaml"
    rel = mini.write(other, valid_record(PLAN))
    d = only(mini.validate(), "duplicate")
    assert (d.path, d.field) == (rel, "date")
    assert "两份计划" in d.message


def test_the_same_email_for_two_people(mini):
    rel = mini.edit("people/cm-wang.yaml", lambda d: d.update(emails=["cm-li@example.com"]))
    d = only(mini.validate(), "duplicate_email")
    assert (d.path, d.line, d.field) == (rel, mini.line_of("people/cm-wang.yaml", "cm-li@example.com"), "emails[0]")


# ---------------------------------------------------------------- references


def test_retailer_manager_that_does_not_exist(mini):
    rel = mini.edit(RETAILER, lambda d: d["management"].update(manager="cm-nobody"))
    report = mini.validate()
    d = only(report, "unknown_person")
    assert (d.path, d.line, d.field) == (rel, mini.line_of(RETAILER, "cm-nobody"), "management.manager")
    assert "cm-nobody" in d.message and "找不到" in d.message


def test_retailer_manager_who_is_not_a_customer_manager(mini):
    rel = mini.edit(RETAILER, lambda d: d["management"].update(manager="mm-zhao"))
    d = only(mini.validate(), "not_customer_manager")
    assert (d.path, d.field) == (rel, "management.manager")
    assert "不是客户经理" in d.message


def test_retailer_manager_of_another_department(mini):
    rel = mini.edit(RETAILER, lambda d: d["management"].update(manager="cm-wang"))
    report = mini.validate()
    d = [x for x in report.errors if x.code == "territory" and x.path == rel]
    assert len(d) == 1 and d[0].field == "management.manager"
    assert d[0].line == mini.line_of(RETAILER, "manager: cm-wang")


def test_retailer_department_that_does_not_exist(mini):
    data = valid_record(RETAILER)
    data["management"]["department"] = "d-north"
    mini.delete(RETAILER)
    rel = mini.write("retailers/d-north/r-0001.yaml", data)
    d = [x for x in mini.validate().errors if x.code == "unknown_unit"]
    assert len(d) == 1
    assert (d[0].path, d[0].field) == (rel, "management.department")
    assert d[0].line == mini.line_of("retailers/d-north/r-0001.yaml", "department: d-north")


@pytest.mark.parametrize("rel", [PLAN, DIARY])
def test_plan_or_diary_visits_a_retailer_that_does_not_exist(mini, rel):
    path = mini.edit(rel, lambda d: d["visits"][1].update(retailer="r-9999"))
    d = only(mini.validate(), "unknown_retailer")
    assert (d.path, d.line, d.field) == (path, mini.line_of(rel, "r-9999"), "visits[1].retailer")
    assert "r-9999" in d.message


@pytest.mark.parametrize("rel", [PLAN, DIARY])
def test_plan_or_diary_visits_a_retailer_of_another_territory(mini, rel):
    path = mini.edit(rel, lambda d: d["visits"][0].update(retailer="r-0003"))
    d = only(mini.validate(), "territory")
    assert (d.path, d.line, d.field) == (path, mini.line_of(rel, "r-0003"), "visits[0].retailer")
    assert "王芳" in d.message  # the owner is named


@pytest.mark.parametrize("rel", [PLAN, DIARY])
def test_plan_or_diary_of_someone_who_is_not_a_customer_manager(mini, rel):
    data = valid_record(rel)
    data["manager"] = "mm-zhao"
    data["visits"] = []
    if rel == DIARY:
        data.update(absence="meeting", market_info=[], review=None)
        del data["review"]
    else:
        del data["approval"]
    new = rel.replace("cm-li", "mm-zhao")
    path = mini.write(new, data)
    d = only(mini.validate(), "not_customer_manager")
    assert (d.path, d.line, d.field) == (path, mini.line_of(new, "manager:"), "manager")
    assert "是市场经理" in d.message and "market_manager" not in d.message.split("(")[0]


@pytest.mark.parametrize("rel", [PLAN, DIARY])
def test_a_mistyped_manager_is_one_error_not_one_per_visit(mini, rel):
    data = valid_record(rel)
    data["manager"] = "cm-lii"
    data["visits"][1]["retailer"] = "r-9999"
    new = rel.replace("cm-li", "cm-lii")
    mini.write(new, data)
    found = codes(mini.validate())
    assert found.count("unknown_person") == 1
    assert "territory" not in found  # was: every visit "归 cm-li 负责，不在本人片区"
    assert found.count("unknown_retailer") == 1  # a retailer that does not exist is still named


def test_review_by_the_market_manager_of_another_department(mini):
    rel = mini.edit(DIARY, lambda d: d["review"].update(reviewer="mm-qian"))
    d = only(mini.validate(), "wrong_reviewer")
    assert (d.path, d.line, d.field) == (rel, mini.line_of(DIARY, "reviewer: mm-qian"), "review.reviewer")
    assert "d-east" in d.message and "赵强" in d.message  # names who should have reviewed


def test_review_by_someone_who_does_not_exist(mini):
    rel = mini.edit(DIARY, lambda d: d["review"].update(reviewer="mm-ghost"))
    d = only(mini.validate(), "unknown_person")
    assert (d.path, d.field) == (rel, "review.reviewer")
    # it said only 找不到批阅人 mm-ghost: who should review is named, with the department's name
    assert "找不到批阅人 mm-ghost；批阅应由 城东客户服务部（d-east） 的市场经理 赵强（mm-zhao） 进行" in d.message, d.message


def test_plan_approved_by_a_customer_manager(mini):
    rel = mini.edit(PLAN, lambda d: d["approval"].update(by="cm-wang"))
    d = only(mini.validate(), "wrong_reviewer")
    assert (d.path, d.line, d.field) == (rel, mini.line_of(PLAN, "by: cm-wang"), "approval.by")


def test_review_of_a_manager_who_changed_department_goes_to_the_old_department(mini):
    # cm-li moved from d-west to d-east on 2026-09-02: the 09-01 diary belongs to d-west
    mini.edit(CM_LI, lambda d: d.update(unit_history=[{"unit": "d-west", "until": "2026-09-02"}]))
    report = mini.validate()
    assert "wrong_reviewer" in codes(report)
    mini.edit(DIARY, lambda d: d["review"].update(reviewer="mm-qian"))
    mini.edit(PLAN, lambda d: d["approval"].update(by="mm-qian"))
    assert "wrong_reviewer" not in codes(mini.validate())


def test_review_before_the_diary_day(mini):
    rel = mini.edit(DIARY, lambda d: d["review"].update(at="2026-08-31 18:00"))
    d = only(mini.validate(), "review_before")
    assert (d.path, d.field) == (rel, "review.at")
    assert d.line == mini.line_of(DIARY, "2026-08-31 18:00")


def test_diary_names_a_brand_that_does_not_exist(mini):
    rel = mini.edit(DIARY, lambda d: d["visits"][0]["findings"].update(stock_outs=["b-nothing"]))
    d = only(mini.validate(), "unknown_brand")
    assert (d.path, d.line, d.field) == (rel, mini.line_of(DIARY, "b-nothing"), "visits[0].findings.stock_outs[0]")


def test_market_info_names_a_retailer_that_does_not_exist(mini):
    rel = mini.edit(DIARY, lambda d: d["market_info"][0].update(retailer="r-7777"))
    d = only(mini.validate(), "unknown_retailer")
    assert (d.path, d.field) == (rel, "market_info[0].retailer")
    assert d.line == mini.line_of(DIARY, "r-7777")


def test_org_unit_with_a_parent_that_does_not_exist(mini):
    rel = mini.edit("org/d-west.yaml", lambda d: d.update(parent="k-nowhere"))
    d = only(mini.validate(), "unknown_unit")
    assert (d.path, d.line, d.field) == (rel, mini.line_of("org/d-west.yaml", "k-nowhere"), "parent")


def test_org_department_under_a_department(mini):
    rel = mini.edit("org/d-west.yaml", lambda d: d.update(parent="d-east"))
    d = only(mini.validate(), "bad_parent")
    assert (d.path, d.field) == (rel, "parent")


def test_person_in_a_unit_that_does_not_exist(mini):
    rel = mini.edit(CM_LI, lambda d: d.update(unit="d-south"))
    report = mini.validate()
    d = [x for x in report.errors if x.code == "unknown_unit"]
    assert len(d) == 1 and (d[0].path, d[0].field) == (rel, "unit")
    assert d[0].line == mini.line_of(CM_LI, "d-south")


def test_grade_not_on_the_policy_ladder(mini):
    rel = mini.edit(CM_LI, lambda d: d.update(grade="level-9"))
    d = only(mini.validate(), "unknown_grade")
    assert (d.path, d.line, d.field) == (rel, mini.line_of(CM_LI, "level-9"), "grade")
    assert "trainee" in d.message  # says what is allowed


def test_customer_manager_in_a_county_unit(mini):
    rel = mini.edit(CM_LI, lambda d: d.update(unit="k-county"))
    report = mini.validate()
    d = only(report, "bad_unit")
    assert (d.path, d.field) == (rel, "unit")


@pytest.mark.parametrize(
    "field, value, code",
    [("retailer", "r-5555", "unknown_retailer"), ("handler", "cm-ghost", "unknown_person")],
)
def test_complaint_references(mini, field, value, code):
    rel = mini.edit(COMPLAINT, lambda d: d.update({field: value}))
    d = only(mini.validate(), code)
    assert (d.path, d.line, d.field) == (rel, mini.line_of(COMPLAINT, value), field)


def test_complaint_action_by_nobody(mini):
    rel = mini.edit(COMPLAINT, lambda d: d["actions"][0].update(by="cm-ghost"))
    d = only(mini.validate(), "unknown_person")
    assert (d.path, d.field) == (rel, "actions[0].by")


@pytest.mark.parametrize(
    "field, value, code",
    [("retailer", "r-5555", "unknown_retailer"), ("surveyor", "cm-ghost", "unknown_person")],
)
def test_survey_references(mini, field, value, code):
    rel = mini.edit(SURVEY, lambda d: d.update({field: value}))
    d = only(mini.validate(), code)
    assert (d.path, d.line, d.field) == (rel, mini.line_of(SURVEY, value), field)


def test_target_for_someone_who_does_not_exist(mini):
    rel = mini.edit(TARGETS, lambda d: d["targets"][1].update(manager="cm-ghost"))
    d = only(mini.validate(), "unknown_person")
    assert (d.path, d.line, d.field) == (rel, mini.line_of(TARGETS, "cm-ghost"), "targets[1].manager")


def test_adjustment_approved_by_a_customer_manager(mini):
    adj = {"coefficient": 1.2, "reason": "节日旺季", "approver": "cm-li", "since": "2026-09-01"}
    rel = mini.edit(RETAILER, lambda d: d.update(sales={"adjustment": adj}))
    d = only(mini.validate(), "approver_role")
    assert (d.path, d.field) == (rel, "sales.adjustment.approver")
    assert d.line == mini.line_of(RETAILER, "approver: cm-li")


def test_adjustment_coefficient_outside_the_policy_range(mini):
    adj = {"coefficient": 3.5, "reason": "节日旺季", "approver": "mm-zhao", "since": "2026-09-01"}
    rel = mini.edit(RETAILER, lambda d: d.update(sales={"adjustment": adj}))
    d = only(mini.validate(), "coefficient_range")
    assert (d.path, d.line, d.field) == (rel, mini.line_of(RETAILER, "3.5"), "sales.adjustment.coefficient")
    assert "0.5" in d.message and "2.0" in d.message  # the policy's range, stated


def test_adjustment_range_comes_from_the_policy(mini):
    adj = {"coefficient": 3.5, "reason": "节日旺季", "approver": "mm-zhao", "since": "2026-09-01"}
    mini.edit(RETAILER, lambda d: d.update(sales={"adjustment": adj}))
    mini.edit(POLICY, lambda d: d.update(limits={"coefficient": {"min": 0.5, "max": 4.0}}))
    assert "coefficient_range" not in codes(mini.validate())


# ---------------------------------------------------------------- territories


def test_retailer_in_two_territories(mini):
    data = valid_record(RETAILER_WEST)
    data["id"] = "r-0004"
    data["basic"]["licence_no"] = "530102100001"  # r-0001's licence
    rel = mini.write("retailers/d-west/r-0004.yaml", data)
    d = only(mini.validate(), "two_territories")
    assert (d.path, d.line, d.field) == (rel, mini.line_of("retailers/d-west/r-0004.yaml", "530102100001"), "basic.licence_no")
    assert "r-0001" in d.message


# ---------------------------------------------------------------- working days


@pytest.mark.parametrize("rel", [PLAN, DIARY])
@pytest.mark.parametrize(
    "day, working",
    [
        ("2026-09-05", False),  # Saturday
        ("2026-09-06", False),  # Sunday
        ("2026-09-20", True),  # Sunday, make-up working day (调休)
        ("2026-10-10", True),  # Saturday, make-up working day
        ("2026-10-05", False),  # Monday inside 国庆节
        ("2026-09-25", False),  # Friday, 中秋节
        ("2026-09-24", True),  # plain Thursday
    ],
)
def test_plan_or_diary_on_a_working_day(mini, rel, day, working):
    data = valid_record(rel)
    data["date"] = day
    if rel == DIARY:
        data["review"]["at"] = f"{day} 18:00"
    else:
        data["approval"]["at"] = f"{day} 08:00"
    mini.delete(rel)
    new = rel.replace("2026-09-01", day)
    path = mini.write(new, data)
    report = mini.validate()
    if working:
        assert report.diagnostics == [], report.to_text()
    else:
        d = only(report, "not_working_day")
        assert (d.path, d.line, d.field) == (path, mini.line_of(new, "date:"), "date")
        assert day in d.message and "不是工作日" in d.message
        # the holiday is named: a Monday in 国庆节 said only 2026-10-05（一）不是工作日
        reason = {"2026-09-05": "（星期六）", "2026-09-06": "（星期日）", "2026-10-05": "（星期一，国庆节放假）",
                  "2026-09-25": "（星期五，中秋节放假）"}[day]
        assert f"{day}{reason}不是工作日" in d.message


def test_plan_in_a_year_without_calendar(mini):
    data = valid_record(PLAN)
    data["date"] = "2027-01-05"
    data["approval"]["at"] = "2027-01-05 08:00"
    path = mini.write("plans/cm-li/2027/2027-01-05.yaml", data)
    d = only(mini.validate(), "no_calendar")
    assert (d.path, d.field) == (path, "date")
    assert "2027" in d.message


def test_missing_policy_and_calendar_are_reported(mini):
    mini.delete(POLICY)
    mini.delete(CALENDAR)
    report = mini.validate()
    assert {"no_policy", "no_calendar"} <= set(codes(report))
    assert only(report, "no_policy").path == "records/policy.yaml"


# ---------------------------------------------------------------- warnings


def test_plan_below_the_daily_minimum_is_a_warning(mini):
    mini.edit(POLICY, lambda d: d.update(visits={"daily_min": {"urban": 30, "rural": 25}}))
    report = mini.validate()
    d = only(report, "plan_min", "warning")
    assert (d.path, d.line, d.field) == (f"records/{PLAN}", mini.line_of(PLAN, "visits:"), "visits")
    assert "30" in d.message and "提醒" in d.format()
    assert report.ok
    code, out = mini.cli("validate")
    assert code == 0 and "提醒 warning" in out and "plan_min" not in out


def test_plan_above_the_maximum_is_an_error(mini):
    mini.edit(POLICY, lambda d: d.update(visits={"daily_min": {"urban": 1, "rural": 1}, "plan_max": 1}))
    d = only(mini.validate(), "plan_max")
    assert d.severity == "error" and d.field == "visits"


@pytest.mark.parametrize("expiry, code", [("2026-09-20", "licence_expiring"), ("2026-08-01", "licence_expired")])
def test_licence_expiry_is_a_warning(mini, expiry, code):
    mini.edit(RETAILER, lambda d: d["basic"].update(licence_expiry=expiry))
    report = mini.validate()
    d = only(report, code, "warning")
    assert (d.path, d.line, d.field) == (f"records/{RETAILER}", mini.line_of(RETAILER, expiry), "basic.licence_expiry")
    assert report.ok
    code_, out = mini.cli("validate")
    assert code_ == 0 and f"records/{RETAILER}:{d.line}" in out


def test_licence_warning_window_comes_from_the_policy(mini):
    mini.edit(RETAILER, lambda d: d["basic"].update(licence_expiry="2026-09-20"))
    mini.edit(POLICY, lambda d: d.update(warnings={"licence_expiry_days": 10}))
    assert "licence_expiring" not in codes(mini.validate())


def test_suspended_retailer_with_expired_licence_is_fine(mini):
    mini.edit(RETAILER, lambda d: d.update(status="suspended", status_reason="许可证过期"))
    mini.edit(RETAILER, lambda d: d["basic"].update(licence_expiry="2026-08-01"))
    assert mini.validate().diagnostics == []


def test_special_complaint_without_approver_is_a_warning(mini):
    mini.edit(COMPLAINT, lambda d: d.update(severity="special"))
    report = mini.validate()
    d = only(report, "no_approver", "warning")
    assert d.field == "severity" and report.ok


# ---------------------------------------------------------------- file name vs content


@pytest.mark.parametrize(
    "rel, change, field, needle",
    [
        (RETAILER, lambda d: d.update(id="r-0009"), "id", "id: r-0009"),
        (CM_LI, lambda d: d.update(id="cm-lee"), "id", "id: cm-lee"),
        (PLAN, lambda d: d.update(date="2026-09-02"), "date", "date:"),
        (DIARY, lambda d: d.update(manager="cm-wang"), "manager", "manager: cm-wang"),
        (TARGETS, lambda d: d.update(period="2026-10"), "period", "period:"),
        (CALENDAR, lambda d: d.update(year=2027, holidays=[], workdays=[]), "year", "year:"),
    ],
)
def test_file_name_disagrees_with_content(mini, rel, change, field, needle):
    path = mini.edit(rel, change)
    repo, report = mini.load()
    found = [d for d in report.diagnostics if d.code == "name_mismatch"]
    assert found, report.to_text()
    d = found[0]
    assert (d.path, d.line, d.field) == (path, mini.line_of(rel, needle), field)
    assert "文件名" in d.message


def test_retailer_in_the_wrong_department_folder(mini):
    data = valid_record(RETAILER)
    mini.delete(RETAILER)
    path = mini.write("retailers/d-west/r-0001.yaml", data)
    d = [x for x in mini.load()[1].diagnostics if x.code == "name_mismatch"]
    assert len(d) == 1
    assert (d[0].path, d[0].field) == (path, "management.department")
    assert "d-west" in d[0].message and "d-east" in d[0].message


def test_a_record_in_an_unknown_place(mini):
    rel = mini.write("retailer/r-0001.yaml", valid_record(RETAILER))
    d = only(mini.validate(), "unknown_path")
    assert d.path == rel and "records/retailers/" in d.message


@pytest.mark.parametrize(
    "misplaced, expected",
    [
        ("diaries/cm-li/2026/2026-09-3.yaml", "records/diaries/cm-li/2026/2026-09-03.yaml"),  # day written short
        ("diaries/cm-li/2026-09-03.yaml", "records/diaries/cm-li/2026/2026-09-03.yaml"),  # no year folder
        ("plans/cm-li/2026/2026-09-03.yml", "records/plans/cm-li/2026/2026-09-03.yaml"),
        ("retailers/d-east/R-0009.YAML", "records/retailers/d-east/r-0009.yaml"),  # was never read, and nothing said
        ("Policy.yml", "records/policy.yaml"),
    ],
)
def test_a_misnamed_record_is_told_the_path_it_should_have(mini, misplaced, expected):
    """One kind's layout and the path meant, not the thirteen kinds' examples cut off at 400 characters."""
    rel = mini.write(misplaced, valid_record(DIARY))
    d = only(mini.validate(), "unknown_path")
    assert d.path == rel and f"应为 {expected}" in d.message and "拜访计划 records/" not in d.message


def test_a_misnamed_record_under_an_unknown_folder_gets_the_folders_listed(mini):
    rel = mini.write("dairies/cm-li/2026/2026-09-03.yaml", valid_record(DIARY))
    d = only(mini.validate(), "unknown_path")
    assert d.path == rel and "是不是 records/diaries/" in d.message and "tier-overrides/" in d.message


def test_a_yaml_file_among_the_sales_says_sales_are_csv(mini):
    """It said records/ 下没有 “sales” 这类记录 and listed the folders without sales/."""
    rel = mini.write("sales/2026-09.yaml", {"a": 1})
    d = only(mini.validate(), "unknown_path")
    assert d.path == rel and "records/sales/2026-09.csv" in d.message and "没有 “sales”" not in d.message


def test_a_misnamed_record_is_still_reported_when_the_caches_are_warm(mini):
    from conftest import run_cli

    mini.write("diaries/cm-li/2026/2026-09-3.yaml", valid_record(DIARY))
    mini.age()
    for _ in range(2):  # the second run answers from the validation and parsed-data caches
        code, out = run_cli("--root", str(mini.root), "validate")
        assert code == 1 and "2026-09-3.yaml" in out and "应为 records/diaries/cm-li/2026/2026-09-03.yaml" in out


# ---------------------------------------------------------------- sales CSV


def _sales_lines(mini):
    return mini.text("sales/2026-09.csv").splitlines()


@pytest.mark.parametrize(
    "row, fragment",
    [
        ("2026-09-02,r-0001,b-yunyan,lots,100.0", "quantity"),
        ("2026-09-31,r-0001,b-yunyan,3,100.0", "date"),
        ("2026-09-02,r-0001,b-yunyan,3", "列"),
        ("2026-10-02,r-0001,b-yunyan,3,100.0", "月份"),
    ],
)
def test_malformed_sales_row_reports_file_and_row(mini, row, fragment):
    lines = _sales_lines(mini)
    header = lines[0].split(",")
    if header != ["date", "retailer", "brand", "quantity", "amount"]:
        pytest.skip(f"sales columns changed to {header}")
    lines.insert(2, row)
    rel = mini.write("sales/2026-09.csv", "\n".join(lines) + "\n")
    report = mini.validate()
    errors = [d for d in report.errors if d.path == rel]
    assert len(errors) == 1, report.to_text()
    assert errors[0].line == 3
    assert fragment in errors[0].message + errors[0].field
    assert "Traceback" not in report.to_text()


def test_sales_with_wrong_header(mini):
    rel = mini.write("sales/2026-09.csv", "day,shop,brand,qty,amount\n2026-09-01,r-0001,b-yunyan,1,10\n")
    d = [x for x in mini.validate().errors if x.path == rel]
    assert len(d) == 1 and d[0].line == 1
    assert "retailer" in d[0].message  # the expected columns are named


def test_sales_row_for_an_unknown_retailer(mini):
    lines = _sales_lines(mini)
    if lines[0].split(",") != ["date", "retailer", "brand", "quantity", "amount"]:
        pytest.skip("sales columns changed")
    lines.append("2026-09-03,r-4242,b-yunyan,2,300.0")
    rel = mini.write("sales/2026-09.csv", "\n".join(lines) + "\n")
    d = [x for x in mini.validate().errors if x.path == rel]
    assert len(d) == 1 and d[0].line == len(lines) and "r-4242" in d[0].message


def test_sales_file_in_gbk(mini):
    rel = mini.write("sales/2026-09.csv", "date,retailer,brand,quantity,amount\n# 红塔山\n".encode("gbk"))
    d = [x for x in mini.validate().errors if x.path == rel]
    assert len(d) == 1 and d[0].line == 2 and "UTF-8" in d[0].message


# ---------------------------------------------------------------- all errors, one run


def test_every_error_is_reported_in_one_run(mini):
    mini.edit(RETAILER, lambda d: d["management"].update(manager="cm-nobody"))
    mini.edit(PLAN, lambda d: d["visits"][1].update(retailer="r-9999"))
    mini.edit(DIARY, lambda d: d["review"].update(reviewer="mm-qian"))
    mini.edit(DIARY, lambda d: d["visits"][0]["findings"].update(stock_outs=["b-nothing"]))
    mini.replace(SURVEY, "quality: 优良", "quality: 很好")  # a model error in another file
    mini.write("org/broken.yaml", "id: [unclosed\n")  # and a YAML error
    report = mini.validate()
    assert {"unknown_person", "unknown_retailer", "wrong_reviewer", "unknown_brand", "literal_error", "yaml"} <= set(codes(report))
    paths = {d.path for d in report.errors}
    assert len(paths) >= 5


def test_the_last_line_counts_files_errors_and_warnings(mini):
    mini.edit(PLAN, lambda d: d["visits"][1].update(retailer="r-9999"))
    report = mini.validate()
    last = report.to_text().splitlines()[-1]
    w = len(report.warnings)
    assert last.startswith(f"检查了 {report.files} 个文件：1 个错误，{w} 个提醒")
    assert f"files: 1 error, {w} warning" in last and "1 errors" not in last


def test_two_model_errors_in_one_file_are_both_reported(mini):
    def change(d):
        d["basic"]["network"] = "city"
        d["management"]["order_day"] = 9

    mini.edit(RETAILER, change)
    repo, report = mini.load()
    fields = sorted(d.field for d in report.errors)
    assert fields == ["basic.network", "management.order_day"]


def test_a_broken_record_does_not_hide_the_checks_of_the_others(mini):
    mini.write(RETAILER_WEST, "id: r-0003\nbasic: [\n")
    mini.edit(PLAN, lambda d: d["visits"][1].update(retailer="r-9999"))
    report = mini.validate()
    assert "yaml" in codes(report) and "unknown_retailer" in codes(report)


def test_validation_does_not_depend_on_the_wall_clock(mini):
    mini.edit(RETAILER, lambda d: d["basic"].update(licence_expiry="2026-09-20"))
    a = mini.validate(today=dt.date(2026, 9, 1))
    b = mini.validate(today=dt.date(2026, 9, 1))
    assert a.to_text() == b.to_text() and codes(a) == ["licence_expiring"]
    assert codes(mini.validate(today=dt.date(2025, 1, 1))) == []


# ---------------------------------------------------------------- a broken file is reported once, not echoed


def test_broken_policy_is_not_reported_as_missing(mini):
    rel = mini.write(POLICY, "classes:\n  rule:\n    weeks: 3\n")
    report = mini.validate()
    assert "no_policy" not in codes(report)
    d = only(report, "union_tag_not_found")
    assert (d.path, d.line, d.field) == (rel, 2, "classes.rule") and "mode" in d.message


def test_broken_calendar_does_not_flood_every_plan_and_diary(mini):
    rel = mini.write(CALENDAR, "year: 2026\nworkdays: [2026-02-30]\n")
    report = mini.validate()
    assert [d.path for d in report.errors] == [rel], report.to_text()


# ---------------------------------------------------------------- the remaining references and rules


def test_earlier_unit_that_does_not_exist(mini):
    rel = mini.edit(CM_LI, lambda d: d.update(unit_history=[{"unit": "d-gone", "until": "2026-03-01"}]))
    d = only(mini.validate(), "unknown_unit")
    assert (d.path, d.line, d.field) == (rel, mini.line_of(CM_LI, "d-gone"), "unit_history[0].unit")


def test_earlier_manager_of_a_retailer_that_does_not_exist(mini):
    rel = mini.edit(RETAILER, lambda d: d["management"].update(manager_history=[{"manager": "cm-gone", "until": "2026-03-01"}]))
    d = only(mini.validate(), "unknown_person")
    assert (d.path, d.line, d.field) == (rel, mini.line_of(RETAILER, "cm-gone"), "management.manager_history[0].manager")


def test_adjustment_approved_by_nobody(mini):
    adj = {"coefficient": 1.2, "reason": "节日旺季", "approver": "mm-ghost", "since": "2026-09-01"}
    rel = mini.edit(RETAILER, lambda d: d.update(sales={"adjustment": adj}))
    d = only(mini.validate(), "unknown_person")
    assert (d.path, d.field) == (rel, "sales.adjustment.approver")


def test_too_many_customer_representatives_is_a_warning(mini):
    for rel in (RETAILER, "retailers/d-east/r-0002.yaml"):
        mini.edit(rel, lambda d: d.update(evaluation={"representative": True, "representative_criteria": ["A", "B"]}))
    report = mini.validate()
    d = only(report, "representative_share", "warning")
    assert "20%" in d.message and report.ok


def test_the_same_retailer_twice_in_a_diary_is_a_warning(mini):
    rel = mini.edit(DIARY, lambda d: d["visits"][1].update(retailer="r-0001"))
    report = mini.validate()
    d = only(report, "visit_twice", "warning")
    assert (d.path, d.field) == (rel, "visits[1].retailer") and report.ok
    assert d.line == mini.line_of(DIARY, "retailer: r-0001", nth=2)


def test_complaint_approver_that_does_not_exist(mini):
    rel = mini.edit(COMPLAINT, lambda d: d.update(severity="special", approver="mm-ghost"))
    d = only(mini.validate(), "unknown_person")
    assert (d.path, d.field) == (rel, "approver")


def test_sales_row_for_an_unknown_brand(mini):
    lines = mini.text("sales/2026-09.csv").splitlines()
    if lines[0].split(",") != ["date", "retailer", "brand", "quantity", "amount"]:
        pytest.skip("sales columns changed")
    lines.append("2026-09-03,r-0001,b-nowhere,2,300.0")
    rel = mini.write("sales/2026-09.csv", "\n".join(lines) + "\n")
    d = only(mini.validate(), "unknown_reference")
    assert (d.path, d.line, d.column, d.field) == (rel, len(lines), 3, "brand") and "b-nowhere" in d.message


TIER = "tier-overrides/2026-09/r-0001.yaml"


def test_tier_override_above_the_highest_tier(mini):
    rel = mini.edit(TIER, lambda d: d.update(tier=31))
    d = only(mini.validate(), "tier_range")
    assert (d.path, d.line, d.field) == (rel, mini.line_of(TIER, "tier: 31"), "tier") and "30" in d.message


@pytest.mark.parametrize("approver, code", [("mm-qian", "approver_role"), ("cm-li", "approver_role"), ("mm-ghost", "unknown_person")])
def test_tier_override_approved_by_the_wrong_person(mini, approver, code):
    rel = mini.edit(TIER, lambda d: d.update(approver=approver))
    d = only(mini.validate(), code)
    assert (d.path, d.line, d.field) == (rel, mini.line_of(TIER, f"approver: {approver}"), "approver")


def test_tier_override_for_a_retailer_that_does_not_exist(mini):
    data = valid_record(TIER)
    data["retailer"] = "r-4040"
    rel = mini.write("tier-overrides/2026-09/r-4040.yaml", data)
    d = only(mini.validate(), "unknown_retailer")
    assert (d.path, d.field) == (rel, "retailer")


def test_a_deadline_past_the_last_calendar_year_counts_monday_to_friday():
    # a diary of Thursday 2026-12-31 is due the next working day; 2027 has no
    # calendar record yet, so Friday 2027-01-01 counts (no guessing of holidays),
    # while a day inside 2026 still follows the 2026 calendar
    from crmdocs.schemas import Calendar
    from crmdocs.scripts.workdays import NoCalendar, WorkCalendar

    cal = WorkCalendar([Calendar(year=2026)])
    assert cal.add_working_days(dt.date(2026, 12, 31), 1) == dt.date(2027, 1, 1)
    assert cal.add_working_days(dt.date(2026, 12, 31), 2) == dt.date(2027, 1, 4)
    with pytest.raises(NoCalendar):
        cal.is_working_day(dt.date(2027, 1, 4))  # a record dated 2027 still needs its calendar
    with pytest.raises(NoCalendar):
        cal.add_working_days(dt.date(2025, 12, 30), 1)  # before the first year: never guessed


@pytest.mark.parametrize("day, words", [
    ("2026-09-21", "星期一"),  # a typo for the Sunday 09-20: that Sunday would silently stay off
    ("2026-10-03", "国庆节"),  # a make-up day inside the holiday it makes up for
])
def test_a_make_up_working_day_must_be_a_day_off(mini, day, words):
    mini.edit(CALENDAR, lambda d: d["workdays"].__setitem__(0, day))
    d = only(mini.validate(), "workday_not_weekend" if words == "星期一" else "workday_in_holiday")
    assert (d.path, d.field) == (f"records/{CALENDAR}", "workdays[0]") and words in d.message


def test_retailer_left_with_a_manager_who_has_left_is_a_warning(mini):
    # a customer manager who leaves is marked active: false; their shops kept pointing at them without a word,
    # so nobody planned their visits and the coverage of the leaver's empty appraisal hid them
    mini.edit(CM_LI, lambda d: d.update(active=False))
    report = mini.validate()
    found = [d for d in report.diagnostics if d.code == "inactive_manager"]
    assert found and all(d.severity == "warning" and d.field == "management.manager" for d in found)
    d = next(d for d in found if d.path == f"records/{RETAILER}")
    assert d.line == mini.line_of(RETAILER, "manager: cm-li")
    assert "已离岗" in d.message and "manager_history" in d.message
    assert report.ok  # a warning: the hand-over may take a day
    mini.edit(RETAILER, lambda d: d.update(status="closed"))  # a closed shop needs no one
    assert f"records/{RETAILER}" not in {d.path for d in mini.validate().diagnostics if d.code == "inactive_manager"}


def test_two_hand_overs_of_a_retailer_on_one_day(mini):
    """Whose shop was it before that day? Two earlier managers both until the same day cannot both be
    right (and the rules would have to pick one): the second is an error at its `until`."""
    history = [{"manager": "cm-li", "until": "2026-03-01"}, {"manager": "cm-wang", "until": "2026-03-01"}]
    rel = mini.edit(RETAILER, lambda d: d["management"].update(manager_history=history))
    d = only(mini.validate(), "handover_twice")
    assert (d.path, d.line, d.field) == (rel, mini.line_of(RETAILER, "cm-wang") + 1, "management.manager_history[1].until")
    assert d.severity == "error" and "同一天只能交接一次" in d.message and "2026-03-01" in d.message
    mini.edit(RETAILER, lambda d: d["management"].update(manager_history=[history[0], dict(history[1], until="2026-02-01")]))
    assert not [d for d in mini.validate().diagnostics if d.code == "handover_twice"]
