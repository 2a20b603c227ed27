"""One retailer's derivation in plain Chinese words and numbers: class,
base classification, supply tier, limits and abnormal orders of a month.

``explain_retailer(computed_or_ctx, retailer_id, period=None) -> str``
takes the result of ``compute_all`` (a ``Computed``) or its ``RulesContext``
after the rules ran; ``period`` is ``YYYY-MM`` (default: the month of
``as_of``). Any month can be explained, not only the one whose derivations
are written to files: the numbers come from the same arrays the rules
computed. Raises ``CrmdocsError`` for an unknown retailer or month.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, Optional

import numpy as np

from crmdocs.schemas.retailer import STATUS_ZH

from ..checks import who
from ..diagnostics import CrmdocsError
from .. import sales as S
from . import classes as C
from . import tiers as T
from .limits import limits_at
from .retail import retail


def _n(x: Any, nd: int = 2) -> str:
    """A number as people write it: 85, 85.5, 0.4."""
    if x is None:
        return "—"
    v = round(float(x), nd)
    if v == int(v):
        return str(int(v))
    return f"{v:.{nd}f}".rstrip("0").rstrip(".")


def _pct(x: float) -> str:
    return f"{_n(x * 100, 1)}%"


def _brand(ctx, bid: str) -> str:
    """A brand by its name, as the site shows it (the id when there is no such brand record)."""
    b = ctx.repo.brands.get(bid)
    return b.name if b else bid


def _unit(ctx, uid: str) -> str:
    unit = ctx.repo.org.get(uid)
    return unit.name if unit else uid


def _month_of_period(period: Optional[str], as_of: dt.date) -> str:
    """``YYYY-MM`` as given; a quarter ``YYYY-Qn`` or a year ``YYYY`` → its
    last month, but not after the month of ``as_of``; none → ``as_of``'s month."""
    now = S.month_of(as_of)
    if not period:
        return S.month_key(now)
    p = period.strip()
    if re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", p):
        return p
    m = re.fullmatch(r"(\d{4})(?:-Q([1-4]))?", p)
    if not m:
        raise CrmdocsError(f"期间 {period} 不对，应为月 2026-09、季度 2026-Q3 或年 2026 (expected a period)")
    year = int(m.group(1))
    last = year * 12 + (int(m.group(2)) * 3 - 1 if m.group(2) else 11)
    first = year * 12 + ((int(m.group(2)) - 1) * 3 if m.group(2) else 0)
    return S.month_key(max(first, min(last, now)))


def explain_retailer(computed_or_ctx: Any, retailer_id: str, period: Optional[str] = None) -> str:
    ctx = getattr(computed_or_ctx, "ctx", computed_or_ctx)
    R = retail(ctx)
    if retailer_id not in ctx.repo.retailers:
        raise CrmdocsError(f"找不到零售户 {retailer_id} (no such retailer)")
    i = R.ids.index(retailer_id)
    rec = R.records[i]
    mkey = _month_of_period(period, ctx.as_of)
    policy = ctx.policy
    names = {c.id: c.name for c in policy.classes.rule.classes}
    first = S.month_first(S.month_index(mkey))
    lines = [
        f"零售户 {retailer_id} {rec.basic.shop_name}（{_unit(ctx, rec.management.department)}，"
        f"客户经理 {who(ctx.repo, rec.management.manager_on(first), with_id=False)}，状态 {STATUS_ZH.get(rec.status, rec.status.value)}）— {mkey}",
        "",
    ]
    details = ctx.shared.get("class_detail", {})
    if mkey not in details:
        known = "、".join(sorted(details)) or "无"
        raise CrmdocsError(f"{mkey} 没有评定（有评定的月份：{known}）(no evaluation for this month)")
    if not R.active[i]:
        lines.append(f"该户状态为 {STATUS_ZH.get(rec.status, rec.status.value)}（{rec.status_reason or '未写原因'}），不参加分类、档位和上下限计算。")
        return "\n".join(lines) + "\n"
    lines += _class_part(ctx, mkey, i, names)
    lines.append("")
    lines += _tier_part(ctx, mkey, i)
    lines.append("")
    lines += _limits_part(ctx, mkey, i, names)
    lines.append("")
    lines += _abnormal_part(ctx, mkey, retailer_id)
    return "\n".join(lines) + "\n"


def _class_part(ctx, mkey: str, i: int, names: dict[str, str]) -> list[str]:
    policy = ctx.policy
    pc = policy.classes
    rule = pc.rule
    detail = ctx.shared["class_detail"][mkey]
    d = C.derivations(ctx, mkey, np.array([i]), detail)[ctx.shared["retail"].ids[i]]
    w = detail["window"]
    out = [f"一、零售户分类（{mkey} 评定，当月 1 日起执行；统计期 {w.start} 至 {w.end}）"]
    if rule.mode == "composite":
        wt = rule.weights
        if not d.amount:
            out.append("  贡献价值：统计期没有订购 → 0 分")
        elif d.peers and d.peers > 1:
            out.append(
                f"  贡献价值：统计期订购额 {_n(d.amount)} 元；同县区正常经营 {d.peers} 户中有 {d.peers_below} 户低于本户"
                f" → 100 × {d.peers_below} ÷ ({d.peers} − 1) = {_n(d.contribution)} 分"
            )
        else:
            out.append(f"  贡献价值：统计期订购额 {_n(d.amount)} 元，同县区只有本户 → {_n(d.contribution)} 分")
        it = rule.integrity
        out.append(
            f"  诚信价值：{_n(it.start)} − {_n(it.per_violation)} × {d.violations} 次查实违规 − {_n(it.per_late_payment)}"
            f" × {d.late_payments} 次迟付（近 {it.months} 个月），不低于 0 → {_n(d.integrity)} 分"
        )
        p = d.own_parts
        out.append(
            f"  自身价值：经营面积 {_n(p.floor_area)} 分、业态 {_n(p.format)} 分、商圈 {_n(p.location)} 分、"
            f"形象等级 {_n(p.image)} 分，四项平均 → {_n(d.own)} 分"
        )
        dv = rule.development
        if d.growth is None:
            out.append(
                f"  发展价值：之前同样 {rule.weeks} 周没有订购，无从比较 → 按零增长 {_n(dv.flat_points)} 分"
            )
        else:
            out.append(
                f"  发展价值：统计期 {_n(d.amount)} 元，之前 {rule.weeks} 周 {_n(d.amount_before)} 元，增长 {_pct(d.growth)}"
                f"（{_pct(dv.worst)} 及以下 0 分，0% 得 {_n(dv.flat_points)} 分，{_pct(dv.best)} 及以上 100 分，之间按直线）"
                f" → {_n(d.development)} 分"
            )
        out.append(
            f"  综合得分 = {_n(wt.contribution)} × {_n(d.contribution)} + {_n(wt.integrity)} × {_n(d.integrity)} + "
            f"{_n(wt.own)} × {_n(d.own)} + {_n(wt.development)} × {_n(d.development)} = {_n(d.composite)} 分"
        )
        score_text = f"{_n(d.composite)} 分"
    else:
        unit = "条" if rule.measure == "quantity" else "元"
        out.append(f"  按月订购量分档：上月订购{'量' if rule.measure == 'quantity' else '额'} {_n(d.volume)} {unit}")
        score_text = f"{_n(d.volume)} {unit}"
    ladder = "，".join(f"{c.name} ≥ {_n(c.min)}" for c in rule.classes)
    out.append(f"  分类线：{ladder}；{score_text} → 应为 {names[d.raw_class]}")
    if d.previous_class is None:
        out.append(f"  首次评定，不受升降级限制 → {names[d.class_]}")
    elif d.capped:
        out.append(
            f"  上次为 {names[d.previous_class]}，每次最多升降 {pc.max_step} 级 → 本月 {names[d.class_]}"
        )
    else:
        order = [c.id for c in rule.classes]
        jump = (abs(order.index(d.class_) - order.index(d.previous_class))
                if d.class_ in order and d.previous_class in order else 0)
        why = f"（上次评定时统计期没有订购，不受每次最多升降 {pc.max_step} 级的限制）" if jump > pc.max_step else ""
        out.append(f"  上次为 {names[d.previous_class]}{why} → 本月 {names[d.class_]}")
    if d.key:
        out.append(
            f"  {names[d.class_]}是重点客户：按 {policy.visits.cycle_days.get(d.class_, '—')} 天周期拜访，"
            f"诉求 {pc.key_response_hours} 小时内答复"
        )
    b = d.base
    out.append(
        f"  基础分类：{b.market} / {b.format} / {b.scale}（占本业态订购量 {_pct(b.quantity_share)}、订购额 "
        f"{_pct(b.amount_share)}；同业态 {b.of} 户中份额高于本户的 {b.ahead} 户；前 "
        f"{_pct(policy.base_class.large_share)} 为大，其后 {_pct(policy.base_class.medium_share)} 为中）"
    )
    return out


def _tier_part(ctx, mkey: str, i: int) -> list[str]:
    policy = ctx.policy
    pt = policy.tiers
    month = S.month_index(mkey)
    if pt.period == "quarter":
        q0 = month - month % 3
        key = f"{q0 // 12:04d}-Q{(q0 % 12) // 3 + 1}"
    else:
        key = mkey
    details = ctx.shared.get("tier_detail", {})
    if key not in details:
        return [f"二、货源档位：{key} 没有档位"]
    detail = details[key]
    d = T.derivations(ctx, key, np.array([i]), detail)[ctx.shared["retail"].ids[i]]
    w = detail["window"]
    out = [f"二、货源档位（{key}，只按 {w.start} 至 {w.end} 的订购计算，期间开始即公示、不再变动）"]
    if d.basis == "new_retailer":
        out.append(
            f"  新户（期间开始前没有订购）：{ '城网' if d.network == 'urban' else '农网' }，经营面积 {_n(d.floor_area)} 平方米"
            f" → 起始档位 {d.computed_tier}"
        )
    else:
        wt = pt.weights
        out.append(
            f"  订购量 {d.quantity} 条（百分位 {_n(d.quantity_rank)}）、订购额 {_n(d.amount)} 元（百分位 {_n(d.amount_rank)}）、"
            f"经营能力（面积）{_n(d.capability)} 平方米（百分位 {_n(d.capability_rank)}）"
        )
        out.append(
            f"  档位得分 = {_n(wt.quantity)} × {_n(d.quantity_rank)} + {_n(wt.amount)} × {_n(d.amount_rank)} + "
            f"{_n(wt.capability)} × {_n(d.capability_rank)} = {_n(d.score)}"
        )
        if d.basis == "ranking":
            out.append(
                f"  按名次：得分百分位 {_n(d.score_rank)} → 1 + ⌊{_n(d.score_rank)} × {pt.count} ÷ 100⌋，最高 {pt.count} 档"
                f" → {d.computed_tier} 档"
            )
        else:
            bands = "，".join(f"{b.tier} 档 ≥ {_n(b.min)}" for b in sorted(pt.bands, key=lambda b: -b.min))
            out.append(f"  按分数段（{bands}）→ {d.computed_tier} 档")
    if d.override is not None:
        o = d.override
        out.append(
            f"  人工调整为 {o.tier} 档：{o.reason}（{who(ctx.repo, o.approver)}于 {o.date} 批准，{o.source}）"
        )
    out.append(f"  执行档位：{d.tier} 档")
    return out


def _limits_part(ctx, mkey: str, i: int, names: dict[str, str]) -> list[str]:
    R = ctx.shared["retail"]
    pl = ctx.policy.limits
    first = S.month_first(S.month_index(mkey))
    day = ctx.as_of if S.month_key(S.month_of(ctx.as_of)) == mkey else first
    week = int(S.week_of(day))
    L = limits_at(ctx, week)
    monday = L.monday
    out = [
        f"三、订货上下限（{S.iso_week_label(week)}，{monday} 起执行；周转数按之前 {pl.turnover_weeks} 整周 "
        f"{S.week_start(week - pl.turnover_weeks)} 至 {monday - dt.timedelta(days=1)}，没订货的周按 0 计）"
    ]
    cid = ctx.policy.classes.ids()[L.class_pos[i]]
    class_text = names[cid] if L.classed[i] else f"{names[cid]}（未评定，按最低类别）"
    k_text = f"调整系数 {_n(L.k[i], 4)}"
    if not np.isnan(L.k_req[i]):
        co = pl.coefficient
        if L.k_req[i] != L.k[i]:
            k_text += f"（档案中为 {_n(L.k_req[i], 4)}，超出允许范围 {_n(co.min)}–{_n(co.max)}，按边界计）"
        else:
            k_text += "（档案中经市场经理批准）"
    else:
        k_text += "（默认）"
    out.append(f"  类别 {class_text}：下限系数 {_n(L.lower_f[i])}，上限系数 {_n(L.upper_f[i])}；{k_text}")
    if L.history[i]:
        out.append(
            f"  总量：{L.covered} 周共订 {int(L.quantity[i])} 条 → 周转数 {_n(L.turnover[i])} 条/周"
            # the header names the policy's full window; say why fewer weeks divide
            + (f"（{pl.turnover_weeks} 周里只有 {L.covered} 周在销售数据之内，按 {L.covered} 周平均）"
               if L.covered < pl.turnover_weeks else "")
        )
    else:
        out.append(
            f"  统计期内没有订购（无历史或周转为 0）→ 按类别默认周转数 {_n(L.turnover[i])} 条/周，只限总量"
        )
    low = (
        f"下限 ⌊{_n(L.turnover[i])} × {_n(L.lower_f[i])}⌋ = {int(L.lower[i])} 条" if L.lower[i] >= 0 else "不设下限（政策关闭）"
    )
    out.append(
        f"  {low}；上限 ⌈{_n(L.turnover[i])} × {_n(L.upper_f[i])} × {_n(L.k[i], 4)}⌉ = {int(L.upper[i])} 条"
    )
    if L.history[i]:
        pairs = R.pairs()
        pair_r = R.pair_r()
        ps = [p for p in np.flatnonzero(pair_r == i) if L.p_quantity[p] > 0]
        ps.sort(key=lambda p: (-int(L.p_quantity[p]), R.sales.brand_ids[pairs.brand[p]]))
        main = [p for p in ps if L.p_main[p]]
        covered = sum(float(L.p_share[p]) for p in main)
        out.append(
            f"  主销品牌（覆盖 {_pct(pl.main_brand_share)} 订购量的最少品牌）：" +
            "、".join(f"{_brand(ctx, R.sales.brand_ids[pairs.brand[p]])} {_pct(L.p_share[p])}" for p in main) +
            f"，合计 {_pct(covered)}"
        )
        if not pl.brand_limits:
            out.append("  政策不按品牌限量：只限总量")
        else:
            for p in main:
                b = _brand(ctx, R.sales.brand_ids[pairs.brand[p]])
                lo = f"下限 {int(L.p_lower[p])}" if L.p_lower[p] >= 0 else "不设下限"
                out.append(
                    f"  {b}：{int(L.p_quantity[p])} 条 → 周转数 {_n(L.p_turnover[p])}，{lo}，上限 {int(L.p_upper[p])} 条"
                )
    return out


def _abnormal_part(ctx, mkey: str, retailer_id: str) -> list[str]:
    items = [
        it for it in ctx.shared.get("abnormal", [])
        if it["retailer"] == retailer_id and f"{it['date'].year:04d}-{it['date'].month:02d}" == mkey
    ]
    if not items:
        return [f"四、异常订单：{mkey} 没有"]
    out = [f"四、异常订单（{mkey}，{len(items)} 条）"]
    for it in sorted(items, key=lambda x: (x["date"], x["rule"], x.get("brand") or "")):
        message = it["message"]
        if it.get("brand"):  # the rule's message names the brand by id; the site shows its name
            message = message.replace(f"品牌 {it['brand']} ", f"品牌 {_brand(ctx, it['brand'])} ", 1)
        out.append(f"  {it['date']} {message}")
    return out
