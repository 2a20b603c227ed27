"""首页: the dashboard leaders open first. Every figure links to the page
behind it."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any, Optional

from . import charts, results
from .pages import Page
from .pages_managers import ranking_rows
from .render import NOT_COMPUTED, Markup, block, esc, fmt_num, fmt_pct, heading, link, table
from .sitedata import (
    ABNORMAL,
    COMPLAINTS,
    DIARIES,
    INDEX,
    MANAGERS,
    MARKET,
    RETAILERS,
    RULES,
    TIERS,
    SiteData,
    department_page,
    manager_page,
    market_items,
    pending_reviews,
)


def _card(title: str, value: str, note: Any, href: Optional[str]) -> Markup:
    inner = Markup(
        f'<span class="crm-card-title">{esc(title)}</span><span class="crm-card-value">{esc(value)}</span>'
        f'<span class="crm-card-note">{esc(note)}</span>'
    )
    if href:
        return Markup(f'<a class="crm-kpi" href="{esc(href)}">') + inner + Markup("</a>")
    return Markup('<div class="crm-kpi">') + inner + Markup("</div>")


def _sum_deadlines(data: SiteData, month: Optional[str], attr: str) -> tuple[int, int, int]:
    """(on time, due, of them with an unknown hand-in time) of plans or diaries
    over all managers for the month. An unknown time is never late: counted on
    time, as the appraisal and the managers' pages count it (Deadlines.ratio)."""
    on_time = due = unknown = 0
    if month is None:
        return 0, 0, 0
    for person in data.managers:
        mp = data.manager_periods.get(person.id, {}).get(month)
        if mp is None:
            continue
        d = getattr(mp.visits, attr)
        due += d.expected - d.not_yet_due
        on_time += d.expected - d.not_yet_due - d.late - d.missing
        unknown += d.unknown
    return on_time, due, unknown


def _unknown_note(unknown: int, unit: str) -> str:
    return f"（其中 {unknown} {unit}提交时间未知，不算迟交）" if unknown else ""


def pages(data: SiteData) -> list[Page]:
    here = INDEX
    h = lambda page, anchor=None: data.href(here, page, anchor)  # noqa: E731
    month = data.this_month()
    body = [heading(1, "客户经理制度报告")]
    stamp = [f"数据截至 {data.as_of.isoformat()}" if data.as_of else "尚无数据"]
    if data.commit:
        stamp.append(f"版本 {data.commit.short}（{data.commit.date}）")
    stamp.append("公开版（个人信息已隐藏）" if data.privacy.public else "内部版（含个人信息，请勿外传）")
    body.append(block(Markup('<p class="crm-stamp">') + esc(" · ".join(stamp)) + Markup("</p>")))

    # KPI cards
    cards = []
    n_ret = len(data.repo.retailers)
    active = sum(1 for r in data.repo.retailers.values() if r.status.value == "active")
    cards.append(_card("零售户", fmt_num(n_ret), f"正常经营 {active} 户", h(RETAILERS)))
    cards.append(_card("客户经理", fmt_num(len(data.managers)), f"{len(data.departments)} 个客户服务部", h(MANAGERS)))
    if data.rules_ran and data.manager_periods:
        pt, pd, pu = _sum_deadlines(data, month, "plans")
        dt_, dd, du = _sum_deadlines(data, month, "diaries")
        cards.append(_card(f"计划按时（{month}）", fmt_pct(pt / pd if pd else None), f"{pt} / {pd} 份{_unknown_note(pu, '份')}", h(DIARIES)))
        cards.append(_card(f"日记按时（{month}）", fmt_pct(dt_ / dd if dd else None), f"{dt_} / {dd} 篇{_unknown_note(du, '篇')}", h(DIARIES)))
        cov = [data.manager_periods[p.id][month].visits.coverage for p in data.managers
               if month in data.manager_periods.get(p.id, {}) and data.manager_periods[p.id][month].visits.coverage]
        terr = sum(c.territory for c in cov)
        covered = sum(c.covered for c in cov)
        cards.append(_card("拜访覆盖率", fmt_pct(covered / terr if terr else None), f"按期拜访 {covered} / {terr} 户", h(MANAGERS, "ranking")))
    else:
        cards.append(_card("计划与日记按时", NOT_COMPUTED, "", h(DIARIES)))
    pending = pending_reviews(data)
    unreviewed = sum(p.diaries for p in pending.values())
    cards.append(_card("未批阅日记", fmt_num(unreviewed), f"共 {len(data.repo.diaries)} 篇", h(DIARIES, "unreviewed")))
    n_a, n_s = sum(p.analyses for p in pending.values()), sum(p.summaries for p in pending.values())
    cards.append(_card("未批阅分析与总结", fmt_num(n_a + n_s), f"周市场分析 {n_a} 篇 · 月工作总结 {n_s} 篇", h(INDEX, "reviews")))
    if data.complaint_status:
        overdue = sum(1 for s in data.complaint_status.values() if s.state == "open_overdue")
        open_ = sum(1 for s in data.complaint_status.values() if s.state in ("open", "open_overdue"))
        cards.append(_card("超期未办结投诉", fmt_num(overdue), f"未办结共 {open_} 件", h(COMPLAINTS, "overdue")))
    else:
        open_ = sum(1 for c in data.repo.complaints.values() if c.resolved is None)
        cards.append(_card("处理中投诉", fmt_num(open_), f"超期{NOT_COMPUTED}", h(COMPLAINTS)))
    idx = results.index(data)
    if idx.abnormal_months and data.as_of:
        y, w, _ = data.as_of.isocalendar()
        week = f"{y}-W{w:02d}"
        # a week can straddle two months' files
        n = sum(len(f.weeks.get(week, [])) for m in idx.abnormal_months[-2:] for f in idx.abnormal[m].values())
        cards.append(_card("本周异常订单", fmt_num(n), week, h(f"abnormal/{week}.md") if n else h(ABNORMAL)))
    else:
        cards.append(_card("异常订单", NOT_COMPUTED, "", h(ABNORMAL)))
    valuable = sum(1 for mi in market_items(data) if mi.valuable and mi.month == month)
    cards.append(_card(f"有价值市场信息（{month or '—'}）", fmt_num(valuable), "条", h(MARKET)))
    body.append(block(Markup('<div class="crm-kpis">') + Markup("").join(cards) + Markup("</div>")))

    # what awaits the market managers' review, per department
    body.append(heading(2, "待批阅", "reviews"))
    body.append(block(Markup('<p class="crm-note">') + esc(
        "各客户服务部尚未批阅的日记，以及所在周（月）已结束、尚未批阅的周市场分析和月工作总结。") + Markup("</p>")))
    body.append(block(table(
        ["客户服务部", "日记", "周市场分析", "月工作总结"],
        [[link(h(department_page(d.id)), d.name), pending[d.id].diaries, pending[d.id].analyses, pending[d.id].summaries]
         for d in data.departments if d.id in pending],
        empty="没有客户服务部。",
    )))

    # retailers by class, tier and department
    body.append(heading(2, "零售户分布", "retailers"))
    charts_html = []
    dist = results.class_distribution(data)
    if dist:
        charts_html.append(charts.bar_chart(dist, caption="按类别（最新一期）", unit=" 户", hrefs=[h(RETAILERS)] * len(dist)))
    else:
        charts_html.append(Markup(f'<p class="crm-note">零售户分类{NOT_COMPUTED}。</p>'))
    tiers = results.tier_distribution(data)
    if tiers:
        charts_html.append(charts.bar_chart(tiers, caption="按档位（本期公示）", unit=" 户", hrefs=[h(TIERS)] * len(tiers)))
    by_dept = Counter(r.management.department for r in data.repo.retailers.values())
    charts_html.append(charts.bar_chart(
        [(d.name, by_dept.get(d.id, 0)) for d in data.departments], caption="按客户服务部", unit=" 户",
        hrefs=[h(department_page(d.id)) for d in data.departments],
    ))
    body.append(block(Markup('<div class="crm-grid">') + Markup("").join(charts_html) + Markup("</div>")))

    # appraisal ranking
    body.append(heading(2, "考核排名", "ranking"))
    rank_month, rows = ranking_rows(data, here)
    if rank_month is None:
        body.append(block(Markup(f'<p class="crm-note">考核结果{NOT_COMPUTED}。</p>')))
    else:
        body.append(block(table(
            ["名次", "客户经理", "客户服务部", f"{rank_month} 得分"],
            [[i, link(h(manager_page(p.id)), p.name), data.unit_name(p.unit), f"{mp.appraisal.total:.1f}"] for i, (p, mp) in enumerate(rows[:10], 1)],
        )))
        body.append(block(Markup("<p>") + link(h(MANAGERS, "ranking"), "查看全部排名") + Markup("</p>")))

    # monthly sales
    chart = _sales_chart(data)
    if chart is not None:
        body.append(heading(2, "月销量", "sales"))
        body.append(block(chart))
    body.append(block(Markup('<p class="crm-note">') + esc("规则见") + link(h(RULES), "制度与规则")
                      + esc("；数字如何得来，见各页面的说明。") + Markup("</p>")))
    return [Page(here, "首页", body, section="", hide=("navigation", "toc"), order=0)]


def _sales_chart(data: SiteData) -> Optional[Markup]:
    import numpy as np

    from crmdocs.scripts import sales as S

    sd = data.repo.sales
    try:
        if not len(sd):
            return None
        months = S.row_months(sd)
    except Exception:  # the sales helpers are young; a chart is not worth a failed build
        return None
    m0, m1 = int(months.min()), int(months.max())
    qty = np.bincount(months - m0, weights=sd.quantity.astype(float), minlength=m1 - m0 + 1)
    amount = np.bincount(months - m0, weights=sd.amount, minlength=m1 - m0 + 1)
    labels = [S.month_key(m) for m in range(m0, m1 + 1)]
    return Markup('<div class="crm-grid">') + charts.line_chart(
        labels, [("销量（条）", [float(q) for q in qty])], caption="全部零售户月销量（条）", unit=" 条", y_min=0
    ) + charts.line_chart(
        labels, [("金额（万元）", [round(float(a) / 10000, 1) for a in amount])], caption="月销售额（万元）", unit=" 万元", y_min=0
    ) + Markup("</div>")
