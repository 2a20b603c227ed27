"""The site offers each table's spreadsheet next to it: the same file
`crmdocs export` writes, linked from the page that shows the table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from conftest import run_cli

ROOT = Path(__file__).resolve().parents[1]

PAGES = {  # page of the table → the exports linked there
    "managers/index.html": ("appraisals", "overdue-visits"),
    "complaints/index.html": ("complaints",),
    "abnormal/index.html": ("abnormal",),
    "tiers/index.html": ("tiers",),
}


def _links(page: Path) -> list[str]:
    return re.findall(r'<p class="crm-downloads">.*?</p>', page.read_text(encoding="utf-8"))


@pytest.mark.parametrize("page, exports", sorted(PAGES.items()))
def test_each_table_page_links_its_spreadsheet_and_the_file_is_there(demo_site, page, exports):
    found = _links(demo_site / page)
    assert len(found) == 1, f"{page}: no 下载表格 line"
    hrefs = re.findall(r'href="([^"]+)"', found[0])
    assert [re.sub(r"-\d{4}-\d{2}\.xlsx$", "", Path(h).name) for h in hrefs] == list(exports)
    for href in hrefs:
        target = (demo_site / page).parent / href
        assert target.resolve().is_file(), f"{page} links {href}, which the build did not write"
        assert target.read_bytes()[:2] == b"PK"  # an .xlsx is a zip


def test_the_downloaded_file_is_what_crmdocs_export_writes(demo_site, tmp_path):
    site_file = next((demo_site / "downloads").glob("appraisals-*.xlsx"))
    period = site_file.stem.removeprefix("appraisals-")
    out = tmp_path / "a.xlsx"
    code, text = run_cli("--root", str(ROOT), "export", "appraisals", "--period", period, "--out", str(out))
    assert code == 0, text
    assert out.read_bytes() == site_file.read_bytes()
