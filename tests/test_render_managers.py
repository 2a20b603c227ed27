"""The managers' computed records (visits, complaints, appraisals: ~1,700
files of a city written by the main process of ``crmdocs recalc``) are
written by walking the models (``yamlwrite.dumps_model``, its block writers
write days, times and lists inline); the bytes must be those of the dump
(``model_dump`` + ``dumps_plain``), PyYAML's own text for it."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from crmdocs.schemas.computed_managers import (
    Appraisal, ComplaintsMonth, ComplaintStatus, Coverage, Deadlines, Execution, GradeRecommendation, HandlerSummary,
    IndicatorResult, LateItem, ManagerComplaints, ManagerPeriod, OverdueRetailer, Visits,
)
from crmdocs.scripts import yamlwrite
from crmdocs.scripts.recalc import HEADER, render_record

from test_render_walk import dumped

DAY = dt.date(2026, 11, 30)


def period(items: list[LateItem], overdue: list[OverdueRetailer], evidence: list[str], grade: bool) -> ManagerPeriod:
    return ManagerPeriod(
        manager="cm-li", name="李明", unit="d-east", period="2026-Q4", start=dt.date(2026, 10, 1), end=DAY, as_of=DAY,
        visits=Visits(
            working_days=21, absent_days=1, execution=Execution(planned=10, done=9, ratio=0.9, days=3),
            coverage=Coverage(as_of=DAY, territory=3, covered=2, ratio=0.6667, note="", overdue=overdue),
            plans=Deadlines(expected=3, late=1, ratio=0.6667, items=items), diaries=Deadlines(items=items[:1]),
        ),
        complaints=ManagerComplaints(overdue=1, ids=["c-1"]),
        appraisal=Appraisal(
            indicators=[
                IndicatorResult(key="sales", label="销量", actual=12.5, target=10.0, unit="箱", ratio=1.25, floor=0.6, full=1.0,
                                max_points=30.0, points=30.0),
                IndicatorResult(key="visits", label="拜访", floor=0.6, full=1.0, max_points=20.0, note="没有计划"),
            ],
            earned=30.0, assessable=30.0, scaled=100.0, overdue_complaints=1, deduction=2.0, total=98.0, complete=True,
        ),
        grade=GradeRecommendation(current="level-3", action="promote", to="level-2", rule="连续两季", evidence=evidence)
        if grade else None,
    )


def test_a_manager_period_is_written_as_its_dump():
    items = [
        LateItem(date=dt.date(2026, 10, 9), due=dt.datetime(2026, 10, 9, 9, 0), status="late",
                 handed_in=dt.datetime(2026, 10, 9, 11, 30), hours_late=2.5),
        LateItem(date=dt.date(2026, 10, 12), due=dt.datetime(2026, 10, 12, 9, 0), status="missing"),
    ]
    overdue = [
        OverdueRetailer(retailer="r-0001", shop="东乡超市", retailer_class="a", cycle_days=7, last_visit=dt.date(2026, 11, 2),
                        days_overdue=21),
        OverdueRetailer(retailer="r-0002", shop="007", cycle_days=30, days_overdue=3),  # never visited, no class
    ]
    for record in (period(items, overdue, ["2026-Q3 95 分", "2026-Q4 98 分"], True), period([], [], [], True),
                   period(items, [], [], False)):
        text = render_record(record)
        assert text == dumped(record)
        assert text == yamlwrite._pyyaml_dumps(record.model_dump(mode="python", by_alias=True, exclude_none=True), HEADER)
    text = render_record(period(items, overdue, [], True))
    assert '    due: "2026-10-09 09:00"\n' in text and "    items: []\n" in text and "      last_visit: 2026-11-02\n" in text


def test_a_complaints_month_is_written_as_its_dump():
    at = dt.datetime(2026, 11, 2, 8, 15)
    record = ComplaintsMonth(
        period="2026-11", as_of=DAY, total=2, overdue=1,
        complaints=[
            ComplaintStatus(id="c-1", retailer="r-0001", handler="cm-li", manager="cm-li", severity="special", counted_as="normal",
                            working_days=5, received=at, due=dt.date(2026, 11, 9), state="open_overdue", overdue=True,
                            days_overdue=21, key_customer=True, respond_by=at + dt.timedelta(hours=24), note="没有批准人"),
            ComplaintStatus(id="c-2", retailer="r-0002", handler="mm-zhao", manager="cm-li", severity="normal", counted_as="normal",
                            working_days=5, approver="mm-zhao", received=at, due=dt.date(2026, 11, 9), resolved=at,
                            state="on_time", overdue=False, first_response=at),
        ],
        handlers=[HandlerSummary(handler="cm-li", name="李明", total=1, open=1, overdue=1)],
    )
    assert render_record(record) == dumped(record)


_TIMES = st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2100, 12, 31)).map(lambda t: t.replace(second=0, microsecond=0))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.builds(
    LateItem, date=st.dates(), due=_TIMES, status=st.sampled_from(["late", "missing"]),
    handed_in=st.none() | _TIMES, hours_late=st.none() | st.floats(0, 1000).map(lambda x: round(x, 2)),
), max_size=4), st.lists(st.builds(
    OverdueRetailer, retailer=st.sampled_from(["r-0001", "r-9"]), shop=st.sampled_from(["", "店", "1.5", "yes"]),
    retailer_class=st.none() | st.sampled_from(["a", "null"]), cycle_days=st.integers(1, 90),
    last_visit=st.none() | st.dates(), days_overdue=st.integers(0, 400),
), max_size=3), st.lists(st.sampled_from(["2026-Q3 95 分", "true", "", "0832"]), max_size=3))
def test_generated_periods_are_written_as_their_dump(items, overdue, evidence):
    record = period(items, overdue, evidence, True)
    assert render_record(record) == dumped(record)
