"""The crmdocs MkDocs plugin: only MkDocs events here.

The work is done by the library (``crmdocs.scripts``: load → validate →
compute) and by plain page functions (``crmdocs.plugins.pages*``) that return
Markdown; this module turns their output into MkDocs files and nav.
"""

from __future__ import annotations

import gc
import importlib.util
import os
import json
import logging
import re
import secrets
import time
from pathlib import Path
from typing import Optional

from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, CombinedEvent, event_priority, get_plugin_logger
from mkdocs.structure.files import File, Files, InclusionLevel

from .config import CrmdocsConfig
from .render import Heading

log = get_plugin_logger(__name__)

ASSETS = Path(__file__).parent / "assets"
ASSET_FILES = ("crmdocs.css", "table-filter.js", "jump.js")
ASSET_DIR = "assets/crmdocs"
# offline builds (Material's offline plugin on): the WebWorker shim search needs
# on file:// pages, shipped with the site instead of loaded from a CDN
OFFLINE_SHIM = "iframe-worker.js"


def error(what: str, where: str, why: str) -> PluginError:
    """The one error shape of this plugin: what was being done, where, why."""
    return PluginError(f"{what}失败 — {where}\n{why}")  # MkDocs prints it after "crmdocs: "


class CrmdocsPlugin(BasePlugin[CrmdocsConfig]):
    supports_multiple_instances = False

    def __init__(self) -> None:
        self.root: Optional[Path] = None
        self.pages: list = []
        self.blocks: dict[str, list[str]] = {}  # page path → its raw HTML blocks
        self.direct: dict[str, object] = {}  # page path → Page written as HTML without Markdown
        self.headings: Optional[HeadingStyle] = None  # how the toc extension writes headings
        self.timings: dict[str, float] = {}
        self.site_started: Optional[float] = None  # perf_counter when compute was done
        self.files_done = 0.0
        self.site_cpu = 0.0
        self.jobs = 1
        self.search_on = False  # Material's search plugin is there (and the index we know)
        self._full_content: Optional[str] = None
        self.files: Optional[Files] = None
        # placeholder paragraphs for the blocks; random so record text cannot forge one
        self.token = f"CRMBLOCK{secrets.token_hex(8)}"

    # ------------------------------------------------------------ events

    # Default priority: the options only need the config MkDocs validated.
    def _config(self, config):
        if not self.config.enabled:
            return
        base = Path(config.config_file_path).parent if config.config_file_path else Path.cwd()
        self.root = (base / self.config.root).resolve()
        if not (self.root / "records").is_dir():
            raise error("读取记录", str(self.root), "这里没有 records/ 目录；请在 mkdocs.yml 的 crmdocs.root 写仓库根目录 (no records/ folder)")
        for name in ASSET_FILES:
            target = config.extra_javascript if name.endswith(".js") else config.extra_css
            path = f"{ASSET_DIR}/{name}"
            if path not in [str(p) for p in target]:
                target.append(path)
        self.headings = HeadingStyle.from_config(config)
        if config.theme.get("font") is not False:
            log.warning("theme.font 应设为 false：否则页面从 Google Fonts 加载字体，离线时打不开 (set theme.font: false)")
        if "search" in config.plugins and importlib.util.find_spec("jieba") is None:
            log.warning("没有安装 jieba：中文搜索无法分词，搜不到中文词 (pip install jieba)")
        return config

    # After Material's offline plugin (default 0), which has turned directory
    # URLs off and named its WebWorker shim on unpkg.com: a copy opened from a
    # USB stick has no network and must load nothing from other hosts, so the
    # shim ships with the site (assets/crmdocs/iframe-worker.js, vendored).
    @event_priority(-50)
    def _offline_config(self, config):
        if not self.config.enabled or not offline_build(config):
            return config
        shim = f"{ASSET_DIR}/{OFFLINE_SHIM}"
        polyfills = config.extra.get("polyfills") or []
        config.extra["polyfills"] = [shim if "iframe-worker" in str(url) else url for url in polyfills]
        if shim not in config.extra["polyfills"]:
            config.extra["polyfills"].append(shim)
        return config

    on_config = CombinedEvent(_config, _offline_config)

    # Early (above the default 0): the generated pages and assets must be in
    # `files` before other plugins read the list (e.g. a plugin that indexes
    # or lists pages) and before MkDocs builds the nav from it.
    @event_priority(50)
    def on_files(self, files: Files, *, config) -> Files:
        if not self.config.enabled:
            return files
        from crmdocs.scripts.repository import gc_paused

        # The records, results and pages live for the whole build and hold no
        # reference cycles: with the collector on, each full collection walked
        # all of them (a city: 2 × 7 s). Paused while they are made, then
        # frozen out of its reach (released again in on_post_build).
        with gc_paused():
            return self._files(files, config)

    def _files(self, files: Files, config) -> Files:
        from .downloads import files as download_files
        from .pages import generate, navigation

        data = self._site_data(config)
        self.site_started = time.perf_counter()  # the site's own part starts here
        self.site_cpu = _cpu()
        spreadsheets = download_files(data)  # the .xlsx linked beside tables (made once, cached on data)
        computed = time.perf_counter()
        self.timings["downloads"] = computed - self.site_started
        self.pages = generate(data, jobs=self.jobs)
        self.timings["pages"] = time.perf_counter() - computed
        replaced = []
        self.blocks = {}
        self.direct = {}
        self.files = files
        # Material's search parses every page's HTML (~1 MB/s): for the big
        # grouped pages we hand it their entries instead (see on_post_build)
        search = _material_search(config)
        direct = self.search_on = search is not None
        if search is not None:
            install_segmenter(search)
        for page in self.pages:
            if files.get_file_from_path(page.path) is not None:
                replaced.append(page.path)  # a hand-written page in docs_dir wins
                continue
            if self.headings is not None and page.html_parts() is not None:
                # all blocks and headings: written as HTML in on_page_content,
                # Markdown gets only the front matter (it cost ~0.5 ms per heading)
                markdown = page._front_matter(direct)
                self.direct[page.path] = page
            else:
                markdown, self.blocks[page.path] = page.with_placeholders(self.token, direct_search=direct)
            inclusion = InclusionLevel.INCLUDED if page.in_nav else InclusionLevel.NOT_IN_NAV
            files.append(File.generated(config, page.path, content=markdown, inclusion=inclusion))
        for path, content in spreadsheets.items():  # the spreadsheets linked beside tables
            files.append(File.generated(config, path, content=content))
        for name in ASSET_FILES + ((OFFLINE_SHIM,) if offline_build(config) else ()):
            path = f"{ASSET_DIR}/{name}"
            if files.get_file_from_path(path) is None:
                files.append(File.generated(config, path, abs_src_path=str(ASSETS / name)))
        if replaced:
            log.info("docs_dir 里的手写页面代替了生成的页面：%s", "、".join(replaced))
        if self.config.nav and config.nav is None:
            generated = {p.path for p in self.pages}
            hand_written = sorted(
                f.src_uri for f in files.documentation_pages() if f.src_uri not in generated
            )
            config.nav = navigation(self.pages, hand_written)
        t = self.timings
        log.info(
            "由记录生成 %d 个页面（%s版）：读取与检查 %.1f 秒，计算 %.1f 秒，生成页面 %.1f 秒",
            len(self.pages), "公开" if self.config.profile == "public" else "内部",
            t.get("validate", 0), t.get("compute", 0), t["pages"],
        )
        self.files_done = time.perf_counter()
        if self.config.profile == "internal":
            log.info("内部版含零售户个人信息：只在单位内部使用，不要公开发布 (internal build: do not publish)")
        return files

    # First (high priority): put the raw HTML blocks back before any other
    # plugin reads the page's HTML — the search index in particular.
    @event_priority(100)
    def on_page_content(self, html: str, *, page, config, files) -> str:
        generated = self.direct.get(page.file.src_uri)
        if generated is not None and self.headings is not None:
            from mkdocs.structure.toc import get_toc

            html, tokens, ids = self.headings.render(generated.body)
            page.toc = get_toc(tokens)
            page.present_anchor_ids = ids
            return html
        blocks = self.blocks.get(page.file.src_uri)
        if not blocks:
            return html
        return re.sub(
            rf"<p>{self.token}-(\d+)</p>",
            lambda m: blocks[int(m.group(1))],
            html,
        )

    # Before search (default 0), which parses page.content and then strips
    # every data-search-* attribute from it with a regular expression (over a
    # city's 280 MB): search sees the page without the elements it would skip
    # anyway (data-search-exclude: tables, charts, archives; parsing walks
    # every tag inside them too), or nothing at all when the page is left out
    # of search; afterwards the page gets its full content back, attributes
    # stripped as Material strips them. Same index, same pages.
    @event_priority(10)
    def _hide_excluded(self, context, *, page, config, nav):
        self._full_content = None
        src = page.file.src_uri
        if self.search_on and (src in self.direct or src in self.blocks) and page.content:
            self._full_content = page.content
            meta = page.meta.get("search") if isinstance(page.meta, dict) else None
            if isinstance(meta, dict) and meta.get("exclude"):
                page.content = ""
            elif "data-search-exclude" in page.content:
                page.content = _EXCLUDED.sub("", page.content)
        return context

    @event_priority(-10)
    def _restore_excluded(self, context, *, page, config, nav):
        if self._full_content is not None:
            content, self._full_content = self._full_content, None
            if "data-search-" in content:
                content = content.replace(' data-search-exclude="1"', "")  # ours, the only form we write
                if "data-search-" in content:
                    content = _MATERIAL_ATTRIBUTES.sub("", content)
            page.content = content
        return context

    on_page_context = CombinedEvent(_hide_excluded, _restore_excluded)

    # Last (below any default 0): Material's page chrome (header, tabs, nav,
    # table of contents) is ~60 % whitespace from its templates — 20 KB on
    # every page, 30 MB of a city's site. Squeeze it; the page content (which
    # may hold <pre>) is left exactly as rendered.
    @event_priority(-100)
    def on_post_page(self, output: str, *, page, config) -> str:
        if not self.config.enabled:
            return output
        return squeeze_chrome(output)

    # Default priority: Material's 404.html says "404 - Not found" in English
    # whatever theme.language is; the site's text is Chinese.
    def on_post_template(self, output: str, *, template_name: str, config) -> str:
        if not self.config.enabled or template_name != "404.html":
            return output
        return not_found_chinese(output)

    # Before search's own on_post_build (default 0), which writes the index:
    # add the entries of pages that give them directly (Page.search_entries).
    @event_priority(50)
    def _add_search_entries(self, *, config) -> None:
        if not self.config.enabled:
            return
        search = _material_search(config)
        if search is not None:
            add_entries(search, self.pages, self.files)

    # After search (default 0), which writes search_index.json in its own
    # on_post_build, and before Material's offline plugin (-100), which copies
    # it into search/search_index.js: rewrite it as UTF-8 instead of \u
    # escapes, which halves the file a reader's browser loads (Chinese, U+200B).
    @event_priority(-50)
    def _rewrite_index(self, *, config) -> None:
        if not self.config.enabled:
            return
        path = Path(config.site_dir) / "search" / "search_index.json"
        if not path.is_file():
            return
        data = json.loads(path.read_text(encoding="utf-8"))
        path.write_text(json.dumps(data, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")

    # Last: the objects frozen in on_files are the collector's again (`mkdocs
    # serve` builds many times in one process; each build's data must be freed).
    @event_priority(-100)
    def _unfreeze(self, *, config) -> None:
        gc.unfreeze()
        if self.site_started is not None:
            now = time.perf_counter()
            t = self.timings
            # the part of the build after the rules (what this plugin and MkDocs cost)
            log.info(
                "站点部分 %.1f 秒（CPU %.1f 秒）：生成页面 %.1f 秒（其中下载表格 %.1f 秒），MkDocs 与搜索 %.1f 秒 (site part after compute)",
                now - self.site_started, _cpu() - self.site_cpu,
                self.files_done - self.site_started, t.get("downloads", 0), now - self.files_done,
            )

    # After Material's offline plugin (-100), which has copied the search index
    # into search/search_index.js: an offline build is opened from disk, where
    # Material's search reads only that script (file://), so search_index.json
    # would be the index a second time (13 MB at city); and no server answers a
    # missing page with 404.html — whose links are absolute (/assets/…, for a
    # page served at any depth), which on disk point at the drive's root.
    @event_priority(-110)
    def _offline_cleanup(self, *, config) -> None:
        if self.config.enabled and offline_build(config):
            site = Path(config.site_dir)
            (site / "404.html").unlink(missing_ok=True)
            if (site / "search" / "search_index.js").is_file():
                (site / "search" / "search_index.json").unlink(missing_ok=True)

    on_post_build = CombinedEvent(_add_search_entries, _rewrite_index, _unfreeze, _offline_cleanup)

    # ------------------------------------------------------------ helpers

    def _site_data(self, config):
        from crmdocs.scripts.diagnostics import CrmdocsError
        from crmdocs.scripts.validate import validate

        from .privacy import Privacy
        from .render import Links
        from .sitedata import SiteData, head_commit

        root = self.root
        assert root is not None
        jobs = self.config.jobs
        if jobs <= 0:
            from crmdocs.scripts.validate import default_jobs

            jobs = default_jobs()
        self.jobs = jobs  # also the processes that make the pages (pages.generate)
        started = time.perf_counter()
        try:
            repo, report = validate(root, jobs=jobs)
        except CrmdocsError as exc:
            raise error("读取记录", str(root), str(exc)) from None
        if report.errors:
            shown = [d.format() for d in report.sorted() if d.severity == "error"]
            more = len(shown) - 50
            text = "\n".join(shown[:50]) + (f"\n……另有 {more} 个错误 (and {more} more)" if more > 0 else "")
            raise error("检查记录", str(root / "records"), f"{text}\n共 {len(report.errors)} 个错误；请先运行 crmdocs validate 并改正 (fix the records first)")
        if report.warnings:
            log.info("记录检查：%d 个提醒（crmdocs validate 查看）", len(report.warnings))
        self.timings["validate"] = time.perf_counter() - started
        started = time.perf_counter()
        computed = None
        as_of = None
        if self.config.compute:
            from crmdocs.scripts import history
            from crmdocs.scripts.rules import compute_all

            try:
                result = compute_all(repo, handed_in=history.handed_in_times(root))
            except CrmdocsError as exc:  # with its diagnostics (handed-in.csv's bad rows: file, line, field)
                raise error("计算规则", str(root), "\n".join([*(d.format() for d in exc.diagnostics), str(exc)])) from None
            except Exception as exc:  # a rule module's bug: one clean message, details in --verbose
                log.debug("rules failed", exc_info=True)
                raise error("计算规则", str(root), f"{type(exc).__name__}: {exc}（mkdocs build --verbose 可看详情）") from None
            computed = result.records
            as_of = result.ctx.as_of
        else:
            from crmdocs.scripts.rules import last_day

            as_of = last_day(repo)
        from crmdocs.scripts.rules import NO_DAY

        if as_of == NO_DAY:
            as_of = None  # nothing dated yet (a new office): 尚无数据, not the rules' stand-in day
        self.timings["compute"] = time.perf_counter() - started
        commit = None
        if self.config.commit:
            from .sitedata import Commit

            commit = Commit(self.config.commit)
        else:
            commit = head_commit(root)
        return SiteData(
            repo=repo,
            computed=computed,
            privacy=Privacy.for_policy(self.config.profile, repo.policy),
            links=Links(config.use_directory_urls),
            as_of=as_of,
            commit=commit,
            search_diaries=self.config.search_diaries,
            downloads=self.config.downloads,
        )


class HeadingStyle:
    """Headings written the way Python-Markdown's ``toc`` extension writes them
    (ids, permalink, the tokens of the table of contents), for pages made only
    of raw HTML blocks and headings: Markdown is then skipped for them."""

    SUPPORTED = {"permalink", "permalink_title", "permalink_class", "slugify", "separator", "title"}

    def __init__(self, permalink, title: str, cls: str, slugify, separator: str) -> None:
        self.permalink, self.title, self.cls = permalink, title, cls
        self.slugify, self.separator = slugify, separator

    @classmethod
    def from_config(cls, config) -> Optional["HeadingStyle"]:
        """None when the toc extension is set up in a way not reproduced here
        (anchor links, toc_depth, baselevel …): such sites keep Markdown."""
        from markdown.extensions.toc import slugify

        names = [e if isinstance(e, str) else "" for e in config.markdown_extensions]
        if "toc" not in names and "markdown.extensions.toc" not in names:
            return None
        options = dict(config.mdx_configs.get("toc") or config.mdx_configs.get("markdown.extensions.toc") or {})
        if set(options) - cls.SUPPORTED:
            return None
        return cls(options.get("permalink", False), options.get("permalink_title", "Permanent link"),
                   options.get("permalink_class", "headerlink"), options.get("slugify", slugify),
                   options.get("separator", "-"))

    def render(self, parts) -> tuple[str, list, set]:
        """HTML of the parts, the nested toc tokens and the heading ids."""
        import html as html_lib

        from markdown.extensions.toc import nest_toc_tokens, unique

        used = {p.anchor for p in parts if isinstance(p, Heading) and p.anchor}
        ids = set(used)
        counters: dict[str, int] = {}
        symbol = "&para;" if self.permalink is True else self.permalink
        title = f' title="{html_lib.escape(self.title)}"' if self.title else ""
        out, tokens = [], []
        for part in parts:
            if not isinstance(part, Heading):
                out.append(part)
                continue
            anchor = part.anchor or unique(self.slugify(html_lib.unescape(part.html), self.separator), used, counters)
            ids.add(anchor)
            mark = f'<a class="{self.cls}" href="#{anchor}"{title}>{symbol}</a>' if symbol not in (False, None) else ""
            out.append(f'<h{part.level} id="{anchor}">{part.html}{mark}</h{part.level}>')
            tokens.append({"level": part.level, "id": anchor, "name": part.html, "html": part.html, "data-toc-label": ""})
        return "\n".join(out), nest_toc_tokens(tokens), ids


# the elements this plugin's renderer marks for search to skip; none of them
# holds an element of its own kind or a heading (see render.table, charts,
# pages_retailers, pages_diaries)
_EXCLUDED = re.compile(
    r'<(table|figure|section|article|header|aside)\b[^>]*\bdata-search-exclude="1"[^>]*>.*?</\1>', re.S
)

# what Material's search removes from every page after indexing it
_MATERIAL_ATTRIBUTES = re.compile(r"\s?data-search-\w+=\"[^\"]+\"")

_CONTENT_START = '<article class="md-content__inner'
_BLANKS = re.compile(r"\n\s+")
_CONFIG_START = '<script id="__config" type="application/json">'
_ESCAPED = re.compile(r"\\u([0-9a-fA-F]{4})")


def _unescape_config(tail: str) -> str:
    """Material's config script (its translations: Chinese as \\u escapes,
    ~1.3 KB on every page) with the non-ASCII escapes written as UTF-8:
    the same JSON, ~0.6 KB less a page. ASCII escapes (\\u003c for ``<``,
    which keeps ``</script>`` out of the script) stay."""
    start = tail.find(_CONFIG_START)
    end = tail.find("</script>", start)
    if start < 0 or end < 0:
        return tail
    start += len(_CONFIG_START)

    def char(m: re.Match) -> str:
        code = int(m.group(1), 16)
        return m.group(0) if code < 0x80 or 0xD800 <= code < 0xE000 else chr(code)

    return tail[:start] + _ESCAPED.sub(char, tail[start:end]) + tail[end:]


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the page worker)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


NOT_FOUND = "<h1>404 - Not found</h1>"


def not_found_chinese(html: str) -> str:
    """Material's 404 page with its one English line in Chinese."""
    return html.replace(NOT_FOUND, "<h1>404 - 找不到这个页面</h1><p>地址可能写错了，或者这个页面已经不在了；"
                                   "请从上方的栏目或搜索找到要看的内容。</p>", 1)


def squeeze_chrome(html: str) -> str:
    """The page with the template's runs of blank lines and indentation outside
    the content collapsed to one newline (browsers render the same: the chrome
    holds no <pre> or <textarea>), and Material's config script in UTF-8
    (:func:`_unescape_config`). Pages without Material's content element
    come back unchanged."""
    start = html.find(_CONTENT_START)
    end = html.rfind("</article>")
    if start < 0 or end < start:
        return html
    return _BLANKS.sub("\n", html[:start]) + html[start:end] + _unescape_config(_BLANKS.sub("\n", html[end:]))


def offline_build(config) -> bool:
    """Whether Material's offline plugin is on: the site is made to be opened
    from disk (file://) — page links end in .html, search needs no server."""
    for name in ("material/offline", "offline"):
        plugin = config.plugins.get(name)
        if plugin is not None:
            return bool(getattr(getattr(plugin, "config", None), "enabled", False))
    return False


def _material_search(config):
    """Material's search plugin when it is enabled and has the index we know
    (``search_index.entries``, ``_segment_chinese``); else None — the pages are
    then parsed as usual."""
    for name in ("material/search", "search"):
        plugin = config.plugins.get(name)
        index = getattr(plugin, "search_index", None)
        if plugin is not None and getattr(getattr(plugin, "config", None), "enabled", False) \
                and isinstance(getattr(index, "entries", None), list) and hasattr(index, "_segment_chinese"):
            return plugin
    return None


class CachedSegmenter:
    """Material's ``_segment_chinese`` (each run of Han characters cut by
    jieba, the words joined and surrounded by U+200B), same output, with each
    run's cut remembered: jieba is most of a city's search indexing, and the
    runs (shop names, review phrases, template clauses) repeat by the
    thousand."""

    def __init__(self, jieba) -> None:
        from backrefs import bre

        self.cut = jieba.cut
        self.expr = bre.compile(r"(\p{script: Han}+)", bre.UNICODE)  # Material's own expression
        self.runs: dict[str, str] = {}
        self.texts: dict[str, str] = {}

    def _run(self, match) -> str:
        value = match.group(0)
        out = self.runs.get(value)
        if out is None:
            out = self.runs[value] = "\u200b" + "\u200b".join(self.cut(value)) + "\u200b"
        return out

    def __call__(self, data: str) -> str:
        out = self.texts.get(data)
        if out is None:
            out = self.texts[data] = self.expr.sub(self._run, data).strip("\u200b")
        return out


def install_segmenter(search) -> None:
    """Give Material's search index the cached segmenter (when it segments
    Chinese at all: jieba importable, the method we know there)."""
    import sys

    module = sys.modules.get(type(search).__module__)
    jieba = getattr(module, "jieba", None)
    index = getattr(search, "search_index", None)
    if jieba is None or index is None or not hasattr(index, "_segment_chinese"):
        return
    if not isinstance(index.__dict__.get("_segment_chinese"), CachedSegmenter):
        index._segment_chinese = CachedSegmenter(jieba)


def add_entries(search, pages, files: Files) -> None:
    """Index the pages that give their entries directly, the way Material
    indexes a section: title and text HTML-escaped, Chinese segmented."""
    from markupsafe import escape

    index = search.search_index
    segment = index._segment_chinese  # the cached one when install_segmenter ran

    for page in pages:
        if page.search_entries is None or not page.search:
            continue
        file = files.get_file_from_path(page.path)
        if file is None or not file.generated_by:
            continue  # a hand-written page replaced it: Material indexed that one
        for anchor, title, text in page.search_entries:
            entry = {
                "location": file.url + (f"#{anchor}" if anchor else ""),
                "title": segment(str(escape(title))),
                "text": segment(f"<p>{escape(text)}</p>") if text else "",
            }
            index.entries.append(entry)


logging.getLogger("jieba").setLevel(logging.WARNING)  # its "Building prefix dict" chatter
