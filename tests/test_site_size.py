"""Bytes of the report site (issue 7: a city's build under 300 MB). Diary month
pages are most of it: ~650 visit rows a page, each linking its shop's archive.
Rows link the shops of the manager's own territory through the manager's
diary index (``../#r-…``, not ``../../../retailers/<dept>/<manager>/#r-…``);
the index lists those shops under their ids with the archive's address, and
its script (assets/crmdocs/jump.js) turns the short links back into direct
ones when a month page loads. Also: public archives say once a page that
personal data is hidden, and no footer link leaves the site.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from test_browser import CHROMIUM, browser, offline, page as browser_page, server, shot  # noqa: F401 - fixtures
from test_site import demo_records, html_files, page, read

ROW = re.compile(r"<tr><td>\d\d:\d\d<td>(.*?)(?=<tr>|</tbody>)")
SHOP = re.compile(r'<td><a href="([^"]*)">')


def _month_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.glob("diaries/*/*/index.html"))


def _manager_month(site: Path) -> tuple[str, Path]:
    """A manager and a month page of theirs that links own shops (in the demo
    some managers spent a month in another territory)."""
    for path in _month_pages(site):
        if '<td><a href="../#r-' in read(path):
            return path.parent.parent.name, path
    raise AssertionError("no month page links a shop of its own territory")


def test_visit_rows_link_own_shops_through_the_manager_index(demo_site):
    repo = demo_records()
    checked = 0
    for path in _month_pages(demo_site):
        mid = path.parent.parent.name
        text = read(path)
        m = re.search(r'<p data-jump-from="\.\./#" data-jump-to="\.\./\.\./\.\./(retailers/[^/"]+/[^/"]+/)#">', text)
        assert m, path
        territory = m.group(1)
        for href in SHOP.findall(text):
            rid = href.rsplit("#", 1)[-1]
            r = repo.retailers[rid]
            own = f"retailers/{r.management.department}/{r.management.manager}/" == territory
            # own shops the short way; a shop of another territory keeps its full link
            assert href == (f"../#{rid}" if own else f"../../../retailers/{r.management.department}/{r.management.manager}/#{rid}")
            checked += 1
        assert repo.people[mid].role.value == "customer_manager"
    assert checked > 1000


def test_manager_index_lists_every_own_shop_with_its_archive(demo_site):
    repo = demo_records()
    for index in sorted(demo_site.glob("diaries/*/index.html")):
        mid = index.parent.name
        text = read(index)
        items = dict(re.findall(r'<li id="(r-\d+)"><a href="([^"]+)">', text))
        shops = [r for r in repo.retailers.values() if r.management.manager == mid]
        assert items and len(items) == len(shops), mid
        for r in shops:
            assert items[r.id] == f"../../retailers/{r.management.department}/{mid}/#{r.id}"
        # the short links of the month pages all land on an id listed here
        for month in index.parent.glob("*/index.html"):
            for rid in re.findall(r'href="\.\./#(r-\d+)"', read(month)):
                assert rid in items, (month, rid)
        assert "各月日记" in text and 'href="2026-' in text  # the months, linked


def test_offline_copy_links_shops_through_the_index_file(demo_offline_site):
    month = next(p for p in sorted(demo_offline_site.glob("diaries/*/20*.html")) if 'href="index.html#r-' in read(p))
    text = read(month)
    assert re.search(r'data-jump-from="index\.html#" data-jump-to="\.\./\.\./retailers/[^/"]+/[^/"]+\.html#"', text)
    assert re.search(r'<td><a href="index\.html#r-\d+">', text)
    assert (month.parent / "index.html").is_file()


def test_visit_rows_stay_small(demo_site):
    """A city writes ~700,000 visit rows a year: the row's markup, not its
    text, must stay small (a full link alone was 62 bytes of ~230)."""
    rows = size = 0
    for path in _month_pages(demo_site):
        for row in ROW.findall(read(path)):
            rows += 1
            markup = re.sub(r">[^<]*<", "><", "<td>" + row)  # tags only
            size += len(markup.encode())
    assert rows > 1000
    # six <td>, <a href="../#r-00001"> and </a>, the notes' <b> labels and <br>: ~76 bytes;
    # with the archive's full address in every link it was ~112
    assert size / rows < 90, size / rows


def test_public_archives_say_once_that_personal_data_is_hidden(demo_site):
    repo = demo_records()
    r = next(iter(repo.retailers.values()))
    text = page(demo_site, f"retailers/{r.management.department}/{r.management.manager}")
    assert text.count("已隐藏") == 1
    assert "公开版：各户的个人信息（负责人、联系电话、生日、身份证号、关爱群体）已隐藏。" in text
    assert "<b>个人信息</b>" not in text


def test_definition_lists_leave_out_optional_end_tags(demo_site):
    repo = demo_records()
    r = next(iter(repo.retailers.values()))
    text = page(demo_site, f"retailers/{r.management.department}/{r.management.manager}")
    assert "<dt>许可证号<dd>" in text and "</dt>" not in text.split('<div class="crm-retailer">', 1)[1]


def test_no_footer_link_leaves_the_site(demo_site):
    for path in html_files(demo_site):
        assert "squidfunk.github.io" not in read(path), path
    assert "Made with" not in page(demo_site, "")


# ---------------------------------------------------------------- in a browser


def test_shop_link_goes_straight_to_the_archive(browser_page, server, demo_site):
    pg = browser_page
    mid, path = _manager_month(demo_site)
    month = path.parent.name
    pg.goto(f"{server}diaries/{mid}/{month}/", wait_until="load")
    link = pg.locator("table.crm-visits a").first
    href = link.get_attribute("href")
    assert re.fullmatch(r"\.\./\.\./\.\./retailers/[^/]+/[^/]+/#r-\d+", href), href  # made direct by jump.js
    rid = href.rsplit("#", 1)[1]
    name = link.inner_text()
    link.click()
    pg.wait_for_url(re.compile(rf".*/retailers/[^/]+/{mid}/#{rid}$"))
    assert name in pg.locator(f"[id='{rid}']").inner_text()
    # the short address itself (a copied link, no script on the diary page) goes on to the archive
    pg.goto(f"{server}diaries/{mid}/#{rid}", wait_until="load")
    pg.wait_for_url(re.compile(rf".*/retailers/[^/]+/{mid}/#{rid}$"))
    shot(pg, "diary-shop-archive")
    assert pg.errors == []


def test_shop_link_without_javascript_shows_the_shop_on_the_index(browser, server, demo_site):
    mid, path = _manager_month(demo_site)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1280, "height": 900})
    try:
        pg = context.new_page()
        pg.goto(f"{server}diaries/{mid}/{path.parent.name}/", wait_until="load")
        link = pg.locator("table.crm-visits a[href^='../#']").first
        rid = link.get_attribute("href").rsplit("#", 1)[1]
        name = link.inner_text()
        link.click()
        pg.wait_for_url(re.compile(rf".*/diaries/{mid}/#{rid}$"))
        shop = pg.locator(f"li[id='{rid}'] a")
        assert shop.inner_text() == name and shop.is_visible()
        shop.click()
        pg.wait_for_url(re.compile(rf".*/retailers/[^/]+/{mid}/#{rid}$"))
    finally:
        context.close()


def test_material_config_script_is_utf8_and_the_same_json(demo_site):
    import json

    text = page(demo_site, "")
    script = re.search(r'<script id="__config" type="application/json">(.*?)</script>', text).group(1)
    assert "已复制" in script and not re.search(r"\\u[4-9][0-9a-f]{3}", script)
    config = json.loads(script)
    assert config["translations"]["clipboard.copied"] == "已复制" and config["base"] == "."


def test_unescape_keeps_ascii_escapes_that_guard_the_script():
    from crmdocs.plugins.plugin import squeeze_chrome

    html = ('<article class="md-content__inner">x</article>\n  \n<script id="__config" type="application/json">'
            '{"a": "\\u5df2\\u003c/script\\u003e", "b": "\\ud83d\\ude00"}</script>')
    out = squeeze_chrome(html)
    assert '{"a": "已\\u003c/script\\u003e", "b": "\\ud83d\\ude00"}' in out


def test_headings_carry_no_english_tooltip(demo_site):
    text = page(demo_site, "managers")
    assert 'class="headerlink" href="#' in text and "Permanent link" not in text


def test_archive_tables_scroll_themselves_without_a_wrapper(demo_site):
    repo = demo_records()
    r = next(iter(repo.retailers.values()))
    text = page(demo_site, f"retailers/{r.management.department}/{r.management.manager}")
    archives = text.split('<div class="crm-retailer">', 1)[1]
    assert '<table class="crm-table"' in archives and "crm-table-wrap" not in archives
    css = read(demo_site / "assets" / "crmdocs" / "crmdocs.css")
    assert re.search(r"\.crm-retailer table\.crm-table, \.md-typeset table\.crm-table\.crm-visits \{[^}]*overflow-x: auto", css)
    # a diary's visits neither
    mid, path = _manager_month(demo_site)
    diaries = read(path).split('<article class="crm-diary', 1)[1]
    assert '<table class="crm-table crm-visits"' in diaries and "crm-table-wrap" not in diaries
    # elsewhere (the department's filterable list) the wrapper stays
    assert re.search(r'<div class="crm-table-wrap[^"]*"><table class="crm-table crm-filter"', page(demo_site, f"retailers/{r.management.department}"))


def test_visit_rows_leave_out_trailing_empty_cells(demo_site):
    mid, path = _month_pages(demo_site)[0].parent.parent.name, _month_pages(demo_site)[0]
    text = read(path)
    rows = re.findall(r"<tr><td>\d\d:\d\d<td>.*?(?=<tr>|</tbody>)", text)
    assert rows and not any(row.endswith("<td>") for row in rows)
    assert any(row.count("<td>") < 6 for row in rows) and all(2 <= row.count("<td>") <= 6 for row in rows)
    # the row's line and highlight come from the row (its cells may be missing)
    css = read(demo_site / "assets" / "crmdocs" / "crmdocs.css")
    assert re.search(r"table\.crm-table\.crm-visits tbody tr \{ border-top:", css)
    assert re.search(r"table\.crm-table\.crm-visits tbody tr:hover \{[^}]*box-shadow: inset", css)


def test_compact_tables_and_labels_leave_out_optional_tags(demo_site):
    repo = demo_records()
    r = next(iter(repo.retailers.values()))
    text = page(demo_site, f"retailers/{r.management.department}/{r.management.manager}")
    archives = text.split('<div class="crm-retailer">', 1)[1]
    assert "</thead>" not in archives and "</tbody>" not in archives and "<tbody><tr><td>" in archives
    assert "<b>基本信息</b><dl" in archives and "<b>档位</b><table" in archives and "crm-label" not in archives
    css = read(demo_site / "assets" / "crmdocs" / "crmdocs.css")
    assert re.search(r"\.crm-retailer section > b, \.crm-retailer \.crm-card > b \{ display: block;", css)


def test_shop_links_work_from_disk(browser_page, offline, demo_offline_site):
    """The offline copy over file://: the month page's short links become the
    archive's .html address, and index.html#r-… goes on to the archive."""
    pg = browser_page
    month = next(p for p in sorted(demo_offline_site.glob("diaries/*/20*.html")) if 'href="index.html#r-' in read(p))
    mid = month.parent.name
    to = re.search(r'data-jump-to="([^"]+)#"', read(month)).group(1)  # the manager's own territory
    pg.goto(month.as_uri(), wait_until="load")
    link = pg.locator(f"table.crm-visits a[href^='{to}#']").first
    href = link.get_attribute("href")
    assert re.fullmatch(r"\.\./\.\./retailers/[^/]+/[^/]+\.html#r-\d+", href), href
    rid = href.rsplit("#", 1)[1]
    link.click()
    pg.wait_for_url(re.compile(rf"file://.*/retailers/[^/]+/{mid}\.html#{rid}$"))
    pg.goto((month.parent / "index.html").as_uri() + f"#{rid}", wait_until="load")
    pg.wait_for_url(re.compile(rf"file://.*/retailers/[^/]+/{mid}\.html#{rid}$"))
    assert pg.locator(f"[id='{rid}']").is_visible()
    assert pg.errors == []


def test_month_pages_link_the_manager_index(demo_site):
    mid, path = _manager_month(demo_site)
    assert '<a href="../">各月</a>' in read(path)
