"""The site's building blocks without MkDocs: escaping, links, charts, masking."""

from __future__ import annotations

import datetime as dt
import re

import markdown
import pytest

from crmdocs.plugins import charts
from crmdocs.plugins.pages import Page, navigation
from crmdocs.plugins.privacy import MASK, Privacy
from crmdocs.plugins.render import Links, Markup, block, esc, heading, kv, link, md, table

EVIL = "<script>alert(1)</script> [x](javascript:alert(2)) **b** {#id} <img src=x onerror=alert(3)>"


def to_html(page_markdown: str) -> str:
    return markdown.Markdown(extensions=["toc", "attr_list", "tables"]).convert(page_markdown)


def test_md_escape_keeps_record_text_as_text():
    html = to_html(heading(2, EVIL, "r-1"))
    assert 'id="r-1"' in html
    assert "<script>" not in html and "<img" not in html and "<strong>" not in html and "<a " not in html
    assert "javascript:alert(2)" in html and "&lt;script&gt;" in html


@pytest.mark.parametrize("text", ["a_b_c", "1. 不是列表", "# 不是标题", "- 不是列表", "a|b", "\\", "&amp;"])
def test_md_escape_shows_the_text_unchanged(text):
    html = to_html(md(text))
    shown = re.sub(r"<[^>]+>", "", html).replace("&amp;", "&").strip()
    assert shown == text


def test_table_escapes_cells_but_not_links():
    html = str(table(["名", "链接"], [[EVIL, link("a/b/", "<去>")]]))
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert '<a href="a/b/">&lt;去&gt;</a>' in html


def test_raw_blocks_are_not_read_as_markdown():
    html = to_html(block(table(["日记"], [["[点我](javascript:alert(1)) **粗**"]])))
    assert "<a " not in html and "<strong>" not in html and "[点我](javascript:alert(1))" in html


def test_block_refuses_plain_strings():
    assert str(block("<b>x</b>")) == "&lt;b&gt;x&lt;/b&gt;"  # a str is escaped, only Markup is trusted


def test_tables_leave_the_search_index_unless_asked():
    assert "data-search-exclude" in str(table(["a"], [["1"]]))
    assert "data-search-exclude" not in str(table(["a"], [["1"]], search=True))


def test_filter_columns_are_marked():
    html = str(table(["类别", "店名"], [["A", "x"]], filters=["select", "text"]))
    assert 'class="crm-table crm-filter"' in html
    assert '<th data-filter="select">类别</th>' in html and '<th data-filter="text">店名</th>' in html


def test_short_columns_stay_on_one_line_and_long_text_wraps():
    rows = [["r-00331", Markup('<a href="x/">老叶KTV</a>'), "客户经理", "2026-10-22",
             "周转数 3.75 × 上限系数 1.2 × 调整系数 1，向上取整"]]
    html = str(table(["编号", "店名", "经理", "日期", "说明"], rows))
    assert ' data-nw="1 2 3 4"' in html  # 1-based, as CSS's nth-child counts; not the 说明 column


def test_a_column_wraps_when_any_of_its_cells_is_long():
    rows = [["东乡客户服务部"], ["城关镇人民路东段一百二十三号临街门面"]]
    assert "data-nw" not in str(table(["地址"], rows))


def test_escaped_tables_name_their_short_columns_or_wrap():
    rows = [["09:30", "老叶KTV"]]
    assert "data-nw" not in str(table(["时间", "零售户"], rows, escaped=True))
    assert ' data-nw="1"' in str(table(["时间", "零售户"], rows, escaped=True, nowrap=(0,)))


def test_long_tables_scroll_in_a_frame_of_their_own():
    from crmdocs.plugins.render import TALL_ROWS

    short = str(table(["a"], [[str(i)] for i in range(TALL_ROWS)]))
    tall = str(table(["a"], [[str(i)] for i in range(TALL_ROWS + 1)]))
    assert '<div class="crm-table-wrap">' in short
    assert '<div class="crm-table-wrap crm-tall">' in tall


def test_a_page_without_headings_gives_its_table_of_contents_column_to_the_content():
    import yaml

    def meta(page):
        return yaml.safe_load(page.content.split("---")[1])

    assert meta(Page("x.md", "t", [block(Markup("<p>x</p>"))]))["hide"] == ["toc"]
    assert "hide" not in meta(Page("x.md", "t", ["## 一节\n", block(Markup("<p>x</p>"))]))
    assert "hide" not in meta(Page("x.md", "t", [heading(2, "一节"), block(Markup("<p>x</p>"))]))
    assert meta(Page("x.md", "t", [block(Markup("<p>x</p>"))], hide=("navigation",)))["hide"] == ["navigation", "toc"]


def test_empty_table_says_so():
    assert "没有" in str(table(["a"], [], empty="没有记录。"))


def test_kv_escapes():
    assert "<b>" not in str(kv([("<b>", "<i>")]))


@pytest.mark.parametrize(
    "directory, src, dst, anchor, expected",
    [
        (True, "index.md", "managers/cm-li.md", None, "managers/cm-li/"),
        (True, "managers/cm-li.md", "index.md", None, "../../"),
        (True, "managers/index.md", "managers/cm-li.md", None, "cm-li/"),
        (True, "retailers/d-east/cm-li.md", "retailers/d-east/cm-li.md", "r-1", "./#r-1"),
        (True, "diaries/cm-li/2026-09.md", "retailers/d-east/cm-li.md", "r-1", "../../../retailers/d-east/cm-li/#r-1"),
        (False, "managers/cm-li.md", "index.md", None, "../index.html"),
        (False, "index.md", "retailers/d-east/index.md", None, "retailers/d-east/index.html"),
    ],
)
def test_relative_links(directory, src, dst, anchor, expected):
    assert Links(directory).href(src, dst, anchor) == expected


def test_bar_chart_is_svg_with_escaped_labels_and_links():
    svg = str(charts.bar_chart([("A 类", 3), ("<b>", 0)], caption="按类别", unit=" 户", hrefs=["x/", None]))
    assert svg.startswith("<figure") and "<svg" in svg and "Noto Sans CJK SC" in svg
    assert "&lt;b&gt;" in svg and "<b>" not in svg
    assert '<a href="x/">' in svg and "3 户" in svg


def test_line_chart_leaves_gaps_for_missing_values():
    svg = str(charts.line_chart(["09", "10", "11"], [("得分", [80.0, None, 90.0])], caption="考核得分"))
    assert svg.count("<circle") == 2
    path = re.search(r'<path d="([^"]+)"', svg).group(1)
    assert path.count("M") == 2 and "L" not in path  # two separate points, no line across the gap


def test_line_chart_with_no_values_still_renders():
    assert "<svg" in str(charts.line_chart([], [("x", [])], caption="空"))


def test_public_profile_masks_every_personal_field(mini):
    repo, _ = mini.load()
    r = repo.retailers["r-0001"]
    r.personal.id_number = "110101199003074514"
    r.personal.birthday = dt.date(1990, 3, 7)
    public = dict(Privacy("public", mask_owner_names=True).rows(r))
    assert set(public.values()) == {MASK}
    names_shown = dict(Privacy("public", mask_owner_names=False).rows(r))
    assert names_shown["负责人"] == "张三" and names_shown["联系电话"] == MASK
    internal = dict(Privacy("internal").rows(r))
    assert internal["联系电话"] == "13812345678" and internal["生日"] == "1990-03-07"


def test_privacy_follows_the_policy(mini):
    mini.edit("policy.yaml", lambda d: d.update(privacy={"mask_owner_names": False}))
    repo, _ = mini.load()
    assert Privacy.for_policy("public", repo.policy).mask_owner_names is False


def test_page_front_matter_is_safe_yaml():
    import yaml

    page = Page("x.md", 'a"b<c>: {d}', [block(Markup("<p>x</p>"))], search=False, hide=("toc",))
    front = page.content.split("---")[1]
    meta = yaml.safe_load(front)
    assert meta == {"title": "abc: {d}", "search": {"exclude": True}, "hide": ["toc"]}


def test_placeholders_round_trip():
    page = Page("x.md", "t", ["# 标题\n", block(Markup("<div>一</div>")), "\n\n文字\n", block(Markup("<p>二</p>"))])
    text, blocks = page.with_placeholders("TOKEN")
    assert "TOKEN-0" in text and "TOKEN-1" in text and blocks == ["<div>一</div>", "<p>二</p>"]
    html = to_html(text.split("---", 2)[2])
    html = re.sub(r"<p>TOKEN-(\d+)</p>", lambda m: blocks[int(m.group(1))], html)
    assert "<div>一</div>" in html and "<p>二</p>" in html and "文字" in html


def test_navigation_sections_in_reading_order():
    pages = [
        Page("index.md", "首页", []),
        Page("rules.md", "制度与规则", [], section="rules"),
        Page("managers/index.md", "客户经理", [], section="managers"),
        Page("managers/cm-li.md", "李明", [], section="managers", order=1),
        Page("diaries/cm-li/2026-09.md", "李明 2026-09", [], section="diaries", in_nav=False),
    ]
    nav = navigation(pages, ["guide/index.md", "guide/a.md"])
    assert nav == [
        {"首页": "index.md"},
        {"客户经理": ["managers/index.md", {"李明": "managers/cm-li.md"}]},
        {"制度与规则": "rules.md"},
        {"使用帮助": ["guide/index.md", "guide/a.md"]},
    ]


@pytest.mark.parametrize("mode", ["full", "summary", "headings", "none"])
def test_search_diaries_option(mini, mode):
    from crmdocs.plugins.pages import generate
    from crmdocs.plugins.sitedata import SiteData

    repo, _ = mini.load()
    data = SiteData(repo=repo, computed=None, privacy=Privacy("public"), as_of=dt.date(2026, 9, 1), search_diaries=mode)
    page = {p.path: p for p in generate(data)}["diaries/cm-li/2026-09.md"]
    assert page.search is (mode != "none")
    if mode == "full":
        assert page.search_entries is None  # the whole page is parsed
        return
    entry = next(e for e in page.search_entries if e[0] == "d-2026-09-01")
    if mode == "summary":
        assert "红塔山零售价稳定" in entry[2] and "两户经营正常" not in entry[2]
    else:
        assert entry[2] == ""


HEADING_TEXTS = [EVIL, "A & B <c>", "2026-09-01（周二）", "两个  空格\n换行", "重复", "重复", "'单' \"双\"", "r-0001 店"]


@pytest.mark.parametrize("anchored", [True, False])
def test_headings_written_without_markdown_match_the_toc_extension(anchored):
    """The plugin writes generated pages' headings itself (no Markdown): same
    text, ids, permalinks and table of contents as Python-Markdown's toc."""
    import html as html_lib

    from markdown.extensions.toc import slugify

    from crmdocs.plugins.plugin import HeadingStyle

    parts = [heading(1, "标题 & 页")]
    for i, text in enumerate(HEADING_TEXTS):
        parts.append(heading(2 + i % 2, text, f"h-{i}" if anchored else None))
        parts.append(block(Markup("<p>正文</p>")))
    ours, tokens, ids = HeadingStyle(True, "Permanent link", "headerlink", slugify, "-").render(parts)
    md_ = markdown.Markdown(extensions=["toc", "attr_list"], extension_configs={"toc": {"permalink": True}})
    theirs = md_.convert("".join(f"\n\n{p}\n\n" if not isinstance(p, str) or p.startswith("<") else p for p in parts))

    def norm(text: str) -> str:
        return html_lib.unescape(re.sub(r"\s+", " ", text)).strip()

    assert norm(ours.replace("\n", " ")) == norm(theirs.replace("\n", " "))

    def flat(toks):
        for t in toks:
            yield t["level"], t["id"], html_lib.unescape(t["name"])
            yield from flat(t["children"])

    assert list(flat(tokens)) == list(flat(md_.toc_tokens))
    assert ids == {t[1] for t in flat(tokens)}


def test_cached_segmenter_gives_materials_segmentation():
    pytest.importorskip("jieba")
    from material.plugins.search.plugin import SearchIndex

    from crmdocs.plugins.plugin import CachedSegmenter

    import jieba

    texts = ["<p>超市 客户经理 2026-09-01 拜访 32 户（计划 34 户）</p>", "河东中新平价超市", "", "abc", "蔡帆 的日记 蔡帆"]
    ours = CachedSegmenter(jieba)
    for text in texts + texts:  # the second round comes from the cache
        assert ours(text) == SearchIndex()._segment_chinese(text)


def test_search_sees_pages_without_the_elements_it_skips():
    from crmdocs.plugins.plugin import _EXCLUDED

    html = ('<h2 id="a">甲</h2><p>留下</p><div class="crm-table-wrap"><table class="crm-table" data-search-exclude="1">'
            "<tr><td>去掉</td></tr></table></div><figure class=\"crm-chart\" data-search-exclude=\"1\"><svg></svg></figure>"
            '<table class="crm-table"><tr><td>留下的表</td></tr></table>')
    out = _EXCLUDED.sub("", html)
    assert "去掉" not in out and "<svg" not in out
    assert "留下" in out and "留下的表" in out and '<h2 id="a">' in out
