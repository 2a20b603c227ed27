"""Rule module ``visits``: plan execution, required-cycle coverage, and plans,
diaries and reviews late or missing — per customer manager and period.

DOMAIN.md §3 "Visits". Every number comes from ``policy.visits``; working days
from the calendar records (holidays and make-up days included). A plan or
diary whose hand-in time is unknown (no git history) is counted as "unknown",
never as late. Results go to ``ctx.shared["visits"]`` (a :class:`VisitsResult`);
module ``appraisals`` writes them into each manager's computed record, so this
module returns no files of its own.
"""

from __future__ import annotations

import datetime as dt
import functools
import itertools
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import numpy as np

from crmdocs.schemas.computed_managers import (
    Coverage,
    Deadlines,
    Execution,
    LateItem,
    OverdueRetailer,
    Visits,
)
from crmdocs.schemas.org import Role
from crmdocs.schemas.retailer import Status

from .. import facts, periods
from .retail import fast_model, without_gc

NAME = "visits"
REVIEW = "#review"  # key suffix of a review's hand-in time (crmdocs.scripts.history.REVIEW)


# ---------------------------------------------------------------- what is appraised


@dataclass
class VisitsResult:
    """What this module leaves for later modules and for ``crmdocs explain``."""

    months: list[str]  # months appraised, in order
    managers: dict[str, list[str]]  # period (month, quarter, year) → managers, sorted
    by_key: dict[tuple[str, str], Visits]  # (manager, period) → visits summary
    regime_start: Optional[dt.date]  # first day of plans/diaries in the records
    territory: dict[dt.date, dict[str, list[str]]] = field(default_factory=dict)  # day → manager → retailers


def customer_managers(repo) -> list[str]:
    return sorted(pid for pid, p in repo.people.items() if p.role is Role.customer_manager)


def appraised_months(ctx) -> list[str]:
    """Months with plans, diaries or monthly targets, up to the month of as_of."""
    repo = ctx.repo
    found = {periods.month_of(day) for day in {day for _, day in ctx.plans}}
    found |= {periods.month_of(day) for day in {day for _, day in ctx.diaries}}
    found |= {p for p in repo.targets if periods.kind(p) == "month"}
    last = periods.month_of(ctx.as_of)
    return sorted(m for m in found if m <= last)


def regime_start(repo) -> Optional[dt.date]:
    """The first day the records hold a plan or diary: days before it are not
    expected to have one (the program, or the repository, began then)."""
    days = [day for _, day in facts.keys(repo, "plan")] + [day for _, day in facts.keys(repo, "diary")]
    return min(days) if days else None


def territory_on(repo, day: dt.date) -> dict[str, list[str]]:
    """manager → active retailers they are responsible for on ``day`` (sorted)."""
    return Territories(repo).on(day)


class Territories:
    """Territories on any day: retailers that never changed hands are grouped
    once; only those with a manager history are looked at per day."""

    def __init__(self, repo) -> None:
        self.fixed: dict[str, list[str]] = defaultdict(list)
        self.moving: list[tuple[str, object]] = []
        for rid in sorted(repo.retailers):
            r = repo.retailers[rid]
            if r.status is not Status.active:
                continue
            if r.management.manager_history:
                self.moving.append((rid, r.management))
            else:
                self.fixed[r.management.manager].append(rid)

    def on(self, day: dt.date) -> dict[str, list[str]]:
        out = {m: list(rs) for m, rs in self.fixed.items()}
        for rid, management in self.moving:
            out.setdefault(management.manager_on(day), []).append(rid)  # type: ignore[attr-defined]
        for m, rs in out.items():
            if self.moving:
                rs.sort()
        return out


def class_tables(ctx, day: dt.date) -> list[dict[str, str]]:
    """The monthly class lists in force on ``day``, latest first: a retailer's
    class is its entry in the first list that has one."""
    by_month: dict[str, dict[str, str]] = ctx.shared.get("classes", {}) or {}
    key = periods.month_of(day)
    return [by_month[m] for m in sorted((m for m in by_month if m <= key), reverse=True)]


def classes_on(ctx, day: dt.date, retailers: list[str]) -> list[Optional[str]]:
    """``ctx.class_on(r, day)`` for every retailer of the list, list by list."""
    tables = class_tables(ctx, day)
    if not tables:
        return [None] * len(retailers)
    out = list(map(tables[0].get, retailers))
    if len(tables) > 1 and None in out:
        lookup = class_lookup(ctx, day)
        out = [c if c is not None else lookup(r) for r, c in zip(retailers, out)]
    return out


def class_lookup(ctx, day: dt.date) -> Callable[[str], Optional[str]]:
    """``ctx.class_on(·, day)`` with the month search done once for ``day``."""
    tables = class_tables(ctx, day)

    def lookup(retailer: str) -> Optional[str]:
        for table in tables:
            found = table.get(retailer)
            if found is not None:
                return found
        return None

    return lookup


# ---------------------------------------------------------------- deadlines


def _at(day: dt.date, clock: str) -> dt.datetime:
    hh, mm = clock.split(":")
    return dt.datetime.combine(day, dt.time(int(hh), int(mm)))


class _Due:
    """Deadlines per day, computed once for all managers."""

    def __init__(self, ctx):
        self.cal = ctx.calendar
        self.vp = ctx.policy.visits
        self._cache: dict[tuple[str, dt.date], object] = {}

    def plan(self, day: dt.date) -> dt.datetime:
        key = ("plan", day)
        if key not in self._cache:
            d = self.vp.plan_deadline
            self._cache[key] = _at(self.cal.add_working_days(day, d.days_after), d.time)
        return self._cache[key]  # type: ignore[return-value]

    def diary(self, day: dt.date) -> dt.datetime:
        key = ("diary", day)
        if key not in self._cache:
            d = self.vp.diary_deadline
            self._cache[key] = _at(self.cal.add_working_days(day, d.days_after), d.time)
        return self._cache[key]  # type: ignore[return-value]

    def review_deadline(self, day: dt.date) -> dt.datetime:
        """The end (23:59) of the day a review is due by."""
        key = ("review_end", day)
        if key not in self._cache:
            self._cache[key] = dt.datetime.combine(self.review(day), dt.time(23, 59))
        return self._cache[key]  # type: ignore[return-value]

    def review(self, day: dt.date) -> dt.date:
        """A review is on time when written on or before this day."""
        key = ("review", day)
        if key not in self._cache:
            self._cache[key] = self.cal.add_working_days(day, self.vp.review_working_days)
        return self._cache[key]  # type: ignore[return-value]


class _Tally:
    def __init__(self) -> None:
        self.expected = self.on_time = self.late = self.missing = self.unknown = self.not_yet_due = 0
        self.items: list[LateItem] = []

    def handed(self, day: dt.date, due: dt.datetime, at: Optional[dt.datetime]) -> None:
        self.expected += 1
        if at is None:
            self.unknown += 1
        elif at > due:
            self.late += 1
            hours = round((at - due).total_seconds() / 3600, 2)
            self.items.append(fast_model(LateItem, {"date": day, "due": due, "status": "late", "handed_in": at, "hours_late": hours}))
        else:
            self.on_time += 1

    def absent(self, day: dt.date, due: dt.datetime, as_of: dt.date) -> None:
        self.expected += 1
        if due.date() <= as_of:
            self.missing += 1
            self.items.append(fast_model(LateItem, {"date": day, "due": due, "status": "missing"}))
        else:
            self.not_yet_due += 1

    def model(self) -> Deadlines:
        due = self.expected - self.not_yet_due
        ratio = round((due - self.late - self.missing) / due, 4) if due else None
        return fast_model(Deadlines, {
            "expected": self.expected, "on_time": self.on_time, "late": self.late, "missing": self.missing,
            "unknown": self.unknown, "not_yet_due": self.not_yet_due, "ratio": ratio,
            "items": sorted(self.items, key=lambda i: (i.date, i.status)),
        })


# ---------------------------------------------------------------- one manager, one month


def _expected_days(ctx, person, month: str, start0: Optional[dt.date], last_record: Optional[dt.date]) -> list[dt.date]:
    first, last = periods.bounds(month)
    lo = max(d for d in (first, start0, person.hire_date) if d is not None)
    hi = min(last, ctx.as_of)
    if not person.active:  # left: expected up to the last plan or diary they wrote
        if last_record is None:
            return []
        hi = min(hi, last_record)
    if start0 is None or hi < lo:
        return []
    return ctx.calendar.working_days(lo, hi)


def _month_visits(ctx, due: _Due, manager: str, month: str, days: list[dt.date]) -> tuple[Visits, int]:
    """One manager's month from the plans' and diaries' facts (``ctx.plans``, ``ctx.diaries``)."""
    repo = ctx.repo
    handed = ctx.handed_in
    sources = repo.sources  # (kind, key) → file (repo.source)
    plan_of, diary_of = ctx.plans.get, ctx.diaries.get
    as_of = ctx.as_of
    review_cut = as_of - dt.timedelta(days=1)
    plans, diaries, reviews = _Tally(), _Tally(), _Tally()
    planned = done = counted = absent_days = 0
    for day in days:
        key = (manager, day)
        plan = plan_of(key)
        diary = diary_of(key)
        absent = diary is not None and diary.absent
        absent_days += absent
        # plan: needed unless the diary says the manager was away that day
        if plan is not None:
            at = handed.get(sources.get(("plan", key), "")) if handed is not None else None
            plans.handed(day, due.plan(day), at)
        elif not absent:
            plans.absent(day, due.plan(day), as_of)
        # diary: needed every working day (an absence is written in it)
        diary_due = due.diary(day)
        if diary is not None:
            at = handed.get(sources.get(("diary", key), "")) if handed is not None else None
            diaries.handed(day, diary_due, at)
            review_deadline = due.review_deadline(day)
            if diary.reviewed:
                # when the review was handed in: the history's "<diary path>#review"
                # (records/handed-in.csv, or git when asked), else the review's own time
                at = handed.get(sources.get(("diary", key), "") + REVIEW) if handed is not None else None
                reviews.handed(day, review_deadline, at or diary.review_at)
            else:
                # missing once the whole due day has passed before as_of
                reviews.absent(day, review_deadline, review_cut)
        else:
            diaries.absent(day, diary_due, as_of)
        # execution: planned visits the diary shows done (days whose diary is due)
        if plan is not None and plan.planned and (diary is not None or diary_due.date() <= as_of):
            wanted = set(plan.planned)
            planned += len(wanted)
            if diary is not None:
                done += len(wanted.intersection(diary.visited))
            counted += 1
    execution = fast_model(Execution, {
        "planned": planned, "done": done, "ratio": round(done / planned, 4) if planned else None, "days": counted,
    })
    visits = fast_model(Visits, {
        "working_days": len(days), "absent_days": absent_days, "execution": execution,
        "plans": plans.model(), "diaries": diaries.model(), "reviews": reviews.model(),
    })
    return visits, len(days)


class _LastVisits:
    """Every visit the diaries record (up to ``as_of``) as one sorted key
    array ``retailer index × 2³² + day ordinal``: the last visit of every
    retailer on or before a day is one search."""

    def __init__(self, who: Any, days: Any, n: int) -> None:
        who = np.asarray(who, np.int64)
        key = who << 32 | np.asarray(days, np.int64)
        self.key = np.sort(key[who >= 0]) if len(who) else np.zeros(0, np.int64)
        self.n = n

    def on(self, day: dt.date) -> np.ndarray:
        """Day ordinal of each retailer's last visit on or before ``day``; 0 = none."""
        r = np.arange(self.n, dtype=np.int64)
        pos = np.searchsorted(self.key, (r << 32) | day.toordinal(), side="right") - 1
        found = self.key[np.maximum(pos, 0)] if len(self.key) else np.zeros(self.n, np.int64)
        mine = (pos >= 0) & (found >> 32 == r)
        return np.where(mine, found & 0xFFFFFFFF, 0)


@dataclass
class _Standing:
    """Every retailer's coverage standing on one day (index = sorted retailer id)."""

    day: dt.date
    cls: list[Optional[str]]
    cycle: np.ndarray
    unknown: np.ndarray  # bool: class unknown, longest cycle used
    last: np.ndarray  # day ordinal of the last visit, 0 = none
    gap: np.ndarray  # days since the last visit (or since the records began)
    covered: np.ndarray  # bool


def _standing(ctx, ids: list[str], day: dt.date, seen: _LastVisits, start0: dt.date) -> _Standing:
    cycle_days = ctx.policy.visits.cycle_days
    longest = max(cycle_days.values())
    cls = classes_on(ctx, day, ids)
    found = set(cls)  # (a handful of class ids: each looked up once)
    cycle = np.fromiter(map({c: cycle_days.get(c, longest) if c is not None else longest for c in found}.__getitem__, cls),
                        np.int64, len(cls))
    unknown = np.fromiter(map({c: c is None or c not in cycle_days for c in found}.__getitem__, cls), bool, len(cls))
    last = seen.on(day)
    before = (start0 - dt.timedelta(days=1)).toordinal()
    gap = day.toordinal() - np.where(last > 0, last, before)
    return _Standing(day, cls, cycle, unknown, last, gap, gap <= cycle)


def _coverage(ctx, st: _Standing, mine: np.ndarray, ids: list[str]) -> Coverage:
    """Coverage of the territory ``mine`` (retailer indexes, ascending)."""
    longest = max(ctx.policy.visits.cycle_days.values())
    unknown = int(st.unknown[mine].sum())
    late = mine[~st.covered[mine]]
    late = late[np.argsort(st.cycle[late] - st.gap[late], kind="stable")]  # most overdue first, then by id
    retailers = ctx.repo.retailers
    overdue = [  # values of the fields' own types (ints, dates, ids): built without validation
        fast_model(OverdueRetailer, {
            "retailer": ids[i], "shop": retailers[ids[i]].basic.shop_name, "retailer_class": st.cls[i],
            "cycle_days": cycle, "last_visit": dt.date.fromordinal(last) if last else None, "days_overdue": gap - cycle,
        })
        for i, cycle, last, gap in zip(late.tolist(), st.cycle[late].tolist(), st.last[late].tolist(), st.gap[late].tolist())
    ]
    note = ""
    if unknown:
        note = f"{unknown} 户尚无分类结果，按政策最长拜访周期 {longest} 天计 (class unknown: longest cycle used)"
    covered = len(mine) - len(late)
    return fast_model(Coverage, {
        "as_of": st.day, "territory": len(mine), "covered": covered,
        "ratio": round(covered / len(mine), 4) if len(mine) else None,
        "class_unknown": unknown, "note": note, "overdue": overdue,
    })


# ---------------------------------------------------------------- aggregation


def _sum_deadlines(parts: list[Deadlines]) -> Deadlines:
    t = _Tally()
    for p in parts:
        t.expected += p.expected
        t.on_time += p.on_time
        t.late += p.late
        t.missing += p.missing
        t.unknown += p.unknown
        t.not_yet_due += p.not_yet_due
        t.items.extend(p.items)
    return t.model()


def aggregate(parts: list[Visits]) -> Visits:
    """A quarter or year from its months: counts added, ratios from the sums;
    coverage pooled over the months, the overdue list of the last month."""
    planned = sum(p.execution.planned for p in parts)
    done = sum(p.execution.done for p in parts)
    covs = [p.coverage for p in parts if p.coverage is not None]
    coverage = None
    if covs:
        territory = sum(c.territory for c in covs)
        covered = sum(c.covered for c in covs)
        last = covs[-1]
        coverage = fast_model(Coverage, {
            "as_of": last.as_of, "territory": territory, "covered": covered,
            "ratio": round(covered / territory, 4) if territory else None,
            "class_unknown": last.class_unknown,
            "note": ("各月月末覆盖情况合计；逾期名单为最后一个月 (months pooled; overdue list of the last month)"
                     + (f"；{last.note}" if last.note else "")),
            "overdue": list(last.overdue),
        })
    return fast_model(Visits, {
        "working_days": sum(p.working_days for p in parts),
        "absent_days": sum(p.absent_days for p in parts),
        "execution": fast_model(Execution, {
            "planned": planned, "done": done, "ratio": round(done / planned, 4) if planned else None,
            "days": sum(p.execution.days for p in parts),
        }),
        "coverage": coverage,
        "plans": _sum_deadlines([p.plans for p in parts]),
        "diaries": _sum_deadlines([p.diaries for p in parts]),
        "reviews": _sum_deadlines([p.reviews for p in parts]),
    })


def summarise(ctx) -> VisitsResult:
    repo = ctx.repo
    months = appraised_months(ctx)
    start0 = regime_start(repo)
    people = customer_managers(repo)
    due = _Due(ctx)

    ids = sorted(repo.retailers)
    at = {rid: i for i, rid in enumerate(ids)}
    visit_days: list[int] = []  # each diary's day (that visited anyone) and its visited retailers
    visited: list = []
    last_record: dict[str, dt.date] = {}
    with_records: set[tuple[str, str]] = set()
    month_of = functools.lru_cache(maxsize=None)(periods.month_of)
    for (manager, day), diary in ctx.diaries.items():
        if day > ctx.as_of:
            continue
        rids = diary.visited
        if rids:
            visit_days.append(day.toordinal())
            visited.append(rids)
        last_record[manager] = max(day, last_record.get(manager, day))
        with_records.add((manager, month_of(day)))
    # every visit as (retailer index, -1 unknown) and day: ~700,000 at city scale, at C speed
    counts = np.fromiter(map(len, visited), np.int64, len(visited))
    who = np.fromiter(map(at.get, itertools.chain.from_iterable(visited), itertools.repeat(-1)), np.int64, int(counts.sum()))
    when = np.repeat(np.array(visit_days, np.int64), counts)
    for (manager, day) in ctx.plans:
        last_record[manager] = max(day, last_record.get(manager, day))
        with_records.add((manager, month_of(day)))
    seen = _LastVisits(who, when, len(ids))
    for period, targets in repo.targets.items():
        for line in targets.targets:
            with_records.add((line.manager, period))

    by_key: dict[tuple[str, str], Visits] = {}
    managers: dict[str, set[str]] = defaultdict(set)
    territories: dict[dt.date, dict[str, list[str]]] = {}
    teams = Territories(repo)
    places: dict[str, tuple[list[str], np.ndarray]] = {}  # manager → territory, its retailers' indexes
    for month in months:
        ref = min(periods.bounds(month)[1], ctx.as_of)
        terr = teams.on(ref)
        territories[ref] = terr
        standing = _standing(ctx, ids, ref, seen, start0) \
            if start0 is not None and ref >= start0 else None
        for manager in people:
            person = repo.people[manager]
            mine = terr.get(manager, [])
            if not mine and (manager, month) not in with_records:
                continue
            days = _expected_days(ctx, person, month, start0, last_record.get(manager))
            visits, _ = _month_visits(ctx, due, manager, month, days)
            if standing is not None:
                known = places.get(manager)
                if known is None or known[0] != mine:  # the same territory as last month: same places
                    known = places[manager] = (mine, np.array([at[rid] for rid in mine], np.int64))
                visits.coverage = _coverage(ctx, standing, known[1], ids)
            by_key[(manager, month)] = visits
            for period in (month, periods.quarter_of(month), periods.year_of(month)):
                managers[period].add(manager)
    for period in sorted(managers):
        if periods.kind(period) == "month":
            continue
        inside = [m for m in periods.months(period) if m in months]
        for manager in managers[period]:
            parts = [by_key[(manager, m)] for m in inside if (manager, m) in by_key]
            by_key[(manager, period)] = aggregate(parts)
    return VisitsResult(
        months=months, managers={p: sorted(ms) for p, ms in managers.items()},
        by_key=by_key, regime_start=start0, territory=territories,
    )


@without_gc
def compute(ctx) -> dict:
    ctx.shared[NAME] = summarise(ctx)
    return {}
