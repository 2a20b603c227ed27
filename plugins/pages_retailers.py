"""零售户: an overview, a filterable table per department, and the archives of
each manager's territory on one page (an anchor per retailer).

A page per retailer would mean 20,000 pages in a city (~160 s of MkDocs
alone); a page per territory keeps the build linear and each page readable.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Optional

import numpy as np

from crmdocs.schemas.daily import PURPOSE_ZH
from crmdocs.schemas.retailer import FORMAT_ZH, LOCATION_ZH, NETWORK_ZH, STATUS_ZH

from . import charts, results
from .pages import Page
from .render import NOT_COMPUTED, Markup, _h, badge, block, esc, fmt_num, heading, kv, label, link, table
from .sitedata import RETAILERS, SiteData, department_page, diary_month_page, manager_page, month_of, territory_page

VIOLATION_ZH = {"illegal_cigarettes": "假烟私烟", "cross_region": "跨区域经营", "price": "价格违规", "licence": "证照违规", "other": "其他"}
ORDER_DAY = "一二三四五六日"
VISITS_SHOWN = 5


def pages(data: SiteData) -> list[Page]:
    sales = _SalesIndex(data)
    out = [index_page(data)]
    for i, dept in enumerate(data.departments):
        out.append(department(data, dept, i))
        by_manager: dict[str, list[Any]] = {}
        for r in data.retailers_by_dept.get(dept.id, []):
            by_manager.setdefault(r.management.manager, []).append(r)
        for mid, retailers in sorted(by_manager.items()):
            out.append(territory(data, dept, mid, retailers, sales))
    return out


def index_page(data: SiteData) -> Page:
    here = RETAILERS
    body = [heading(1, "零售户")]
    total = len(data.repo.retailers)
    body.append(block(Markup(
        f"<p>共 {total} 户。按客户服务部查看，表格可按类别、档位、业态、客户经理筛选；"
        "每户的经营档案在其客户经理的辖区页面上。</p>"
    )))
    rows, items, hrefs = [], [], []
    for dept in data.departments:
        retailers = data.retailers_by_dept.get(dept.id, [])
        status = Counter(r.status.value for r in retailers)
        managers = {r.management.manager for r in retailers}
        rows.append([link(data.href(here, department_page(dept.id)), dept.name), len(retailers), len(managers),
                     status.get("active", 0), status.get("suspended", 0), status.get("closed", 0)])
        items.append((dept.name, len(retailers)))
        hrefs.append(data.href(here, department_page(dept.id)))
    body.append(block(table(["客户服务部", "零售户", "客户经理", "正常", "暂停", "歇业"], rows, search=True)))
    body.append(block(charts.bar_chart(items, caption="各客户服务部零售户数", unit=" 户", hrefs=hrefs)))
    fmt = Counter(FORMAT_ZH[r.basic.format] for r in data.repo.retailers.values())
    body.append(block(charts.bar_chart(sorted(fmt.items(), key=lambda kv: -kv[1]), caption="按业态", unit=" 户")))
    dist = results.class_distribution(data)
    if dist:
        body.append(block(charts.bar_chart(dist, caption="按类别（最新一期）", unit=" 户")))
    return Page(here, "零售户", body, section="retailers", order=0)


def department(data: SiteData, dept: Any, order: int) -> Page:
    here = department_page(dept.id)
    retailers = data.retailers_by_dept.get(dept.id, [])
    body = [heading(1, f"{dept.name} 零售户")]
    intro = f"共 {len(retailers)} 户。在表头下方的输入框和下拉框中筛选；点店名查看经营档案。"
    body.append(block(Markup("<p>") + esc(intro) + Markup("</p>")))
    dist = results.class_distribution(data, dept.id)
    if dist:
        body.append(block(charts.bar_chart(dist, caption=f"{dept.name} 按类别（最新一期）", unit=" 户")))
    rows, attrs_ = [], []
    for r in retailers:
        cls = results.class_of(data, r.id)
        tier = results.tier_of(data, r.id)
        rows.append([
            r.id,
            link(data.href(here, territory_page(dept.id, r.management.manager), r.id), r.basic.shop_name),
            data.person_name(r.management.manager),
            data.class_name(cls) if cls else "—",
            tier if tier is not None else "—",
            FORMAT_ZH[r.basic.format],
            NETWORK_ZH[r.basic.network],
            r.basic.district,
            STATUS_ZH[r.status],
        ])
    body.append(block(table(
        ["编号", "店名", "客户经理", "类别", "档位", "业态", "城网/农网", "乡镇/街道", "状态"], rows,
        filters=["text", "text", "select", "select", "select", "select", "select", "select", "select"],
        empty="这个客户服务部还没有零售户。", compact=True,  # search gets this page's entries directly
    )))
    # the table is left out of search: give search the heading and intro
    # directly instead of having it parse the page (a city's: 190 KB each)
    return Page(here, dept.name, body, section="retailers", order=order + 1,
                search_entries=[("", f"{dept.name} 零售户", intro)])


class _SalesIndex:
    """Monthly quantity and amount per retailer, from the sales data (once)."""

    def __init__(self, data: SiteData):
        from crmdocs.scripts import sales as S

        self.months: list[str] = []
        self.quantity = self.amount = None
        self.code: dict[str, int] = {}
        sd = data.repo.sales
        try:
            if not len(sd):
                return
            q, m0 = S.monthly(sd, "quantity")
            a, _ = S.monthly(sd, "amount")
        except Exception:  # the sales helpers are young; a table is not worth a failed build
            return
        self.quantity, self.amount = q, a
        self.months = [S.month_key(m0 + i) for i in range(q.shape[1])]
        self.code = {rid: i for i, rid in enumerate(sd.retailer_ids)}

    def rows(self, rid: str) -> list[list[Any]]:
        i = self.code.get(rid)
        if i is None or self.quantity is None:
            return []
        return [[m, fmt_num(float(self.quantity[i, k])), fmt_num(float(self.amount[i, k]))]
                for k, m in enumerate(self.months) if self.quantity[i, k] or self.amount[i, k]]


def territory(data: SiteData, dept: Any, mid: str, retailers: list[Any], sales: _SalesIndex) -> Page:
    here = territory_page(dept.id, mid)
    name = data.person_name(mid)
    body = [heading(1, f"{name} 辖区零售户（{dept.name}）")]
    mlink = data.manager_href(here, mid)
    body.append(block(Markup(
        f"<p>客户经理 {link(mlink, name)}，共 {len(retailers)} 户。"
        f"{link(data.href(here, department_page(dept.id)), '返回' + dept.name + '零售户表')}</p>"
    )))
    if not data._history()["retailers"]:
        # said once here, not under each of the page's hundreds of archives
        body.append(block(Markup('<p class="crm-note">没有 git 历史（或尚未提交）：各户的修改记录提交后显示。</p>')))
    if data.privacy.hides_all:
        # said once here: a public city build said it under each of 20,000 archives (4 MB)
        from .privacy import LABELS

        body.append(block(Markup(f'<p class="crm-note">公开版：各户的个人信息（{"、".join(LABELS)}）已隐藏。</p>')))
    entries = [("", f"{name} 辖区零售户（{dept.name}）", f"客户经理 {name}，共 {len(retailers)} 户。")]
    for r in retailers:
        body.append(heading(2, f"{r.basic.shop_name}（{r.id}）", r.id))
        body.append(block(retailer_html(data, here, r, sales)))
        entries.append((r.id, f"{r.basic.shop_name}（{r.id}）", summary_text(r)))
    return Page(here, f"{name} 辖区", body, section="retailers", in_nav=False, search_entries=entries)


def summary_text(r: Any) -> str:
    """What search knows of a retailer besides its name: format, district, address."""
    return f"{FORMAT_ZH[r.basic.format]} · {r.basic.district} · {r.basic.address}"


def _personal_rows(data: SiteData, r: Any) -> list[tuple[str, str]]:
    """The personal group; the masked fields on one row (``负责人、联系电话…
    （已隐藏）``): a public city build says it 20,000 times."""
    from .privacy import MASK

    rows = data.privacy.rows(r)
    masked = [label for label, value in rows if value == MASK]
    if len(masked) < 2:
        return rows
    return [(label, value) for label, value in rows if value != MASK] + [("、".join(masked), MASK)]


def _kv(rows: list[tuple[str, Any]], title: str) -> Markup:
    return kv(rows, title, compact=True)  # territory pages give search their entries directly


def _a(href: Optional[str], text: str) -> str:
    """A link as escaped HTML (what render.link gives, without Markup objects)."""
    return f'<a href="{_h(href)}">{_h(text)}</a>' if href else _h(text)


def retailer_html(data: SiteData, here: str, r: Any, sales: _SalesIndex) -> Markup:
    """One retailer's archive. Only the one-line summary (format, district,
    address) goes into the search index with the heading (shop name, id):
    at city scale the tables would make the index too big to download."""
    b, m = r.basic, r.management
    status = STATUS_ZH[r.status] + (f"（{r.status_reason}）" if r.status_reason else "")
    summary = Markup(
        f'<p class="crm-summary">{esc(summary_text(r))}'
        f'{" · " + str(badge(status, "warn")) if r.status.value != "active" else ""}</p>'
    )
    basic = _kv([
        ("许可证号", b.licence_no), ("有效期至", b.licence_expiry.isoformat()),
        ("城网/农网", NETWORK_ZH[b.network]), ("业态", FORMAT_ZH[b.format]),
        ("经营面积", f"{b.floor_area:g} 平方米"), ("经营范围", b.business_scope or "—"),
        ("商圈", LOCATION_ZH[b.location]), ("开业日期", b.opened.isoformat() if b.opened else "—"), ("状态", status),
    ], "基本信息")
    # nothing but masked fields: the territory page says it once (hides_all)
    personal = Markup("") if data.privacy.hides_all else _kv(_personal_rows(data, r), "个人信息")
    violations = "；".join(
        f"{v.date.isoformat()} {VIOLATION_ZH.get(v.kind.value, v.kind.value)}{'' if v.confirmed else '（未查实）'}{(' ' + v.note) if v.note else ''}"
        for v in m.violations
    ) or "无"
    late = "；".join(f"{p.date.isoformat()}{(' ' + p.note) if p.note else ''}" for p in m.late_payments) or "无"
    history = "；".join(f"{p.until.isoformat()} 前由 {data.person_name(p.manager)} 负责" for p in m.manager_history)
    adj = r.sales.adjustment
    adjustment = (f"{adj.coefficient:g}（{adj.reason}；批准人 {data.person_name(adj.approver)}；{adj.since.isoformat()} 起）"
                  if adj else f"{data.policy.limits.coefficient.default:g}（默认）")
    # the manager: the territory page's title and first line (not each archive's)
    rows = []
    if history:
        rows.append(("以前的客户经理", history))
    rows += [
        ("订货日", f"周{ORDER_DAY[m.order_day - 1]}"), ("明码标价", "是" if m.price_tags else "否"),
        ("违规记录", violations), ("迟付记录", late), ("上下限调整系数", adjustment),
        ("客户代表", ("是（条件 " + "、".join(c.value for c in r.evaluation.representative_criteria) + "）") if r.evaluation.representative else "否"),
        ("形象店", "是" if r.evaluation.image_store else "否"), ("店面形象等级", r.image.level),
    ]
    management = _kv(rows, "管理与评价")
    parts = [Markup('<div class="crm-cards">'), basic, personal, management, Markup("</div>")]
    parts.append(results.retailer_results_html(data, here, r.id, compact=True))
    # visits
    visits = data.visits_by_retailer.get(r.id, [])
    shown = visits[-VISITS_SHOWN:][::-1]
    parts.append(Markup(label(f'拜访记录（共 {len(visits)} 次{"，最近 " + str(VISITS_SHOWN) + " 次" if len(visits) > VISITS_SHOWN else ""}）', True)))
    if shown:
        # the visitor's name only when it is not the retailer's own manager; no
        # </li> (optional in HTML5; search does not parse territory pages)
        lis = Markup("".join([
            "<li>" + _a(data.diary_href(here, v.manager, v.day), v.day.isoformat())
            + _h(("" if v.manager == m.manager else f" {data.person_name(v.manager)}")
                 + f" {PURPOSE_ZH.get(v.visit.purpose, v.visit.purpose.value)}"
                 + (f"：{v.visit.opinions or v.visit.follow_up}" if (v.visit.opinions or v.visit.follow_up) else ""))
            for v in shown
        ]))
        parts.append(Markup('<ul class="crm-compact">') + lis + Markup("</ul>"))
    else:
        parts.append(Markup('<p class="crm-empty">没有拜访记录。</p>'))
    # complaints
    complaints = data.complaints_by_retailer.get(r.id, [])
    if complaints:
        from .pages_service import complaint_state

        parts.append(Markup(label("投诉", True)))
        parts.append(table(["编号", "受理时间", "内容", "处理状态"], [
            [c.id, c.received.strftime("%Y-%m-%d %H:%M"), c.content, complaint_state(data, c)] for c in complaints
        ], compact=True, wrap=False))
    surveys = data.surveys_by_retailer.get(r.id, [])
    if surveys:
        sc = data.policy.survey_scores
        parts.append(Markup(label("走访报告单", True)))
        parts.append(table(["期间", "日期", "产品质量", "服务", "品牌知名度", "意见"], [
            [s.period, s.date.isoformat(), f"{s.quality}（{sc.quality.get(s.quality, 0):g}）", f"{s.service}（{sc.service.get(s.service, 0):g}）",
             f"{s.brand_awareness}（{sc.brand_awareness.get(s.brand_awareness, 0):g}）", s.opinions] for s in surveys
        ], compact=True, wrap=False))
    sales_rows = sales.rows(r.id)
    parts.append(Markup(label("月销量（条 / 元）", True)))
    if sales_rows:
        parts.append(Markup('<p class="crm-compact">') + esc("；".join(f"{m_} {q} / {a}" for m_, q, a in sales_rows)) + Markup("</p>"))
    else:
        parts.append(Markup('<p class="crm-empty">没有销售记录（新户或暂停）。</p>'))
    parts.append(_changes_html(data, r.id))
    # <section>: the one excluded wrapper tag, never nested (see render.table)
    # every part is Markup (safe HTML): joined as plain strings, no re-escaping
    return Markup("".join(['<div class="crm-retailer">', summary, '<section data-search-exclude="1">',
                           *parts, "</section></div>"]))


GROUP_ZH = {"basic": "基本信息", "personal": "个人信息", "management": "管理信息", "sales": "销售信息",
            "evaluation": "评价信息", "image": "形象信息", "status": "状态", "status_reason": "状态原因"}
CHANGES_SHOWN = 5


def _changes_html(data: SiteData, rid: str) -> Markup:
    """Who changed the archive, when, in which commit, which fields (git history)."""
    from crmdocs.scripts.history import top_fields

    if not data._history()["retailers"]:
        return Markup("")  # no history at all: the territory page says it once
    changes = data.archive_changes(rid)
    if not changes:
        return Markup(label("修改记录", True) + '<p class="crm-empty">没有 git 历史（或尚未提交）。</p>')
    status = {"added": "建档", "deleted": "删除", "moved": "转部门"}
    rows = []
    for c in changes[:CHANGES_SHOWN]:
        fields = "、".join(f"{GROUP_ZH.get(f.split('.')[0], f.split('.')[0])} {f.split('.', 1)[1]}" if "." in f
                          else GROUP_ZH.get(f, f) for f in top_fields(c.fields)) if c.fields else "—"
        rows.append([c.commit.time.strftime("%Y-%m-%d %H:%M"), data.author_name(c.commit), c.commit.short,
                     status.get(c.status, "修改"), fields])
    more = f"，最近 {CHANGES_SHOWN} 次" if len(changes) > CHANGES_SHOWN else ""
    return (Markup(label(f"修改记录（共 {len(changes)} 次{more}）", True))
            + table(["时间", "修改人", "提交", "操作", "改动的字段"], rows, compact=True, wrap=False))

