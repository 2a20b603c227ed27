"""日记与批阅 and 市场信息: diaries grouped by manager and month, the
reviewer's comment and rating on each (unreviewed ones stand out), and the
digest of market information the reviewers marked valuable."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any, Optional

from crmdocs.schemas.daily import ABSENCE_ZH, INFO_CATEGORY_ZH, PURPOSE_ZH, InfoCategory

from . import charts
from .pages import Page
from .render import Markup, _h, badge, block, esc, heading, link, table
from .sitedata import (DIARIES, MARKET, MarketItem, SiteData, diary_index_page, diary_month_page, manager_page, market_items,
                       market_month_page, month_of)

WEEKDAY = "一二三四五六日"
from crmdocs.schemas.daily import DISPLAY_ZH, PRICE_TAGS_ZH  # noqa: E402 - one copy of the words


def pages(data: SiteData) -> list[Page]:
    out = [index_page(data)]
    for person in data.managers:
        months = sorted(data.diaries_by_manager.get(person.id, {}).items())
        if months:
            out.append(manager_index(data, person))
        for month, diaries in months:
            out.append(month_page(data, person, month, diaries))
    out += market_pages(data)
    return out


def day_label(day: dt.date) -> str:
    return f"{day.isoformat()}（周{WEEKDAY[day.weekday()]}）"


def index_page(data: SiteData) -> Page:
    here = DIARIES
    body = [heading(1, "日记与批阅")]
    body.append(block(Markup(
        "<p>客户经理每个工作日提交拜访计划和日记，市场经理批阅（写意见、评分、标记有价值的市场信息）。"
        "<strong>未批阅</strong>的日记在各月页面中以橙色标出。</p>"
    )))
    rows = []
    unreviewed: list[Any] = []
    for person in data.managers:
        for month, diaries in sorted(data.diaries_by_manager.get(person.id, {}).items(), reverse=True):
            reviewed = [d for d in diaries if d.review]
            unreviewed += [d for d in diaries if not d.review]
            avg = sum(d.review.rating for d in reviewed) / len(reviewed) if reviewed else None
            rows.append([
                link(data.href(here, manager_page(person.id)), person.name),
                data.unit_name(person.unit),
                link(data.href(here, diary_month_page(person.id, month)), month),
                len(diaries), len(reviewed),
                Markup(badge(len(diaries) - len(reviewed), "warn")) if len(diaries) > len(reviewed) else 0,
                "—" if avg is None else f"{avg:.1f}",
            ])
    body.append(heading(2, "按客户经理和月份", "by-month"))
    body.append(block(table(["客户经理", "客户服务部", "月份", "日记", "已批阅", "未批阅", "平均评分"], rows,
                            filters=["select", "select", "select", "", "", "", ""], empty="还没有日记。")))
    body.append(heading(2, f"未批阅的日记（{len(unreviewed)} 篇）", "unreviewed"))
    unreviewed.sort(key=lambda d: (d.date, d.manager))
    body.append(block(table(
        ["日期", "客户经理", "拜访户数"],
        [[link(data.diary_href(here, d.manager, d.date), day_label(d.date)), data.person_name(d.manager), len(d.visits)]
         for d in unreviewed[-300:]],
        empty="全部日记都已批阅。",
    )))
    if len(unreviewed) > 300:
        body.append(block(Markup(f'<p class="crm-note">只列出最近 300 篇；其余见各月页面。</p>')))
    return Page(here, "日记与批阅", body, section="diaries", order=0)


FINDINGS_HEADER = "检查"
# said once a page, not in every diary's table head
LEGEND = "表中「目的」空着为例行拜访，「检查」空着为标价齐全、陈列好。"


_FINDINGS: dict[tuple, str] = {}  # (price tags, display, suspected) → the 检查 cell
_PURPOSES: dict[Any, str] = {}  # purpose → the 目的 cell ("" for routine)


def _findings(v: Any) -> str:
    """Short: a city writes 500,000 visits a year, every byte counts 500,000 times.
    Only what needs attention: 标价齐全 and 陈列好 are the empty cell
    (``LEGEND``); not checked shows as 未查. Constant words only: safe HTML."""
    f = v.findings
    key = (f.price_tags, f.display, f.suspected_illegal)
    out = _FINDINGS.get(key)
    if out is None:
        out = _FINDINGS[key] = _findings_text(f)
    return out


def _findings_text(f: Any) -> str:
    parts = []
    if f.price_tags is None:
        parts.append("标价未查")
    elif f.price_tags.value != "ok":
        parts.append(f"标价{PRICE_TAGS_ZH.get(f.price_tags.value, f.price_tags.value)}")
    if f.display is None:
        parts.append("陈列未查")
    elif f.display.value != "good":
        parts.append(f"陈列{DISPLAY_ZH.get(f.display.value, f.display.value)}")
    if f.suspected_illegal:
        parts.append("疑似假烟私烟")
    return "·".join(parts)


_NOTE_LABELS = ("品牌反馈", "意见建议", "帮助", "跟进")


def _text_rows(items: list[tuple[str, str]]) -> str:
    """Labelled notes, compact: ``<b>label</b>text`` joined by ``<br>`` (escaped HTML)."""
    return "<br>".join([f"<b>{label}</b> {_h(text)}" for label, text in items if text])


def _a(href: Optional[str], text: str) -> str:
    """A link as escaped HTML (``href`` from :class:`Links`, never from a record)."""
    return f'<a href="{_h(href)}">{_h(text)}</a>' if href else _h(text)


def diary_html(data: SiteData, here: str, diary: Any, mode: str, shops: Optional[dict] = None,
               jump: Optional[tuple[str, str]] = None) -> Markup:
    """One diary. ``mode`` (plugin option search_diaries) says what search
    indexes: full = everything; summary = the review and the market
    information items — what reviewers distil upward — (the visit table and the
    analyses left out: they are most of the text, ~1 KB a diary, 25 MB of
    index for a city's year); headings / none = nothing.

    Built as plain strings, every record text through ``_h`` (a city renders
    25,000 diaries and 600,000 visit rows: Markup arithmetic was half the time).
    ``shops``: the page's retailer cells by id (a manager visits the same
    shops all month), filled as they are made. ``jump``: (long, short) link
    prefixes of the manager's own shops (``SiteData.jump``)."""
    review = diary.review
    shops = {} if shops is None else shops
    cls = "crm-diary" + ("" if review else " crm-unreviewed")
    # the exclusions matter only when search parses the page (mode full);
    # otherwise the page gives search its entries directly
    exclude = ' data-search-exclude="1"' if mode == "full" else ""
    parts: list[str] = []
    if review is None:
        parts.append('<p class="crm-review crm-review-missing">' + str(badge("未批阅", "warn")) + "</p>")
    else:
        stars = "★" * review.rating + "☆" * (5 - review.rating)
        comment = f"<p>{_h(review.comment)}</p>" if review.comment else ""
        # <header> (never nested) keeps who/when/stars out of the search index; the comment stays in
        parts.append(
            f'<div class="crm-review"><header{exclude}><p><b>批阅</b> {_h(data.person_name(review.reviewer))} '
            f'{review.at.strftime("%Y-%m-%d %H:%M")} <span class="crm-stars" title="评分 {review.rating}/5">{stars}</span></p></header>'
            f"{comment}</div>"
        )
    if diary.absence is not None:
        parts.append(f"<p>当天未拜访：{_h(ABSENCE_ZH.get(diary.absence, diary.absence.value))}</p>")
    if diary.visits:
        rows = []
        compact = mode != "full"  # compact table (see render.table): search does not parse the page
        for v in diary.visits:  # cells as escaped HTML (table(escaped=True))
            shop = shops.get(v.retailer)
            if shop is None:
                href = data.retailer_href(here, v.retailer)
                if jump is not None and href is not None and href.startswith(jump[0] + "#"):
                    href = jump[1] + href[len(jump[0]):]  # ../#r-04896, see SiteData.jump
                shop = shops[v.retailer] = _a(href, data.shop(v.retailer))
            purpose = _PURPOSES.get(v.purpose)
            if purpose is None:
                purpose = _PURPOSES[v.purpose] = "" if v.purpose.value == "routine" else _h(PURPOSE_ZH.get(v.purpose, v.purpose.value))
            f = v.findings
            key = (f.price_tags, f.display, f.suspected_illegal)
            found = _FINDINGS.get(key)
            if found is None:
                found = _FINDINGS[key] = _findings_text(f)
            notes = (v.brand_feedback, v.opinions, v.help_given, v.follow_up)
            row = [
                v.time.isoformat("minutes"),
                shop,
                purpose,
                found,
                _h("、".join([data.brand_name(b) for b in f.stock_outs])) if f.stock_outs else "",
                _text_rows(list(zip(_NOTE_LABELS, notes))) if any(notes) else "",
            ]
            if compact:  # no trailing empty cells (~1.2 a row): the CSS draws the row's line and highlight
                while not row[-1]:
                    row.pop()
            rows.append(row)
        # compact (no optional end tags) unless search parses the page (full)
        parts.append(table(["时间", "零售户", "目的", FINDINGS_HEADER, "断货", "记录"], rows, escaped=True,
                           search=(mode == "full"), cls="crm-visits", compact=compact,
                           wrap=False, nowrap=(0, 1, 2)))  # scrolls itself (CSS): 25,000 wrappers fewer in a city
    analyses = "".join([f"<p><b>{label}：</b>{_h(text)}</p>" for label, text in
                        (("经营分析", diary.business_analysis), ("市场分析", diary.market_analysis)) if text])
    if analyses and mode == "summary":
        # <aside>: never nested; keeps the long analyses out of the index
        analyses = f"<aside{exclude}>" + analyses + "</aside>"
    parts.append(analyses)
    if diary.market_info:
        valuable = set(review.valuable) if review else set()
        items = []
        for n, item in enumerate(diary.market_info, start=1):
            mark = " " + str(badge("有价值", "good")) if n in valuable else ""
            about = []
            if item.retailer:
                about.append(data.shop(item.retailer))
            if item.brand:
                about.append(data.brand_name(item.brand))
            note = f' <span class="crm-note">（{_h("、".join(about))}）</span>' if about else ""
            items.append(f"<li>{badge(INFO_CATEGORY_ZH.get(item.category, item.category.value))} {_h(item.content)}{note}{mark}</li>")
        parts.append('<p class="crm-label">市场信息</p><ol class="crm-info">' + "".join(items) + "</ol>")
    exclude = "" if mode in ("full", "summary") else ' data-search-exclude="1"'
    # <article>: never nested, so Material's search parser (which compares
    # elements by tag name) leaves exactly this element out
    return Markup(f'<article class="{cls}"{exclude}>' + "".join(parts) + "</article>")


def month_page(data: SiteData, person: Any, month: str, diaries: list[Any]) -> Page:
    here = diary_month_page(person.id, month)
    mode = data.search_diaries
    body = [heading(1, f"{person.name} 的日记 {month}")]
    reviewed = sum(1 for d in diaries if d.review)
    jump = data.jump(here, person.id)
    # where jump.js finds the prefixes to turn back (said once a page)
    attrs_ = f' data-jump-from="{_h(jump[1])}#" data-jump-to="{_h(jump[0])}#"' if jump else ""
    body.append(block(Markup(
        f"<p{attrs_}>{link(data.href(here, manager_page(person.id)), person.name)}（{esc(data.unit_name(person.unit))}）"
        f"本月日记 {len(diaries)} 篇，已批阅 {reviewed} 篇，"
        f"未批阅 {len(diaries) - reviewed} 篇。{LEGEND}</p>"
    )))
    months = sorted(data.diaries_by_manager.get(person.id, {}))
    at = months.index(month)
    nav = []
    if at > 0:
        nav.append(link(data.href(here, diary_month_page(person.id, months[at - 1])), f"← {months[at - 1]}"))
    nav.append(link(data.href(here, diary_index_page(person.id)), "各月"))  # the manager's diary index
    if at + 1 < len(months):
        nav.append(link(data.href(here, diary_month_page(person.id, months[at + 1])), f"{months[at + 1]} →"))
    if nav:
        body.append(block(Markup('<p class="crm-note">') + Markup(" · ").join(nav) + Markup("</p>")))
    entries = [("", f"{person.name} 的日记 {month}", f"{person.name}（{data.unit_name(person.unit)}）本月日记 {len(diaries)} 篇。")]
    late_reviews = data.late_reviews(person.id)
    shops: dict[str, str] = {}
    for diary in diaries:
        late = late_reviews.get(diary.date)
        title = day_label(diary.date) + ("" if diary.review else " 未批阅") + (" 批阅超时" if late is not None and diary.review else "")
        body.append(heading(2, title, f"d-{diary.date.isoformat()}"))
        body.append(block(diary_html(data, here, diary, mode, shops, jump)))
        entries.append((f"d-{diary.date.isoformat()}", title, search_text(diary, mode)))
    return Page(here, f"{person.name} {month}", body, section="diaries", in_nav=False, search=(mode != "none"),
                search_entries=None if mode == "full" else entries)


def manager_index(data: SiteData, person: Any) -> Page:
    """``diaries/<mid>/``: a manager's months, and the shops of the territory
    under their ids. The month pages link their visits' shops here
    (``../#r-04896``); jump.js sends such a link on to the archive (and
    turns them into direct links when a month page loads). Without
    JavaScript the shop's entry here is one more click."""
    here = diary_index_page(person.id)
    body = [heading(1, f"{person.name} 的日记")]
    body.append(block(Markup(
        f"<p>{link(data.href(here, manager_page(person.id)), person.name)}（{esc(data.unit_name(person.unit))}）"
        "各月的日记与批阅，以及辖区零售户（点店名查看经营档案）。</p>"
    )))
    rows = []
    for month, diaries in sorted(data.diaries_by_manager.get(person.id, {}).items(), reverse=True):
        reviewed = sum(1 for d in diaries if d.review)
        rows.append([link(data.href(here, diary_month_page(person.id, month)), month), len(diaries), reviewed,
                     Markup(badge(len(diaries) - reviewed, "warn")) if len(diaries) > reviewed else 0])
    body.append(heading(2, "各月日记", "months"))
    body.append(block(table(["月份", "日记", "已批阅", "未批阅"], rows, compact=True)))
    own = data.own_territory(person.id)
    if own is not None:
        page, retailers = own
        body.append(heading(2, f"辖区零售户（{len(retailers)} 户）", "shops"))
        items = "".join([f'<li id="{_h(r.id)}"><a href="{_h(data.href(here, page, r.id))}">{_h(r.basic.shop_name)}</a>'
                         for r in retailers])
        body.append(block(Markup(f'<ul class="crm-jump">{items}</ul>')))
    return Page(here, f"{person.name} 的日记", body, section="diaries", in_nav=False, search=False)


def search_text(diary: Any, mode: str) -> str:
    """What search indexes of a diary in ``summary`` mode: the reviewer's
    comment and the market information items; nothing in ``headings`` mode."""
    if mode != "summary":
        return ""
    parts = [diary.review.comment] if diary.review and diary.review.comment else []
    parts += [f"{INFO_CATEGORY_ZH.get(i.category, i.category.value)}：{i.content}" for i in diary.market_info]
    return " ".join(parts)


# ---------------------------------------------------------------- market information


def market_pages(data: SiteData) -> list[Page]:
    by_month: dict[str, list[MarketItem]] = defaultdict(list)
    counts: dict[str, int] = defaultdict(int)
    for mi in market_items(data):
        counts[mi.month] += 1
        if mi.valuable:
            by_month[mi.month].append(mi)
    here = MARKET
    body = [heading(1, "市场信息")]
    body.append(block(Markup(
        "<p>市场经理批阅日记和周市场分析时标记为<strong>有价值</strong>的市场信息，按周和类别汇总，供上报和决策参考。"
        "周市场分析的市场观察计入其所在周（周四所在的月份）。</p>"
    )))
    rows = []
    for month in sorted(set(counts) | set(by_month), reverse=True):
        cats = defaultdict(int)
        for mi in by_month.get(month, []):
            cats[mi.item.category] += 1
        rows.append([link(data.href(here, market_month_page(month)), month), counts[month], len(by_month.get(month, []))]
                    + [cats.get(c, 0) for c in InfoCategory])
    body.append(block(table(["月份", "全部信息", "有价值", *[INFO_CATEGORY_ZH[c] for c in InfoCategory]], rows, empty="还没有市场信息。")))
    total = defaultdict(int)
    for items in by_month.values():
        for mi in items:
            total[mi.item.category] += 1
    if total:
        body.append(block(charts.bar_chart([(INFO_CATEGORY_ZH[c], total.get(c, 0)) for c in InfoCategory], caption="有价值的市场信息（按类别）", unit=" 条")))
    out = [Page(here, "市场信息", body, section="market", order=0)]
    for i, month in enumerate(sorted(by_month, reverse=True)):
        out.append(market_month(data, month, by_month[month], i))
    return out


def _source_link(data: SiteData, here: str, mi: MarketItem) -> Markup:
    """Where an item comes from: the diary, or the manager's weekly analysis."""
    name = data.person_name(mi.manager)
    if not mi.analysis:
        return link(data.diary_href(here, mi.manager, mi.day), name + " " + mi.day.isoformat())
    href = data.manager_href(here, mi.manager)
    if href is not None:
        href = data.href(here, manager_page(mi.manager), f"week-{mi.week}")
    return link(href, f"{name} 周市场分析 {mi.week}")


def market_month(data: SiteData, month: str, items: list[MarketItem], order: int) -> Page:
    here = market_month_page(month)
    body = [heading(1, f"市场信息 {month}")]
    entries = [("", f"市场信息 {month}", "")]
    by_week: dict[tuple[int, int], list[MarketItem]] = defaultdict(list)
    for mi in items:
        y, w, _ = mi.day.isocalendar()
        by_week[(y, w)].append(mi)
    for (y, w), week_items in sorted(by_week.items(), reverse=True):
        monday = dt.date.fromisocalendar(y, w, 1)
        body.append(heading(2, f"第 {w} 周（{monday.isoformat()} 起）", f"w{y}-{w:02d}"))
        texts = []
        for cat in InfoCategory:
            chosen = [mi for mi in week_items if mi.item.category == cat]
            if not chosen:
                continue
            lis = Markup("")
            texts.append(INFO_CATEGORY_ZH[cat] + "：" + " ".join(mi.item.content for mi in chosen))
            for mi in chosen:
                item = mi.item
                about = []
                if item.retailer:
                    about.append(link(data.retailer_href(here, item.retailer), data.shop(item.retailer)))
                if item.brand:
                    about.append(esc(data.brand_name(item.brand)))
                label = str(badge("周市场分析")) + " " if mi.analysis else ""
                lis += Markup(
                    f"<li>{label}{esc(item.content)} <span class=\"crm-note\">"
                    f"（{_source_link(data, here, mi)}"
                    f"{'，' + Markup('、').join(about) if about else ''}）</span></li>"
                )
            body.append(block(Markup(f"<p><strong>{esc(INFO_CATEGORY_ZH[cat])}</strong></p><ul>") + lis + Markup("</ul>")))
        entries.append((f"w{y}-{w:02d}", f"第 {w} 周（{monday.isoformat()} 起）", " ".join(texts)))
    # search gets the items directly (parsing a city's month: ~200 KB a page)
    return Page(here, f"市场信息 {month}", body, section="market", order=order + 1, search_entries=entries)
