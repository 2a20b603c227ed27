"""``crmdocs explain``: the derivation of one manager's appraisal or what the
rules know of one retailer, in plain Chinese words and numbers.

Works on a :class:`~crmdocs.scripts.rules.Computed` (the same records
``crmdocs recalc`` writes), so what it prints is what the files say.

Retailer side: any rule module that defines
``explain_retailer(computed, retailer_id, period) -> list[str]`` is asked
(in the order of ``rules.MODULES``); the visit and complaint facts follow.
"""

from __future__ import annotations

import importlib
from typing import Optional

from crmdocs.schemas.computed_managers import COMPLAINT_STATE_ZH, IndicatorResult, ManagerPeriod
from crmdocs.schemas.retailer import STATUS_ZH, Status
from crmdocs.schemas.service import SEVERITY_ZH, Severity

from . import periods
from .checks import who
from .diagnostics import CrmdocsError

ACTION_ZH = {
    "promote": "建议晋升",
    "demote": "建议降级",
    "eliminate_review": "建议淘汰审查",
    "end_probation": "建议见习期满转正",
    "none": "无升降建议",
}

# how each indicator's actual and target are named
WORDS = {
    "sales": ("实际", "目标"),
    "key_brands": ("实际", "目标"),
    "plan_execution": ("完成", "计划"),
    "coverage": ("周期内已拜访", "片区"),
    "diary_on_time": ("按时", "到期"),
    "satisfaction": ("走访报告单平均", "满分"),
    "information": ("被批阅标为有价值", "目标"),
}


def num(value: float, digits: int = 1) -> str:
    """1234 → "1,234"; 26.25 → "26.25" (digits=2); trailing zeros dropped."""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".")


def pct(ratio: float) -> str:
    """0.949 → "94.9 %"; 0.6 → "60 %"."""
    text = f"{ratio * 100:.1f}"
    return (text[:-2] if text.endswith(".0") else text) + " %"


def indicator_line(ind: IndicatorResult) -> str:
    if ind.points is None:
        return f"{ind.label}：不考核——{ind.note}"
    said, target = WORDS.get(ind.key, ("实际", "目标"))
    unit = ind.unit
    text = (f"{ind.label} = {said} {num(ind.actual or 0)} {unit} ÷ {target} {num(ind.target or 0)} {unit}"
            f" = {pct(ind.ratio or 0)}，")
    mx = num(ind.max_points, 2)
    if (ind.ratio or 0) >= ind.full:
        text += f"达到 {pct(ind.full)}，得满分 {mx}"
    elif (ind.ratio or 0) <= ind.floor:
        text += f"不高于 0 分线 {pct(ind.floor)}，得 0 分"
    else:
        text += (f"得分 = {mx} × ({pct(ind.ratio or 0)} − {pct(ind.floor)}) ÷ "
                 f"({pct(ind.full)} − {pct(ind.floor)}) = {num(ind.points, 2)}")
    if ind.note and ind.key not in ("information",):
        text += f"（{ind.note}）"
    return text


def _records(computed) -> dict[tuple[str, str], ManagerPeriod]:
    out = {}
    for rec in computed.records.values():
        if isinstance(rec, ManagerPeriod):
            out[(rec.manager, rec.period)] = rec
    return out


def explain_manager(computed, manager: str, period: Optional[str] = None) -> list[str]:
    repo = computed.ctx.repo
    person = repo.people.get(manager)
    if person is None:
        raise CrmdocsError(f"找不到客户经理 {manager} (no such person)")
    recs = _records(computed)
    own = {p for (m, p) in recs if m == manager}
    mine = [p for p in periods.containing(p for p in own if periods.kind(p) == "month") if p in own]
    mine += sorted(own - set(mine))
    if not mine:
        raise CrmdocsError(f"{person.name}（{manager}）没有考核结果：没有计划、日记、目标或片区 (no appraisal for {manager})")
    if period is None:
        months = [p for p in mine if periods.kind(p) == "month"]
        period = months[-1] if months else mine[-1]
    if (manager, period) not in recs:
        raise CrmdocsError(f"{manager} 没有 {period} 的考核结果；有的期间：{'、'.join(mine)} (no such period)")
    rec = recs[(manager, period)]
    ap = rec.appraisal
    unit = repo.org.get(rec.unit)
    lines = [f"客户经理 {rec.name}（{manager}，{unit.name if unit else rec.unit}）{period} 考核，{rec.start} 至 {rec.as_of}"
             + ("" if ap and ap.complete else "（期间未结束，按已有记录计算）")]
    if not person.active:  # as the site's ranking marks 离岗
        lines.append("  已离岗（人员记录 active: false）：销量只算他负责零售户的日子；目标按目标文件，不会自动折算")
    if ap is not None:
        for ind in ap.indicators:
            lines.append("  " + indicator_line(ind))
        assessed = [i for i in ap.indicators if i.points is not None]
        parts = " + ".join(num(i.points, 2) for i in assessed) or "0"
        lines.append(f"  指标得分合计 = {parts} = {num(ap.earned, 2)}")
        full_total = sum(i.max_points for i in ap.indicators)
        if assessed and abs(ap.assessable - full_total) > 1e-9:
            lines.append(f"  有 {len(ap.indicators) - len(assessed)} 项不考核，按已考核指标折算："
                         f"{num(ap.earned, 2)} ÷ {num(ap.assessable, 2)} × {num(full_total, 2)} = {num(ap.scaled, 2)}")
        if ap.overdue_complaints:
            ded = ap.deduction / ap.overdue_complaints
            lines.append(f"  超期投诉 {ap.overdue_complaints} 件 × {num(ded, 2)} 分 = −{num(ap.deduction, 2)} 分"
                         f"（{'、'.join(rec.complaints.ids)}）")
        else:
            lines.append("  没有超期投诉，不扣分")
        lines.append(f"  总分 = {num(ap.scaled, 2)} − {num(ap.deduction, 2)} = {num(ap.total, 2)}（限定在 0–100 分）")
    grade = rec.grade
    if grade is None and periods.kind(period) == "month":
        q = recs.get((manager, periods.quarter_of(period)))
        grade = q.grade if q else None
    if grade is not None:
        to = f" → {_grade_name(computed, grade.to)}" if grade.to else ""
        lines.append(f"等级建议：当前 {_grade_name(computed, grade.current)}，{ACTION_ZH.get(grade.action, grade.action)}{to}——{grade.rule}")
        if grade.evidence:
            lines.append(f"  依据：{'；'.join(grade.evidence)}")
        lines.append("  （系统只提出建议；等级由负责人修改人员记录并提交后才改变）")
    v = rec.visits
    lines.append(f"拜访：{v.working_days} 个工作日，请假/培训等 {v.absent_days} 天")
    ex = v.execution
    if ex.planned:
        lines.append(f"  计划执行：计划 {ex.planned} 户次，日记记录完成 {ex.done} 户次，执行率 {pct(ex.ratio or 0)}")
    for label, d in (("计划", v.plans), ("日记", v.diaries), ("批阅", v.reviews)):
        extra = f"，提交时间未知 {d.unknown}（没有历史记录，不算迟交）" if d.unknown else ""
        lines.append(f"  {label}：应有 {d.expected}，按时 {d.on_time}，迟交 {d.late}，缺 {d.missing}，未到期 {d.not_yet_due}{extra}")
        for item in d.items[:5]:
            what = "迟交" if item.status == "late" else "缺"
            late = f"，晚 {num(item.hours_late or 0, 1)} 小时" if item.hours_late else ""
            lines.append(f"    {item.date} {what}（截止 {item.due:%Y-%m-%d %H:%M}{late}）")
        if len(d.items) > 5:
            lines.append(f"    ……另有 {len(d.items) - 5} 条")
    cov = v.coverage
    if cov is not None:
        lines.append(f"  拜访周期覆盖（{cov.as_of}）：片区 {cov.territory} 户，周期内拜访过 {cov.covered} 户"
                     + (f"，覆盖率 {pct(cov.ratio)}" if cov.ratio is not None else ""))
        if cov.note:
            lines.append(f"    {cov.note}")
        for o in cov.overdue[:10]:
            last = f"上次拜访 {o.last_visit}" if o.last_visit else "记录开始以来没有拜访"
            lines.append(f"    超期 {o.days_overdue} 天：{o.retailer} {o.shop}（周期 {o.cycle_days} 天，{last}）")
        if len(cov.overdue) > 10:
            lines.append(f"    ……另有 {len(cov.overdue) - 10} 户超期")
    return lines


def explain_retailer(computed, retailer: str, period: Optional[str] = None) -> list[str]:
    from .rules import MODULES

    repo = computed.ctx.repo
    r = repo.retailers.get(retailer)
    if r is None:
        raise CrmdocsError(f"找不到零售户 {retailer} (no such retailer)")
    lines: list[str] = []
    for name in MODULES:
        module = importlib.import_module(f"crmdocs.scripts.rules.{name}")
        fn = getattr(module, "explain_retailer", None)
        if fn is not None:
            lines.extend(fn(computed, retailer, period))
    if not lines:
        lines.extend(_computed_facts(computed, retailer, period))
    ctx = computed.ctx
    day = min(periods.bounds(period)[1], ctx.as_of) if period else ctx.as_of
    lines.append(f"零售户 {retailer} {r.basic.shop_name}：{day} 由 {who(repo, r.management.manager_on(day))}负责")
    for past in sorted(r.management.manager_history, key=lambda p: p.until):
        lines.append(f"  {past.until} 之前由 {who(repo, past.manager)}负责")
    cls = ctx.class_on(retailer, day)
    vp = ctx.policy.visits
    cycle = vp.cycle_days.get(cls) if cls else None
    if r.status is not Status.active:
        cycle = cycle or max(vp.cycle_days.values())
        lines.append(f"  状态{STATUS_ZH.get(r.status, r.status.value)}：不分类，不计拜访周期")
    elif cycle is None:
        cycle = max(vp.cycle_days.values())
        lines.append(f"  类别未知，按政策最长拜访周期 {cycle} 天")
    else:
        name = next((c.name for c in ctx.policy.classes.rule.classes if c.id == cls), cls)
        lines.append(f"  类别 {name}，拜访周期 {cycle} 天")
    visits = sorted((d_, m) for (m, d_), d in computed.ctx.diaries.items() if d_ <= day
                    for rid in d.visited if rid == retailer)
    if visits:
        last_day, last_by = visits[-1]
        gap = (day - last_day).days
        state = f"超期 {gap - cycle} 天" if gap > cycle else "在周期内"
        state = f"，{state}" if r.status is Status.active else ""  # the coverage rule counts active retailers only
        lines.append(f"  拜访 {len(visits)} 次，最近一次 {last_day}（{who(repo, last_by, with_id=False)}），距 {day} {gap} 天{state}")
    else:
        lines.append("  记录开始以来没有拜访")
    found = computed.ctx.shared.get("complaints") or {}
    mine = [s for s in found.values() if s.retailer == retailer]
    for s in sorted(mine, key=lambda s: s.received):
        state = COMPLAINT_STATE_ZH[s.state]
        sev = SEVERITY_ZH.get(Severity(s.counted_as), s.counted_as) if s.counted_as in Severity.__members__ else s.counted_as
        lines.append(f"  投诉 {s.id}（{s.received:%Y-%m-%d %H:%M} 受理，按{sev}投诉 {s.working_days} 个工作日，"
                     f"应在 {s.due} 前办结）：{state}" + (f"，超期 {s.days_overdue} 天" if s.days_overdue else ""))
        if s.key_customer and s.respond_by is not None:
            answer = f"{s.first_response:%Y-%m-%d %H:%M} 首次答复" if s.first_response else "尚未答复"
            lines.append(f"    重点客户：应在 {s.respond_by:%Y-%m-%d %H:%M} 前答复，{answer}"
                         + ("，答复超时" if s.response_late else ""))
    if not mine:
        lines.append("  没有投诉")
    return lines


# the fields shown from the retailer-side computed records when no rule module explains them
_FACTS = {
    "classes": (("class", "类别"), ("previous_class", "上期类别"), ("composite", "综合得分"), ("contribution", "贡献价值"),
                ("integrity", "诚信价值"), ("own", "自身价值"), ("development", "发展价值")),
    "tiers": (("tier", "档位"), ("score", "档位得分"), ("override", "人工调整")),
    "limits": (("class", "类别"), ("k", "调整系数"), ("total.turnover", "周转数"), ("total.lower", "总量下限"),
               ("total.upper", "总量上限")),
}


_TOPIC_ZH = {"classes": "分类", "tiers": "档位", "limits": "订货限量"}


def _computed_facts(computed, retailer: str, period: Optional[str]) -> list[str]:
    """Class, tier and limits of the retailer from the latest computed records
    (or those of ``period``) that list it under ``retailers``."""
    by_topic: dict[str, list[tuple[str, str]]] = {}
    for rel in computed.records:
        parts = rel.split("/")
        if len(parts) == 3 and parts[1] in _FACTS and (period is None or parts[0] == period):
            by_topic.setdefault(parts[1], []).append((parts[0], rel))
    lines = []
    for topic in _FACTS:
        for when, rel in sorted(by_topic.get(topic, []), reverse=True):
            rec = computed.records[rel]
            table = getattr(rec, "retailers", None)
            if not isinstance(table, dict) or retailer not in table:
                continue
            entry = table[retailer]
            data = entry.model_dump(mode="json", by_alias=True) if hasattr(entry, "model_dump") else entry
            shown = []
            for key, label in _FACTS[topic]:
                value: object = data
                for part in key.split("."):
                    value = value.get(part) if isinstance(value, dict) else None
                if value is not None:
                    shown.append(f"{label} {num(value, 2) if isinstance(value, (int, float)) and not isinstance(value, bool) else value}")
            if shown:
                lines.append(f"{when} {_TOPIC_ZH[topic]}：" + "，".join(shown) + f"（records/computed/{rel}）")
            break
    return lines


def _grade_name(computed, gid: Optional[str]) -> str:
    """三级客户经理 for level-3: the policy ladder's name of a grade id."""
    return next((g.name for g in computed.ctx.policy.grades.ladder if g.id == gid), gid or "—")


def explain(root, kind: str, ident: str, period: Optional[str] = None) -> list[str]:
    from .recalc import compute

    if period is not None:
        try:
            periods.kind(period)
        except ValueError as exc:
            raise CrmdocsError(str(exc)) from None
    computed = compute(root)
    if kind == "manager":
        return explain_manager(computed, ident, period)
    return explain_retailer(computed, ident, period)
