"""客户投诉, 异常订单 and 档位公示."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter, defaultdict
from typing import Any

from crmdocs.schemas.computed_managers import COMPLAINT_STATE_ZH
from crmdocs.schemas.service import SEVERITY_ZH, Severity
from crmdocs.scripts.spreadsheet_export import without_gloss

from . import charts, downloads, results
from .pages import Page
from .render import NOT_COMPUTED, Markup, badge, block, esc, fmt_num, heading, link, table
from .sitedata import ABNORMAL, COMPLAINTS, TIERS, SiteData, manager_page

STATE_ZH = COMPLAINT_STATE_ZH
STATE_KIND = {"on_time": "good", "overdue": "warn", "open": "", "open_overdue": "bad"}


def pages(data: SiteData) -> list[Page]:
    return [complaints_page(data), *abnormal_pages(data), *tiers_pages(data)]


def complaint_state(data: SiteData, c: Any) -> Markup:
    st = data.complaint_status.get(c.id)
    if st is None:
        return esc("已办结" if c.resolved else "处理中")
    text = STATE_ZH.get(st.state, st.state)
    if st.overdue and st.days_overdue:
        text += f" {st.days_overdue} 天"
    return badge(text, STATE_KIND.get(st.state, ""))


def complaints_page(data: SiteData) -> Page:
    here = COMPLAINTS
    body = [heading(1, "客户投诉")]
    wd = data.policy.complaints.working_days
    rule = "；".join(f"{SEVERITY_ZH.get(k, k)} {v} 个工作日" for k, v in wd.items())
    needs = "、".join(SEVERITY_ZH.get(k, k) for k in data.policy.complaints.needs_approver)
    fallback = SEVERITY_ZH.get(data.policy.complaints.fallback, data.policy.complaints.fallback)
    body.append(block(Markup("<p>处理时限：") + esc(f"{rule}。{needs}投诉延期须有批准人，否则按{fallback}投诉计时。") + Markup("</p>")))
    if not data.complaint_status and data.repo.complaints:
        body.append(block(Markup(f'<p class="crm-note">处理时限与超期{NOT_COMPUTED}。</p>')))
    body.extend(downloads.links(data, here, "complaints"))
    groups = {"open_overdue": [], "open": [], "closed": []}
    for cid in sorted(data.repo.complaints, key=lambda i: (data.repo.complaints[i].received, i), reverse=True):
        c = data.repo.complaints[cid]
        st = data.complaint_status.get(cid)
        state = st.state if st else ("on_time" if c.resolved else "open")
        key = state if state in ("open_overdue", "open") else "closed"
        groups[key].append((c, st))

    def rows(items):
        out = []
        for c, st in items:
            out.append([
                c.id, c.received.strftime("%Y-%m-%d %H:%M"),
                link(data.retailer_href(here, c.retailer), data.shop(c.retailer)),
                SEVERITY_ZH.get(c.severity, c.severity.value), c.content,
                link(data.manager_href(here, c.handler), data.person_name(c.handler)),
                st.due.isoformat() if st else "—",
                c.resolved.strftime("%Y-%m-%d %H:%M") if c.resolved else "—",
                complaint_state(data, c), c.result,
            ])
        return out

    headers = ["编号", "受理时间", "零售户", "性质", "内容", "处理人", "应办结", "办结时间", "状态", "结果"]
    body.append(heading(2, f"超期未办结（{len(groups['open_overdue'])}）", "overdue"))
    body.append(block(table(headers, rows(groups["open_overdue"]), empty="没有超期未办结的投诉。", search=True)))
    body.append(heading(2, f"处理中（{len(groups['open'])}）", "open"))
    body.append(block(table(headers, rows(groups["open"]), empty="没有处理中的投诉。", search=True)))
    handlers: dict[str, list[int]] = {}
    for month in sorted(data.complaint_months):
        for h_ in data.complaint_months[month].handlers:
            row = handlers.setdefault(h_.handler, [0, 0, 0, 0])
            for i, n in enumerate((h_.total, h_.resolved, h_.open, h_.overdue)):
                row[i] += n
    if handlers:
        body.append(heading(2, "按处理人", "handlers"))
        body.append(block(table(["处理人", "投诉", "已办结", "未办结", "超期"], [
            [link(data.manager_href(here, hid), data.person_name(hid)), *counts]
            for hid, counts in sorted(handlers.items(), key=lambda kv: (-kv[1][3], kv[0]))
        ], search=True)))
    body.append(heading(2, f"已办结（{len(groups['closed'])}）", "closed"))
    body.append(block(table(headers, rows(groups["closed"]), empty="没有已办结的投诉。",
                            filters=["text", "", "text", "select", "text", "select", "", "", "select", ""])))
    return Page(here, "客户投诉", body, section="complaints", order=0)


def abnormal_pages(data: SiteData) -> list[Page]:
    """An index (weeks × rules, per manager this week) and one page per ISO
    week with every order: a city flags thousands a month, one page would be
    tens of MB."""
    here = ABNORMAL
    idx = results.index(data)
    body = [heading(1, "异常订单")]
    ab = data.policy.abnormal
    rules = []
    if ab.outside_limits.enabled:
        rules.append("订购量超出上下限")
    if ab.spike.enabled:
        rules.append(f"单次订购超过前 {ab.spike.cycles} 个订货周期平均的 {ab.spike.ratio * 100:g}%（{ab.spike.min_quantity:g} 条以下的订单和不足 {ab.spike.min_history} 个周期的零售户除外）")
    if ab.month_jump.enabled:
        rules.append(f"月订购量超过上月的 {ab.month_jump.ratio * 100:g}%")
    body.append(block(Markup("<p>检查规则：") + esc("；".join(rules) or "全部关闭") + Markup("。异常订单推送给负责的客户经理核实。</p>")))
    if not data.rules_ran or not idx.abnormal_months:
        body.append(block(Markup(f'<p class="crm-note">异常订单{NOT_COMPUTED}。</p>')))
        return [Page(here, "异常订单", body, section="abnormal", order=0)]
    body.extend(downloads.links(data, here, "abnormal"))
    by_week: dict[str, list[tuple[str, Any]]] = defaultdict(list)
    for month in idx.abnormal_months:
        for mid, f in idx.abnormal[month].items():
            for week, orders in f.weeks.items():
                by_week[week] += [(mid, o) for o in orders]
    weeks = sorted(by_week, reverse=True)
    body.append(block(charts.bar_chart([(w, len(by_week[w])) for w in weeks[:12]][::-1], caption="最近 12 周异常订单数", unit=" 笔",
                                       hrefs=[data.href(here, abnormal_week_page(w)) for w in weeks[:12]][::-1])))
    rule_keys = list(results.RULE_ZH)
    body.append(heading(2, "按周", "weeks"))
    rule_counts = {w: Counter(o.rule for _, o in by_week[w]) for w in weeks}
    body.append(block(table(["周", "合计", *[results.RULE_ZH[k] for k in rule_keys]], [
        [link(data.href(here, abnormal_week_page(w)), w), len(by_week[w])] + [rule_counts[w].get(k, 0) for k in rule_keys]
        for w in weeks
    ])))
    latest = weeks[0]
    body.append(heading(2, f"{latest} 各客户经理", f"w-{latest}"))
    per = defaultdict(int)
    for mid, _ in by_week[latest]:
        per[mid] += 1
    body.append(block(table(["客户经理", "异常订单"], [
        [link(data.href(here, abnormal_week_page(latest), f"m-{mid}"), data.person_name(mid)), n] for mid, n in sorted(per.items(), key=lambda kv: -kv[1])
    ])))
    out = [Page(here, "异常订单", body, section="abnormal", order=0)]
    for i, week in enumerate(weeks):
        out.append(abnormal_week(data, week, by_week[week], i))
    return out


def abnormal_week_page(week: str) -> str:
    return f"abnormal/{week}.md"


def abnormal_week(data: SiteData, week: str, orders: list[tuple[str, Any]], order: int) -> Page:
    here = abnormal_week_page(week)
    body = [heading(1, f"异常订单 {week}（{len(orders)} 笔）")]
    by_manager: dict[str, list[Any]] = defaultdict(list)
    for mid, o in orders:
        by_manager[mid].append(o)
    for mid in sorted(by_manager):
        items = sorted(by_manager[mid], key=lambda o: (o.date, o.retailer, o.rule, o.brand or ""))
        body.append(heading(2, f"{data.person_name(mid)}（{len(items)} 笔）", f"m-{mid}"))
        rows, before = [], None
        for o in items:
            name = o.name or data.shop(o.retailer)
            # the link once per retailer and day: its other orders of the day follow it
            shop = name if (o.date, o.retailer) == before else link(data.retailer_href(here, o.retailer), name)
            before = (o.date, o.retailer)
            rows.append([o.date.isoformat(), shop, RULE_ZH_get(o.rule), data.brand_name(o.brand) if o.brand else "合计",
                         fmt_num(o.quantity), "—" if o.limit is None else o.limit, _explain(o)])
        # compact: the page is not searched (search=False below)
        body.append(block(table(["日期", "零售户", "规则", "品牌", "订购量（条）", "限量", "说明"], rows,
                                filters=["select", "text", "select", "select", "", "", ""], compact=True)))
    # tables of numbers: nothing a reader searches for, and the biggest pages of a city
    return Page(here, f"异常订单 {week}", body, section="abnormal", in_nav=False, search=False, order=order + 1)


_LAST_BRACKET = re.compile(r"（([^（）]*)）$")


def _explain(o: Any) -> str:
    """The 说明 cell: for a limit the way it was computed (the quantity and the
    limit have their own columns), else the rule's message; no English gloss."""
    message = without_gloss(o.message)  # the same on every row of a week's tens of thousands
    if o.rule in ("above_upper", "below_lower") and o.limit is not None:
        m = _LAST_BRACKET.search(message)
        if m:
            return m.group(1)
    return message


def RULE_ZH_get(rule: str) -> str:
    return results.RULE_ZH.get(rule, rule)


def tiers_pages(data: SiteData) -> list[Page]:
    here = TIERS
    idx = results.index(data)
    t = data.policy.tiers
    body = [heading(1, "档位公示")]
    w = t.weights
    body.append(block(Markup(
        f"<p>货源档位共 {t.count} 档（{t.count} 档最高），每{'月' if t.period == 'month' else '季度'}按上期订购量、订购额和经营能力"
        f"（权重 {w.quantity:g} / {w.amount:g} / {w.capability:g}）{'按名次' if t.mode == 'ranking' else '按分数段'}评定，公布后本期不变；"
        "人工调整须有审核记录和原因。</p>"
    )))
    if not data.rules_ran or not idx.tier_periods:
        body.append(block(Markup(f'<p class="crm-note">档位{NOT_COMPUTED}。</p>')))
        return [Page(here, "档位公示", body, section="tiers", order=0)]
    body.extend(downloads.links(data, here, "tiers"))
    period = idx.tier_periods[-1]
    body.append(block(Markup(f"<p>本期：<strong>{esc(period)}</strong>。往期：{esc('、'.join(idx.tier_periods[:-1][::-1]) or '无')}。</p>")))
    dist = results.tier_distribution(data)
    if dist:
        body.append(block(charts.bar_chart(dist, caption=f"{period} 档位分布", unit=" 户")))
    rows = []
    out: list[Page] = []
    for i, dept in enumerate(data.departments):
        f = idx.tiers[period].get(dept.id)
        if f is None:
            continue
        overrides = sum(1 for d in f.retailers.values() if d.override is not None)
        rows.append([link(data.href(here, tiers_dept_page(dept.id)), dept.name), len(f.retailers), overrides])
        out.append(tiers_department(data, dept, period, f, i))
    body.append(block(table(["客户服务部", "零售户", "人工调整"], rows, search=True)))
    return [Page(here, "档位公示", body, section="tiers", order=0), *out]


def tiers_dept_page(dept: str) -> str:
    return f"tiers/{dept}.md"


def tiers_department(data: SiteData, dept: Any, period: str, f: Any, order: int) -> Page:
    """One department's tier list: a page each, so a city's 20,000 rows are
    25 readable pages, not one of several MB."""
    here = tiers_dept_page(dept.id)
    idx = results.index(data)
    title = f"{dept.name} 档位公示 {period}"
    body = [heading(1, title)]
    prev_period = idx.tier_periods[-2] if len(idx.tier_periods) > 1 else None
    prev = idx.tiers[prev_period].get(dept.id) if prev_period else None
    intro = (f"共 {len(f.retailers)} 户；订购期 {f.window.start.isoformat()} 至 {f.window.end.isoformat()}"
             f"{('；与 ' + prev_period + ' 相比') if prev_period else ''}。")
    body.append(block(Markup("<p>") + esc(intro) + Markup("</p>")))
    rows = []
    for rid, d in sorted(f.retailers.items(), key=lambda kv: (-kv[1].tier, kv[0])):
        before = prev.retailers[rid].tier if prev and rid in prev.retailers else None
        change = "新" if before is None else ("—" if before == d.tier else f"{'+' if d.tier > before else ''}{d.tier - before}")
        note = results.BASIS_ZH.get(d.basis, d.basis) + (f"；人工调整（{d.override.reason}）" if d.override else "")
        rows.append([link(data.retailer_href(here, rid), d.name or data.shop(rid)), rid, d.tier, change, fmt_num(d.score, 2), note])
    body.append(block(table(["零售户", "编号", "档位", "较上期", "得分", "说明"], rows,
                            filters=["text", "text", "select", "select", "", "select"], compact=True)))
    # the table is left out of search: search gets heading and intro directly
    # (no parsing), so the table can be compact
    return Page(here, f"{dept.name} 档位", body, section="tiers", order=order + 1,
                search_entries=[("", title, intro)])
