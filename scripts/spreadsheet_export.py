"""Tables for leaders' spreadsheets: appraisal ranking, tier list, abnormal
orders, overdue visits, complaints.

Each table is built from the computed records (``compute_all``) and the
records they speak of — no rule is computed here, rows only pick and name
what the rules found. The same functions serve ``crmdocs export`` and the
report site (:func:`export_files` gives the .xlsx files the site offers for
download next to each table).

Headers are Chinese; numbers stay numbers (the .xlsx cells are numeric with a
display format); the output bytes depend only on the records: the workbook's
times are the computation's as-of day, never the wall clock.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Callable, Iterable, Optional

from crmdocs.schemas.computed_managers import COMPLAINT_STATE_ZH, ComplaintsMonth, ManagerPeriod
from crmdocs.schemas.computed_retailers import AbnormalFile, TiersFile
from crmdocs.schemas.service import SEVERITY_ZH

from . import periods
from .diagnostics import CrmdocsError
from .sheetio import Column, Table, csv_bytes, xlsx_bytes

RULE_ZH = {"above_upper": "超上限", "below_lower": "低于下限", "spike": "单次突增", "month_jump": "月度突增"}
BASIS_ZH = {"ranking": "按名次", "bands": "按分数段", "new_retailer": "新户起始档"}
STATE_ZH = COMPLAINT_STATE_ZH  # the site's words: 超期, 处理中 (were 超时, 办理中 here)
CHANNEL_ZH = {"phone": "电话", "visit": "走访", "letter": "信函", "online": "网上"}

# "… (above the upper limit)": the English gloss at the end of a rule's message; leaders'
# spreadsheets, the site's 说明 and a plan's note say it in Chinese only (the rule has its own column)
_ENGLISH_GLOSS = re.compile(r"\s*\([A-Za-z][A-Za-z0-9 ,.'’×-]*\)\s*$")


def without_gloss(message: str) -> str:
    """A rule's message without its English gloss."""
    return _ENGLISH_GLOSS.sub("", message)


# ---------------------------------------------------------------- helpers


def _records(computed: Any, model: type) -> list[Any]:
    return [rec for _, rec in sorted(computed.records.items()) if isinstance(rec, model)]


def _person(repo: Any, pid: Optional[str]) -> str:
    if not pid:
        return ""
    person = repo.people.get(pid)
    return person.name if person else pid


def _unit(repo: Any, uid: Optional[str]) -> str:
    if not uid:
        return ""
    unit = repo.org.get(uid)
    return unit.name if unit else uid


def _shop(repo: Any, rid: str, known: str = "") -> str:
    if known:
        return known
    retailer = repo.retailers.get(rid)
    return retailer.basic.shop_name if retailer else ""


def _class_name(repo: Any, cid: Optional[str]) -> str:
    if not cid:
        return ""
    policy = repo.policy_or_default
    try:
        for step in policy.classes.rule.classes:
            if step.id == cid:
                return step.name
    except AttributeError:  # pragma: no cover - a policy without classes
        pass
    return cid


def _month_in(period: str) -> set[str]:
    return set(periods.months(period))


def _no_data(what: str, period: str, available: Iterable[str]) -> CrmdocsError:
    have = sorted(set(available))
    hint = f"有结果的期间：{'、'.join(have)}" if have else "还没有任何计算结果（规则还没算出这类结果）"
    return CrmdocsError(f"没有 {period} 的{what}；{hint} (no {what} for {period})")


# ---------------------------------------------------------------- the tables


def appraisals_table(repo: Any, computed: Any, period: str) -> Table:
    """The ranking of customer managers by appraisal total, with each
    indicator's points and completion."""
    found = [m for m in _records(computed, ManagerPeriod) if m.period == period]
    if not found:
        raise _no_data("考核结果", period, (m.period for m in _records(computed, ManagerPeriod)))
    indicators: dict[str, tuple[str, float]] = {}
    for m in found:
        for ind in (m.appraisal.indicators if m.appraisal else []):
            indicators.setdefault(ind.key, (ind.label, ind.max_points))
    columns = [
        Column("rank", "名次", "int", 6),
        Column("name", "客户经理"),
        Column("manager", "人员编号"),
        Column("unit", "客户服务部"),
        Column("total", "总分", "number", decimals=2),
    ]
    for key, (label, max_points) in indicators.items():
        columns.append(Column(f"{key}.points", f"{label}得分（满分 {max_points:g}）", "number", decimals=2))
        columns.append(Column(f"{key}.ratio", f"{label}", "percent", decimals=1))
    columns += [
        Column("overdue", "超期投诉（件）", "int"),
        Column("deduction", "投诉扣分", "number", decimals=2),
        Column("complete", "期间已结束"),
        Column("note", "说明"),
    ]
    ranked = sorted(found, key=lambda m: (m.appraisal is None, -(m.appraisal.total if m.appraisal else 0), m.manager))
    rows = []
    rank, previous = 0, None
    for position, m in enumerate(ranked, start=1):
        a = m.appraisal
        row: dict[str, Any] = {
            "name": m.name or _person(repo, m.manager), "manager": m.manager, "unit": _unit(repo, m.unit),
        }
        if a is not None:
            if a.total != previous:
                rank, previous = position, a.total
            row.update(rank=rank, total=a.total, overdue=a.overdue_complaints, deduction=a.deduction,
                       complete=a.complete)
            notes = []
            for ind in a.indicators:
                row[f"{ind.key}.points"] = ind.points
                row[f"{ind.key}.ratio"] = ind.ratio
                if ind.points is None:
                    notes.append(f"{ind.label}未考核")
            row["note"] = "；".join(notes)
        else:
            row["note"] = "没有考核结果"
        person = repo.people.get(m.manager)
        if person is not None and not person.active:  # ranked for the months worked; the site says 离岗 too
            row["note"] = "；".join(filter(None, ["已离岗", row["note"]]))
        rows.append(row)
    return Table("考核排名", f"客户经理考核排名 {period}", columns, rows)


def tiers_table(repo: Any, computed: Any, period: str) -> Table:
    """Every retailer's supply tier (档位) of the period, with its derivation."""
    files = [f for f in _records(computed, TiersFile) if f.period == period]
    if not files and periods.kind(period) == "month":
        quarter = periods.quarter_of(period)
        files = [f for f in _records(computed, TiersFile) if f.period == quarter]
    if not files:
        raise _no_data("档位", period, (f.period for f in _records(computed, TiersFile)))
    columns = [
        Column("unit", "客户服务部"),
        Column("retailer", "零售户编号"),
        Column("shop", "店名"),
        Column("tier", "档位", "int", 6),
        Column("computed", "计算档位", "int"),
        Column("score", "档位得分", "number", decimals=2),
        Column("quantity", "订购量（条）", "int"),
        Column("amount", "订购额（元）", "number", decimals=2),
        Column("capability", "经营能力（平方米）", "number", decimals=1),
        Column("basis", "定档方式"),
        Column("override", "人工调整"),
    ]
    rows = []
    for f in sorted(files, key=lambda f: f.department):
        # every retailer's tier is listed; the derivation only in the current period's file
        tiers = getattr(f, "tiers", None) or {rid: d.tier for rid, d in f.retailers.items()}
        for rid, tier in sorted(tiers.items(), key=lambda kv: (-kv[1], kv[0])):
            d = f.retailers.get(rid)
            row: dict[str, Any] = {"unit": _unit(repo, f.department), "retailer": rid,
                                   "shop": _shop(repo, rid, d.name if d else ""), "tier": tier}
            if d is not None:
                override = ""
                if d.override is not None:
                    override = (f"{d.computed_tier} → {d.override.tier}：{d.override.reason}"
                                f"（批准人 {_person(repo, d.override.approver)}）")
                row.update(computed=d.computed_tier, score=d.score, quantity=d.quantity, amount=d.amount,
                           capability=d.capability, basis=BASIS_ZH.get(d.basis, d.basis), override=override)
            rows.append(row)
    return Table("档位", f"零售户档位 {files[0].period}", columns, rows)


def abnormal_table(repo: Any, computed: Any, period: str) -> Table:
    """Abnormal orders of the period's months, by day."""
    months = _month_in(period)
    all_files = _records(computed, AbnormalFile)
    files = [f for f in all_files if f.month in months]
    if not files and not all_files:
        raise _no_data("异常订单结果", period, ())
    columns = [
        Column("date", "订货日期", "date", 12),
        Column("week", "周"),
        Column("manager", "客户经理"),
        Column("retailer", "零售户编号"),
        Column("shop", "店名"),
        Column("rule", "异常类型"),
        Column("brand", "品牌"),
        Column("quantity", "订购量（条）", "int"),
        Column("limit", "限量（条）", "int"),
        Column("mean", "前几期平均（条）", "number", decimals=1),
        Column("previous", "上月量（条）", "int"),
        Column("ratio", "倍数", "number", decimals=2),
        Column("message", "说明"),
    ]
    rows = []
    for f in files:
        for week, orders in f.weeks.items():
            for o in orders:
                brand = repo.brands.get(o.brand).name if o.brand and o.brand in repo.brands else (o.brand or "")
                rows.append({
                    "date": o.date, "week": week, "manager": _person(repo, f.manager), "retailer": o.retailer,
                    "shop": _shop(repo, o.retailer, o.name), "rule": RULE_ZH.get(o.rule, o.rule), "brand": brand,
                    "quantity": o.quantity, "limit": o.limit, "mean": o.mean, "previous": o.previous,
                    "ratio": o.ratio, "message": without_gloss(o.message),
                })
    rows.sort(key=lambda r: (r["date"], r["retailer"], r["rule"], r["brand"]))
    return Table("异常订单", f"异常订单 {period}", columns, rows)


def overdue_visits_table(repo: Any, computed: Any, period: str) -> Table:
    """Retailers not visited within their class's cycle, per customer manager,
    on the period's last counted day."""
    found = [m for m in _records(computed, ManagerPeriod) if m.period == period]
    if not found:
        raise _no_data("拜访结果", period, (m.period for m in _records(computed, ManagerPeriod)))
    columns = [
        Column("manager", "客户经理"),
        Column("unit", "客户服务部"),
        Column("retailer", "零售户编号"),
        Column("shop", "店名"),
        Column("class", "类别"),
        Column("cycle", "拜访周期（天）", "int"),
        Column("last", "上次拜访", "date", 12),
        Column("days", "超期（天）", "int"),
        Column("as_of", "统计日", "date", 12),
    ]
    rows = []
    for m in sorted(found, key=lambda m: m.manager):
        coverage = m.visits.coverage
        if coverage is None:
            continue
        for o in sorted(coverage.overdue, key=lambda o: (-o.days_overdue, o.retailer)):
            rows.append({
                "manager": m.name or _person(repo, m.manager), "unit": _unit(repo, m.unit), "retailer": o.retailer,
                "shop": _shop(repo, o.retailer, o.shop), "class": _class_name(repo, o.retailer_class) or "未分类",
                "cycle": o.cycle_days, "last": o.last_visit, "days": o.days_overdue, "as_of": coverage.as_of,
            })
    return Table("超期未拜访", f"超期未拜访零售户 {period}", columns, rows)


def complaints_table(repo: Any, computed: Any, period: str) -> Table:
    """Complaints received in the period with their deadline and state."""
    months = _month_in(period)
    files = [f for f in _records(computed, ComplaintsMonth) if f.period in months]
    statuses = {c.id: c for f in files for c in f.complaints}
    columns = [
        Column("id", "投诉编号"),
        Column("received", "受理时间", "datetime", 17),
        Column("retailer", "零售户编号"),
        Column("shop", "店名"),
        Column("channel", "渠道"),
        Column("severity", "性质"),
        Column("content", "投诉内容", width=40),
        Column("handler", "处理人"),
        Column("manager", "责任客户经理"),
        Column("days", "时限（工作日）", "int"),
        Column("due", "应办结日", "date", 12),
        Column("resolved", "办结时间", "datetime", 17),
        Column("state", "状态"),
        Column("late", "超期（天）", "int"),
        Column("result", "处理结果", width=30),
        Column("satisfied", "客户满意"),
        Column("note", "说明"),
    ]
    first, last = periods.bounds(period)
    rows = []
    for cid in sorted(repo.complaints):
        c = repo.complaints[cid]
        if not first <= c.received.date() <= last:
            continue
        s = statuses.get(cid)
        rows.append({
            "id": cid, "received": c.received, "retailer": c.retailer, "shop": _shop(repo, c.retailer),
            "channel": CHANNEL_ZH.get(c.channel.value, c.channel.value),
            "severity": SEVERITY_ZH.get(c.severity, c.severity.value), "content": c.content,
            "handler": _person(repo, c.handler), "manager": _person(repo, s.manager) if s else "",
            "days": s.working_days if s else None, "due": s.due if s else None, "resolved": c.resolved,
            "state": STATE_ZH.get(s.state, s.state) if s else ("已办结" if c.resolved else STATE_ZH["open"]),
            "late": s.days_overdue if s else None, "result": c.result,
            "satisfied": c.satisfied, "note": s.note if s else "",
        })
    rows.sort(key=lambda r: (r["received"], r["id"]))
    return Table("客户投诉", f"客户投诉 {period}", columns, rows)


@dataclass(frozen=True)
class Export:
    name: str
    title: str  # 中文
    build: Callable[[Any, Any, str], Table]
    periods: Callable[[Any], list[str]]  # periods with results, oldest first


def _manager_periods(computed: Any) -> list[str]:
    return _ordered({m.period for m in _records(computed, ManagerPeriod)})


def _ordered(labels: set[str]) -> list[str]:
    # months, then quarters, then years, each in time order
    return sorted(labels, key=lambda p: ({"month": 0, "quarter": 1, "year": 2}[periods.kind(p)], p))


EXPORTS: dict[str, Export] = {
    "appraisals": Export("appraisals", "考核排名", appraisals_table, _manager_periods),
    "tiers": Export("tiers", "档位表", tiers_table, lambda c: _ordered({f.period for f in _records(c, TiersFile)})),
    "abnormal": Export("abnormal", "异常订单", abnormal_table, lambda c: _ordered({f.month for f in _records(c, AbnormalFile)})),
    "overdue-visits": Export("overdue-visits", "超期未拜访", overdue_visits_table, _manager_periods),
    "complaints": Export("complaints", "客户投诉", complaints_table,
                         lambda c: _ordered({f.period for f in _records(c, ComplaintsMonth)})),
}


def default_period(computed: Any, what: str) -> str:
    """The latest month with results (the latest period when there are no months)."""
    found = EXPORTS[what].periods(computed)
    months = [p for p in found if periods.kind(p) == "month"]
    if months:
        return months[-1]
    if found:
        return found[-1]
    from .rules import NO_DAY

    if computed.ctx.as_of == NO_DAY:  # not "没有 2000-01 的…": the rules' stand-in day is no period
        raise CrmdocsError(
            f"还没有带日期的记录（计划、日记、投诉、销售），没有可导出的{EXPORTS[what].title} (no dated records yet)"
        )
    return periods.month_of(computed.ctx.as_of)


def as_of_time(computed: Any) -> dt.datetime:
    """The workbook's created/modified time: the computation's as-of day."""
    return dt.datetime.combine(computed.ctx.as_of, dt.time())


def table_for(repo: Any, computed: Any, what: str, period: Optional[str] = None) -> Table:
    if what not in EXPORTS:
        raise CrmdocsError(f"不能导出 {what}，可以导出：{'、'.join(EXPORTS)} (unknown export)")
    period = period or default_period(computed, what)
    try:
        periods.kind(period)
    except ValueError as exc:
        raise CrmdocsError(str(exc)) from None
    return EXPORTS[what].build(repo, computed, period)


def export_bytes(table: Table, fmt: str, computed: Any) -> bytes:
    if fmt == "xlsx":
        return xlsx_bytes([table], as_of_time(computed))
    if fmt == "csv":
        return csv_bytes(table)
    raise CrmdocsError(f"格式只能是 xlsx 或 csv，读到的是 {fmt} (format must be xlsx or csv)")


def file_name(what: str, period: str, fmt: str) -> str:
    return f"{what}-{period}.{fmt}"


def download_path(what: str, period: str, fmt: str = "xlsx", folder: str = "downloads") -> str:
    """Where :func:`export_files` puts a file in the site (for the link next to a table)."""
    return f"{folder}/{file_name(what, period, fmt)}"


def export_files(repo: Any, computed: Any, latest_only: bool = False, fmt: str = "xlsx",
                 folder: str = "downloads") -> dict[str, bytes]:
    """Every export for every period that has results, as
    ``{"downloads/appraisals-2026-Q3.xlsx": bytes, …}`` — for the report site
    (``latest_only``: only each export's default period)."""
    out: dict[str, bytes] = {}
    for what, export in EXPORTS.items():
        chosen = export.periods(computed)
        if latest_only and chosen:
            chosen = [default_period(computed, what)]
        for period in chosen:
            try:
                table = export.build(repo, computed, period)
            except CrmdocsError:
                continue
            out[download_path(what, period, fmt, folder)] = export_bytes(table, fmt, computed)
    return dict(sorted(out.items()))
