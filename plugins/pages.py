"""All generated pages of the report site, and the navigation built for readers.

``generate(data)`` returns :class:`Page` objects (a path under ``docs_dir``
and Markdown content); ``navigation(pages, hand_written)`` returns an MkDocs
style ``nav`` list. No MkDocs import: another renderer can take the same
pages.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Callable, Optional

from .render import Block, Heading
from .sitedata import SiteData


@dataclass
class Page:
    path: str  # relative to docs_dir, e.g. "managers/cm-li.md"
    title: str
    body: list[str]  # parts: Markdown text, or raw HTML Blocks (render.block)
    section: str = ""  # nav section it belongs to ("" = top level)
    in_nav: bool = True
    search: bool = True  # False: left out of the search index
    hide: tuple[str, ...] = ()  # Material: navigation, toc
    order: int = 0  # position inside its section
    # what search should index, given directly: (anchor, title, text) in plain
    # text. A renderer may index these instead of parsing the page (parsing a
    # city's big pages dominates the build); None = parse the page.
    search_entries: Optional[list[tuple[str, str, str]]] = None

    @property
    def front_matter(self) -> str:
        return self._front_matter(direct_search=False)

    def _front_matter(self, direct_search: bool) -> str:
        meta: dict = {"title": _plain(self.title)}
        if not self.search or (direct_search and self.search_entries is not None):
            meta["search"] = {"exclude": True}
        hide = self.hide if self.has_toc() or "toc" in self.hide else (*self.hide, "toc")
        if hide:
            meta["hide"] = list(hide)
        # JSON is YAML: values are quoted safely whatever the title holds
        front = "\n".join(f"{k}: {json.dumps(v, ensure_ascii=False)}" for k, v in meta.items())
        return f"---\n{front}\n---\n\n"

    def has_toc(self) -> bool:
        """Whether the page has a heading below its title: without one,
        Material's table of contents would be an empty column, and the page's
        tables get that width instead."""
        for part in self.body:
            if isinstance(part, Heading):
                if part.level >= 2:
                    return True
            elif not isinstance(part, Block) and re.search(r"(?m)^##", part):
                return True
        return False

    @property
    def content(self) -> str:
        """The whole page as Markdown (raw HTML blocks inline)."""
        return self.front_matter + "".join(f"\n\n{p}\n\n" if isinstance(p, Block) else p for p in self.body).strip() + "\n"

    def with_placeholders(self, token: str, direct_search: bool = False) -> tuple[str, list[str]]:
        """Markdown where each raw HTML block is a paragraph ``token-N``, and the
        blocks: a renderer converts the small Markdown, then puts the blocks
        back (``<p>token-N</p>`` → block N) without parsing them. With
        ``direct_search`` a page that has ``search_entries`` is marked for the
        search plugin to skip (the renderer adds the entries itself)."""
        blocks: list[str] = []
        out = []
        for part in self.body:
            if isinstance(part, Block):
                out.append(f"\n\n{token}-{len(blocks)}\n\n")
                blocks.append(str(part))
            else:
                out.append(part)
        return self._front_matter(direct_search) + "".join(out).strip() + "\n", blocks


    def html_parts(self) -> Optional[list]:
        """The body as parts a renderer can write without Markdown: HTML
        strings (the blocks) and :class:`Heading` objects; None when some part
        is Markdown text (then the page must go through Markdown)."""
        for part in self.body:
            if not isinstance(part, Block) and not (isinstance(part, Heading) and part.html is not None):
                return None
        return self.body


def _plain(title: str) -> str:
    """A title for <title> and the nav: no markup characters at all."""
    return "".join(ch for ch in title if ch not in "<>&\"'`").strip() or "—"


SECTIONS: tuple[tuple[str, str], ...] = (
    ("", "首页"),
    ("managers", "客户经理"),
    ("retailers", "零售户"),
    ("diaries", "日记与批阅"),
    ("market", "市场信息"),
    ("complaints", "客户投诉"),
    ("abnormal", "异常订单"),
    ("tiers", "档位公示"),
    ("rules", "制度与规则"),
    ("guide", "使用帮助"),
)


def generate(data: SiteData, jobs: int = 1) -> list[Page]:
    """Every page. With ``jobs`` > 1 the diary pages (a city's biggest share)
    are made in a forked process while this one makes the others (when a
    core is idle); the pages
    come back pickled, the same objects in the same order. Anything going
    wrong there: they are made here instead."""
    from . import pages_dashboard, pages_diaries, pages_managers, pages_retailers, pages_rules, pages_service

    worker = _Fork(lambda: pages_diaries.pages(data)) if jobs > 1 else None
    pages: list[Page] = []
    pages += pages_dashboard.pages(data)
    pages += pages_managers.pages(data)
    pages += pages_retailers.pages(data)
    diaries = worker.result() if worker is not None else None
    pages += diaries if diaries is not None else pages_diaries.pages(data)
    pages += pages_service.pages(data)
    pages += pages_rules.pages(data)
    return pages


def _idle_core(read: Optional[Callable[[], str]] = None, cores: Optional[int] = None) -> bool:
    """Whether a CPU core is idle now: a second process only pays when it
    runs beside this one, else it costs copying and pickling for nothing.

    Linux: fewer tasks running than cores, this one included (the running
    count of ``/proc/loadavg``, the lowest of three looks 5 ms apart, so a
    passing task does not count). Not the 1-minute load average: right after
    the records were loaded on every core it stays high for a minute with
    nothing else running, and the pages were then made in one process (a
    city: 15.5 s instead of 12.5). Elsewhere: that average a core below the count."""
    import os
    import time

    if cores is None:
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    if read is None:
        def read() -> str:
            with open("/proc/loadavg", encoding="ascii") as fh:
                return fh.read()
    try:
        running = []
        for look in range(3):
            if look:
                time.sleep(0.005)
            running.append(int(read().split()[3].partition("/")[0]))
        return min(running) <= cores - 1
    except (OSError, ValueError, IndexError):
        try:
            return os.getloadavg()[0] <= cores - 1
        except (AttributeError, OSError):
            return False


class _Fork:
    """``fn()`` computed in a forked child, its result pickled back through a
    pipe; ``result()`` is None when forking is not possible or not worth it
    (no fork, other threads running as in ``mkdocs serve``, no idle core) or
    the child failed."""

    def __init__(self, fn) -> None:
        import os
        import threading

        self.pid = None
        if not hasattr(os, "fork") or threading.active_count() > 1 or not _idle_core():
            return
        read, write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            os.close(read)
            os.close(write)
            return
        if pid == 0:  # the child: compute, send, leave without running the parent's exit code
            status = 1
            try:
                os.close(read)
                import pickle

                payload = pickle.dumps(fn(), protocol=pickle.HIGHEST_PROTOCOL)
                with os.fdopen(write, "wb") as out:
                    out.write(payload)
                status = 0
            finally:
                os._exit(status)
        os.close(write)
        self.pid, self.read = pid, read

    def result(self):
        import os
        import pickle

        if self.pid is None:
            return None
        with os.fdopen(self.read, "rb") as pipe:
            payload = pipe.read()
        _, status = os.waitpid(self.pid, 0)
        if status != 0 or not payload:
            return None
        try:
            return pickle.loads(payload)
        except Exception:  # noqa: BLE001 - a broken payload: make the pages here
            return None


def navigation(pages: list[Page], hand_written: list[str]) -> list:
    """MkDocs ``nav``: one section per area, its index page first (Material's
    ``navigation.indexes``); pages with ``in_nav=False`` are reached by links.
    ``hand_written``: the other Markdown files of docs_dir, under 使用帮助."""
    by_section: dict[str, list[Page]] = {}
    for p in pages:
        if p.in_nav:
            by_section.setdefault(p.section, []).append(p)
    nav: list = []
    for key, label in SECTIONS:
        if key == "guide":
            if hand_written:
                nav.append({label: sorted(hand_written, key=lambda p: (p.count("/"), p != "guide/index.md", p))})
            continue
        items = sorted(by_section.get(key, []), key=lambda p: (p.order, p.path))
        if not items:
            continue
        if key == "" or (len(items) == 1 and not items[0].path.endswith("index.md")):
            nav.extend({_plain(p.title): p.path} for p in items)
            continue
        entries: list = []
        for p in items:
            entries.append(p.path if p.path.endswith("index.md") and p.path.count("/") == 1 else {_plain(p.title): p.path})
        nav.append({label: entries})
    return nav
