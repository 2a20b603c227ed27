"""The demo office's public site in a real browser: Debian's Chromium, headless,
driven by Playwright's Python API (no browser download). Skipped when
/usr/bin/chromium is missing. Screenshots go to tests/screenshots/ (git-ignored).
"""

from __future__ import annotations

import functools
import re
import http.server
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).parent / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (/usr/bin/chromium)")


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def server(demo_site):
    handler = functools.partial(_Quiet, directory=str(demo_site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    playwright = pytest.importorskip("playwright.sync_api")
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A page that records console errors and every host it asked for."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    pg = context.new_page()
    pg.set_default_timeout(90_000)  # the machine may be busy: slow is not broken
    pg.errors = []
    pg.hosts = set()
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.on("request", lambda r: pg.hosts.add(urlparse(r.url).hostname or r.url))
    yield pg
    context.close()


def shot(pg, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(SHOTS / f"{name}.png"), full_page=False)


def demo_repo():
    from crmdocs.scripts.repository import load

    return load(Path(__file__).resolve().parents[1])[0]


def test_dashboard_opens_without_errors_or_external_requests(page, server):
    page.goto(server, wait_until="networkidle")
    assert "客户经理制度报告" in page.title() or "首页" in page.title()
    assert page.locator(".crm-kpi").count() >= 5
    shot(page, "dashboard")
    assert page.errors == []
    assert page.hosts <= {"127.0.0.1"}, page.hosts


def _searched(page, query: str):
    """The search results once Material has searched for the whole ``query``: it searches on
    every keyup, so the results for its first character (超 → 超期…) can show first — reading
    them then raced the last search (a red CI run)."""
    page.wait_for_function(
        "q => (document.querySelector('.md-search-result')?.innerText || '').replace(/\u200b/g, '').includes(q)",
        arg=query, timeout=60000,
    )
    results = page.locator(".md-search-result__item")
    results.first.wait_for(timeout=60000)
    return results


def test_chinese_search_finds_the_retailer(page, server):
    repo = demo_repo()
    r = repo.retailers[sorted(repo.retailers)[0]]
    page.goto(server, wait_until="networkidle")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    box = page.locator("input.md-search__input")
    box.press_sequentially(r.basic.shop_name, delay=30)
    box.press("End")  # Material searches on keyup; Playwright types Chinese without key events
    results = _searched(page, r.basic.shop_name)
    titles = [t.replace("\u200b", "") for t in page.locator(".md-search-result__item h1, .md-search-result__item h2").all_inner_texts()]
    shot(page, "search-shop")
    assert any(r.basic.shop_name in t for t in titles), titles[:5]
    assert page.errors == []


def test_search_for_a_word_finds_supermarkets(page, server):
    page.goto(server, wait_until="networkidle")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    box = page.locator("input.md-search__input")
    box.press_sequentially("超市", delay=30)
    box.press("End")
    page.locator(".md-search-result__item").first.wait_for(timeout=60000)
    text = page.locator(".md-search-result").inner_text().replace("\u200b", "")
    shot(page, "search-word")
    assert "超市" in text


def test_manager_page_shows_the_appraisal_chart(page, server):
    repo = demo_repo()
    mid = sorted(p for p, x in repo.people.items() if x.role.value == "customer_manager")[0]
    page.goto(f"{server}managers/{mid}/", wait_until="networkidle")
    section = page.locator("#appraisal")
    section.scroll_into_view_if_needed()
    chart = page.locator("figure.crm-chart svg").first
    assert chart.is_visible()
    assert "考核得分" in page.locator("figure.crm-chart figcaption").first.inner_text()
    shot(page, "manager")
    assert page.errors == []
    assert page.hosts <= {"127.0.0.1"}, page.hosts


def test_retailer_table_filters(page, server):
    repo = demo_repo()
    dept = sorted(u for u, x in repo.org.items() if x.kind.value == "department")[0]
    page.goto(f"{server}retailers/{dept}/", wait_until="networkidle")
    rows = page.locator("table.crm-filter tbody tr")
    total = rows.count()
    assert total > 1
    page.locator("table.crm-filter .crm-filter-row select").nth(3).select_option(index=1)  # 业态
    visible = page.locator("table.crm-filter tbody tr:not([hidden])").count()
    assert 0 < visible < total
    shot(page, "retailers-filter")
    assert page.errors == []


def test_long_retailer_list_keeps_words_whole_and_its_header_in_view(page, server):
    repo = demo_repo()
    dept = sorted(u for u, x in repo.org.items() if x.kind.value == "department")[0]
    page.goto(f"{server}retailers/{dept}/", wait_until="networkidle")
    frame = page.locator(".crm-table-wrap.crm-tall").first
    # every column fits the page: nothing hidden to the right
    assert frame.evaluate("f => f.scrollWidth <= f.clientWidth")
    # 客户经理 in the header, and a shop name, each on one line
    lines = ("c => { const r = document.createRange(); r.selectNodeContents(c);"
             " return new Set([...r.getClientRects()].map(x => Math.round(x.top))).size; }")
    assert page.locator("table.crm-filter thead th").nth(2).inner_text() == "客户经理"
    for cell in (page.locator("table.crm-filter thead th").nth(2), page.locator("table.crm-filter tbody td").nth(1)):
        assert cell.evaluate(lines) == 1
    # rows scroll inside the frame; the header (with its filters) stays on top
    frame.scroll_into_view_if_needed()
    frame.evaluate("f => { f.scrollTop = 2000; }")
    page.wait_for_timeout(200)
    head, box = page.locator("table.crm-filter thead").bounding_box(), frame.bounding_box()
    assert abs(head["y"] - box["y"]) < 2
    shot(page, "retailers-scrolled")
    assert page.errors == []


# ---------------------------------------------------------------- the offline copy, opened from disk


@pytest.fixture(scope="module")
def offline(demo_offline_site):
    """file:// URL of the offline copy's home page (`crmdocs build --offline`)."""
    return (demo_offline_site / "index.html").as_uri()


def _outside(urls: list[str]) -> list[str]:
    return [u for u in urls if not u.startswith(("file://", "data:", "about:"))]


def test_offline_copy_navigates_from_disk(page, offline):
    """Double-click index.html: tabs, a manager page, a retailer's archive."""
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(offline, wait_until="load")
    assert page.locator(".crm-kpi").count() >= 5
    page.locator("a.md-tabs__link", has_text="客户经理").click()
    page.wait_for_url("**/managers/index.html")
    page.locator("article table a[href$='.html']").first.click()
    page.wait_for_url(re.compile(r".*/managers/cm-[^/]+\.html$"))
    assert page.locator("figure.crm-chart svg").first.is_visible()  # the appraisal chart
    archive = page.locator("article a[href*='retailers/'][href*='.html#r-']").first
    rid = archive.get_attribute("href").rsplit("#", 1)[1]
    archive.click()
    page.wait_for_url(re.compile(rf".*/retailers/[^/]+/[^/]+\.html#{rid}$"))
    assert page.locator(f"[id='{rid}']").is_visible()
    shot(page, "offline-archive")
    assert page.errors == []
    assert _outside(requests) == []


def test_offline_copy_searches_in_chinese_without_a_server(page, offline):
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(offline, wait_until="load")
    page.locator("label.md-search__icon, .md-search__input").first.click()
    box = page.locator("input.md-search__input")
    box.press_sequentially("超市", delay=30)
    box.press("End")  # Material searches on keyup; Playwright types Chinese without key events
    results = _searched(page, "超市")
    assert "超市" in page.locator(".md-search-result").inner_text().replace("\u200b", "")
    shot(page, "offline-search")
    results.first.locator("a").first.click()
    page.wait_for_url(re.compile(r"file://.*\.html.*"))
    assert "超市" in page.locator("article").inner_text()
    assert page.errors == []
    assert _outside(requests) == []
    assert any(u.endswith("search/search_index.js") for u in requests)


def test_offline_copy_downloads_a_spreadsheet(page, offline):
    page.goto(offline.replace("index.html", "managers/index.html"), wait_until="load")
    link = page.locator("a[download][href$='.xlsx']").first
    with page.expect_download(timeout=60000) as info:
        link.click()
    download = info.value
    assert download.failure() is None
    assert download.suggested_filename.endswith(".xlsx")
    assert Path(download.path()).read_bytes()[:2] == b"PK"  # a workbook (zip), not an error page
