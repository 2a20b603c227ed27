"""HTML and Markdown building blocks for the generated pages.

Nothing here imports MkDocs: the page functions return Markdown strings that
any Python-Markdown based renderer (MkDocs, Zensical) can turn into pages.

Safety rule: every text that comes from a record goes through :func:`esc`
(inside HTML) or :func:`md` (inside Markdown, e.g. a heading). HTML fragments
are :class:`markupsafe.Markup`; plain ``str`` is always escaped when it is put
into a fragment, so forgetting to escape is not possible by construction.
Page bodies are raw HTML blocks, which Python-Markdown passes through without
reading Markdown inside them — a diary saying ``[x](javascript:alert(1))``
stays text.
"""

from __future__ import annotations

import posixpath
import re
from typing import Any, Iterable, Optional, Sequence

from markupsafe import Markup, escape

__all__ = [
    "Markup", "Block", "esc", "md", "attrs", "tag", "link", "table", "kv", "badge", "block",
    "heading", "Heading", "Links", "fmt_num", "fmt_pct", "NOT_COMPUTED", "label",
]

NOT_COMPUTED = "尚未计算"

# characters Python-Markdown (and the tables / attr_list extensions) treat specially
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()>#+\-.!|])")


def esc(value: Any) -> Markup:
    """Text → HTML-safe fragment (Markup passes through unchanged)."""
    if value is None:
        return Markup("")
    return escape(value if isinstance(value, (str, Markup)) else str(value))


def _h(value: Any) -> str:
    """Fast escape to a plain ``str`` for the hot paths (tables of thousands of
    cells); Markup passes through. Same result as :func:`esc`."""
    if isinstance(value, Markup):
        return value
    if value is None:
        return ""
    return _escape_str(value if value.__class__ is str else str(value))


def _escape_py(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&#34;").replace("'", "&#39;"))


try:  # MarkupSafe's C escaper, ~8x faster (10 million cells in a city build)
    from markupsafe._speedups import _escape_inner as _escape_str
except ImportError:  # pragma: no cover - pure-Python MarkupSafe
    _escape_str = _escape_py


def md(value: Any) -> str:
    """Text → safe inside Markdown inline content (headings, link text).

    HTML special characters become entities, Markdown ones are backslash-escaped;
    line breaks become spaces (a heading is one line)."""
    text = "" if value is None else str(value)
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # escape everything but the entities we just made
    out = []
    for part in re.split(r"(&(?:amp|lt|gt);)", text):
        if part in ("&amp;", "&lt;", "&gt;"):
            out.append(part)
        else:
            out.append(_MD_SPECIAL.sub(r"\\\1", part))
    return "".join(out)


def attrs(**values: Any) -> Markup:
    """HTML attributes: ``attrs(class_="x", data_sort=3)`` → `` class="x" data-sort="3"``.
    None and False are left out; True gives a bare attribute."""
    parts = []
    for key, value in values.items():
        if value is None or value is False:
            continue
        name = key.rstrip("_").replace("_", "-")
        if value is True:
            parts.append(f" {name}")
        else:
            parts.append(f' {name}="{escape(str(value))}"')
    return Markup("".join(parts))


def tag(name: str, content: Any = "", **values: Any) -> Markup:
    return Markup(f"<{name}{attrs(**values)}>{esc(content)}</{name}>")


def link(href: Optional[str], text: Any, **values: Any) -> Markup:
    """A link; ``href`` comes from :class:`Links` (never from a record)."""
    if not href:
        return esc(text)
    return Markup(f'<a href="{escape(href)}"{attrs(**values)}>{esc(text)}</a>')


def badge(text: Any, kind: str = "") -> Markup:
    return tag("span", text, class_=f"crm-badge {('crm-' + kind) if kind else ''}".strip())


def join(parts: Iterable[Any], sep: str = "、") -> Markup:
    return Markup(escape(sep).join(esc(p) for p in parts))


_HEADS: dict[tuple, str] = {}

# a wrapped table with more rows than this scrolls in a frame of its own
# (crmdocs.css: .crm-tall) under a header that stays in view
TALL_ROWS = 30
# the widest cell, in UTF-8 bytes of its text (a Chinese character is 3), of a
# column that never wraps: 10 Chinese characters, or 30 letters and digits
SHORT_CELL = 30
_TAGS = re.compile(r"<[^>]*>")


def short_columns(rows: Sequence[Sequence[str]], width: int) -> list[int]:
    """The columns (0-based) whose every cell, as HTML, shows at most
    :data:`SHORT_CELL` bytes of text: those are kept on one line."""
    wide: set[int] = set()
    for row in rows:
        for i, html in enumerate(row):
            if i in wide or len(html) <= SHORT_CELL // 3:
                continue
            text = _TAGS.sub("", html) if "<" in html else html
            if len(text) > SHORT_CELL // 3 and len(text.encode()) > SHORT_CELL:
                wide.add(i)
    return [i for i in range(width) if i not in wide]


def table(
    headers: Sequence[Any],
    rows: Iterable[Sequence[Any]],
    *,
    cls: str = "",
    filters: Optional[Sequence[str]] = None,
    search: bool = False,
    empty: str = "（无）",
    row_attrs: Optional[Sequence[dict]] = None,
    compact: bool = False,
    escaped: bool = False,
    wrap: bool = True,
    nowrap: Optional[Sequence[int]] = None,
) -> Markup:
    """An HTML table. ``filters`` (one per column: ``"select"``, ``"text"`` or
    ``""``) turns on the vendored table filter. Tables are left out of the
    search index unless ``search`` (keeps the index small at city scale).

    ``compact`` leaves out the optional end tags ``</td>`` ``</th>`` ``</tr>``
    ``</thead>`` ``</tbody>`` (HTML5: browsers build the same table) — a tenth
    of a city's diary pages.
    Only for pages the search plugin does not parse (``search_entries`` or
    ``search=False``): Material's parser needs every end tag.

    ``escaped``: every cell is already HTML (built with ``_h``), taken as is —
    the hot path of a city's 700,000 diary rows.

    ``wrap=False``: no ``<div class="crm-table-wrap">`` around the table (it
    scrolls sideways itself where the CSS says so: ``.crm-retailer`` tables,
    ~60,000 small tables in a city's archives).

    Columns of short cells (ids, names, dates, figures, classes) never wrap,
    so 客户经理 or 2026-10-22 is not broken over two lines; columns with
    longer text wrap as Chinese text does. ``nowrap`` names those columns
    (0-based); without it they are found from the cells (:func:`short_columns`),
    except in ``escaped`` tables, which then wrap everywhere. A wrapped table of
    more than :data:`TALL_ROWS` rows scrolls in a frame of its own under a
    header that stays in view (its filters too)."""
    rows = list(rows)
    if not rows:
        return Markup(f'<p class="crm-empty">{esc(empty)}</p>')
    classes = ["crm-table", cls] + (["crm-filter"] if filters else [])
    key = (tuple(headers), tuple(map(type, headers)), tuple(filters or ()), compact)  # Markup vs str: not the same head
    head = _HEADS.get(key)
    if head is None:  # the same few heads on a city's 90,000 tables
        cells = []
        for i, h in enumerate(headers):
            f = filters[i] if filters and i < len(filters) else ""
            cells.append(f"<th{attrs(data_filter=f or None)}>{_h(h)}" + ("" if compact else "</th>"))
        head = _HEADS[key] = "".join(cells)
    if not escaped:
        rows = [[_h(c) for c in row] for row in rows]
        if nowrap is None:
            nowrap = short_columns(rows, len(headers))
    body = []
    cell, end = ("<td>", "") if compact else ("</td><td>", "</td></tr>")
    for i, row in enumerate(rows):
        extra = attrs(**row_attrs[i]) if row_attrs else ""
        body.append(f"<tr{extra}><td>" + cell.join(row) + end)
    # on the <table> itself: Material's search parser compares elements by tag
    # name, so an excluded element must not contain one of its own tag
    # (compact tables are on pages search does not parse: no need to say it)
    exclude = ' data-search-exclude="1"' if not search and not compact else ""
    # compact: no </thead> (a <tbody> follows) and no </tbody> (</table> follows)
    short = f' data-nw="{" ".join(str(i + 1) for i in nowrap)}"' if nowrap else ""
    html = (f'<table class="{" ".join(c for c in classes if c)}"{exclude}{short}><thead><tr>{head}'
            + (f"<tbody>{''.join(body)}</table>" if compact else f"</tr></thead><tbody>{''.join(body)}</tbody></table>"))
    if not wrap:
        return Markup(html)
    frame = "crm-table-wrap crm-tall" if len(rows) > TALL_ROWS else "crm-table-wrap"
    return Markup(f'<div class="{frame}">{html}</div>')


class Block(str):
    """A raw HTML block of a page (trusted HTML: built from escaped parts)."""


def label(text: Any, compact: bool = False) -> str:
    """A part's label (基本信息, 档位 …) as escaped HTML. ``compact``: ``<b>``
    instead of ``<p class="crm-label">`` (18 bytes less, eight times in each
    of a city's 20,000 archives): the CSS gives a ``<b>`` directly in an
    archive's section or card the label's block and margins."""
    return f"<b>{_h(text)}</b>" if compact else f'<p class="crm-label">{_h(text)}</p>'


def kv(rows: Iterable[Sequence[Any]], title: str = "", compact: bool = False) -> Markup:
    """Label → value pairs as a definition list (smaller than a table).
    ``compact`` leaves out ``</dt>`` and ``</dd>`` (optional in HTML5), as :func:`table` does,
    and writes the title as a compact :func:`label`."""
    dt_end, end = ("", "") if compact else ("</dt>", "</dd>")
    items = "".join([f"<dt>{_h(k)}{dt_end}<dd>{_h(v)}{end}" for k, v in rows])
    head = label(title, compact) if title else ""
    return Markup(f'<div class="crm-card">{head}<dl class="crm-kv">{items}</dl></div>')


def block(html: Any) -> Block:
    """A raw HTML block for a Markdown page. Python-Markdown passes raw HTML
    blocks through unread; the MkDocs plugin even skips Markdown for them
    (placeholders filled after conversion), which is what keeps big pages fast."""
    text = str(esc(html))
    # a blank line would end the raw block and let Markdown read the rest
    return Block(re.sub(r"\n\s*\n", "\n", text))


class Heading(str):
    """A heading part of a page: its Markdown text (what any Python-Markdown
    renderer reads), plus what a renderer needs to write it as HTML directly:
    ``level``, ``html`` (the escaped text) and ``anchor`` (None: derived from
    the text, as the ``toc`` extension does)."""

    level: int
    html: str
    anchor: Optional[str]


def heading(level: int, text: Any, anchor: Optional[str] = None, *, raw: Optional[str] = None) -> str:
    """A Markdown heading (so it reaches the table of contents and search);
    ``text`` is escaped, ``raw`` is trusted Markdown (ours, not a record's)."""
    body = raw if raw is not None else md(text)
    suffix = f" {{ #{anchor} }}" if anchor else ""
    out = Heading(f"\n\n{'#' * level} {body}{suffix}\n\n")
    out.level, out.anchor = level, anchor
    # raw Markdown cannot be written as HTML without a Markdown parser
    out.html = None if raw is not None else _h(" ".join(("" if text is None else str(text)).split()))
    return out


def fmt_num(value: Optional[float], digits: int = 0) -> str:
    if value is None:
        return "—"
    if digits == 0:
        return f"{round(value):,}"
    return f"{value:,.{digits}f}"


def fmt_pct(value: Optional[float], digits: int = 0) -> str:
    if value is None:
        return "—"
    return f"{value * 100:.{digits}f}%"


class Links:
    """Page paths → relative URLs, the way MkDocs lays pages out.

    Page paths are ``.md`` paths relative to ``docs_dir``. Links inside raw
    HTML are not rewritten by MkDocs, so they are computed here."""

    def __init__(self, use_directory_urls: bool = True):
        self.use_directory_urls = use_directory_urls
        self._cache: dict[tuple[str, str], str] = {}

    def url(self, path: str) -> str:
        """Site-relative URL of a page path (``a/b.md`` → ``a/b/``)."""
        stem = path[:-3] if path.endswith(".md") else path
        if not self.use_directory_urls:
            return stem + ".html"
        if stem == "index":
            return ""
        if stem.endswith("/index"):
            return stem[: -len("index")]
        return stem + "/"

    def _base(self, path: str) -> str:
        here = self.url(path)
        if self.use_directory_urls:
            return here.rstrip("/") or "."
        return posixpath.dirname(here) or "."

    def href(self, from_path: str, to_path: str, anchor: Optional[str] = None) -> str:
        """Relative URL from page ``from_path`` to page ``to_path`` (+ ``#anchor``)."""
        key = (from_path, to_path)
        rel = self._cache.get(key)
        if rel is None:  # pages link to the same few pages thousands of times
            target = self.url(to_path).rstrip("/") or "."
            rel = posixpath.relpath(target, self._base(from_path))
            if self.use_directory_urls:
                rel = "./" if rel == "." else rel + "/"
            self._cache[key] = rel
        return rel + (f"#{anchor}" if anchor else "")

    def asset(self, from_path: str, asset: str) -> str:
        """Relative URL of a static file (``assets/x.js``) from a page."""
        return posixpath.relpath(asset, self._base(from_path))
