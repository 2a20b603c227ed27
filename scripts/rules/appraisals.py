"""Rule module ``appraisals``: the customer-manager appraisal (百分制) for
months, quarters and years, and the grade recommendation.

DOMAIN.md §3 "Customer-manager appraisal" and "Grades". Every indicator's full
marks, floor (0 points) and full-marks ratio come from ``policy.appraisal``;
points = full marks × (ratio − floor) ÷ (full − floor), clamped to
0…full marks. An indicator without input (no target, target 0, nothing
planned, no survey) is not assessed: the total is the points earned scaled to
100 over the indicators assessed, minus the deduction per overdue complaint,
clamped to 0–100. Quarters and years add their months' inputs before taking
ratios (they are not averages of monthly scores).

The grade recommendation (quarters) follows ``policy.grades.rules``; it never
changes a person's record — a person decides by committing the change.

Writes ``<period>/managers/<manager>.yaml`` (:class:`ManagerPeriod`): the
manager's visits (module ``visits``), overdue complaints (module
``complaints``) and appraisal.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections import defaultdict
from dataclasses import dataclass
from typing import Optional

import numpy as np

from crmdocs.schemas.computed_managers import (
    Appraisal,
    GradeRecommendation,
    IndicatorResult,
    ManagerComplaints,
    ManagerPeriod,
)

from .. import periods
from .. import sales as sales_lib
from . import complaints as complaints_rule
from . import visits as visits_rule
from .retail import fast_model, without_gc

NAME = "appraisals"

LABELS = {
    "sales": ("销售目标完成率", "条"),
    "key_brands": ("重点品牌完成率", "条"),
    "plan_execution": ("计划执行率", "户次"),
    "coverage": ("拜访周期覆盖率", "户"),
    "diary_on_time": ("日记按时率", "篇"),
    "satisfaction": ("客户满意度", "分"),
    "information": ("有价值信息", "条"),
}


# ---------------------------------------------------------------- sales, vectorised


@dataclass
class SalesByManager:
    managers: list[str]
    months: list[str]
    total: np.ndarray  # [manager, month] cartons
    key: np.ndarray  # [manager, month] cartons of key brands

    def get(self, manager: str, months: list[str]) -> tuple[float, float]:
        try:
            i = self.managers.index(manager)
        except ValueError:
            return 0.0, 0.0
        cols = [self.months.index(m) for m in months if m in self.months]
        return float(self.total[i, cols].sum()), float(self.key[i, cols].sum())


def sales_by_manager(repo, months: list[str], as_of: dt.date) -> SalesByManager:
    """Cartons sold per manager and month, each order line attributed to the
    retailer's manager on the order day (as ``sales.managers`` attributes it)."""
    managers, by_month, _ = _sums(repo, as_of)
    return _table(managers, months, by_month)


def _table(managers: list[str], months: list[str], by_month: dict[int, np.ndarray]) -> SalesByManager:
    nm, nmo = len(managers), len(months)
    total = np.zeros((nm, nmo))
    key = np.zeros((nm, nmo))
    for j, m in enumerate(months):
        cells = by_month.get(sales_lib.month_index(m))
        if cells is not None:
            key[:, j] = cells[:, 1]
            total[:, j] = cells[:, 0] + cells[:, 1]
    return SalesByManager(managers, months, total, key)


_COLUMNS = ("day", "retailer", "brand", "quantity")


def _sums(repo, as_of: dt.date) -> tuple[list[str], dict[int, np.ndarray], Optional[tuple[int, int]]]:
    """The managers (``sales.manager_ids``), month index → [manager, key
    brand?] cartons of the rows up to ``as_of``, and the first and last day
    of all rows (day numbers; None without rows). The sales not read yet and
    kept in the sales cache (``crmdocs recalc``: its side worker reads them):
    from the cache's narrow columns block by block (~50 MB read, none of the
    ~400 MB of arrays made here); else from the arrays, block by block. The
    same sums either way: every cell adds whole cartons, exact in any order."""
    from ..sales import LazySales

    data = repo.sales
    kept = data.__dict__.get("kept") if data.__class__ is LazySales else None  # (validate() leaves the cache there)
    if kept is not None:
        try:
            texts = dict(kept.head[6])
            return _sums_of(repo, list(texts["retailer_ids"]), list(texts["brand_ids"]), kept.columns(_COLUMNS), as_of)
        except Exception:  # noqa: BLE001 - kept another way, damaged, another format: from the arrays (their reading says what is wrong)
            pass
    data.finish()

    def blocks():
        for a in range(0, len(data.day), sales_lib.CHUNK):
            rows = slice(a, a + sales_lib.CHUNK)
            yield {"day": data.day[rows], "retailer": data.retailer[rows], "brand": data.brand[rows], "quantity": data.quantity[rows]}

    return _sums_of(repo, data.retailer_ids, data.brand_ids, blocks(), as_of)


def _sums_of(repo, retailer_ids: list[str], brand_ids: list[str], blocks, as_of: dt.date):
    """:func:`_sums` of the rows ``blocks`` give (dicts of the day, retailer,
    brand and quantity columns)."""
    who = sales_lib.Attribution(retailer_ids, repo.retailers)
    managers = who.ids
    nm = len(managers)
    doubled = np.arange(nm + 1, dtype=np.int64) * 2  # (manager + 1) × 2 of each manager code + 1 (0: no archive)
    key_brand = np.array([bool(repo.brands.get(b) and repo.brands[b].key) for b in brand_ids] or [False])
    cut = int(np.datetime64(as_of, "D").astype(np.int64))
    size = (nm + 1) * 2
    by_month: dict[int, np.ndarray] = {}
    # rows in day order (the usual): a month's rows summed per retailer cell (code × 2 + key brand),
    # those cells per manager cell (cell_of); the rows of the few retailers that changed hands
    # (who.moved) are left out there and given their manager one by one (who.handed)
    nr = len(retailer_ids)
    moved = who.moved
    cell_of = (doubled[who.current + 1][:, None] + np.arange(2)).ravel()  # retailer cell → manager cell
    cell_of[np.repeat(moved, 2)] = 0  # (manager 0: dropped)

    def add(m: int, cells: np.ndarray) -> None:
        if m in by_month:
            by_month[m] += cells
        else:
            by_month[m] = cells.copy()

    first = last = None
    for block in blocks:
        days = block["day"].view(np.int64)
        n = len(days)
        if not n:
            continue
        in_order = n < 2 or bool((days[1:] >= days[:-1]).all())  # (the usual export, and the cache's runs of days)
        lo, hi = (int(days[0]), int(days[-1])) if in_order else (int(days.min()), int(days.max()))
        first = lo if first is None else min(first, lo)
        last = hi if last is None else max(last, hi)
        weights = block["quantity"].astype(np.float64)
        if in_order:  # each month a run of rows: one count per month, no per-row month
            retailer, key = block["retailer"], key_brand[block["brand"]]
            cell = np.multiply(retailer, 2, dtype=np.int64)
            cell += key
            rows = np.flatnonzero(moved[retailer])  # the rows of retailers that changed hands
            if len(rows):
                row_cell = who.handed(retailer[rows], days[rows], doubled) + key[rows]
            upto = int(np.searchsorted(days, cut, side="right"))  # rows after as_of are left out
            start = 0
            m_lo, m_hi = sales_lib.month_of(_day(lo)), sales_lib.month_of(_day(hi))
            for m in range(m_lo, m_hi + 1):
                stop = n if m == m_hi else int(np.searchsorted(days, _day_number(sales_lib.month_first(m + 1))))
                end = min(stop, upto)
                if end > start:
                    cells = np.bincount(cell[start:end], weights=weights[start:end], minlength=nr * 2)
                    sums = np.bincount(cell_of, weights=cells, minlength=size)
                    a, b = np.searchsorted(rows, (start, end)) if len(rows) else (0, 0)
                    if b > a:
                        sums += np.bincount(row_cell[a:b], weights=weights[rows[a:b]], minlength=size)
                    add(m, sums.reshape(nm + 1, 2)[1:])
                start = stop
            continue
        mgr = who.rows(block["retailer"], block["day"], doubled)  # (manager + 1) × 2 of each row
        mgr += key_brand[block["brand"]]  # … + 1 for a key brand's row
        # each day's month column in this block (0: after as_of, dropped), from a table of the block's days
        span = np.arange(lo, hi + 1)
        month = sales_lib.month_of(span.astype("datetime64[D]"))
        m0 = int(month.min())
        column = month - m0 + 1
        column[span > cut] = 0
        width = int(column.max()) + 1
        flat = (mgr >> 1) * width  # (manager + 1) × width + column, then × 2 + key brand
        flat += column[days - lo]
        flat *= 2
        flat += mgr & 1
        sums = np.bincount(flat, weights=weights, minlength=(nm + 1) * width * 2).reshape(nm + 1, width, 2)
        for c in range(1, width):
            add(m0 + c - 1, sums[1:, c, :])
    return managers, by_month, (None if first is None else (first, last))


def _day(number: int) -> dt.date:
    return np.datetime64(number, "D").astype(dt.date)


def _day_number(day: dt.date) -> int:
    return int(np.datetime64(day, "D").astype(np.int64))


SALES = "appraisal_sales"
"""``ctx.shared`` entry: :func:`monthly_sales` worked out where the sales
were read — ``crmdocs recalc``'s side worker hands it over, and this
process then never reads the sales. Without it appraisals reads them."""


def monthly_sales(repo, as_of: dt.date) -> SalesByManager:
    """:func:`sales_by_manager` for every month of the sales up to ``as_of``."""
    managers, by_month, days = _sums(repo, as_of)
    months: list[str] = []
    if days is not None:
        first = sales_lib.month_of(np.datetime64(days[0], "D").astype(dt.date))
        last = sales_lib.month_of(min(np.datetime64(days[1], "D").astype(dt.date), as_of))
        months = [sales_lib.month_key(m) for m in range(first, last + 1)]
    return _table(managers, months, by_month)


def _sales_for(ctx, months: list[str]) -> SalesByManager:
    """Cartons per manager for ``months``: the columns of the handed-over
    :data:`SALES` (zeros for a month without sales), else from the sales.
    The same numbers either way: each cell is a sum of whole cartons."""
    if SALES not in ctx.shared:
        return sales_by_manager(ctx.repo, months, ctx.as_of)
    whole: SalesByManager = ctx.shared[SALES]
    at = {m: i for i, m in enumerate(whole.months)}
    total = np.zeros((len(whole.managers), len(months)))
    key = np.zeros((len(whole.managers), len(months)))
    for j, m in enumerate(months):
        i = at.get(m)
        if i is not None:
            total[:, j] = whole.total[:, i]
            key[:, j] = whole.key[:, i]
    return SalesByManager(whole.managers, months, total, key)


# ---------------------------------------------------------------- indicators


def points_for(ratio: float, floor: float, full: float, max_points: float) -> float:
    share = (ratio - floor) / (full - floor)
    return round(max_points * min(max(share, 0.0), 1.0), 2)


def _indicator(key: str, ind, actual, target, note: str = "") -> IndicatorResult:
    label, unit = LABELS.get(key, (key, ""))
    ratio = None
    points = None
    if target is None:
        note = note or "没有目标或没有数据，本项不考核 (not assessed)"
    elif target == 0:
        note = note or "目标为 0，无法计算完成率，本项不考核 (target 0: not assessed)"
    else:
        ratio = actual / target
        points = points_for(ratio, ind.floor, ind.full, ind.points)
        ratio = round(ratio, 4)
    return fast_model(IndicatorResult, {
        "key": key, "label": label, "actual": None if actual is None else round(float(actual), 2),
        "target": None if target is None else round(float(target), 2), "unit": unit, "ratio": ratio,
        "floor": ind.floor, "full": ind.full, "max_points": ind.points, "points": points, "note": note,
    })


def target_lines(repo) -> dict[str, dict]:
    """period → manager → the manager's (first) line of the period's targets."""
    out: dict[str, dict] = {}
    for period, t in repo.targets.items():
        mine = out[period] = {}
        for x in t.targets:
            mine.setdefault(x.manager, x)
    return out


def _target(repo, manager: str, period: str, months: list[str],
            lines: Optional[dict] = None) -> tuple[Optional[float], Optional[float]]:
    """(sales, key-brand) targets: the period's own targets record when there is
    one, else the sum of the months' (None when no month has a line for the manager).
    ``lines``: :func:`target_lines` of the repository, when the caller has it."""
    lines = target_lines(repo) if lines is None else lines

    def line(p):
        return lines.get(p, {}).get(manager)

    own = line(period) if periods.kind(period) != "month" else None
    if own is not None:
        return own.sales, own.key_brands
    found = [x for x in (line(m) for m in months) if x is not None]
    if not found:
        return None, None
    return sum(x.sales for x in found), sum(x.key_brands for x in found)


@functools.lru_cache(maxsize=4096)  # (each of ~1,700 appraisals asks it of every survey of its manager)
def _months_in(period: str) -> frozenset[str]:
    return frozenset(periods.months(period))


def _survey_score(policy, survey) -> float:
    table = policy.survey_scores
    return (table.quality[survey.quality] + table.service[survey.service]
            + table.brand_awareness[survey.brand_awareness]) / 3


def appraise(ctx, manager: str, period: str, months: list[str], sales: SalesByManager,
             visits, overdue_ids: list[str], surveys_by_manager, valuable, lines: Optional[dict] = None) -> Appraisal:
    policy = ctx.policy
    ap = policy.appraisal
    repo = ctx.repo
    end = periods.bounds(period)[1]
    actual, key_actual = sales.get(manager, months)
    target, key_target = _target(repo, manager, period, months, lines)
    results = []
    for key, ind in ap.indicators.items():
        if key == "sales":
            results.append(_indicator(key, ind, actual, target))
        elif key == "key_brands":
            results.append(_indicator(key, ind, key_actual, key_target))
        elif key == "plan_execution":
            ex = visits.execution if visits else None
            results.append(_indicator(key, ind, ex.done if ex else None, (ex.planned or None) if ex else None,
                                      "" if ex and ex.planned else "没有计划拜访，本项不考核 (nothing planned)"))
        elif key == "coverage":
            cov = visits.coverage if visits else None
            ok = cov is not None and cov.territory
            results.append(_indicator(key, ind, cov.covered if ok else None, cov.territory if ok else None,
                                      "" if ok else "片区没有零售户或没有拜访记录，本项不考核 (no territory)"))
        elif key == "diary_on_time":
            d = visits.diaries if visits else None
            due = (d.expected - d.not_yet_due) if d else 0
            note = ""
            if d and d.unknown:
                note = f"{d.unknown} 篇提交时间未知（没有历史），不算迟交 (hand-in time unknown: not late)"
            results.append(_indicator(key, ind, (due - d.late - d.missing) if due else None, due or None,
                                      note if due else "没有到期的日记，本项不考核 (no diary due)"))
        elif key == "satisfaction":
            # a survey is about its own period (调查期间): it counts in every
            # appraisal period that holds all of its months
            span = _months_in(period)
            scores = [_survey_score(policy, s) for s in surveys_by_manager.get(manager, [])
                      if _months_in(s.period) <= span]
            if scores:
                mean = sum(scores) / len(scores)
                r = _indicator(key, ind, mean, 100.0, f"{len(scores)} 份走访报告单，三项得分平均 (surveys averaged)")
            else:
                r = _indicator(key, ind, None, None, "本期没有走访报告单，本项不考核 (no survey)")
            results.append(r)
        elif key == "information":
            count = sum(valuable.get((manager, m), 0) for m in months)
            target_items = ap.information_target * len(months)
            results.append(_indicator(key, ind, count, target_items or None,
                                      f"每月目标 {ap.information_target} 条 × {len(months)} 个月"))
        else:
            results.append(_indicator(key, ind, None, None, "没有这一指标的计算规则，本项不考核 (no rule for this indicator)"))
    assessed = [r for r in results if r.points is not None]
    earned = round(sum(r.points for r in assessed), 2)
    assessable = round(sum(r.max_points for r in assessed), 2)
    full_total = sum(i.points for i in ap.indicators.values())
    scaled = round(earned * full_total / assessable, 2) if assessable else 0.0
    deduction = round(ap.complaint_deduction * len(overdue_ids), 2)
    total = round(min(max(scaled - deduction, 0.0), 100.0), 2)
    return Appraisal(
        indicators=results, earned=earned, assessable=assessable, scaled=scaled,
        overdue_complaints=len(overdue_ids), deduction=deduction, total=total,
        complete=ctx.as_of >= end,
    )


# ---------------------------------------------------------------- grades


def _fmt(score: float) -> str:
    return f"{score:g}"


def recommend(ctx, manager: str, quarter: str, quarter_totals: dict[str, tuple[float, bool]],
              month_totals: dict[str, float]) -> GradeRecommendation:
    """The grade recommendation at the end of ``quarter`` (or as_of, if earlier).

    quarter_totals: quarter → (total, complete); month_totals: month → total."""
    policy = ctx.policy
    rules = policy.grades.rules
    ladder = policy.grades.ladder
    ids = [g.id for g in ladder]
    names = {g.id: g.name for g in ladder}
    person = ctx.repo.people[manager]
    current = person.grade
    rec = GradeRecommendation(current=current)
    if current not in ids:
        rec.rule = f"当前等级 {current} 不在政策的等级阶梯 {ids} 中，无法建议 (grade not on the ladder)"
        return rec
    index = ids.index(current)
    ended = sorted(q for q, (_, complete) in quarter_totals.items() if complete and q <= quarter)

    def run(n: int) -> list[str]:
        """The last n ended quarters when they follow one another, else []."""
        if len(ended) < n:
            return []
        tail = ended[-n:]
        for a, b in zip(tail, tail[1:]):
            if periods.previous_quarter(b) != a:
                return []
        return tail

    def ev(qs):
        return [f"{q} {_fmt(quarter_totals[q][0])} 分" for q in qs]

    tail = run(rules.eliminate_quarters)
    if tail and all(quarter_totals[q][0] < rules.eliminate_score for q in tail):
        rec.action, rec.evidence = "eliminate_review", ev(tail)
        rec.rule = f"连续 {rules.eliminate_quarters} 个季度得分低于 {_fmt(rules.eliminate_score)} 分 → 建议淘汰审查 (elimination review)"
        return rec
    if index == 0:
        start = person.grade_since or person.hire_date
        if start is None:
            rec.rule = "见习客户经理没有入职或定级日期，无法判断见习期 (no hire date)"
            return rec
        end = periods.add_months(start, rules.probation_months)
        at = min(periods.bounds(quarter)[1], ctx.as_of)
        if at < end:
            rec.rule = f"见习期自 {start} 起 {rules.probation_months} 个月，至 {end} 期满，尚未期满 (on probation)"
            return rec
        first = periods.month_of(start)
        window = [m for m in sorted(month_totals) if first <= m < periods.month_of(end)]
        window = window[: rules.probation_months]
        if not window:
            rec.rule = f"见习期 {start} 至 {end} 没有月度考核，无法判断 (no monthly appraisal in probation)"
            return rec
        avg = round(sum(month_totals[m] for m in window) / len(window), 2)
        rec.evidence = [f"{m} {_fmt(month_totals[m])} 分" for m in window] + [f"平均 {_fmt(avg)} 分"]
        if avg >= rules.probation_average:
            rec.action, rec.to = "end_probation", ids[1]
            rec.rule = (f"见习 {rules.probation_months} 个月期满，月平均分 {_fmt(avg)} ≥ {_fmt(rules.probation_average)}"
                        f" → 建议转为{names[ids[1]]} (end of probation)")
        else:
            rec.rule = (f"见习期满，但月平均分 {_fmt(avg)} 低于 {_fmt(rules.probation_average)}，不建议转正"
                        f" (probation not passed)")
        return rec
    if ended and quarter_totals[ended[-1]][0] < rules.demote_score:
        q = ended[-1]
        rec.evidence = ev([q])
        if index >= 2:
            rec.action, rec.to = "demote", ids[index - 1]
            rec.rule = (f"季度得分低于 {_fmt(rules.demote_score)} 分 → 建议降一级："
                        f"{names[current]} → {names[ids[index - 1]]} (demotion)")
        else:
            rec.rule = f"季度得分低于 {_fmt(rules.demote_score)} 分，但已是最低正式等级，不再降级 (lowest grade)"
        return rec
    tail = run(rules.promote_quarters)
    if tail and all(quarter_totals[q][0] >= rules.promote_score for q in tail):
        rec.evidence = ev(tail)
        if index < len(ids) - 1:
            rec.action, rec.to = "promote", ids[index + 1]
            rec.rule = (f"连续 {rules.promote_quarters} 个季度得分 ≥ {_fmt(rules.promote_score)} 分 → 建议晋升一级："
                        f"{names[current]} → {names[ids[index + 1]]} (promotion)")
        else:
            rec.rule = f"连续 {rules.promote_quarters} 个季度得分 ≥ {_fmt(rules.promote_score)} 分，已是最高等级 (top grade)"
        return rec
    rec.evidence = ev(ended[-max(rules.promote_quarters, rules.eliminate_quarters):])
    rec.rule = "没有触发升级、降级或淘汰审查规则，维持现等级 (no rule applies)" if ended else \
        "还没有结束的季度，暂无建议 (no ended quarter yet)"
    return rec


# ---------------------------------------------------------------- the module


@without_gc
def compute(ctx) -> dict:
    vres = ctx.shared.get(visits_rule.NAME)
    if vres is None:
        vres = visits_rule.summarise(ctx)
        ctx.shared[visits_rule.NAME] = vres
    found = ctx.shared.get(complaints_rule.NAME)
    if found is None:
        found = complaints_rule.statuses(ctx)
    overdue = complaints_rule.overdue_by_manager(found)
    repo = ctx.repo
    sales = _sales_for(ctx, vres.months)

    surveys_by_manager: dict[str, list] = defaultdict(list)
    for sid in sorted(repo.surveys):
        s = repo.surveys[sid]
        r = repo.retailers.get(s.retailer)
        if r is not None and s.date <= ctx.as_of:
            surveys_by_manager[r.management.manager_on(s.date)].append(s)

    valuable: dict[tuple[str, str], int] = defaultdict(int)
    for (manager, day), diary in ctx.diaries.items():
        if day <= ctx.as_of and diary.reviewed:
            valuable[(manager, periods.month_of(day))] += diary.valuable

    lines = target_lines(repo)
    out: dict[str, ManagerPeriod] = {}
    records: dict[tuple[str, str], ManagerPeriod] = {}
    for period in periods.containing(vres.months):
        inside = [m for m in periods.months(period) if m in vres.months]
        start, end = periods.bounds(period)
        for manager in vres.managers.get(period, []):
            person = repo.people[manager]
            ids = sorted(cid for m in periods.months(period) for cid in overdue.get((manager, m), []))
            visits = vres.by_key.get((manager, period))
            appraisal = appraise(ctx, manager, period, inside, sales, visits, ids, surveys_by_manager, valuable, lines)
            as_of = min(end, ctx.as_of)
            rec = ManagerPeriod(
                manager=manager, name=person.name, unit=person.unit_on(as_of), period=period,
                start=start, end=end, as_of=as_of, visits=visits or visits_rule.Visits(),
                complaints=ManagerComplaints(overdue=len(ids), ids=ids), appraisal=appraisal,
            )
            records[(manager, period)] = rec
            out[f"{period}/managers/{manager}.yaml"] = rec
    quarter_totals: dict[str, dict[str, tuple[float, bool]]] = defaultdict(dict)
    month_totals: dict[str, dict[str, float]] = defaultdict(dict)
    for (manager, period), rec in records.items():
        k = periods.kind(period)
        if k == "quarter":
            quarter_totals[manager][period] = (rec.appraisal.total, rec.appraisal.complete)
        elif k == "month":
            month_totals[manager][period] = rec.appraisal.total
    for (manager, period), rec in records.items():
        if periods.kind(period) == "quarter":
            rec.grade = recommend(ctx, manager, period, quarter_totals[manager], month_totals[manager])
    ctx.shared[NAME] = records
    return out
