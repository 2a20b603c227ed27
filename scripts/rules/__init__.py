"""The rules of DOMAIN.md §3, computed from the records and the policy.

Data flows one way: ``load → validate → compute → render``. ``compute_all``
runs every rule module in order; each module has

    NAME: str
    def compute(ctx: RulesContext) -> dict[str, BaseModel]

returning computed records keyed by their path under ``records/computed/``
(e.g. ``"2026-10/retailers/d-chengguan.yaml"``). A module may also store
results on the context for later modules (``ctx.shared[NAME]``), e.g. the
retailer classes that the visit rules need. ``crmdocs recalc`` writes the
records, the site plugin renders them: nothing is computed in two places.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, field
from typing import Any, Mapping, Optional

from pydantic import BaseModel

from crmdocs.schemas import Policy

from ..repository import Repository
from ..workdays import WorkCalendar

# run in this order; later modules may read what earlier ones put in ctx.shared
MODULES: tuple[str, ...] = (
    "classes",  # retailer values and class, base classification -> ctx.shared["classes"]
    "tiers",  # supply tiers (档位) and their overrides
    "limits",  # turnover and order limits
    "abnormal",  # abnormal orders
    "visits",  # plan execution, coverage, late/missing plans, diaries, reviews
    "complaints",  # due times and overdue flags
    "appraisals",  # customer-manager appraisals and grade recommendations
)


@dataclass
class RulesContext:
    repo: Repository
    policy: Policy
    calendar: WorkCalendar
    # the day the computation stands on: the last day any record speaks of,
    # never the wall clock, so the same records give the same results
    as_of: dt.date
    # first-commit time of each record file (path relative to the repository
    # root), from git history; None when there is no history (a tarball):
    # rules that need it then say "unknown" instead of guessing
    handed_in: Optional[Mapping[str, dt.datetime]] = None
    shared: dict[str, Any] = field(default_factory=dict)

    def class_on(self, retailer: str, day: dt.date) -> Optional[str]:
        """The retailer's class in force on ``day``: the latest monthly
        evaluation at or before that month (``shared["classes"]`` is
        month ``"YYYY-MM"`` → retailer id → class id, set by module
        ``classes``); None when the retailer was never evaluated."""
        by_month: dict[str, dict[str, str]] = self.shared.get("classes", {})
        key = f"{day.year:04d}-{day.month:02d}"
        for month in sorted((m for m in by_month if m <= key), reverse=True):
            found = by_month[month].get(retailer)
            if found is not None:
                return found
        return None


@dataclass
class Computed:
    ctx: RulesContext
    records: dict[str, BaseModel]


def last_day(repo: Repository) -> dt.date:
    """The latest date the records speak of (sales, plans, diaries, complaints)."""
    days: list[dt.date] = []
    sales_last = repo.sales.last_day()
    if sales_last is not None:
        days.append(sales_last)
    days.extend(day for _, day in repo.diaries)
    days.extend(day for _, day in repo.plans)
    days.extend(c.received.date() for c in repo.complaints.values())
    return max(days) if days else dt.date(2000, 1, 1)


def make_context(
    repo: Repository,
    handed_in: Optional[Mapping[str, dt.datetime]] = None,
    as_of: Optional[dt.date] = None,
) -> RulesContext:
    return RulesContext(
        repo=repo,
        policy=repo.policy_or_default,
        calendar=WorkCalendar(repo.calendars),
        as_of=as_of or last_day(repo),
        handed_in=handed_in,
    )


def compute_all(
    repo: Repository,
    handed_in: Optional[Mapping[str, dt.datetime]] = None,
    as_of: Optional[dt.date] = None,
) -> Computed:
    from .retail import small_pages

    ctx = make_context(repo, handed_in, as_of)
    records: dict[str, BaseModel] = {}
    with small_pages():  # 100 MB temporaries (one value per sales row): no huge-page compaction
        for name in MODULES:
            module = importlib.import_module(f"crmdocs.scripts.rules.{name}")
            records.update(module.compute(ctx))
    return Computed(ctx, dict(sorted(records.items())))
