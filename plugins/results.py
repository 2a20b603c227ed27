"""Reading the retailer-side computed results (classes, tiers, limits,
abnormal orders) for the pages — grouping only, never computing a rule.

Absent results (rules not run, or a module not written yet) read as None and
the pages say 尚未计算.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any, Callable, Optional

from .render import NOT_COMPUTED, Markup, esc, fmt_num, fmt_pct, label, link, table

RULE_ZH = {"above_upper": "超上限", "below_lower": "低于下限", "spike": "单次突增", "month_jump": "月度突增"}
BASIS_ZH = {"ranking": "按名次", "bands": "按分数段", "new_retailer": "新户起始档"}
K_SOURCE_ZH = {"default": "默认", "adjustment": "档案调整", "adjustment_bounded": "档案调整（已限定在范围内）"}


class RetailIndex:
    def __init__(self, data: Any):
        self.classes: dict[str, dict[str, Any]] = defaultdict(dict)  # month → dept → ClassesFile
        self.tiers: dict[str, dict[str, Any]] = defaultdict(dict)  # period → dept → TiersFile
        self.limits: dict[str, dict[str, Any]] = defaultdict(dict)  # month → dept → LimitsFile
        self.abnormal: dict[str, dict[str, Any]] = defaultdict(dict)  # month → manager → AbnormalFile
        for _, models in data.retailer_results.items():
            for _, model in models:
                kind = getattr(model, "kind", None)
                if kind == "retailer_classes":
                    self.classes[model.month][model.department] = model
                elif kind == "retailer_tiers":
                    self.tiers[model.period][model.department] = model
                elif kind == "retailer_limits":
                    self.limits[model.month][model.department] = model
                elif kind == "abnormal_orders":
                    self.abnormal[model.month][model.manager] = model
        self.class_months = sorted(self.classes)
        self.tier_periods = sorted(self.tiers)
        self.limit_months = sorted(self.limits)
        self.abnormal_months = sorted(self.abnormal)
        # retailer → [(month, ClassDerivation)], → [(period, TierDerivation)]
        self.class_history: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for month in self.class_months:
            for f in self.classes[month].values():
                for rid, d in f.retailers.items():
                    self.class_history[rid].append((month, d))
        self.tier_history: dict[str, list[tuple[str, Any]]] = defaultdict(list)
        for period in self.tier_periods:
            for f in self.tiers[period].values():
                for rid, d in f.retailers.items():
                    self.tier_history[rid].append((period, d))
        # earlier months and periods keep only the published lists (classes / tiers), no derivations
        self.published_classes = _published(self.classes, self.class_months, "classes")
        self.published_tiers = _published(self.tiers, self.tier_periods, "tiers")
        self.latest_limits: dict[str, tuple[Any, Any]] = {}  # retailer → (LimitsFile, LimitsDerivation)
        for month in self.limit_months:
            for f in self.limits[month].values():
                for rid, d in f.retailers.items():
                    self.latest_limits[rid] = (f, d)


def index(data: Any) -> RetailIndex:
    cached = getattr(data, "_retail_index", None)
    if cached is None:
        cached = RetailIndex(data)
        data._retail_index = cached
    return cached


def class_of(data: Any, rid: str) -> Optional[str]:
    hist = index(data).class_history.get(rid)
    return hist[-1][1].class_ if hist else None


def tier_of(data: Any, rid: str) -> Optional[int]:
    hist = index(data).tier_history.get(rid)
    return hist[-1][1].tier if hist else None


def class_distribution(data: Any, department: Optional[str] = None) -> list[tuple[str, int]]:
    """(class name, retailers) of the latest evaluation, best class first."""
    idx = index(data)
    if not idx.class_months:
        return []
    files = idx.classes[idx.class_months[-1]]
    counts: Counter = Counter()
    for dept, f in files.items():
        if department is None or dept == department:
            counts.update(d.class_ for d in f.retailers.values())
    return [(c.name, counts.get(c.id, 0)) for c in data.policy.classes.rule.classes]


def tier_distribution(data: Any) -> list[tuple[str, int]]:
    idx = index(data)
    if not idx.tier_periods:
        return []
    counts: Counter = Counter()
    for f in idx.tiers[idx.tier_periods[-1]].values():
        counts.update(d.tier for d in f.retailers.values())
    top = data.policy.tiers.count
    # bands of five tiers keep the chart short (30 tiers → 6 bars)
    out = []
    for hi in range(top, 0, -5):
        lo = max(1, hi - 4)
        out.append((f"{lo}–{hi} 档", sum(counts.get(t, 0) for t in range(lo, hi + 1))))
    return out


def _published(files: dict[str, dict[str, Any]], periods: list[str], field: str) -> dict[str, list[tuple[str, Any]]]:
    """Retailer → [(period, published value)], oldest first: the periods'
    lists (``field``: classes or tiers) for the retailers without a derivation there."""
    out: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for period in periods:
        for f in files[period].values():
            for rid, value in getattr(f, field).items():
                if rid not in f.retailers:
                    out[rid].append((period, value))
    return out


def runs(items: list[tuple[str, Any]], order: list[str], name: Callable[[Any], str]) -> str:
    """Published values by period (oldest first), newest first, periods that
    follow each other in ``order`` with the same value as one run:
    ``2026-09 至 2026-10 A 类；2026-08 B 类`` — a change stands out, and a
    year of the same class is one entry, not twelve."""
    at = {period: i for i, period in enumerate(order)}
    merged: list[list[Any]] = []  # [first, last, value]
    for period, value in items:
        if merged and merged[-1][2] == value and at[period] == at[merged[-1][1]] + 1:
            merged[-1][1] = period
        else:
            merged.append([period, period, value])
    return "；".join(f"{first}{'' if first == last else f' 至 {last}'} {name(value)}" for first, last, value in reversed(merged))


def retailer_results_html(data: Any, here: str, rid: str, compact: bool = False) -> Markup:
    """Class and tier history and limits of one retailer (for its archive);
    ``compact``: tables without optional end tags and without the scrolling
    wrapper (see render.table: the archive's tables scroll themselves)."""
    idx = index(data)
    parts: list[Markup] = []
    hist = idx.class_history.get(rid, [])
    parts.append(Markup(label("分类（按月评定）", compact)))
    if not data.rules_ran or not idx.class_months:
        parts.append(Markup(f'<p class="crm-note">{NOT_COMPUTED}</p>'))
    else:
        rows = []
        for month, d in hist[::-1]:
            base = f"{d.base.market}·{d.base.format}·{d.base.scale}" if d.base else "—"
            values = (f"贡献 {fmt_num(d.contribution, 1)} / 诚信 {fmt_num(d.integrity, 1)} / 自身 {fmt_num(d.own, 1)} / 发展 {fmt_num(d.development, 1)}"
                      if d.composite is not None else (f"月量 {fmt_num(d.volume)}" if d.volume is not None else "无订购"))
            step = f"按分应为 {data.class_name(d.raw_class)}，每次最多升降 {data.policy.classes.max_step} 级" if d.capped else ""
            rows.append([month, data.class_name(d.class_) + (" 重点客户" if d.key else ""), fmt_num(d.composite, 1), values, base, step])
        parts.append(table(["月份", "类别", "综合得分", "四项价值", "基础分类", "说明"], rows, empty="未参加评定。", compact=compact, wrap=not compact))
        earlier = idx.published_classes.get(rid)
        if earlier:  # the class moving month by month (能上能下): the published lists
            parts.append(Markup('<p class="crm-note">往月类别：') + esc(runs(earlier, idx.class_months, data.class_name))
                         + Markup("</p>"))
    thist = idx.tier_history.get(rid, [])
    parts.append(Markup(label("档位", compact)))
    if not data.rules_ran or not idx.tier_periods:
        parts.append(Markup(f'<p class="crm-note">{NOT_COMPUTED}</p>'))
    else:
        rows = []
        for period, d in thist[::-1]:
            note = BASIS_ZH.get(d.basis, d.basis)
            if d.override is not None:
                note += f"；人工调整 {d.computed_tier} → {d.override.tier}（{d.override.reason}，批准人 {data.person_name(d.override.approver)}）"
            rows.append([period, d.tier, fmt_num(d.score, 2), fmt_num(d.quantity), fmt_num(d.amount), note])
        parts.append(table(["期间", "档位", "得分", "订购量（条）", "订购额（元）", "说明"], rows, empty="未定档。", compact=compact, wrap=not compact))
        earlier_tiers = idx.published_tiers.get(rid)
        if earlier_tiers:
            parts.append(Markup('<p class="crm-note">往期档位：') + esc(runs(earlier_tiers, idx.tier_periods, lambda t: f"{t} 档"))
                         + Markup("</p>"))
    parts.append(Markup(label("订货上下限", compact)))
    lim = idx.latest_limits.get(rid)
    if not data.rules_ran or not idx.limit_months:
        parts.append(Markup(f'<p class="crm-note">{NOT_COMPUTED}</p>'))
    elif lim is None:
        parts.append(Markup('<p class="crm-empty">没有上下限。</p>'))
    else:
        f, d = lim
        parts.append(Markup(
            f"<p>{esc(f.week)} 执行（周转数取 {esc(f.window.start.isoformat())} 至 {esc(f.window.end.isoformat())}）；"
            f"类别 {esc(data.class_name(d.class_))}，系数 {d.lower_factor:g}/{d.upper_factor:g}，"
            f"调整系数 {d.k:g}（{esc(K_SOURCE_ZH.get(d.k_source, d.k_source))}）"
            f"{'；无订购历史，按类别默认周转数' if d.basis == 'class_default' else ''}。</p>"
        ))
        rows = [["合计", fmt_num(d.total.quantity), fmt_num(d.total.turnover, 1), "—" if d.total.lower is None else d.total.lower, d.total.upper]]
        for bid, line in sorted(d.brands.items(), key=lambda kv: -kv[1].quantity):
            if line.main:
                rows.append([data.brand_name(bid), fmt_num(line.quantity), fmt_num(line.turnover, 1),
                             "—" if line.lower is None else line.lower, "—" if line.upper is None else line.upper])
        parts.append(table(["品牌", "统计期订购量（条）", "周转数（条/周）", "下限", "上限"], rows, compact=compact, wrap=not compact))
    return Markup("".join(parts))  # parts: all Markup
