"""crmdocs new plan / new diary: a customer manager's day in two commands."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from conftest import COMPLAINT, git, run_cli
from crmdocs.scripts import yamlio
from crmdocs.scripts.diagnostics import CrmdocsError
from crmdocs.scripts.newday import new_diary, new_plan

DAY = dt.date(2026, 10, 20)  # a Tuesday after the National Day holiday


def visits_of(path):
    return [v["retailer"] for v in yamlio.parse(path.read_text(encoding="utf-8")).get("visits", [])]


def errors_in(office, path):
    rel = path.relative_to(office.root).as_posix()
    return [d.format() for d in office.validate(today=DAY).errors if d.path == rel]


@pytest.fixture
def office(git_office):
    # r-0002 was visited more recently than r-0001, so r-0001 is more overdue
    git_office.write("diaries/cm-li/2026/2026-09-15.yaml", {
        "manager": "cm-li", "date": "2026-09-15", "visits": [{"retailer": "r-0002", "time": "10:00"}]})
    return git_office


def test_plan_lists_overdue_first_and_is_valid(office):
    path = new_plan(office.root, "cm-li", DAY)
    assert path == office.path("plans/cm-li/2026/2026-10-20.yaml")
    assert visits_of(path) == ["r-0001", "r-0002"]
    text = path.read_text(encoding="utf-8")
    assert "超期" in text and "上次 2026-09-01" in text
    assert "- retailer: r-0001  # 李记便利店" in text
    assert "提交截止：2026-10-20 08:30" in text  # from the policy's plan deadline
    assert errors_in(office, path) == []


def test_plan_never_lists_retailers_of_another_territory(office):
    path = new_plan(office.root, "cm-wang", DAY)
    assert visits_of(path) == ["r-0003"]


def test_open_complaint_becomes_a_complaint_visit(office):
    def reopen(d):
        for key in ("resolved", "result", "satisfied"):
            del d[key]

    office.edit(COMPLAINT, reopen)
    office.write("diaries/cm-li/2026/2026-10-19.yaml", {
        "manager": "cm-li", "date": "2026-10-19",
        "visits": [{"retailer": "r-0001", "time": "09:00"}, {"retailer": "r-0002", "time": "10:00"}]})
    path = new_plan(office.root, "cm-li", DAY)
    plan = yamlio.parse(path.read_text(encoding="utf-8"))
    assert [(v["retailer"], v.get("purpose")) for v in plan["visits"]] == [("r-0001", "complaint")]
    assert "投诉 c-2026-0001 未办结" in plan["visits"][0]["note"]


def test_plan_respects_the_policys_maximum(office):
    office.edit("policy.yaml", lambda d: d["visits"].update(plan_max=1))
    assert visits_of(new_plan(office.root, "cm-li", DAY)) == ["r-0001"]


def test_plan_default_day_is_the_next_working_day(office):
    path = new_plan(office.root, "cm-li", today=dt.date(2026, 9, 30))  # 10-01…07 holiday, none make-up before 10-08
    assert path.name == "2026-10-08.yaml"


def test_plan_is_never_written_over(office):
    path = new_plan(office.root, "cm-li", DAY)
    path.write_text(path.read_text(encoding="utf-8") + "# 我的修改\n", encoding="utf-8")
    with pytest.raises(CrmdocsError, match="已经存在，不会覆盖"):
        new_plan(office.root, "cm-li", DAY)
    assert path.read_text(encoding="utf-8").endswith("# 我的修改\n")


def test_manager_defaults_to_the_git_email(office):
    git(office.root, "config", "user.email", "CM-Wang@example.com")
    assert visits_of(new_plan(office.root, day=DAY)) == ["r-0003"]


def test_unknown_git_email_is_a_clear_error(office):
    git(office.root, "config", "user.email", "nobody@example.com")
    with pytest.raises(CrmdocsError, match="nobody@example.com"):
        new_plan(office.root, day=DAY)


def test_a_customer_manager_who_has_left_is_refused(office):
    # new plan wrote a plan for a leaver (active: false) that audit would refuse to take in
    office.edit("people/cm-wang.yaml", lambda d: d.update(active=False))
    for who in ("cm-wang", None):
        git(office.root, "config", "user.email", "cm-wang@example.com")
        with pytest.raises(CrmdocsError, match=r"王芳（cm-wang）已离岗（人员记录 active: false）"):
            new_plan(office.root, who, DAY)
    assert not list((office.root / "records" / "plans").glob("cm-wang/**/*.yaml"))


def test_holiday_is_refused(office):
    with pytest.raises(CrmdocsError, match="2026-10-02（星期五，国庆节放假）不是工作日"):  # it said （星期五） alone
        new_plan(office.root, "cm-li", dt.date(2026, 10, 2))
    with pytest.raises(CrmdocsError, match="2026-09-05（星期六）不是工作日"):
        new_plan(office.root, "cm-li", dt.date(2026, 9, 5))


def test_diary_is_prefilled_from_the_plan_and_valid(office):
    plan = new_plan(office.root, "cm-li", DAY)
    diary = new_diary(office.root, "cm-li", DAY)
    assert diary == office.path("diaries/cm-li/2026/2026-10-20.yaml")
    assert visits_of(diary) == visits_of(plan)
    text = diary.read_text(encoding="utf-8")
    assert "到店时刻：按实际改写" in text and "# business_analysis:" in text and "提交截止：2026-10-21 09:00" in text
    assert errors_in(office, diary) == []


def test_diary_without_a_plan_says_what_to_do(office):
    with pytest.raises(CrmdocsError, match="crmdocs new plan --date 2026-10-20"):
        new_diary(office.root, "cm-li", DAY)


def test_diary_is_never_written_over(office):
    with pytest.raises(CrmdocsError, match="已经存在"):
        new_diary(office.root, "cm-li", dt.date(2026, 9, 1))


def test_cli(office):
    code, out = run_cli("--root", str(office.root), "new", "plan", "--manager", "cm-li", "--date", "2026-10-20")
    assert code == 0 and "records/plans/cm-li/2026/2026-10-20.yaml" in out
    code, out = run_cli("--root", str(office.root), "new", "diary", "--manager", "cm-li", "--date", "2026-10-20")
    assert code == 0 and "records/diaries/cm-li/2026/2026-10-20.yaml" in out
    code, out = run_cli("--root", str(office.root), "new", "diary", "--manager", "cm-li", "--date", "2026-10-20")
    assert code == 1 and "不会覆盖" in out and "Traceback" not in out
    code, out = run_cli("--root", str(office.root), "new", "plan", "--manager", "mm-zhao", "--date", "2026-10-20")
    assert code == 1 and "不是客户经理" in out
    code, out = run_cli("--root", str(office.root), "new", "plan", "--manager", "cm-li", "--date", "20-10-2026")
    assert code == 1 and "YYYY-MM-DD" in out


def test_diary_default_day_is_today_or_the_latest_plan_without_diary(office):
    new_plan(office.root, "cm-li", DAY)
    path = new_diary(office.root, "cm-li", today=dt.date(2026, 10, 21))  # next morning: yesterday's plan waits
    assert path.name == "2026-10-20.yaml"
    with pytest.raises(CrmdocsError, match="没有 2026-10-21 的拜访计划"):
        new_diary(office.root, "cm-li", today=dt.date(2026, 10, 21))  # that one is written now


@pytest.mark.parametrize("what", ["plan", "diary", "analysis", "summary"])
def test_a_date_out_of_range_is_a_clear_error(office, what):
    code, out = run_cli("--root", str(office.root), "new", what, "--manager", "cm-li", "--date", "9999-12-31")
    assert code == 1 and "超出范围" in out and "内部错误" not in out, out  # analysis said 内部错误 ValueError (exit 70)
    assert not list((office.root / "records").rglob("9999*"))  # summary wrote records/summaries/cm-li/9999/9999-12.yaml


@pytest.mark.parametrize("what", ["plan", "diary", "analysis", "summary"])
def test_a_date_outside_the_calendars_years_is_refused(office, what):
    # 2999-12-31: analysis wrote records/analyses/cm-li/3000/3000-W01.yaml, summary 2999/2999-12.yaml
    code, out = run_cli("--root", str(office.root), "new", what, "--manager", "cm-li", "--date", "2999-12-31")
    assert code == 1 and "不在工作日历的年份内（现有 2026 年）" in out and "records/calendar/2999.yaml" in out, out
    assert not list((office.root / "records").rglob("2999*")) and not list((office.root / "records").rglob("3000*"))


def test_manager_by_name_and_a_near_id_named(office):
    # --manager cm-l said only 找不到人员 cm-l（records/people/cm-l.yaml）; a name was not understood
    assert new_plan(office.root, "李明", DAY) == office.path("plans/cm-li/2026/2026-10-20.yaml")
    with pytest.raises(CrmdocsError, match=r"找不到人员 cm-l：--manager 写客户经理的编号.*或姓名；是不是 cm-li（李明）？"):
        new_plan(office.root, "cm-l", DAY)
    with pytest.raises(CrmdocsError, match=r"找不到人员 张三：.*或姓名 \(no such person\)"):
        new_plan(office.root, "张三", DAY)


def test_a_retailer_added_to_reach_the_daily_minimum_says_why_as_the_others_do(office):
    # it said only "周期 14 天，还有 13 天到期" (no class, no last visit) and key customers said "1 天后到期"
    office.write("diaries/cm-li/2026/2026-10-19.yaml", {
        "manager": "cm-li", "date": "2026-10-19",
        "visits": [{"retailer": "r-0001", "time": "09:00"}, {"retailer": "r-0002", "time": "10:00"}]})
    path = new_plan(office.root, "cm-li", DAY)
    notes = [v["note"] for v in yamlio.parse(path.read_text(encoding="utf-8"))["visits"]]
    assert notes and all(re.fullmatch(r"(今天到期|还有 \d+ 天到期)（(. 类|未分类)，周期 \d+ 天，上次 2026-10-19）", n)
                         for n in notes), notes


def test_next_working_day_in_a_year_without_a_calendar_asks_for_the_calendar(office):
    # on 31 December the next working day is in a year whose holiday notice may not be in yet: it said
    # 日期写错了吗？ to a manager who typed no date
    with pytest.raises(CrmdocsError, match=r"下一个工作日在 2027 年，还没有 2027 年的工作日历.*records/calendar/2027.yaml") as err:
        new_plan(office.root, "cm-li", None, today=dt.date(2026, 12, 31))
    assert "写错" not in str(err.value)
    with pytest.raises(CrmdocsError, match="日期写错了吗"):  # a typed date keeps its own message
        new_plan(office.root, "cm-li", dt.date(2027, 1, 4))


@pytest.mark.parametrize("what", ["diary", "analysis", "summary"])
def test_today_in_a_year_without_a_calendar_asks_for_the_calendar(office, what):
    # (review7) on the first working day of a year whose calendar is not in yet, `crmdocs new diary` with no
    # --date said 2027-01-04 不在工作日历的年份内 …；日期写错了吗？ to a manager who typed no date
    from crmdocs.scripts.newday import new_analysis, new_summary

    make = {"diary": new_diary, "analysis": new_analysis, "summary": new_summary}[what]
    with pytest.raises(CrmdocsError, match=r"今天在 2027 年，还没有 2027 年的工作日历.*records/calendar/2027.yaml") as err:
        make(office.root, "cm-li", None, today=dt.date(2027, 1, 4))
    assert "写错" not in str(err.value)
    with pytest.raises(CrmdocsError, match="日期写错了吗"):  # a typed date keeps its own message
        make(office.root, "cm-li", dt.date(2027, 1, 4))
