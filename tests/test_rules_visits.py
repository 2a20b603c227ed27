"""Visits: plan execution, required-cycle coverage, plans/diaries/reviews late or
missing (DOMAIN.md §3 Visits). Numbers worked by hand on the mini repository:
cm-li's plan and diary of Tue 2026-09-01 visit r-0001 and r-0002 (review
09-01 18:00); calendar: 中秋节 09-25 … 09-27 off, make-up Sunday 09-20."""

import datetime as dt

from conftest import POLICY, RETAILER_2
from manager_fixtures import add_manager, context, diary, plan, run_rules

D = dt.date
T = dt.datetime


def visits(mini, as_of, manager="cm-li", period="2026-09", **kw):
    ctx = context(mini, as_of=as_of, **kw)
    run_rules(ctx, "visits")
    return ctx.shared["visits"].by_key[(manager, period)]


# ---------------------------------------------------------------- plan execution


def test_plan_execution_counts_planned_visits_the_diary_shows_done(mini):
    plan(mini, "cm-li", "2026-09-02", ["r-0001", "r-0002"])
    diary(mini, "cm-li", "2026-09-02", ["r-0001"])
    ex = visits(mini, D(2026, 9, 2)).execution
    # 09-01: 2 planned, 2 done; 09-02: 2 planned, 1 done → 3 ÷ 4 = 0.75
    assert (ex.planned, ex.done, ex.ratio) == (4, 3, 0.75)


def test_a_plan_whose_diary_is_not_yet_due_is_left_out_until_it_is(mini):
    plan(mini, "cm-li", "2026-09-03", ["r-0001"])  # no diary; diary due Fri 09-04 09:00
    assert visits(mini, D(2026, 9, 3)).execution.planned == 2  # 09-01 only
    ex = visits(mini, D(2026, 9, 4)).execution
    assert (ex.planned, ex.done, ex.ratio) == (3, 2, round(2 / 3, 4))  # 09-03 counts as 0 done


# ---------------------------------------------------------------- deadlines


def test_plan_handed_in_exactly_at_0830_is_on_time_and_a_diary_one_minute_late_is_late(mini):
    handed = {
        "records/plans/cm-li/2026/2026-09-01.yaml": T(2026, 9, 1, 8, 30),
        "records/diaries/cm-li/2026/2026-09-01.yaml": T(2026, 9, 2, 9, 1),  # due Wed 09-02 09:00
    }
    v = visits(mini, D(2026, 9, 1), handed_in=handed)
    assert (v.plans.expected, v.plans.on_time, v.plans.late) == (1, 1, 0)
    assert (v.diaries.late, v.diaries.ratio) == (1, 0.0)
    item = v.diaries.items[0]
    assert (item.status, item.due, item.hours_late) == ("late", T(2026, 9, 2, 9, 0), 0.02)  # 1 min = 0.0167 h


def test_without_history_hand_in_times_are_unknown_never_late(mini):
    v = visits(mini, D(2026, 9, 1), handed_in=None)
    assert (v.plans.unknown, v.plans.late, v.diaries.unknown, v.diaries.late) == (1, 0, 1, 0)
    assert v.diaries.ratio == 1.0
    # a history that does not know the file says the same
    v = visits(mini, D(2026, 9, 1), handed_in={})
    assert (v.plans.unknown, v.diaries.unknown) == (1, 1)


def test_missing_plans_and_diaries_up_to_as_of(mini):
    # working days 09-01 … 09-08: 01 02 03 04 07 08 (6); only 09-01 has a plan and diary
    v = visits(mini, D(2026, 9, 8))
    assert v.working_days == 6
    # plans are due at 08:30 of their own day: 5 missing, 09-08 included
    assert (v.plans.expected, v.plans.missing, v.plans.not_yet_due) == (6, 5, 0)
    # diaries are due 09:00 the next working day: 02 03 04 07 missing, 08 not yet due
    assert (v.diaries.expected, v.diaries.missing, v.diaries.not_yet_due) == (6, 4, 1)
    assert [i.date.day for i in v.diaries.items] == [2, 3, 4, 7]
    assert v.diaries.items[2].due == T(2026, 9, 7, 9, 0)  # Fri 09-04 → Mon 09-07


def test_diary_of_friday_before_a_make_up_sunday_is_due_on_that_sunday(mini):
    path = diary(mini, "cm-li", "2026-09-18", ["r-0001"])
    v = visits(mini, D(2026, 9, 21), handed_in={path: T(2026, 9, 21, 8, 0)})
    late = [i for i in v.diaries.items if i.date == D(2026, 9, 18)]
    # Sunday 09-20 is a make-up working day: due 09-20 09:00, handed in Mon 08:00 → 23 h late
    assert late[0].status == "late"
    assert (late[0].due, late[0].hours_late) == (T(2026, 9, 20, 9, 0), 23.0)
    # and the make-up Sunday itself needs a plan and a diary
    assert D(2026, 9, 20) in [i.date for i in v.plans.items]


def test_diary_before_the_mid_autumn_holiday_is_due_after_it(mini):
    path = diary(mini, "cm-li", "2026-09-24", ["r-0001"])  # Thu; 09-25 … 09-27 off
    v = visits(mini, D(2026, 9, 28), handed_in={path: T(2026, 9, 28, 8, 59)})
    assert D(2026, 9, 24) not in [i.date for i in v.diaries.items]  # due Mon 09-28 09:00: on time
    assert v.diaries.on_time == 1


def test_absence_day_needs_a_diary_but_no_plan(mini):
    diary(mini, "cm-li", "2026-09-02", [], absence="sick")
    v = visits(mini, D(2026, 9, 2))
    assert v.absent_days == 1
    assert (v.plans.expected, v.plans.missing) == (1, 0)
    assert v.diaries.expected == 2


def test_reviews_within_two_working_days(mini):
    # diary 09-01 reviewed Thu 09-03 18:00: 2 working days after 09-01 are 09-02, 09-03 → on time
    mini.edit("diaries/cm-li/2026/2026-09-01.yaml", lambda d: d["review"].update(at="2026-09-03 18:00"))
    # diary 09-02 is due for review by Fri 09-04 (09-03, 09-04): reviewed Mon 09-07 → late;
    # diary 09-03 (due 09-04, 09-07) never reviewed → missing once 09-07 has passed
    diary(mini, "cm-li", "2026-09-02", ["r-0001"], review={"at": "2026-09-07 09:00"})
    diary(mini, "cm-li", "2026-09-03", ["r-0001"])
    r = visits(mini, D(2026, 9, 7)).reviews
    assert (r.expected, r.on_time, r.late, r.missing, r.not_yet_due) == (3, 1, 1, 0, 1)  # 09-03 due 09-07: not yet
    r = visits(mini, D(2026, 9, 8)).reviews
    assert (r.late, r.missing) == (1, 1)


def test_review_time_from_the_history_wins_over_review_at(mini):
    # review.at says 09-01 18:00, but the history says the review was handed in Fri 09-04 → late
    handed = {"records/diaries/cm-li/2026/2026-09-01.yaml#review": T(2026, 9, 4, 9, 0)}
    r = visits(mini, D(2026, 9, 4), handed_in=handed).reviews
    assert (r.late, r.items[0].handed_in) == (1, T(2026, 9, 4, 9, 0))


def test_review_before_the_holiday_counts_working_days_after_it(mini):
    diary(mini, "cm-li", "2026-09-24", ["r-0001"], review={"at": "2026-09-29 10:00"})  # 09-28, 09-29
    r = visits(mini, D(2026, 9, 30)).reviews
    assert D(2026, 9, 24) not in [i.date for i in r.items]


# ---------------------------------------------------------------- coverage


def test_class_a_retailer_not_visited_within_seven_days_is_overdue(mini):
    classes = {"2026-08": {"r-0001": "a", "r-0002": "d"}}  # the latest evaluation applies
    cov = visits(mini, D(2026, 9, 10), classes=classes).coverage
    # r-0001: last visit 09-01, 9 days ago, cycle 7 → 2 days overdue; r-0002: 9 ≤ 30 covered
    assert (cov.territory, cov.covered, cov.ratio) == (2, 1, 0.5)
    [o] = cov.overdue
    assert (o.retailer, o.retailer_class, o.cycle_days, o.last_visit, o.days_overdue) == ("r-0001", "a", 7, D(2026, 9, 1), 2)


def test_exactly_one_cycle_after_the_visit_is_still_covered(mini):
    cov = visits(mini, D(2026, 9, 8), classes={"2026-09": {"r-0001": "a", "r-0002": "a"}}).coverage
    assert (cov.covered, cov.overdue) == (2, [])  # 7 days = the cycle


def test_policy_cycle_days_govern_coverage(mini):
    mini.edit(POLICY, lambda d: d["visits"].update(cycle_days={"a": 5, "b": 14, "c": 14, "d": 30, "e": 30}))
    cov = visits(mini, D(2026, 9, 8), classes={"2026-09": {"r-0001": "a", "r-0002": "a"}}).coverage
    assert [o.days_overdue for o in cov.overdue] == [2, 2]  # 7 − 5


def test_unknown_class_uses_the_longest_cycle_and_says_so(mini):
    cov = visits(mini, D(2026, 9, 30)).coverage
    # no classes: 30 days; 09-01 → 09-30 is 29 days → covered
    assert (cov.class_unknown, cov.covered) == (2, 2)
    assert "30 天" in cov.note


def test_a_class_the_policy_has_no_cycle_for_takes_the_longest_and_counts_as_unknown(mini):
    classes = {"2026-08": {"r-0001": "a", "r-0002": "z"}}  # "z": no cycle in the policy
    cov = visits(mini, D(2026, 9, 10), classes=classes).coverage
    assert (cov.class_unknown, cov.covered) == (1, 1)  # r-0002: 9 days ≤ 30
    [o] = cov.overdue
    assert (o.retailer, o.cycle_days) == ("r-0001", 7)
    cov = visits(mini, D(2026, 9, 30), classes=classes).coverage
    assert (cov.class_unknown, [(o.retailer, o.days_overdue) for o in cov.overdue]) == (1, [("r-0001", 22)])


def test_retailer_that_changed_manager_mid_month_counts_for_whoever_has_it(mini):
    add_manager(mini, "cm-zhou", "周杰")
    mini.edit(RETAILER_2, lambda d: d["management"].update(
        manager="cm-zhou", manager_history=[{"manager": "cm-li", "until": "2026-09-15"}]))
    ctx = context(mini, as_of=D(2026, 9, 30))
    run_rules(ctx, "visits")
    by = ctx.shared["visits"].by_key
    li, zhou = by[("cm-li", "2026-09")].coverage, by[("cm-zhou", "2026-09")].coverage
    assert (li.territory, zhou.territory) == (1, 1)
    # cm-li's visit of 09-01 still counts for the retailer: 29 days ≤ 30
    assert zhou.covered == 1
    # before the hand-over the retailer was cm-li's
    assert ctx.shared["visits"].territory[D(2026, 9, 30)]["cm-zhou"] == ["r-0002"]


def test_quarter_and_year_add_up_their_months(mini):
    plan(mini, "cm-li", "2026-10-08", ["r-0001"])
    diary(mini, "cm-li", "2026-10-08", ["r-0002"])  # r-0001 planned, not done
    ctx = context(mini, as_of=D(2026, 10, 9))
    run_rules(ctx, "visits")
    by = ctx.shared["visits"].by_key
    assert by[("cm-li", "2026-09")].execution.planned == 2
    assert by[("cm-li", "2026-10")].execution.planned == 1
    assert (by[("cm-li", "2026")].execution.planned, by[("cm-li", "2026")].execution.done) == (3, 2)
    assert by[("cm-li", "2026-Q4")].execution.ratio == 0.0
    # September: 22 weekdays − Fri 09-25 (中秋节) + make-up Sunday 09-20 = 22 working days
    assert by[("cm-li", "2026-09")].working_days == 22


def test_a_manager_who_left_is_not_expected_to_write_after_the_last_diary(mini):
    mini.edit("people/cm-li.yaml", lambda d: d.update(active=False))
    v = visits(mini, D(2026, 9, 8))
    assert (v.working_days, v.plans.missing, v.diaries.missing) == (1, 0, 0)  # only 09-01


def test_a_new_manager_is_expected_from_the_hire_date(mini):
    mini.edit("people/cm-li.yaml", lambda d: d.update(hire_date="2026-09-07"))
    v = visits(mini, D(2026, 9, 8))
    assert v.working_days == 2  # 09-07, 09-08


def test_make_up_saturday_needs_a_plan_and_takes_fridays_diary_deadline(mini):
    path = diary(mini, "cm-li", "2026-10-09", ["r-0001"])  # Fri; Sat 10-10 is a make-up working day
    v = visits(mini, D(2026, 10, 12), period="2026-10", handed_in={path: T(2026, 10, 12, 8, 0)})
    [late] = [i for i in v.diaries.items if i.date == D(2026, 10, 9)]
    assert (late.due, late.hours_late) == (T(2026, 10, 10, 9, 0), 47.0)  # Sat 09:00 → Mon 08:00
    # October up to Mon 10-12: 10-08, 10-09, 10-10 (Sat), 10-12 = 4 working days (10-01 … 10-07 off)
    assert v.working_days == 4
    assert D(2026, 10, 10) in [i.date for i in v.plans.items]
