"""Spreadsheets offered for download next to the site's tables.

The files are the very ones ``crmdocs export`` writes (the same table
functions in :mod:`crmdocs.scripts.spreadsheet_export`), for each export's
latest period. Plain functions; no MkDocs here.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, Optional

from crmdocs.scripts.spreadsheet_export import EXPORTS, default_period, download_path, export_files

from .render import Markup, block, link
from .sitedata import SiteData


def _view(data: SiteData) -> Optional[Any]:
    """The computed results in the shape the export functions read."""
    if data.computed is None or data.as_of is None:
        return None
    return SimpleNamespace(records=data.computed, ctx=SimpleNamespace(as_of=data.as_of))


def files(data: SiteData) -> dict[str, bytes]:
    """Site path → .xlsx bytes, made once per build (cached on ``data``)."""
    cached = getattr(data, "_downloads", None)
    if cached is None:
        view = _view(data)
        cached = export_files(data.repo, view, latest_only=True) if view is not None and data.downloads else {}
        data._downloads = cached  # type: ignore[attr-defined]
    return cached


def links(data: SiteData, here: str, *whats: str) -> list[Any]:
    """A "下载表格" line for page ``here`` naming each export's latest file;
    nothing when the rules were not run or downloads are off."""
    available = files(data)
    view = _view(data)
    parts = []
    for what in whats:
        if view is None:
            break
        path = download_path(what, default_period(view, what))
        if path in available:
            title = f"{EXPORTS[what].title} {default_period(view, what)}（Excel）"
            parts.append(link(data.links.asset(here, path), title, download=True))
    if not parts:
        return []
    line = Markup("、").join(parts)
    return [block(Markup('<p class="crm-downloads">下载表格：') + line + Markup("</p>"))]

