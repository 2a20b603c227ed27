"""周市场分析 and 月工作总结 on a customer manager's page (seed 003: 每周写一篇
市场分析，每月写一篇工作总结), each with the market manager's review (批阅).

None of their fields is personal data (market observations, work done,
figures, the reviewer's comment): the public and the internal build show the
same. Every record text goes through ``_h``; cells are escaped HTML."""

from __future__ import annotations

from typing import Any

from crmdocs.schemas.daily import INFO_CATEGORY_ZH, week_bounds

from .render import Markup, _h, badge, block, heading, table
from .sitedata import SiteData


def by_manager(data: SiteData) -> tuple[dict[str, list[Any]], dict[str, list[Any]]]:
    """(analyses, summaries) per manager, newest first — grouped once per build."""
    done = getattr(data, "_periodic", None)
    if done is None:
        analyses: dict[str, list[Any]] = {}
        summaries: dict[str, list[Any]] = {}
        for (mid, _), rec in sorted(data.repo.analyses.items(), reverse=True):
            analyses.setdefault(mid, []).append(rec)
        for (mid, _), rec in sorted(data.repo.summaries.items(), reverse=True):
            summaries.setdefault(mid, []).append(rec)
        done = data._periodic = (analyses, summaries)
    return done


def review_html(data: SiteData, review: Any) -> str:
    """The review cell: stars, who and when, the comment; 未批阅 when none."""
    if review is None:
        return str(badge("未批阅", "warn"))
    stars = "★" * review.rating + "☆" * (5 - review.rating)
    out = (f'<span class="crm-stars" title="评分 {review.rating}/5">{stars}</span><br>'
           f'{_h(data.person_name(review.reviewer))} {review.at.strftime("%Y-%m-%d %H:%M")}')
    if review.comment:
        out += f"<br>{_h(review.comment)}"
    return out


def _labelled(items: list[tuple[str, str]]) -> str:
    return "<br>".join([f"<b>{label}</b> {_h(text)}" for label, text in items if text])


def analysis_row(data: SiteData, a: Any) -> tuple[str, ...]:
    monday, sunday = week_bounds(a.week)
    valuable = set(a.review.valuable) if a.review else set()
    observations = []
    for n, item in enumerate(a.observations, start=1):
        about = [data.shop(item.retailer)] if item.retailer else []
        if item.brand:
            about.append(data.brand_name(item.brand))
        note = f"（{_h('、'.join(about))}）" if about else ""
        mark = " " + str(badge("有价值", "good")) if n in valuable else ""
        observations.append(f"<b>{_h(INFO_CATEGORY_ZH.get(item.category, item.category.value))}</b> {_h(item.content)}{note}{mark}")
    return (
        f'<span id="week-{_h(a.week)}">{_h(a.week)}</span><br>{monday:%m-%d}–{sunday:%m-%d}',
        _h(a.market_situation),
        "<br>".join(observations),
        _labelled([("问题", a.problems), ("建议", a.suggestions)]),
        review_html(data, a.review),
    )


def _figure(f: Any) -> str:
    value = f"{f.value:.0f}" if float(f.value).is_integer() else f"{f.value:g}"
    return f"{_h(f.label)} {value}{_h(f.unit)}"


def summary_row(data: SiteData, s: Any) -> tuple[str, ...]:
    return (
        f'<span id="month-{_h(s.month)}">{_h(s.month)}</span>',
        _h(s.work_done),
        "<br>".join([_figure(f) for f in s.results]),
        _h(s.problems),
        _h(s.next_month),
        review_html(data, s.review),
    )


def manager_sections(data: SiteData, mid: str) -> list[Any]:
    """The two sections of a manager's page, newest first."""
    analyses, summaries = by_manager(data)
    mine_a, mine_s = analyses.get(mid, []), summaries.get(mid, [])
    out: list[Any] = [heading(2, "周市场分析", "analyses")]
    if mine_a:
        open_ = sum(1 for a in mine_a if a.review is None)
        out.append(block(Markup(f"<p>共 {len(mine_a)} 篇，未批阅 {open_} 篇。</p>")))
    out.append(block(table(["周", "市场形势", "市场观察", "问题与建议", "批阅"],
                           [analysis_row(data, a) for a in mine_a], escaped=True, cls="crm-analyses",
                           empty="还没有周市场分析。")))
    out.append(heading(2, "月工作总结", "summaries"))
    out.append(block(table(["月份", "完成的工作", "工作成效", "存在的问题", "下月计划", "批阅"],
                           [summary_row(data, s) for s in mine_s], escaped=True, cls="crm-summaries",
                           empty="还没有月工作总结。")))
    return out
