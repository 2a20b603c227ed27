"""The weekly market analyses (周市场分析) and monthly work summaries (月工作总结)
on the site beyond the manager's page: valuable observations in the 市场信息
digest, and what awaits review on the dashboard (首页)."""

from __future__ import annotations

import datetime as dt

from conftest import ANALYSIS, SUMMARY


def _pages(mini, as_of: dt.date = dt.date(2026, 9, 30)) -> dict[str, str]:
    from crmdocs.plugins.pages import generate
    from crmdocs.plugins.privacy import Privacy
    from crmdocs.plugins.sitedata import SiteData

    repo, _ = mini.load()
    data = SiteData(repo=repo, computed=None, privacy=Privacy("public"), as_of=as_of)
    return {p.path: p.content for p in generate(data)}


def _drop_review(record: dict) -> None:
    del record["review"]


# ---------------------------------------------------------------- the market-information digest


def test_a_valuable_observation_appears_on_the_months_digest_with_a_link_to_the_analysis(mini):
    page = _pages(mini)["market/2026-09.md"]
    assert "超市新开卷烟专柜" in page  # observation 2, marked valuable
    assert "周市场分析" in page and "李明 周市场分析 2026-W36" in page
    assert '<a href="../../managers/cm-li/#week-2026-W36">李明 周市场分析 2026-W36</a>' in page
    assert "{ #w2026-36 }" in page  # under its week's heading, as the diaries' items


def test_an_observation_not_marked_valuable_stays_out(mini):
    page = _pages(mini)["market/2026-09.md"]
    assert "红塔山零售价稳定在 12 元" not in page  # observation 1: not in review.valuable
    assert "红塔山零售价稳定" in page  # the diary's valuable item is still there


def test_an_unreviewed_analysis_adds_nothing_to_the_digest(mini):
    mini.edit(ANALYSIS, _drop_review)
    assert mini.validate().diagnostics == []
    page = _pages(mini)["market/2026-09.md"]
    assert "超市新开卷烟专柜" not in page and "周市场分析" not in page
    assert "红塔山零售价稳定" in page  # the diary's item alone


def test_the_digest_index_counts_the_observations(mini):
    from crmdocs.plugins.pages import generate
    from crmdocs.plugins.privacy import Privacy
    from crmdocs.plugins.sitedata import SiteData, market_items

    repo, _ = mini.load()
    items = market_items(SiteData(repo=repo, computed=None, privacy=Privacy("public"), as_of=dt.date(2026, 9, 30)))
    assert [(mi.analysis, mi.n, mi.valuable, mi.month) for mi in items] == [
        (False, 1, True, "2026-09"), (True, 1, False, "2026-09"), (True, 2, True, "2026-09")]
    page = _pages(mini)["market/index.md"]
    assert "周市场分析" in page


# ---------------------------------------------------------------- what awaits review (首页)


def _pending(mini, as_of: dt.date = dt.date(2026, 9, 30)):
    from crmdocs.plugins.privacy import Privacy
    from crmdocs.plugins.sitedata import SiteData, pending_reviews

    repo, _ = mini.load()
    return pending_reviews(SiteData(repo=repo, computed=None, privacy=Privacy("public"), as_of=as_of))


def _reviews_row(page: str, dept_name: str) -> str:
    section = page[page.index("{ #reviews }"):]
    return section[section.index(dept_name):].split("</tr>")[0]


def test_an_unreviewed_ended_week_is_counted_on_the_dashboard(mini):
    mini.edit(ANALYSIS, _drop_review)
    pending = _pending(mini)
    assert (pending["d-east"].analyses, pending["d-west"].analyses) == (1, 0)
    page = _pages(mini)["index.md"]
    assert "未批阅分析与总结" in page and "周市场分析 1 篇" in page
    assert "<td>1</td>" in _reviews_row(page, "城东客户服务部")


def test_a_reviewed_analysis_is_not_counted(mini):
    assert _pending(mini)["d-east"].analyses == 0
    assert "周市场分析 0 篇" in _pages(mini)["index.md"]


def test_a_week_not_yet_ended_is_not_counted(mini):
    mini.edit(ANALYSIS, _drop_review)
    assert _pending(mini, as_of=dt.date(2026, 9, 6))["d-east"].analyses == 0  # W36 ends on Sunday 09-06
    assert _pending(mini, as_of=dt.date(2026, 9, 7))["d-east"].analyses == 1


def test_an_unreviewed_summary_counts_once_its_month_ended(mini):
    assert _pending(mini, as_of=dt.date(2026, 9, 30))["d-east"].summaries == 0
    assert _pending(mini, as_of=dt.date(2026, 10, 1))["d-east"].summaries == 1
    mini.edit(SUMMARY, lambda d: d.update(review={"reviewer": "mm-zhao", "at": "2026-10-08 09:00", "rating": 3}))
    assert _pending(mini, as_of=dt.date(2026, 10, 9))["d-east"].summaries == 0


def test_diaries_count_per_department_as_before(mini):
    pending = _pending(mini)
    assert pending["d-east"].diaries == 0  # the mini diary is reviewed
    mini.edit("diaries/cm-li/2026/2026-09-01.yaml", _drop_review)
    assert _pending(mini)["d-east"].diaries == 1
