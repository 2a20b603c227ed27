"""The offline copy of the report site (`crmdocs build --offline`): opened from
disk (a USB stick, a shared folder) with no web server. Every link and script
of every page must name a file that exists (no directory URLs), search must come
as a script, nothing may be loaded from another host, and the public profile
must hide personal data there too (the search script included).

The demo office is built once per session (``demo_offline_site`` in
conftest.py); the CLI and privacy cases use the mini office. The browser side
(file:// navigation and Chinese search) is in test_browser.py.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from conftest import RETAILER, build_mini_repo, run_cli

ROOT = Path(__file__).resolve().parents[1]
SHIM = "assets/crmdocs/iframe-worker.js"

# every URL-bearing attribute our pages and Material's templates write
_URL = re.compile(r'<(\w+)\b[^>]*?\s(href|src)="([^"]*)"')
_ID = re.compile(r'\sid="([^"]+)"')


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def setup_site(root: Path) -> None:
    import shutil

    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(ROOT / "site", root / "site")


def all_text(site: Path) -> str:
    return "\n".join(
        p.read_text(encoding="utf-8", errors="replace")
        for p in sorted(site.rglob("*")) if p.is_file() and p.suffix in (".html", ".json", ".xml", ".js", ".css")
    )


class Resolver:
    """Resolves a relative URL of a page to a file on disk, the way a browser
    does over file:// (no server turns ``x/`` into ``x/index.html``)."""

    def __init__(self, site: Path) -> None:
        self.site = site.resolve()
        self.ids: dict[Path, set[str]] = {}

    def problem(self, page: Path, url: str) -> str | None:
        target, _, anchor = url.partition("#")
        target = target.partition("?")[0]
        if target == "":
            dest = page.resolve()
        elif target.endswith("/") or target.rsplit("/", 1)[-1] in (".", ".."):
            return "a directory URL (no index.html on disk)"
        else:
            dest = (page.parent / unquote(target)).resolve()
            if not dest.is_relative_to(self.site):
                return "outside the site"
            if not dest.is_file():
                return "no such file"
        if anchor and dest.suffix == ".html":
            if dest not in self.ids:
                self.ids[dest] = set(_ID.findall(read(dest)))
            if unquote(anchor) not in self.ids[dest]:
                return "no such anchor"
        return None


def offline_problems(site: Path) -> tuple[list[str], int]:
    """(every broken or forbidden URL of every page, how many were checked)."""
    resolver = Resolver(site)
    problems, checked = [], 0
    for path in html_files(site):
        where = path.relative_to(site).as_posix()
        for tag, attr, url in _URL.findall(read(path)):
            if re.match(r"^[a-z][a-z0-9+.-]*:", url, re.I):
                # a reader may follow an outside link (Material's footer);
                # the page itself must not load anything from elsewhere
                if tag != "a" and not url.startswith("data:"):
                    problems.append(f"{where}: <{tag} {attr}> loads {url}")
                continue
            if url.startswith("/"):
                problems.append(f"{where}: {url} (absolute: the drive's root on disk)")
                continue
            checked += 1
            why = resolver.problem(path, url)
            if why:
                problems.append(f"{where}: {url} ({why})")
    return problems, checked


def index_script(site: Path) -> dict:
    text = read(site / "search" / "search_index.js")
    prefix = "var __index = "
    assert text.startswith(prefix)
    return json.loads(text[len(prefix):])


# ---------------------------------------------------------------- the demo office


def test_every_link_and_script_resolves_to_a_file(demo_offline_site):
    problems, checked = offline_problems(demo_offline_site)
    assert checked > 10_000  # pages, tabs, retailer archives, managers, downloads, charts, assets
    assert not problems, "\n".join(problems[:20])


def test_pages_end_in_html_and_areas_are_there(demo_offline_site):
    site = demo_offline_site
    for rel in ("index.html", "managers/index.html", "retailers/index.html", "diaries/index.html",
                "rules.html", "guide/index.html", "guide/publish.html", "workflow.html"):
        assert (site / rel).is_file(), rel
    managers = [p for p in (site / "managers").glob("cm-*.html")]
    assert managers and all(p.is_file() for p in managers)
    assert not list((site / "managers").glob("cm-*/index.html"))  # no directory-URL layout left over
    home = read(site / "index.html")
    assert 'href="managers/index.html"' in home and 'href="managers/"' not in home


def test_downloads_charts_and_archives_are_linked_as_files(demo_offline_site):
    site = demo_offline_site
    text = "\n".join(read(p) for p in html_files(site))
    assert re.search(r'href="(\.\./)*downloads/[^"]+\.xlsx" download', text), "spreadsheet links"
    assert re.search(r'<svg .*<a href="[^"]+\.html(#[^"]*)?"><text', text), "chart bars link to pages"
    assert re.search(r'href="(\.\./)*retailers/[^"/]+/[^"/]+\.html#r-\d+"', text), "retailer archive anchors"


def test_search_comes_as_a_script_and_the_index_once(demo_offline_site, demo_site):
    site = demo_offline_site
    data = index_script(site)
    assert len(data["docs"]) == len(json.loads(read(demo_site / "search" / "search_index.json"))["docs"])
    # on file:// Material's search reads only the script: the .json beside it was the index twice (13 MB at city)
    assert not (site / "search" / "search_index.json").exists()
    raw = read(site / "search" / "search_index.js")
    assert "超市" in raw and not re.search(r"\\u[4-9][0-9a-f]{3}", raw)  # UTF-8, not \u escapes (half the size)


def test_search_results_point_at_files(demo_offline_site):
    site = demo_offline_site
    resolver = Resolver(site)
    docs = index_script(site)["docs"]
    assert len(docs) > 100
    bad = [d["location"] for d in docs if resolver.problem(site / "index.html", d["location"] or "index.html")]
    assert not bad, bad[:10]


def test_pages_load_the_worker_shim_shipped_with_the_site(demo_offline_site):
    site = demo_offline_site
    assert "location.protocol===\"file:\"" in read(site / SHIM)
    for path in (site / "index.html", next((site / "managers").glob("cm-*.html"))):
        rel = Path(*[".."] * (len(path.relative_to(site).parts) - 1), SHIM).as_posix()
        assert f'<script src="{rel}"></script>' in read(path), path
    assert not [p for p in html_files(site) if "unpkg" in read(p)]  # Material's offline plugin names a CDN copy


def test_no_404_page_whose_links_point_at_the_drive_root(demo_offline_site):
    assert not (demo_offline_site / "404.html").exists()


def test_hosted_build_is_not_the_offline_one(demo_site):
    """The default build keeps directory URLs, its 404 page, one index file."""
    home = read(demo_site / "index.html")
    assert 'href="managers/"' in home
    assert (demo_site / "404.html").is_file()
    assert not (demo_site / "search" / "search_index.js").exists()
    assert not (demo_site / SHIM).exists()
    assert "iframe-worker" not in home


# ---------------------------------------------------------------- the command, privacy


@pytest.fixture
def office(tmp_path) -> Path:
    from conftest import MiniRepo

    root = build_mini_repo(tmp_path / "repo")
    setup_site(root)
    mini = MiniRepo(root)
    mini.edit(RETAILER, lambda d: d["personal"].update(
        id_number="110101199003074514", birthday="1990-03-07", care_group="disabled"))
    return root


PERSONAL = ("13812345678", "110101199003074514", "1990-03-07", "残疾人")


def test_offline_flag_builds_a_public_copy_of_its_own(office):
    code, out = run_cli("--root", str(office), "build", "--offline")
    assert code == 0, out
    site = office / "build" / "site-offline"
    assert "双击" in out and str(site / "index.html") in out
    assert not (office / "build" / "site").exists()  # the hosted site's folder is left alone
    assert (site / "retailers" / "d-east" / "cm-li.html").is_file()
    problems, _ = offline_problems(site)
    assert not problems, "\n".join(problems[:20])
    # public: masked in the pages and in the search script
    assert (site / "search" / "search_index.js").is_file()
    kb = (site / "search" / "search_index.js").stat().st_size // 1024
    assert f"搜索索引 {kb} KB" in out  # the script's size: without the .json it said 搜索索引 0 KB
    everything = all_text(site)
    for value in PERSONAL:
        assert value not in everything, value
    assert "张三" not in read(site / "retailers" / "d-east" / "cm-li.html")


def test_internal_offline_copy_goes_to_its_own_folder(office):
    code, out = run_cli("--root", str(office), "build", "--profile", "internal", "--offline", "--quiet")
    assert code == 0, out
    site = office / "build" / "site-internal-offline"
    text = read(site / "retailers" / "d-east" / "cm-li.html")
    for value in PERSONAL + ("张三",):
        assert value in text, value
    assert (site / "search" / "search_index.js").is_file()


def test_environment_variable_turns_the_offline_build_on_for_mkdocs(office, tmp_path, monkeypatch):
    """`CRMDOCS_OFFLINE=true mkdocs build` gives the same kind of copy."""
    from crmdocs.scripts.commands.build import build_site

    monkeypatch.setenv("CRMDOCS_OFFLINE", "true")
    site = build_site(office, site_dir=tmp_path / "out")
    assert (site / "search" / "search_index.js").is_file()
    assert (site / "managers" / "cm-li.html").is_file()


def test_offline_without_the_plugin_in_mkdocs_yml_is_a_clear_error(office):
    config = office / "mkdocs.yml"
    text = read(config)
    config.write_text(re.sub(r"  - offline:.*\n.*\n", "", text), encoding="utf-8")
    assert "offline" not in read(config).split("plugins:", 1)[1].split("markdown_extensions", 1)[0]
    code, out = run_cli("--root", str(office), "build", "--offline", "--quiet")
    assert code != 0
    assert "offline" in out and "mkdocs.yml" in out and "Traceback" not in out


def test_build_log_says_which_pages_it_counts(office):
    # the plugin's count (pages made from the records) and the closing line's (every HTML file)
    # differ by the hand-written pages and 404.html: it said 生成 90 个页面 … 97 个页面
    code, out = run_cli("--root", str(office), "build")
    assert code == 0, out
    site = office / "build" / "site"
    made = int(re.search(r"由记录生成 (\d+) 个页面", out).group(1))
    total = int(re.search(r"网页共 (\d+) 个，含手写的说明页和 404 页", out).group(1))
    html = sorted(p.relative_to(site).as_posix() for p in site.rglob("*.html"))
    hand = len(list((office / "site").rglob("*.md")))
    assert total == len(html) == made + hand + 1, (made, hand, total)
    code, out = run_cli("--root", str(office), "build", "--offline")
    assert code == 0, out
    assert re.search(r"网页共 \d+ 个，含手写的说明页；", out)  # no 404 page offline


def test_a_repository_without_the_hand_written_pages_folder_is_told_what_to_do(tmp_path):
    # an office that copied mkdocs.yml but not site/ got MkDocs' English "Config value 'docs_dir': …"
    import shutil

    root = build_mini_repo(tmp_path / "repo")
    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    code, out = run_cli("--root", str(root), "build")
    assert code == 1, out
    assert "docs_dir（手写页面目录，默认 site/）不存在" in out and "Traceback" not in out
