"""Computed records of the manager-side rules: visits, complaints, appraisals.

Written only by ``crmdocs recalc`` under ``records/computed/``; nobody edits
them by hand (``crmdocs recalc --check`` catches it). Files:

* ``<period>/managers/<manager>.yaml`` — :class:`ManagerPeriod`: one customer
  manager's visits, complaints and appraisal for a month, quarter or year
  (quarters also carry the grade recommendation);
* ``<month>/complaints.yaml`` — :class:`ComplaintsMonth`: every complaint
  received that month with its due date and overdue flag, and per handler.

Field order is the order of the file; every list is sorted by the rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field


class Computed(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)  # made on first use (common.Record)


# ---------------------------------------------------------------- visits


class Execution(Computed):
    """Plan execution (计划执行率) = planned visits the diary shows done ÷ planned."""

    planned: int = 0
    done: int = 0
    ratio: Optional[float] = None  # None: nothing was planned
    days: int = 0  # plans counted (days whose diary was due or handed in)


class OverdueRetailer(Computed):
    retailer: str
    shop: str = ""
    retailer_class: Optional[str] = None  # None: never evaluated → longest cycle
    cycle_days: int
    last_visit: Optional[dt.date] = None  # None: not visited since the records begin
    days_overdue: int


class Coverage(Computed):
    """Required-cycle coverage (拜访周期覆盖率) on ``as_of``: retailers of the
    territory visited within their class's cycle ÷ retailers of the territory."""

    as_of: dt.date
    territory: int = 0
    covered: int = 0
    ratio: Optional[float] = None
    class_unknown: int = 0  # retailers without a class: the policy's longest cycle was used
    note: str = ""
    overdue: list[OverdueRetailer] = Field(default_factory=list)


class LateItem(Computed):
    date: dt.date  # the day the plan / diary is for
    due: dt.datetime
    status: Literal["late", "missing"]
    handed_in: Optional[dt.datetime] = None
    hours_late: Optional[float] = None


class Deadlines(Computed):
    """Plans, diaries or reviews against their deadline."""

    expected: int = 0  # working days in the period that needed one
    on_time: int = 0
    late: int = 0
    missing: int = 0  # not there although its deadline has passed
    unknown: int = 0  # there, but when it was handed in is unknown (no history): never late
    not_yet_due: int = 0
    ratio: Optional[float] = None  # (due − late − missing) ÷ due, due = expected − not_yet_due
    items: list[LateItem] = Field(default_factory=list)


class Visits(Computed):
    working_days: int = 0  # working days of the period up to as_of (calendar, holidays, 调休)
    absent_days: int = 0  # diaries with an absence and no visits
    execution: Execution = Field(default_factory=Execution)
    coverage: Optional[Coverage] = None
    plans: Deadlines = Field(default_factory=Deadlines)
    diaries: Deadlines = Field(default_factory=Deadlines)
    reviews: Deadlines = Field(default_factory=Deadlines)


# ---------------------------------------------------------------- complaints


ComplaintState = Literal["on_time", "overdue", "open", "open_overdue"]
# the words of the site, crmdocs explain and the spreadsheets (one copy)
COMPLAINT_STATE_ZH = {"on_time": "按时办结", "overdue": "超期办结", "open": "处理中", "open_overdue": "超期未办结"}


class ComplaintStatus(Computed):
    id: str
    retailer: str
    handler: str
    manager: str  # whose appraisal an overdue complaint counts against
    severity: str
    counted_as: str  # severity whose deadline applies (special without approver → fallback)
    working_days: int
    approver: Optional[str] = None
    received: dt.datetime
    due: dt.date  # resolved on or before this day = on time
    resolved: Optional[dt.datetime] = None
    state: ComplaintState
    overdue: bool
    days_overdue: int = 0
    # key customers (重点客户, policy.classes.key_classes): first answer within key_response_hours
    key_customer: bool = False
    respond_by: Optional[dt.datetime] = None
    first_response: Optional[dt.datetime] = None  # the first action, else the resolution
    response_late: bool = False
    note: str = ""


class HandlerSummary(Computed):
    handler: str
    name: str = ""
    total: int = 0
    resolved: int = 0
    open: int = 0
    overdue: int = 0


class ComplaintsMonth(Computed):
    """File ``<month>/complaints.yaml``: complaints received in the month."""

    period: str
    # the day open complaints were judged on; None when all are resolved (the
    # file then no longer changes as the records move on)
    as_of: Optional[dt.date] = None
    total: int = 0
    overdue: int = 0
    complaints: list[ComplaintStatus] = Field(default_factory=list)
    handlers: list[HandlerSummary] = Field(default_factory=list)


class ManagerComplaints(Computed):
    """Complaints that became overdue in the period (their due day falls in it)."""

    overdue: int = 0
    ids: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------- appraisal


class IndicatorResult(Computed):
    key: str
    label: str
    actual: Optional[float] = None
    target: Optional[float] = None
    unit: str = ""
    ratio: Optional[float] = None  # actual ÷ target
    floor: float
    full: float
    max_points: float
    points: Optional[float] = None  # None: not assessed (no input)
    note: str = ""


class Appraisal(Computed):
    indicators: list[IndicatorResult] = Field(default_factory=list)
    earned: float = 0.0  # points of the assessed indicators
    assessable: float = 0.0  # full marks of the assessed indicators
    scaled: float = 0.0  # earned × 100 ÷ assessable (indicators without input left out)
    overdue_complaints: int = 0
    deduction: float = 0.0
    total: float = 0.0  # scaled − deduction, clamped to 0–100
    complete: bool = False  # the period has ended by as_of


GradeAction = Literal["promote", "demote", "eliminate_review", "end_probation", "none"]


class GradeRecommendation(Computed):
    """What the rules recommend; a person decides by committing the change to
    the person's record. Never written into the person's record."""

    current: Optional[str] = None
    action: GradeAction = "none"
    to: Optional[str] = None
    rule: str = ""
    evidence: list[str] = Field(default_factory=list)


class ManagerPeriod(Computed):
    """File ``<period>/managers/<manager>.yaml``."""

    manager: str
    name: str = ""
    unit: str = ""
    period: str
    start: dt.date
    end: dt.date
    as_of: dt.date  # the last day counted: min(end, the records' as_of)
    visits: Visits = Field(default_factory=Visits)
    complaints: ManagerComplaints = Field(default_factory=ManagerComplaints)
    appraisal: Optional[Appraisal] = None
    grade: Optional[GradeRecommendation] = None  # quarters only
