"""Complaint due days and overdue flags (DOMAIN.md §3 Complaints), worked by hand
on the mini calendar: 国庆节 10-01 … 10-07 off, make-up Saturday 10-10."""

import datetime as dt

from conftest import COMPLAINT, POLICY
from manager_fixtures import context, run_rules


def complaint(mini, cid, received, severity="general", resolved=None, approver=None, handler="cm-li", retailer="r-0001"):
    data = {"id": cid, "received": received, "retailer": retailer, "content": "断货", "severity": severity,
            "handler": handler}
    if resolved:
        data["resolved"] = resolved
    if approver:
        data["approver"] = approver
    mini.write(f"complaints/{received[:4]}/{cid}.yaml", data)


def statuses(mini, as_of=dt.date(2026, 10, 20)):
    ctx = context(mini, as_of=as_of)
    run_rules(ctx, "complaints")
    return ctx.shared["complaints"]


def test_general_complaint_received_before_the_national_day_holiday_is_due_after_it(mini):
    # received Wed 09-30; 1 working day; 10-01 … 10-07 are off → the next working day is Thu 10-08
    complaint(mini, "c-2026-0002", "2026-09-30 16:00", resolved="2026-10-08 17:00")
    s = statuses(mini)["c-2026-0002"]
    assert s.due == dt.date(2026, 10, 8)
    assert (s.state, s.overdue, s.days_overdue) == ("on_time", False, 0)


def test_resolved_one_day_after_the_due_day_is_overdue_by_one_day(mini):
    complaint(mini, "c-2026-0002", "2026-09-30 16:00", resolved="2026-10-09 09:00")
    s = statuses(mini)["c-2026-0002"]
    assert (s.state, s.overdue, s.days_overdue) == ("overdue", True, 1)


def test_make_up_saturday_counts_as_a_working_day(mini):
    # major = 3 working days from Fri 10-09: Sat 10-10 (调休上班) 1, Mon 10-12 2, Tue 10-13 3
    complaint(mini, "c-2026-0002", "2026-10-09 09:00", severity="major", resolved="2026-10-13 18:00")
    s = statuses(mini)["c-2026-0002"]
    assert s.due == dt.date(2026, 10, 13)
    assert s.state == "on_time"


def test_special_complaint_gets_seven_working_days_only_with_an_approver(mini):
    # received Mon 10-12: 7 working days → 10-13,14,15,16,19,20,21 → due Wed 10-21
    complaint(mini, "c-2026-0002", "2026-10-12 10:00", severity="special", approver="mm-zhao")
    # without an approver the policy's fallback (major, 3 working days) → Thu 10-15
    complaint(mini, "c-2026-0003", "2026-10-12 10:00", severity="special")
    found = statuses(mini)
    with_approver, without = found["c-2026-0002"], found["c-2026-0003"]
    assert (with_approver.counted_as, with_approver.working_days, with_approver.due) == ("special", 7, dt.date(2026, 10, 21))
    assert (without.counted_as, without.working_days, without.due) == ("major", 3, dt.date(2026, 10, 15))
    assert "没有批准人" in without.note
    # as of Tue 10-20 the one without approver is open and 5 days past its due day
    assert (without.state, without.days_overdue) == ("open_overdue", 5)
    assert (with_approver.state, with_approver.overdue) == ("open", False)


def test_open_complaint_on_its_due_day_is_not_yet_overdue(mini):
    complaint(mini, "c-2026-0002", "2026-10-12 10:00")  # general → due Tue 10-13
    assert statuses(mini, as_of=dt.date(2026, 10, 13))["c-2026-0002"].state == "open"
    assert statuses(mini, as_of=dt.date(2026, 10, 14))["c-2026-0002"].state == "open_overdue"


def test_policy_working_days_change_the_due_day(mini):
    mini.edit(POLICY, lambda d: d.update(complaints={"working_days": {"general": 2, "major": 3, "special": 7}}))
    complaint(mini, "c-2026-0002", "2026-10-12 10:00", resolved="2026-10-14 10:00")
    s = statuses(mini)["c-2026-0002"]
    assert s.due == dt.date(2026, 10, 14)  # 2 working days: 10-13, 10-14
    assert s.state == "on_time"  # with the default 1 day it would be overdue


def test_monthly_file_lists_complaints_and_handlers(mini):
    complaint(mini, "c-2026-0002", "2026-09-02 10:00", resolved="2026-09-08 10:00")  # due 09-03 → overdue 5 days
    complaint(mini, "c-2026-0003", "2026-09-03 10:00", handler="mm-zhao")  # open, due 09-04
    ctx = context(mini, as_of=dt.date(2026, 9, 10))
    out = run_rules(ctx, "complaints")
    month = out["2026-09/complaints.yaml"]
    assert [c.id for c in month.complaints] == ["c-2026-0001", "c-2026-0002", "c-2026-0003"]
    assert (month.total, month.overdue, month.as_of) == (3, 2, dt.date(2026, 9, 10))  # one is open: judged on as_of
    by = {h.handler: h for h in month.handlers}
    assert (by["cm-li"].total, by["cm-li"].resolved, by["cm-li"].overdue) == (2, 2, 1)
    assert (by["mm-zhao"].total, by["mm-zhao"].open, by["mm-zhao"].overdue, by["mm-zhao"].name) == (1, 1, 1, "赵强")


def test_complaint_handled_by_a_market_manager_counts_against_the_retailers_manager(mini):
    complaint(mini, "c-2026-0003", "2026-09-03 10:00", handler="mm-zhao")
    assert statuses(mini)["c-2026-0003"].manager == "cm-li"


def test_a_month_whose_complaints_are_all_resolved_does_not_depend_on_as_of(mini):
    ctx = context(mini, as_of=dt.date(2026, 9, 10))
    assert run_rules(ctx, "complaints")["2026-09/complaints.yaml"].as_of is None


def test_the_mini_complaint_resolved_the_same_day_is_on_time(mini):
    s = statuses(mini)["c-2026-0001"]
    assert (s.due, s.state) == (dt.date(2026, 9, 2), "on_time")
    assert mini.path(COMPLAINT).is_file()


def test_key_customer_must_be_answered_within_24_hours(mini):
    # r-0001 is class a (a key customer) in September; received Wed 09-02 10:00 → answer by Thu 09-03 10:00
    mini.write("complaints/2026/c-2026-0002.yaml", {
        "id": "c-2026-0002", "received": "2026-09-02 10:00", "retailer": "r-0001", "content": "断货",
        "severity": "major", "handler": "cm-li",
        "actions": [{"at": "2026-09-03 10:01", "by": "cm-li", "text": "回访"}]})
    mini.write("complaints/2026/c-2026-0003.yaml", {
        "id": "c-2026-0003", "received": "2026-09-02 10:00", "retailer": "r-0002", "content": "断货",
        "severity": "major", "handler": "cm-li"})
    mini.write("complaints/2026/c-2026-0004.yaml", {
        "id": "c-2026-0004", "received": "2026-09-02 10:00", "retailer": "r-0001", "content": "断货",
        "severity": "major", "handler": "cm-li",
        "actions": [{"at": "2026-09-03 10:00", "by": "cm-li", "text": "回访"}]})  # exactly 24 hours
    ctx = context(mini, as_of=dt.date(2026, 9, 4), classes={"2026-09": {"r-0001": "a", "r-0002": "b"}})
    run_rules(ctx, "complaints")
    assert ctx.shared["complaints"]["c-2026-0004"].response_late is False
    key, other = ctx.shared["complaints"]["c-2026-0002"], ctx.shared["complaints"]["c-2026-0003"]
    assert (key.key_customer, key.respond_by, key.response_late) == (True, dt.datetime(2026, 9, 3, 10, 0), True)
    assert key.overdue is False  # major: 3 working days → 09-07; the late answer is only flagged
    assert (other.key_customer, other.response_late) == (False, False)
