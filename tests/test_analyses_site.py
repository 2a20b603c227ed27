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
    mini.edit(ANALYSIS, lambda d: d.pop("review"))
    page = _pages(mini)["market/2026-09.md"]
    assert "超市新开卷烟专柜" not in page and "周市场分析" not in page


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
