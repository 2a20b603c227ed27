"""客户经理: the ranking and one page per customer manager."""

from __future__ import annotations

from typing import Any, Optional

import numpy as np

from . import charts, downloads, pages_periodic
from .pages import Page
from .render import NOT_COMPUTED, Markup, badge, block, esc, fmt_num, fmt_pct, heading, kv, link, table
from .sitedata import (
    DIARIES,
    MANAGERS,
    SiteData,
    diary_month_page,
    manager_page,
    territory_page,
)

ACTION_ZH = {
    "promote": "建议晋级",
    "demote": "建议降级",
    "eliminate_review": "建议淘汰审查",
    "end_probation": "见习期满，建议转正",
    "none": "维持现等级",
}
ACTION_KIND = {"promote": "good", "end_probation": "good", "demote": "warn", "eliminate_review": "bad", "none": ""}
STATUS_ZH = {"late": "迟交", "missing": "缺交"}


def pages(data: SiteData) -> list[Page]:
    out = [ranking_page(data)]
    for i, person in enumerate(data.managers):
        out.append(manager_page_for(data, person, i))
    return out


def grade_badge(data: SiteData, rec: Any) -> Markup:
    if rec is None:
        return esc("—")
    text = ACTION_ZH.get(rec.action, rec.action)
    if rec.to:
        text += f"（→ {data.grade_name(rec.to)}）"
    return badge(text, ACTION_KIND.get(rec.action, ""))


def latest_grade(data: SiteData, mid: str) -> Any:
    quarters = [q for q in data.periods_of(mid, "quarter") if q.grade is not None]
    return quarters[-1].grade if quarters else None


def ranking_rows(data: SiteData, here: str) -> tuple[Optional[str], list[tuple[Any, Any]]]:
    """(month, [(person, ManagerPeriod)]) of the latest month with appraisals, best first."""
    month = None
    for person in data.managers:
        mp = data.latest_month(person.id)
        if mp is not None and mp.appraisal is not None and (month is None or mp.period > month):
            month = mp.period
    if month is None:
        return None, []
    rows = []
    for person in data.managers:
        mp = data.manager_periods.get(person.id, {}).get(month)
        if mp is not None and mp.appraisal is not None:
            rows.append((person, mp))
    rows.sort(key=lambda pm: (-pm[1].appraisal.total, pm[0].id))
    return month, rows


def ranking_page(data: SiteData) -> Page:
    here = MANAGERS
    body = [heading(1, "客户经理")]
    month, rows = ranking_rows(data, here)
    if month is None:
        body.append(block(Markup(f'<p class="crm-note">考核结果{NOT_COMPUTED}。</p>')))
    else:
        body.append(heading(2, f"考核排名（{month}）", "ranking"))
        if rows and not rows[0][1].appraisal.complete:
            body.append(block(Markup('<p class="crm-note">') + esc(f"{month} 尚未结束：得分截至 {rows[0][1].as_of.isoformat()}，月底前会变化。") + Markup("</p>")))
        table_rows = []
        for rank, (person, mp) in enumerate(rows, start=1):
            a = mp.appraisal
            table_rows.append([
                rank,
                # a leaver is still ranked for the months they worked: say so beside the name
                link(data.href(here, manager_page(person.id)), person.name if person.active else f"{person.name}（离岗）"),
                data.unit_name(person.unit),
                data.grade_name(person.grade),
                fmt_num(a.total, 1),
                fmt_pct(mp.visits.execution.ratio),
                fmt_pct(mp.visits.coverage.ratio if mp.visits.coverage else None),
                grade_badge(data, latest_grade(data, person.id)),
            ])
        body.append(block(table(["名次", "客户经理", "客户服务部", "等级", "考核得分", "计划执行率", "拜访覆盖率", "等级建议"], table_rows, search=True)))
        body.extend(downloads.links(data, here, "appraisals", "overdue-visits"))
        body.append(block(charts.bar_chart(
            [(p.name, mp.appraisal.total) for p, mp in rows],
            caption=f"{month} 考核得分", unit=" 分",
            hrefs=[data.href(here, manager_page(p.id)) for p, _ in rows],
        )))
    body.extend(_longer_periods(data, here))
    body.append(heading(2, "全部客户经理", "all"))
    all_rows = []
    for person in data.managers:
        all_rows.append([
            link(data.href(here, manager_page(person.id)), person.name),
            person.id,
            data.unit_name(person.unit),
            data.grade_name(person.grade),
            len(data.retailers_by_manager.get(person.id, [])),
            "在岗" if person.active else "离岗",
        ])
    body.append(block(table(["客户经理", "编号", "客户服务部", "等级", "辖区零售户", "状态"], all_rows, search=True,
                            filters=["text", "", "select", "select", "", "select"])))
    return Page(here, "客户经理", body, section="managers", order=0)


def _latest(data: SiteData, kind: str) -> Optional[str]:
    """The latest quarter or year anyone has an appraisal for."""
    found = [mp.period for person in data.managers for mp in data.periods_of(person.id, kind) if mp.appraisal is not None]
    return max(found) if found else None


def _longer_periods(data: SiteData, here: str) -> list[Any]:
    """The latest quarter's and year's totals side by side, ranked by the quarter: leaders appraise
    quarters and years (the grade rules read quarters), and the ranking above is the month's."""
    quarter, year = _latest(data, "quarter"), _latest(data, "year")
    if quarter is None:
        return []
    title = f"季度和全年考核（{quarter}" + (f"、{year}）" if year else "）")
    out: list[Any] = [heading(2, title, "quarter")]
    rows = []
    for person in data.managers:
        q = data.manager_periods.get(person.id, {}).get(quarter)
        y = data.manager_periods.get(person.id, {}).get(year) if year else None
        if (q is None or q.appraisal is None) and (y is None or y.appraisal is None):
            continue
        rows.append((person, q if q is not None and q.appraisal is not None else None,
                     y if y is not None and y.appraisal is not None else None))
    rows.sort(key=lambda r: (r[1] is None, -(r[1].appraisal.total if r[1] else 0), r[0].id))
    open_ = [mp for _, q, y in rows for mp in (q, y) if mp is not None and not mp.appraisal.complete]
    if open_:
        out.append(block(Markup('<p class="crm-note">') + esc(
            f"尚未结束的期间按已有记录计算，得分截至 {open_[0].as_of.isoformat()}；季度、全年把各月的完成数和目标数加起来再算比率，"
            "不是各月得分的平均。") + Markup("</p>")))
    table_rows = []
    for rank, (person, q, y) in enumerate(rows, start=1):
        name = person.name if person.active else f"{person.name}（离岗）"
        table_rows.append([
            rank if q is not None else "—",
            link(data.href(here, manager_page(person.id)), name),
            data.unit_name(person.unit),
            fmt_num(q.appraisal.total, 1) if q is not None else "—",
            fmt_num(y.appraisal.total, 1) if y is not None else "—",
            grade_badge(data, q.grade if q is not None else None),
        ])
    headers = ["名次", "客户经理", "客户服务部", f"{quarter} 得分"] + ([f"{year} 得分"] if year else []) + ["等级建议（依据已结束的季度）"]
    if not year:
        table_rows = [r[:4] + r[5:] for r in table_rows]
    out.append(block(table(headers, table_rows)))
    return out


def _indicator_table(a: Any) -> Markup:
    rows = []
    for ind in a.indicators:
        actual = "—" if ind.actual is None else f"{fmt_num(ind.actual, 1 if ind.actual % 1 else 0)}{ind.unit}"
        target = "—" if ind.target is None else f"{fmt_num(ind.target, 1 if ind.target % 1 else 0)}{ind.unit}"
        points = "未考核" if ind.points is None else f"{ind.points:.1f} / {ind.max_points:g}"
        rows.append([ind.label, actual, target, fmt_pct(ind.ratio, 1), points, ind.note])
    rows.append(["投诉超期扣分", a.overdue_complaints, "", "", f"−{a.deduction:g}", ""])
    rows.append([Markup("<strong>合计</strong>"), "", "", "", Markup(f"<strong>{a.total:.1f}</strong>"),
                 "" if a.complete else "本期未结束（截至当日）"])
    return table(["指标", "完成", "目标", "完成率", "得分 / 满分", "说明"], rows)


def _deadline_cells(d: Any) -> list[Any]:
    return [d.expected, d.on_time, d.late, d.missing, d.unknown, d.not_yet_due, fmt_pct(d.ratio)]


def manager_page_for(data: SiteData, person: Any, order: int) -> Page:
    mid = person.id
    here = manager_page(mid)
    body = [heading(1, f"{person.name}（客户经理）")]
    info = [
        ["编号", mid],
        ["客户服务部", data.unit_name(person.unit)],
        ["等级", data.grade_name(person.grade)],
        ["定级日期", person.grade_since.isoformat() if person.grade_since else "—"],
        ["入职日期", person.hire_date.isoformat() if person.hire_date else "—"],
        ["状态", "在岗" if person.active else "离岗"],
    ]
    for past in person.unit_history:
        info.append(["调动", f"{past.until.isoformat()} 前在 {data.unit_name(past.unit)}"])
    for change in data.grade_changes(mid):  # from git history, newest first
        was = f"{data.grade_name(change.old)} → " if change.old else "定为 "
        info.append(["等级变动", f"{change.commit.time:%Y-%m-%d}：{was}{data.grade_name(change.new)}"
                                  f"（{data.author_name(change.commit)} 提交 {change.commit.short}）"])
    body.append(block(kv(info)))

    # grade recommendation
    body.append(heading(2, "等级建议", "grade"))
    rec = latest_grade(data, mid)
    if rec is None:
        body.append(block(Markup(f'<p class="crm-note">等级建议{NOT_COMPUTED if not data.manager_periods.get(mid) else "：尚无完整季度"}。</p>')))
    else:
        parts = [Markup("<p>"), grade_badge(data, rec), Markup("</p>")]
        if rec.rule:
            parts.append(Markup(f"<p>依据：{esc(rec.rule)}</p>"))
        if rec.evidence:
            parts.append(Markup("<ul>") + Markup("").join(Markup(f"<li>{esc(e)}</li>") for e in rec.evidence) + Markup("</ul>"))
        parts.append(Markup('<p class="crm-note">系统只提出建议；等级以提交到人员档案的变更为准。</p>'))
        body.append(block(Markup('<div class="crm-box">') + Markup("").join(parts) + Markup("</div>")))

    # appraisal history
    body.append(heading(2, "考核", "appraisal"))
    months = [mp for mp in data.periods_of(mid, "month") if mp.appraisal is not None]
    if not months:
        body.append(block(Markup(f'<p class="crm-note">考核结果{NOT_COMPUTED}。</p>')))
    else:
        labels = [mp.period for mp in months]
        series = [("考核得分", [mp.appraisal.total for mp in months])]
        body.append(block(charts.line_chart(labels, series, caption=f"{person.name} 月度考核得分", unit=" 分", y_min=0, y_max=100)))
        keys = [ind.label for ind in months[-1].appraisal.indicators]
        hist_rows = []
        for mp in [*months, *[q for q in data.periods_of(mid, "quarter") if q.appraisal], *[y for y in data.periods_of(mid, "year") if y.appraisal]]:
            pts = {ind.label: ind.points for ind in mp.appraisal.indicators}
            hist_rows.append([mp.period] + [("—" if pts.get(k) is None else f"{pts[k]:.1f}") for k in keys]
                             + [f"−{mp.appraisal.deduction:g}" if mp.appraisal.deduction else "0", f"{mp.appraisal.total:.1f}"])
        body.append(block(table(["期间", *keys, "扣分", "总分"], hist_rows)))
        last = months[-1]
        body.append(heading(3, f"{last.period} 指标明细", "appraisal-detail"))
        body.append(block(_indicator_table(last.appraisal)))

    # visits: execution, coverage, deadlines
    body.append(heading(2, "计划执行与拜访", "visits"))
    mp = data.latest_month(mid)
    if mp is None:
        body.append(block(Markup(f'<p class="crm-note">拜访统计{NOT_COMPUTED}。</p>')))
    else:
        v = mp.visits
        rows = [
            ["统计期间", f"{mp.period}（截至 {mp.as_of.isoformat()}）"],
            ["工作日", v.working_days],
            ["计划执行率", f"{fmt_pct(v.execution.ratio, 1)}（计划 {v.execution.planned} 户次，完成 {v.execution.done}）"],
            ["拜访周期覆盖率", fmt_pct(v.coverage.ratio, 1) + (f"（辖区 {v.coverage.territory} 户，按期拜访 {v.coverage.covered}）" if v.coverage else "") if v.coverage else "—"],
            ["请假/培训天数", v.absent_days],
        ]
        body.append(block(table(["项目", "数值"], rows, search=True)))
        dl_rows = [["拜访计划", *_deadline_cells(v.plans)], ["日记", *_deadline_cells(v.diaries)], ["批阅", *_deadline_cells(v.reviews)]]
        body.append(block(table(["", "应交", "按时", "迟交", "缺交", "时间未知", "未到期", "按时率"], dl_rows)))
        late = [(kind, it) for kind, d in (("计划", v.plans), ("日记", v.diaries)) for it in d.items]
        if late:
            body.append(heading(3, "迟交和缺交", "late"))
            body.append(block(table(
                ["类别", "日期", "截止", "状态", "提交时间", "迟交（小时）"],
                [[k, it.date.isoformat(), it.due.strftime("%Y-%m-%d %H:%M"), STATUS_ZH.get(it.status, it.status),
                  it.handed_in.strftime("%Y-%m-%d %H:%M") if it.handed_in else "—",
                  "—" if it.hours_late is None else f"{it.hours_late:.1f}"] for k, it in late],
            )))
        if v.coverage is not None:
            body.append(heading(3, f"超期未拜访（{len(v.coverage.overdue)} 户）", "overdue"))
            body.append(block(table(
                ["零售户", "类别", "拜访周期（天）", "上次拜访", "超期天数"],
                [[link(data.retailer_href(here, o.retailer), o.shop or data.shop(o.retailer)), data.class_name(o.retailer_class),
                  o.cycle_days, o.last_visit.isoformat() if o.last_visit else "无记录", o.days_overdue] for o in v.coverage.overdue],
                empty="没有超期未拜访的零售户。",
            )))

    # territory
    body.append(heading(2, "辖区", "territory"))
    mine = data.retailers_by_manager.get(mid, [])
    by_dept: dict[str, int] = {}
    for r in mine:
        by_dept[r.management.department] = by_dept.get(r.management.department, 0) + 1
    if not mine:
        body.append(block(Markup('<p class="crm-empty">没有负责的零售户。</p>')))
    else:
        links_html = Markup("、").join(
            link(data.href(here, territory_page(d, mid)), f"{data.unit_name(d)}：{n} 户") for d, n in sorted(by_dept.items())
        )
        body.append(block(Markup(f"<p>负责零售户 {len(mine)} 户（{links_html}）。</p>")))
    chart = _monthly_sales_chart(data, mid, person.name)
    if chart is not None:
        body.append(block(chart))

    # diaries by month
    body.append(heading(2, "日记", "diaries"))
    rows = []
    for month, diaries in sorted(data.diaries_by_manager.get(mid, {}).items(), reverse=True):
        reviewed = [d for d in diaries if d.review]
        avg = sum(d.review.rating for d in reviewed) / len(reviewed) if reviewed else None
        rows.append([
            link(data.href(here, diary_month_page(mid, month)), month),
            len(diaries), len(reviewed), len(diaries) - len(reviewed),
            "—" if avg is None else f"{avg:.1f}",
        ])
    body.append(block(table(["月份", "日记", "已批阅", "未批阅", "平均评分"], rows, empty="还没有日记。")))
    body.extend(pages_periodic.manager_sections(data, mid))  # 周市场分析, 月工作总结
    return Page(here, person.name, body, section="managers", order=order + 1)


def _monthly_sales_chart(data: SiteData, mid: str, name: str) -> Optional[Markup]:
    table_ = _manager_months(data)
    if table_ is None or mid not in table_[0]:
        return None
    ids, labels, totals = table_
    row = totals[ids.index(mid)]
    if not row.any():
        return None
    return charts.line_chart(labels, [("销量（条）", [float(t) for t in row])], caption=f"{name} 辖区月销量（条）", unit=" 条", y_min=0)


def _manager_months(data: SiteData):
    """(manager ids, month labels, quantity per manager and month) — one pass
    over the sales rows for all managers (12 million rows in a city year)."""
    if hasattr(data, "_manager_months"):
        return data._manager_months
    from crmdocs.scripts import sales as S

    result = None
    sd = data.repo.sales
    try:
        if len(sd):
            codes, ids = S.managers(sd, data.repo.retailers)
            months = S.row_months(sd)
            m0, m1 = int(months.min()), int(months.max())
            width = m1 - m0 + 1
            ok = codes >= 0
            flat = codes[ok].astype(np.int64) * width + (months[ok] - m0)
            totals = np.bincount(flat, weights=sd.quantity[ok].astype(float), minlength=len(ids) * width).reshape(len(ids), width)
            result = (list(ids), [S.month_key(m) for m in range(m0, m1 + 1)], totals)
    except Exception:  # the sales helpers are young; a chart is not worth a failed build
        result = None
    data._manager_months = result
    return result
