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

``compute_all(..., modules=…, shared=…)`` runs only some of the modules, in
the same order: ``crmdocs recalc`` runs the retailer rules in a side worker
(:mod:`crmdocs.scripts.sidecar`) and the rest here, with the entries of
``ctx.shared`` the later modules read handed over; reading any other entry
then raises :class:`NotHanded` rather than finding nothing.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib
import itertools
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Mapping, Optional, Sequence

from pydantic import BaseModel

from crmdocs.schemas import Policy

from .. import facts
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

    # the plans and diaries as the rules read them: (manager, day) → facts
    # (crmdocs.scripts.facts), whether the repository holds models or facts
    @functools.cached_property
    def plans(self) -> Mapping[tuple[str, dt.date], facts.PlanFacts]:
        return facts.of(self.repo, "plan")

    @functools.cached_property
    def diaries(self) -> Mapping[tuple[str, dt.date], facts.DiaryFacts]:
        return facts.of(self.repo, "diary")

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
    # computed files handed over already rendered (path → file text, or its
    # UTF-8 bytes): the records recalc's side worker computed and rendered; compute_all leaves it empty
    texts: dict[str, Any] = field(default_factory=dict)
    # records already rendered (path → the UTF-8 bytes of its file): recalc
    # renders this process's records while it waits for the side worker's
    rendered: dict[str, bytes] = field(default_factory=dict, repr=False)

    @property
    def files(self) -> int:
        """How many computed files: records and rendered texts."""
        return len(self.records) + len(self.texts)


class NotHanded(RuntimeError):
    """A module read an entry of ``ctx.shared`` that the modules run
    elsewhere would have set but that was not handed over (not a KeyError:
    nothing may take it for an empty result)."""


class Handed(dict):
    """``ctx.shared`` when some modules ran elsewhere: their handed-over
    entries, and whatever the modules run here set; reading any other entry
    raises :class:`NotHanded`."""

    def __missing__(self, key: str) -> Any:
        raise NotHanded(f"ctx.shared[{key!r}] was not handed over by the modules run elsewhere")

    def get(self, key: str, default: Any = None) -> Any:
        return self[key]

    def __contains__(self, key: object) -> bool:
        if not dict.__contains__(self, key):
            raise NotHanded(f"ctx.shared[{key!r}] was not handed over by the modules run elsewhere")
        return True

    def setdefault(self, key: str, default: Any = None) -> Any:
        return self[key]

    def pop(self, key: str, *default: Any) -> Any:
        value = self[key]
        del self[key]
        return value


NO_DAY = dt.date(2000, 1, 1)
"""``as_of`` when no record is dated yet (a new office): the rules' stand-in
day. Never shown as a date: the site and ``crmdocs recalc`` say 尚无数据."""


def latest(sales_last: Optional[dt.date], days: Iterable[dt.date]) -> dt.date:
    """The latest of the sales' last day and ``days``; :data:`NO_DAY` when there is none."""
    return max(itertools.chain((sales_last,) if sales_last is not None else (), days), default=NO_DAY)


def last_day(repo: Repository) -> dt.date:
    """The latest date the records speak of (sales, plans, diaries, complaints)."""
    return latest(repo.sales.last_day(), itertools.chain(
        (day for _, day in facts.keys(repo, "diary")), (day for _, day in facts.keys(repo, "plan")),
        (c.received.date() for c in repo.complaints.values()),
    ))


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
    *,
    modules: Optional[Sequence[str]] = None,
    shared: Optional[Mapping[str, Any]] = None,
    after: Optional[Callable[[str, RulesContext], None]] = None,
) -> Computed:
    """Run the rule modules in :data:`MODULES` order: every one, or only
    ``modules``. ``shared``: the ``ctx.shared`` entries the modules not run
    here handed over (``ctx.shared`` is then :class:`Handed`). ``after``:
    called with each module's name and the context when it is done (recalc's
    side worker hands ``ctx.shared["classes"]`` over before the next modules)."""
    from .retail import small_pages

    ctx = make_context(repo, handed_in, as_of)
    if shared is not None:
        ctx.shared = Handed(shared)
    wanted = MODULES if modules is None else tuple(modules)
    unknown = [name for name in wanted if name not in MODULES]
    if unknown:
        raise ValueError(f"no rule modules {unknown}")
    records: dict[str, BaseModel] = {}
    with small_pages():  # 100 MB temporaries (one value per sales row): no huge-page compaction
        for name in (name for name in MODULES if name in wanted):
            module = importlib.import_module(f"crmdocs.scripts.rules.{name}")
            records.update(module.compute(ctx))
            if after is not None:
                after(name, ctx)
    return Computed(ctx, dict(sorted(records.items())))
