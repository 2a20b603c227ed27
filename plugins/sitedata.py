"""What the pages read: the repository, the computed results, and indexes over
them built once (plain Python, no MkDocs).

``SiteData`` never computes a rule: classes, tiers, limits, visits,
complaints and appraisals come from ``crmdocs.scripts.rules.compute_all``
(the same results ``crmdocs recalc`` writes). It only groups records for
reading — by department, manager, month — and knows where each page lives.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from crmdocs.schemas import Diary, OrgUnit, Person, Retailer
from crmdocs.schemas.org import Role, UnitKind

from .privacy import Privacy
from .render import Links

try:  # the manager-side results (visits, complaints, appraisals)
    from crmdocs.schemas import computed_managers as _cm
except ImportError:  # pragma: no cover - before the rules land
    _cm = None  # type: ignore[assignment]
try:  # the retailer-side results (classes, tiers, limits, abnormal orders)
    from crmdocs.schemas import computed_retailers as _cr
except ImportError:  # pragma: no cover - before the rules land
    _cr = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Commit:
    sha: str
    date: str = ""

    @property
    def short(self) -> str:
        return self.sha[:10]


def head_commit(root: Path) -> Optional[Commit]:
    """The commit the records are at, or None (no git, a tarball). A tree
    extracted for ``crmdocs build --at`` answers with the past commit."""
    from crmdocs.scripts import history

    try:
        found = history.head_commit(root)
    except Exception:  # noqa: BLE001 - a broken repository is "no commit", never a failed build
        return None
    return Commit(found.sha, found.time.date().isoformat()) if found else None


# ---------------------------------------------------------------- page paths

INDEX = "index.md"
MANAGERS = "managers/index.md"
RETAILERS = "retailers/index.md"
DIARIES = "diaries/index.md"
MARKET = "market/index.md"
COMPLAINTS = "complaints/index.md"
ABNORMAL = "abnormal/index.md"
TIERS = "tiers/index.md"
RULES = "rules.md"


def manager_page(mid: str) -> str:
    return f"managers/{mid}.md"


def diary_month_page(mid: str, month: str) -> str:
    return f"diaries/{mid}/{month}.md"


def diary_index_page(mid: str) -> str:
    """A manager's diaries: the months, and the shops of the territory (the
    short way the month pages link their visits, see ``SiteData.jump``)."""
    return f"diaries/{mid}/index.md"


def department_page(dept: str) -> str:
    return f"retailers/{dept}/index.md"


def territory_page(dept: str, mid: str) -> str:
    return f"retailers/{dept}/{mid}.md"


def market_month_page(month: str) -> str:
    return f"market/{month}.md"


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


@dataclass
class VisitRef:
    day: dt.date
    manager: str
    visit: Any  # schemas.daily.Visit


@dataclass
class SiteData:
    repo: Any  # crmdocs.scripts.repository.Repository
    computed: Optional[dict[str, Any]]  # path under records/computed/ → model; None: rules not run
    privacy: Privacy
    links: Links = field(default_factory=Links)
    as_of: Optional[dt.date] = None
    commit: Optional[Commit] = None
    search_diaries: str = "summary"  # full | summary | headings | none
    downloads: bool = True  # offer each table's spreadsheet (plugins/downloads.py)

    def __post_init__(self) -> None:
        repo = self.repo
        self.policy = repo.policy_or_default
        self.departments: list[OrgUnit] = sorted(
            (u for u in repo.org.values() if u.kind is UnitKind.department), key=lambda u: u.id
        )
        self.managers: list[Person] = sorted(
            (p for p in repo.people.values() if p.role is Role.customer_manager), key=lambda p: (p.unit, p.id)
        )
        self.retailers_by_dept: dict[str, list[Retailer]] = defaultdict(list)
        self.retailers_by_manager: dict[str, list[Retailer]] = defaultdict(list)
        for rid in sorted(repo.retailers):
            r = repo.retailers[rid]
            self.retailers_by_dept[r.management.department].append(r)
            self.retailers_by_manager[r.management.manager].append(r)
        self.visits_by_retailer: dict[str, list[VisitRef]] = defaultdict(list)
        self.diaries_by_manager: dict[str, dict[str, list[Diary]]] = defaultdict(lambda: defaultdict(list))
        for (mid, day) in sorted(repo.diaries):
            diary = repo.diaries[(mid, day)]
            self.diaries_by_manager[mid][month_of(day)].append(diary)
            for v in diary.visits:
                self.visits_by_retailer[v.retailer].append(VisitRef(day, mid, v))
        for refs in self.visits_by_retailer.values():
            refs.sort(key=lambda ref: (ref.day, ref.visit.time, ref.manager))  # diaries come by manager
        self.complaints_by_retailer: dict[str, list[Any]] = defaultdict(list)
        for cid in sorted(repo.complaints):
            c = repo.complaints[cid]
            self.complaints_by_retailer[c.retailer].append(c)
        self.surveys_by_retailer: dict[str, list[Any]] = defaultdict(list)
        for sid in sorted(repo.surveys):
            s = repo.surveys[sid]
            self.surveys_by_retailer[s.retailer].append(s)
        self._index_computed()

    # ------------------------------------------------------------ computed

    def _index_computed(self) -> None:
        self.manager_periods: dict[str, dict[str, Any]] = defaultdict(dict)  # manager → period → ManagerPeriod
        self.complaint_status: dict[str, Any] = {}  # complaint id → ComplaintStatus
        self.complaint_months: dict[str, Any] = {}  # month → ComplaintsMonth
        self.retailer_results: dict[str, list[tuple[str, Any]]] = defaultdict(list)  # kind → [(path, model)]
        for path, model in (self.computed or {}).items():
            name = type(model).__name__
            if _cm is not None and isinstance(model, _cm.ManagerPeriod):
                self.manager_periods[model.manager][model.period] = model
            elif _cm is not None and isinstance(model, _cm.ComplaintsMonth):
                for c in model.complaints:
                    self.complaint_status[c.id] = c
                self.complaint_months[model.period] = model
            else:
                self.retailer_results[name].append((path, model))

    @property
    def rules_ran(self) -> bool:
        return self.computed is not None

    def periods_of(self, mid: str, kind: str) -> list[Any]:
        """A manager's computed periods of one kind (month/quarter/year), oldest first."""
        from crmdocs.scripts import periods

        out = []
        for period, mp in sorted(self.manager_periods.get(mid, {}).items()):
            try:
                if periods.kind(period) == kind:
                    out.append(mp)
            except ValueError:
                continue
        return out

    def late_reviews(self, mid: str) -> dict[dt.date, Any]:
        """Diary day → LateItem of its review (late or missing), all months."""
        out: dict[dt.date, Any] = {}
        for mp in self.periods_of(mid, "month"):
            for item in mp.visits.reviews.items:
                out[item.date] = item
        return out

    def latest_month(self, mid: str) -> Optional[Any]:
        months = self.periods_of(mid, "month")
        return months[-1] if months else None

    # ------------------------------------------------------------ git history

    def _history(self) -> dict[str, Any]:
        # one `git log` pass each, on first use (crmdocs.scripts.history)
        if not hasattr(self, "_git_history"):
            from crmdocs.scripts import history

            root = self.repo.root
            try:
                # field diffs only for the changes a retailer's page lists (pages_retailers.CHANGES_SHOWN)
                self._git_history = {"retailers": history.retailer_history(root, fields_for=5), "grades": history.grade_history(root)}
            except Exception:  # noqa: BLE001 - no usable history: the pages say so
                self._git_history = {"retailers": {}, "grades": {}}
        return self._git_history

    def archive_changes(self, rid: str) -> list[Any]:
        """Commits that changed a retailer's archive, newest first (history.Change)."""
        return self._history()["retailers"].get(rid, [])

    def grade_changes(self, mid: str) -> list[Any]:
        """Commits that changed a person's grade, newest first (history.GradeChange)."""
        return self._history()["grades"].get(mid, [])

    def author_name(self, commit: Any) -> str:
        """The person behind a commit (by git e-mail), else the commit's name; never the e-mail."""
        if not hasattr(self, "_by_email"):  # asked once per change of 20,000 archives: index once
            self._by_email = {e: p.name for p in sorted(self.repo.people.values(), key=lambda p: p.id, reverse=True)
                              for e in p.emails}
        return self._by_email.get(commit.email, commit.author)

    # ------------------------------------------------------------ names

    def person_name(self, pid: Optional[str]) -> str:
        if not pid:
            return "—"
        p = self.repo.people.get(pid)
        return p.name if p else pid

    def unit_name(self, uid: Optional[str]) -> str:
        if not uid:
            return "—"
        u = self.repo.org.get(uid)
        return u.name if u else uid

    def shop(self, rid: str) -> str:
        r = self.repo.retailers.get(rid)
        return r.basic.shop_name if r else rid

    def brand_name(self, bid: Optional[str]) -> str:
        if not bid:
            return "—"
        b = self.repo.brands.get(bid)
        return b.name if b else bid

    def grade_name(self, gid: Optional[str]) -> str:
        for g in self.policy.grades.ladder:
            if g.id == gid:
                return g.name
        return gid or "—"

    def class_name(self, cid: Optional[str]) -> str:
        if not cid:
            return "—"
        for c in self.policy.classes.rule.classes:
            if c.id == cid:
                return c.name
        return cid

    # ------------------------------------------------------------ links

    def href(self, here: str, page: str, anchor: Optional[str] = None) -> str:
        return self.links.href(here, page, anchor)

    def retailer_href(self, here: str, rid: str) -> Optional[str]:
        key = (here, rid)
        try:
            return self._retailer_hrefs[key]  # a city's diaries link 700,000 visits
        except KeyError:
            pass
        except AttributeError:
            self._retailer_hrefs: dict[tuple[str, str], Optional[str]] = {}
        r = self.repo.retailers.get(rid)
        href = None if r is None else self.href(here, territory_page(r.management.department, r.management.manager), rid)
        self._retailer_hrefs[key] = href
        return href

    def own_territory(self, mid: str) -> Optional[tuple[str, list[Retailer]]]:
        """The territory page holding most of a manager's retailers, and those
        retailers (a territory page is one department's share of them)."""
        by_dept: dict[str, list[Retailer]] = defaultdict(list)
        for r in self.retailers_by_manager.get(mid, []):
            by_dept[r.management.department].append(r)
        if not by_dept:
            return None
        dept = max(sorted(by_dept), key=lambda d: len(by_dept[d]))
        return territory_page(dept, mid), by_dept[dept]

    def jump(self, here: str, mid: str) -> Optional[tuple[str, str]]:
        """(long, short): page ``here`` may link a shop of the manager's own
        territory as ``short#r-…`` instead of ``long#r-…`` — through the
        manager's diary index (``diaries/<mid>/``), which lists those shops
        under their ids and sends such a link on to the archive. A month's
        diaries link ~650 visits: ``../#r-04896`` is 11 bytes,
        ``../../../retailers/d-hedong/cm-cai-fan/#r-04896`` 47. The page's
        script (assets/crmdocs/jump.js) turns the short links back into the
        long ones when it loads, so a click goes straight to the archive."""
        own = self.own_territory(mid)
        if own is None:
            return None
        return self.href(here, own[0]), self.href(here, diary_index_page(mid))

    def manager_href(self, here: str, mid: str) -> Optional[str]:
        p = self.repo.people.get(mid)
        if p is None or p.role is not Role.customer_manager:
            return None
        return self.href(here, manager_page(mid))

    def diary_href(self, here: str, mid: str, day: dt.date) -> str:
        return self.href(here, diary_month_page(mid, month_of(day)), f"d-{day.isoformat()}")

    # ------------------------------------------------------------ periods

    def months(self) -> list[str]:
        """Months with diaries or plans, oldest first."""
        found = {month_of(day) for _, day in self.repo.diaries} | {month_of(day) for _, day in self.repo.plans}
        return sorted(found)

    def this_month(self) -> Optional[str]:
        return month_of(self.as_of) if self.as_of else (self.months()[-1] if self.months() else None)


@dataclass(frozen=True)
class MarketItem:
    """One market-information item: a diary's, or an observation of a weekly
    market analysis (周市场分析) — reviewers mark both valuable the same way."""

    manager: str
    day: dt.date  # the diary's day; an analysis: its week's Monday
    week: str  # ISO week "2026-W36"
    month: str  # the digest month: the diary's; an analysis: its week's Thursday's (ISO rule)
    n: int  # number of the item in its record, from 1 (what review.valuable lists)
    item: Any  # schemas.daily.MarketInfo
    valuable: bool
    analysis: bool = False  # True: from a weekly market analysis


def market_items(data: SiteData) -> list[MarketItem]:
    """Every market-information item, diaries' first then analyses', each in
    key order — collected once per build for the digest and the dashboard."""
    done = getattr(data, "_market_items", None)
    if done is not None:
        return done
    from crmdocs.schemas.daily import week_bounds, week_of

    out: list[MarketItem] = []
    for key in sorted(data.repo.diaries):
        diary = data.repo.diaries[key]
        valuable = set(diary.review.valuable) if diary.review else set()
        week = week_of(diary.date)
        for n, item in enumerate(diary.market_info, start=1):
            out.append(MarketItem(diary.manager, diary.date, week, month_of(diary.date), n, item, n in valuable))
    for key in sorted(data.repo.analyses):
        a = data.repo.analyses[key]
        valuable = set(a.review.valuable) if a.review else set()
        monday = week_bounds(a.week)[0]
        month = month_of(monday + dt.timedelta(days=3))
        for n, item in enumerate(a.observations, start=1):
            out.append(MarketItem(a.manager, monday, a.week, month, n, item, n in valuable, analysis=True))
    data._market_items = out  # type: ignore[attr-defined]
    return out


@dataclass
class PendingReviews:
    """What awaits a market manager's review (批阅) in one department."""

    diaries: int = 0
    analyses: int = 0  # weekly market analyses whose week has ended
    summaries: int = 0  # monthly work summaries whose month has ended

    @property
    def total(self) -> int:
        return self.diaries + self.analyses + self.summaries


def pending_reviews(data: SiteData) -> dict[str, PendingReviews]:
    """Department id → what awaits review there: every unreviewed diary, and
    the unreviewed analyses and summaries whose period ended before ``as_of``
    (without ``as_of``: all of them). Every department is listed; a manager
    outside any department counts under his own unit."""
    done = getattr(data, "_pending_reviews", None)
    if done is not None:
        return done
    import calendar

    from crmdocs.schemas.daily import week_bounds

    out: dict[str, PendingReviews] = {d.id: PendingReviews() for d in data.departments}

    def at(mid: str) -> PendingReviews:
        p = data.repo.people.get(mid)
        return out.setdefault(p.unit if p else "", PendingReviews())

    def ended(last: dt.date) -> bool:
        return data.as_of is None or last < data.as_of

    for (mid, _), diary in sorted(data.repo.diaries.items()):
        if diary.review is None:
            at(mid).diaries += 1
    for (mid, week), a in sorted(data.repo.analyses.items()):
        if a.review is None and ended(week_bounds(week)[1]):
            at(mid).analyses += 1
    for (mid, month), s in sorted(data.repo.summaries.items()):
        y, m = int(month[:4]), int(month[5:7])
        if s.review is None and ended(dt.date(y, m, calendar.monthrange(y, m)[1])):
            at(mid).summaries += 1
    data._pending_reviews = out  # type: ignore[attr-defined]
    return out
