"""The report site: the demo office builds with --strict, pages link where they
say, Chinese search finds things, public builds hold no personal data, record
text is escaped, and a record that fails validation fails the build.

The demo office is built once per session (``demo_site`` in conftest.py);
small repositories are built in tmp_path for the failure and escaping cases.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import pytest

from conftest import DIARY, RETAILER, build_mini_repo, run_cli

ROOT = Path(__file__).resolve().parents[1]


# ---------------------------------------------------------------- helpers


def html_files(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def page(site: Path, url: str) -> str:
    if not (site / url / "index.html").is_file() and (site / f"{url}.html").is_file():
        return read(site / f"{url}.html")  # an offline build (no directory URLs)
    return read(site / url / "index.html")


def all_text(site: Path) -> str:
    """Every text file of the built site (HTML, JSON, XML, JS, CSS)."""
    parts = []
    for p in sorted(site.rglob("*")):
        if p.is_file() and p.suffix in (".html", ".json", ".xml", ".js", ".css", ".txt"):
            parts.append(p.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(parts)


def search_docs(site: Path) -> list[dict]:
    index = site / "search" / "search_index.json"
    if not index.is_file():  # an offline build carries the index once, as a script
        return json.loads(read(site / "search" / "search_index.js").removeprefix("var __index = "))["docs"]
    return json.loads(read(index))["docs"]


def demo_records():
    from crmdocs.scripts.repository import load

    repo, _ = load(ROOT)
    return repo


def setup_site(root: Path) -> None:
    """Give a tmp repository this project's mkdocs.yml and hand-written pages."""
    import shutil

    shutil.copy(ROOT / "mkdocs.yml", root / "mkdocs.yml")
    shutil.copytree(ROOT / "site", root / "site")


def build(root: Path, out: Path, profile: str = "public", strict: bool = True) -> Path:
    from crmdocs.scripts.commands.build import build_site

    return build_site(root, profile=profile, strict=strict, site_dir=out)


# ---------------------------------------------------------------- the demo office


def test_demo_builds_every_area(demo_site):
    repo = demo_records()
    for url in ("", "managers", "retailers", "diaries", "market", "complaints", "abnormal", "tiers", "rules", "guide",
                "guide/plan-and-diary", "guide/pull-request"):
        assert (demo_site / url / "index.html").is_file(), url
    for pid, person in repo.people.items():
        if person.role.value == "customer_manager":
            assert (demo_site / "managers" / pid / "index.html").is_file()
    for (mid, day) in repo.diaries:
        assert (demo_site / "diaries" / mid / f"{day:%Y-%m}" / "index.html").is_file()


def test_page_count_grows_with_groups_not_records(demo_site):
    repo = demo_records()
    pages = len(html_files(demo_site))
    # one page per territory and per manager-month, not per retailer or diary
    assert pages < len(repo.retailers) / 5
    assert pages < len(repo.diaries) / 3


def test_every_retailer_has_an_anchor_on_its_territory_page(demo_site):
    repo = demo_records()
    for rid, r in repo.retailers.items():
        text = page(demo_site, f"retailers/{r.management.department}/{r.management.manager}")
        assert f'id="{rid}"' in text, rid


def test_internal_links_resolve(demo_site):
    """Every relative link of every page points at a page (and anchor) that exists."""
    broken = broken_links(demo_site)
    assert not broken, "\n".join(broken[:20])


def test_links_resolve_without_directory_urls(tmp_path):
    root = build_mini_repo(tmp_path / "repo")
    setup_site(root)
    config = root / "mkdocs.yml"
    config.write_text(config.read_text(encoding="utf-8").replace("use_directory_urls: true", "use_directory_urls: false"), encoding="utf-8")
    site = build(root, tmp_path / "out", strict=False)
    assert (site / "retailers" / "d-east" / "cm-li.html").is_file()
    broken = broken_links(site)
    assert not broken, "\n".join(broken[:20])


def broken_links(site: Path) -> list[str]:
    ids_cache: dict[Path, set[str]] = {}
    broken = []
    for path in html_files(site):
        if path.name == "404.html":  # absolute links by design (served at any depth)
            continue
        text = read(path)
        for href in re.findall(r'href="([^"]+)"', text):
            if re.match(r"^[a-z]+:", href) or href.startswith(("#", "/")):
                continue
            target, _, anchor = href.partition("#")
            dest = (path.parent / unquote(target)).resolve()
            if dest.is_dir():
                dest = dest / "index.html"
            if not dest.exists():
                broken.append(f"{path.relative_to(site)}: {href}")
                continue
            if anchor and dest.suffix == ".html":
                if dest not in ids_cache:
                    ids_cache[dest] = set(re.findall(r'id="([^"]+)"', read(dest)))
                if anchor not in ids_cache[dest]:
                    broken.append(f"{path.relative_to(site)}: {href} (no anchor)")
    return broken


def test_every_block_placeholder_was_filled(demo_site):
    leftovers = [p.relative_to(demo_site).as_posix() for p in html_files(demo_site) if "CRMBLOCK" in read(p)]
    assert not leftovers, leftovers[:5]


def test_dashboard_figures_link_to_their_pages(demo_site):
    text = page(demo_site, "")
    for target in ("retailers/", "managers/", "diaries/", "complaints/", "abnormal/", "market/"):
        assert re.search(rf'class="crm-kpi" href="{re.escape(target)}', text), target
    assert "数据截至" in text


def test_dashboard_states_the_commit(demo_site):
    if subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True).returncode != 0:
        pytest.skip("not a git checkout")
    m = re.search(r"版本 ([0-9a-f]{10})", page(demo_site, ""))
    assert m, "the dashboard does not state the commit"
    assert subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", m.group(1) + "^{commit}"]).returncode == 0


def test_no_request_leaves_the_site(demo_site):
    offenders = []
    for path in html_files(demo_site):
        text = read(path)
        for m in re.finditer(r'<(?:script|link|img|iframe|source)\b[^>]*(?:src|href)="((?:https?:)?//[^"]+)"', text):
            offenders.append(f"{path.relative_to(demo_site)}: {m.group(1)}")
        assert "fonts.googleapis" not in text and "fonts.gstatic" not in text
    assert not offenders, offenders[:5]


def test_manager_page_shows_appraisal_chart_and_grade(demo_site):
    repo = demo_records()
    mid = sorted(p for p, x in repo.people.items() if x.role.value == "customer_manager")[0]
    text = page(demo_site, f"managers/{mid}")
    assert "等级建议" in text and "考核" in text
    if "尚未计算" not in text.split('id="appraisal"')[1][:600]:
        assert "<svg" in text and "Noto Sans CJK SC" in text
        assert "月度考核得分" in text


def test_charts_are_inline_svg_with_chinese_labels(demo_site):
    text = page(demo_site, "retailers")
    svg = re.search(r'<svg[^>]*class="crm-svg".*?</svg>', text, re.S).group(0)
    assert "font-family" in svg and "客户服务部" in text
    assert "<script" not in svg


def test_unreviewed_diaries_stand_out(demo_site):
    repo = demo_records()
    unreviewed = [d for d in repo.diaries.values() if d.review is None]
    if not unreviewed:
        pytest.skip("every demo diary is reviewed")
    d = unreviewed[0]
    text = page(demo_site, f"diaries/{d.manager}/{d.date:%Y-%m}")
    section = text.split(f'id="d-{d.date.isoformat()}"')[1]
    assert "crm-unreviewed" in section[:3000] and "未批阅" in section[:3000]


def test_rules_page_shows_the_policy_numbers(demo_site):
    repo = demo_records()
    p = repo.policy_or_default
    text = page(demo_site, "rules")
    assert f"最多 {p.visits.plan_max} 户" in text
    for step in p.classes.rule.classes:
        assert step.name in text
    assert f"{p.appraisal.information_target} 条" in text
    # the step limit's exception, which the archives' class history shows (D 类 → A 类 after a month without orders)
    assert "上次统计期没有订购的不受此限" in text


def test_tier_list_and_abnormal_pages_render(demo_site):
    assert "档位公示" in page(demo_site, "tiers")
    assert "异常订单" in page(demo_site, "abnormal")
    complaints = page(demo_site, "complaints")
    assert "超期未办结" in complaints and "已办结" in complaints


# ---------------------------------------------------------------- search


def test_search_finds_a_chinese_word(demo_site):
    docs = search_docs(demo_site)
    hits = [d for d in docs if "\u200b超市\u200b" in f"\u200b{d['title']}\u200b{d['text']}\u200b"]
    assert hits, "超市 is not a segmented token anywhere in the index"


def test_search_finds_a_shop_by_name(demo_site):
    repo = demo_records()
    r = repo.retailers[sorted(repo.retailers)[0]]
    docs = search_docs(demo_site)
    hit = [d for d in docs if d["location"].endswith(f"#{r.id}")]
    assert hit and r.basic.shop_name == hit[0]["title"].replace("\u200b", "").split("（")[0]


def test_search_finds_words_of_a_diary(demo_site):
    """Diaries are indexed by review and market information (search_diaries: summary)."""
    repo = demo_records()
    diary = next(d for d in repo.diaries.values() if d.market_info)
    words = diary.market_info[0].content
    docs = [d for d in search_docs(demo_site) if d["location"].endswith(f"#d-{diary.date.isoformat()}")
            and f"/{diary.manager}/" in d["location"]]
    assert docs and words in docs[0]["text"].replace("\u200b", "")


def test_search_index_stays_small(demo_site):
    size = (demo_site / "search" / "search_index.json").stat().st_size
    repo = demo_records()
    # per record, not per character of every table: ~0.3 KB a retailer, ~1 KB a diary at most
    assert size < 300 * len(repo.retailers) + 1000 * len(repo.diaries)
    raw = read(demo_site / "search" / "search_index.json")
    assert "超市" in raw and not re.search(r"\\u[4-9][0-9a-f]{3}", raw)  # UTF-8, not \u escapes


# ---------------------------------------------------------------- privacy


@pytest.fixture(params=["demo_site", "demo_offline_site"])
def public_site(request) -> Path:
    """The demo's public build, hosted and offline (whose search index is search_index.js)."""
    return request.getfixturevalue(request.param)


def test_public_build_holds_no_personal_data(public_site):
    demo_site = public_site
    repo = demo_records()
    text = all_text(demo_site)
    mask_names = repo.policy_or_default.privacy.mask_owner_names
    dates = {str(d) for r in repo.retailers.values() for d in (r.basic.opened, r.basic.licence_expiry)}
    staff = sorted((p.name for p in repo.people.values()), key=len, reverse=True)
    leaks = []
    sections: dict[str, str] = {}
    for r in repo.retailers.values():
        p = r.personal
        if p.phone and p.phone in text:
            leaks.append(f"{r.id} phone {p.phone}")
        if p.id_number and p.id_number in text:
            leaks.append(f"{r.id} id number")
        if p.birthday:
            for form in (p.birthday.isoformat(), f"{p.birthday.year}年{p.birthday.month}月{p.birthday.day}日"):
                if form in text and form not in dates:
                    leaks.append(f"{r.id} birthday {form}")
        if mask_names:
            # a two-character name is a substring of many words: look in the retailer's own archive
            url = f"retailers/{r.management.department}/{r.management.manager}"
            if url not in sections:
                sections[url] = page(demo_site, url)
            own = sections[url].split(f'id="{r.id}"', 1)[1].split('<h2 id="r-', 1)[0]
            for allowed in (r.basic.shop_name, r.basic.address, *staff):
                own = own.replace(allowed, "")
            if p.owner_name in own:
                leaks.append(f"{r.id} owner {p.owner_name}")
    assert not leaks, leaks[:10]
    # care groups: the territory pages say once that personal fields are hidden
    # (not under each archive), and no card shows the field with a value
    assert mask_names  # the demo's policy: every personal field hidden
    assert "公开版：各户的个人信息（负责人、联系电话、生日、身份证号、关爱群体）已隐藏。" in text
    assert "<b>个人信息</b>" not in text and '<p class="crm-label">个人信息</p>' not in text  # no personal card
    assert not re.search(r"关爱群体(</dt>)?<dd>(?!（已隐藏）)", text)
    assert "五保户" not in text and "烈士家属" not in text


def test_public_search_index_holds_no_personal_data(public_site):
    repo = demo_records()
    index = json.dumps(search_docs(public_site), ensure_ascii=False).replace("\u200b", "")
    for r in repo.retailers.values():
        if r.personal.phone:
            assert r.personal.phone not in index
        if r.personal.id_number:
            assert r.personal.id_number not in index


def test_internal_profile_shows_personal_data(mini, tmp_path):
    """Internal builds show what public ones hide (pages of the mini office)."""
    setup_site(mini.root)
    mini.edit(RETAILER, lambda d: d["personal"].update(id_number="110101199003074514", birthday="1990-03-07", care_group="disabled"))
    site = build(mini.root, tmp_path / "internal", profile="internal", strict=False)
    text = page(site, "retailers/d-east/cm-li")
    for value in ("13812345678", "张三", "110101199003074514", "1990-03-07", "残疾人"):
        assert value in text, value
    assert "内部版" in page(site, "")
    public = build(mini.root, tmp_path / "public", profile="public", strict=False)
    everything = all_text(public)
    for value in ("13812345678", "110101199003074514", "1990-03-07", "残疾人"):
        assert value not in everything, value
    assert "张三" not in page(public, "retailers/d-east/cm-li")


# ---------------------------------------------------------------- small repositories


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Path:
    """A mini office whose records try to inject markup and script."""
    from crmdocs.scripts import yamlwrite  # noqa: F401  (the writer quotes what needs quoting)
    from conftest import valid_records

    root = tmp_path_factory.mktemp("hostile")
    records = valid_records()
    diary = records[DIARY]
    diary["business_analysis"] = "<script>alert('xss')</script> 注意"
    diary["market_analysis"] = "[点我](javascript:alert(1)) **粗体** <img src=x onerror=alert(2)>"
    diary["visits"][0]["opinions"] = '"><svg onload=alert(3)>'
    diary["market_info"][0]["content"] = "<iframe src=//evil.example></iframe>"
    diary["review"]["comment"] = "</article><script>alert(4)</script>"
    records[RETAILER]["basic"]["shop_name"] = "<b>坏</b>店 [x](javascript:alert(5)) {#evil}"
    build_mini_repo(root, records)
    setup_site(root)
    return build(root, tmp_path_factory.mktemp("hostile-site"))


def test_record_text_is_escaped(hostile_site):
    text = "\n".join(read(p) for p in html_files(hostile_site))
    assert "<script>alert" not in text
    assert "<img src=x" not in text and "<svg onload" not in text and "<iframe src=//evil" not in text
    assert 'href="javascript:' not in text.lower()
    assert "<b>坏</b>" not in text
    assert "&lt;script&gt;alert" in text  # shown as text
    assert "javascript:alert(1)" in text  # the words are there, as text


def test_search_index_escapes_record_text(hostile_site):
    """The search UI inserts titles and texts as HTML: they must be escaped there too."""
    docs = search_docs(hostile_site)
    raw = json.dumps(docs, ensure_ascii=False).replace("\u200b", "")
    assert "<b>" not in raw and "<script>" not in raw and "<iframe" not in raw
    shop = next(d for d in docs if d["location"].endswith("#r-0001"))
    assert "&lt;b&gt;" in shop["title"].replace("\u200b", "")


def test_hostile_shop_name_keeps_its_anchor(hostile_site):
    text = page(hostile_site, "retailers/d-east/cm-li")
    assert 'id="r-0001"' in text and 'id="evil"' not in text


def test_invalid_record_fails_the_build_with_the_validators_message(tmp_path):
    from crmdocs.scripts.diagnostics import CrmdocsError

    root = build_mini_repo(tmp_path / "repo")
    setup_site(root)
    path = root / "records" / RETAILER
    path.write_text(path.read_text(encoding="utf-8").replace("network: urban", "network: city"), encoding="utf-8")
    with pytest.raises(CrmdocsError) as info:
        build(root, tmp_path / "out")
    message = str(info.value)
    assert f"records/{RETAILER}:" in message and "basic.network" in message
    assert not (tmp_path / "out" / "index.html").exists()


def test_build_command_exit_code_and_message(tmp_path):
    root = build_mini_repo(tmp_path / "repo")
    setup_site(root)
    def files() -> list[str]:  # the validation caches (.cache/, git-ignored) may be written
        return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if not {".git", ".cache"} & set(p.parts))

    before = files()
    code, out = run_cli("--root", str(root), "build", "--site-dir", str(tmp_path / "ok"), "--quiet")
    assert code == 0, out
    assert (tmp_path / "ok" / "index.html").is_file()
    assert files() == before  # pages are generated in memory: nothing written into site/ or records/
    (root / "records" / DIARY).write_text("manager: cm-li\ndate: 2026-09-01\n", encoding="utf-8")
    code, out = run_cli("--root", str(root), "build", "--site-dir", str(tmp_path / "bad"))
    assert code == 1
    assert f"records/{DIARY}" in out and "Traceback" not in out


def test_internal_build_goes_elsewhere_than_the_public_site(tmp_path):
    root = build_mini_repo(tmp_path / "repo")
    setup_site(root)
    code, out = run_cli("--root", str(root), "build", "--profile", "internal", "--quiet")
    assert code == 0, out
    assert (root / "build" / "site-internal" / "index.html").is_file()
    assert not (root / "build" / "site").exists()
    assert "13812345678" in page(root / "build" / "site-internal", "retailers/d-east/cm-li")


def test_build_without_mkdocs_yml_is_a_clear_error(tmp_path):
    root = build_mini_repo(tmp_path / "repo")
    code, out = run_cli("--root", str(root), "build")
    assert code == 1 and "mkdocs.yml" in out


def test_page_functions_do_not_import_mkdocs():
    code = (
        "import sys\n"
        "import crmdocs.plugins.pages, crmdocs.plugins.pages_dashboard, crmdocs.plugins.pages_managers, "
        "crmdocs.plugins.pages_retailers, crmdocs.plugins.pages_diaries, crmdocs.plugins.pages_service, "
        "crmdocs.plugins.pages_rules, crmdocs.plugins.charts, crmdocs.plugins.render\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('mkdocs', 'material')]\n"
        "assert not bad, bad\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr


def test_pages_without_computed_results_say_not_computed(mini):
    from crmdocs.plugins.pages import generate
    from crmdocs.plugins.privacy import Privacy
    from crmdocs.plugins.sitedata import SiteData

    repo, _ = mini.load()
    data = SiteData(repo=repo, computed=None, privacy=Privacy("public"), as_of=dt.date(2026, 9, 1))
    pages = {p.path: p.content for p in generate(data)}
    assert "尚未计算" in pages["managers/cm-li.md"]
    assert "尚未计算" in pages["retailers/d-east/cm-li.md"]
    assert "尚未计算" in pages["index.md"]


def test_diary_pages_made_in_a_second_process_are_the_same(mini, monkeypatch):
    from crmdocs.plugins import pages as P
    from crmdocs.plugins.privacy import Privacy
    from crmdocs.plugins.sitedata import SiteData

    repo, _ = mini.load()

    def pages(jobs):
        data = SiteData(repo=repo, computed=None, privacy=Privacy("public"), as_of=dt.date(2026, 9, 1))
        return [(p.path, p.content, p.search_entries, p.html_parts() is not None) for p in P.generate(data, jobs=jobs)]

    monkeypatch.setattr(P, "_idle_core", lambda: True)
    forked = []
    real = P._Fork.__init__

    def spy(self, fn):
        real(self, fn)
        forked.append(self.pid)

    monkeypatch.setattr(P._Fork, "__init__", spy)
    assert pages(2) == pages(1)
    assert forked and forked[0] is not None  # the diaries really came from a child
    assert any(path.startswith("diaries/") for path, *_ in pages(2))


def test_a_failing_page_worker_falls_back_to_this_process(monkeypatch):
    from crmdocs.plugins import pages as P

    monkeypatch.setattr(P, "_idle_core", lambda: True)
    assert P._Fork(lambda: 1 / 0).result() is None
    assert P._Fork(lambda: ["页"]).result() == ["页"]
    monkeypatch.setattr(P, "_idle_core", lambda: False)
    assert P._Fork(lambda: ["页"]).result() is None  # no idle core: not forked


def test_an_idle_core_is_judged_by_the_tasks_running_now_not_the_minute_s_average():
    """Right after loading on every core the 1-minute average stays high with nothing else running:
    the pages were then made in one process. Only this process running (1 of 2 cores) is an idle core."""
    from crmdocs.plugins.pages import _idle_core

    assert _idle_core(lambda: "3.10 2.05 1.20 1/412 9876", cores=2)  # high average, only us running
    assert not _idle_core(lambda: "0.10 0.05 0.01 2/412 9876", cores=2)  # another task running now
    assert _idle_core(lambda: "0.10 0.05 0.01 2/412 9876", cores=4)
    looks = iter(["0 0 0 3/9 1", "0 0 0 1/9 1", "0 0 0 3/9 1"])
    assert _idle_core(lambda: next(looks), cores=2)  # the lowest of three looks: a passing task does not count


def test_public_archive_shows_owner_name_when_the_policy_allows(mini, tmp_path):
    """Owner names shown (policy): the archive keeps its personal card, the
    other fields masked on it, and the page does not claim all are hidden."""
    setup_site(mini.root)
    mini.edit("policy.yaml", lambda d: d.update(privacy={"mask_owner_names": False}))
    site = build(mini.root, tmp_path / "public", profile="public", strict=False)
    text = page(site, "retailers/d-east/cm-li")
    assert "<b>个人信息</b>" in text and "张三" in text
    assert "联系电话、生日、身份证号、关爱群体<dd>（已隐藏）" in text
    assert "13812345678" not in text and "公开版：各户的个人信息" not in text


def test_site_dir_that_is_a_file_is_a_clear_error(tmp_path):
    root = build_mini_repo(tmp_path / "repo")
    setup_site(root)
    taken = tmp_path / "site.txt"
    taken.write_text("not a folder", encoding="utf-8")
    code, out = run_cli("--root", str(root), "build", "--site-dir", str(taken), "--quiet")
    assert code == 1, out  # was 70: 内部错误 NotADirectoryError
    assert "写不了站点目录" in out and str(taken) in out and "内部错误" not in out
    assert taken.read_text(encoding="utf-8") == "not a folder"


def test_a_broken_page_in_site_is_named_not_blamed_on_the_site_dir(tmp_path):
    """An OSError while reading a page is not the output folder's: it said 写不了站点目录 … 请用 --site-dir."""
    import os

    root = build_mini_repo(tmp_path / "repo")
    setup_site(root)
    os.symlink("loop.md", root / "site" / "loop.md")  # a link to itself: reading it fails
    code, out = run_cli("--root", str(root), "build", "--quiet", "--site-dir", str(tmp_path / "s"))
    assert code == 1 and "内部错误" not in out, out
    assert "site/loop.md" in out and "坏的链接" in out and "--site-dir" not in out and "写不了站点目录" not in out


def test_the_404_page_speaks_chinese(demo_site):
    text = read(demo_site / "404.html")
    assert "找不到这个页面" in text and "Not found" not in text  # Material writes "404 - Not found"


def test_dashboard_on_time_cards_count_unknown_hand_ins_as_the_appraisal_does(demo_site):
    """An unknown hand-in time is never late: the 首页 card agrees with the managers'
    pages and appraisals (Deadlines.ratio), which count it on time."""
    import yaml

    month = "2026-11"
    text = page(demo_site, "")
    for attr, label in (("plans", "计划按时"), ("diaries", "日记按时")):
        ok = due = unknown = 0
        for f in sorted((ROOT / "records" / "computed" / month / "managers").glob("*.yaml")):
            d = yaml.safe_load(f.read_text(encoding="utf-8"))["visits"][attr]
            due += d["expected"] - d.get("not_yet_due", 0)
            ok += d["expected"] - d.get("not_yet_due", 0) - d.get("late", 0) - d.get("missing", 0)
            unknown += d.get("unknown", 0)
        card = re.search(rf"{label}（{month}）.*?</a>", text, re.S).group(0)
        assert f"{ok} / {due}" in card, (card, ok, due)  # was: on_time only, unknown counted as late
        assert unknown == 0 or f"其中 {unknown} " in card


def test_strict_help_says_record_warnings_do_not_fail(tmp_path):
    """--strict fails on MkDocs warnings; a record's 提醒 (plan below the daily
    minimum …) does not fail it — the help said 有任何提醒就失败."""
    root = build_mini_repo(tmp_path / "repo")
    setup_site(root)
    from conftest import COMPLAINT

    path = root / "records" / COMPLAINT
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"severity: \w+", "severity: special", text), encoding="utf-8")
    assert "提醒 warning" in run_cli("--root", str(root), "validate")[1]  # special without an approver
    code, out = run_cli("--root", str(root), "build", "--strict", "--quiet", "--site-dir", str(tmp_path / "s"))
    assert code == 0, out
    code, out = run_cli("build", "--help")
    assert "记录的提醒" in out and "不算" in out


def test_archive_shows_the_published_class_and_tier_of_earlier_months(demo_site):
    """Earlier months keep only the published lists; the archive showed the current
    month alone, so a class moving month by month (能上能下) could not be seen."""
    import yaml

    text = page(demo_site, "retailers/d-chengguan/cm-deng-fan")
    classes = yaml.safe_load((ROOT / "records/computed/2026-10/classes/d-chengguan.yaml").read_text(encoding="utf-8"))
    tiers = yaml.safe_load((ROOT / "records/computed/2026-10/tiers/d-chengguan.yaml").read_text(encoding="utf-8"))
    entry = text[text.index('id="r-00099"'):]
    entry = entry[: entry.index("修改记录")]
    assert f"往月类别：" in entry and f"2026-10 {classes['classes']['r-00099'].upper()} 类" in entry
    assert f"往期档位：" in entry and f"2026-10 {tiers['tiers']['r-00099']} 档" in entry


def test_earlier_classes_are_runs_of_months_newest_first_and_a_gap_breaks_a_run():
    """A year of the same class is one entry, not twelve (a city's archives carried ~9 MB of them)."""
    from crmdocs.plugins.results import runs

    order = ["2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"]
    items = [("2026-05", "b"), ("2026-06", "a"), ("2026-07", "a"), ("2026-09", "a"), ("2026-10", "c")]
    assert runs(items, order, lambda c: f"{c.upper()} 类") == "2026-10 C 类；2026-09 A 类；2026-06 至 2026-07 A 类；2026-05 B 类"
    assert runs([("2026-Q3", 2)], ["2026-Q2", "2026-Q3"], lambda t: f"{t} 档") == "2026-Q3 2 档"


def test_dashboard_and_complaints_page_count_open_complaints_alike(demo_site):
    """The 首页 said 处理中 2 件 where the complaints page lists 处理中（1）: it counted the overdue one too."""
    text = page(demo_site, "complaints")
    overdue = int(re.search(r"超期未办结（(\d+)）", text).group(1))
    open_ = int(re.search(r"处理中（(\d+)）", text).group(1))
    card = re.search(r"超期未办结投诉.*?</a>", page(demo_site, ""), re.S).group(0)
    assert f"未办结共 {overdue + open_} 件" in card and "处理中" not in card
    assert "<th>未办结" in text or ">未办结<" in text


def test_at_with_config_is_refused_not_ignored(tmp_path):
    root = build_mini_repo(tmp_path / "repo")
    setup_site(root)
    code, out = run_cli("--root", str(root), "build", "--at", "2026-09-30", "--config", str(root / "mkdocs.yml"))
    assert code == 1 and "--config" in out and "内部错误" not in out


def test_a_new_office_without_dated_records_says_no_data_yet(tmp_path):
    import shutil

    root = tmp_path / "office"
    (root / "records" / "calendar").mkdir(parents=True)
    shutil.copy(ROOT / "records" / "policy.yaml", root / "records" / "policy.yaml")
    shutil.copy(ROOT / "records" / "calendar" / "2026.yaml", root / "records" / "calendar" / "2026.yaml")
    setup_site(root)
    out = build(root, tmp_path / "site", strict=False)
    text = page(out, "")
    assert "尚无数据" in text and "2000-01" not in text  # was 数据截至 2000-01-01, the rules' stand-in day


def test_a_managers_hand_in_table_adds_up(demo_site):
    # 批阅 应交 20 = 按时 13 + 迟交 4 + 缺交 1 + 时间未知 0 showed 18: the 2 not yet due had no column
    text = page(demo_site, "managers/cm-liu-ping")
    assert "<th>应交</th><th>按时</th><th>迟交</th><th>缺交</th><th>时间未知</th><th>未到期</th><th>按时率</th>" in text
    head, body = text.split("<th>应交</th>", 1)
    rows = re.findall(r"<tr><td>(拜访计划|日记|批阅)</td>((?:<td>\d+</td>){6})", body.split("</table>", 1)[0])
    assert [r[0] for r in rows] == ["拜访计划", "日记", "批阅"]
    for label, cells in rows:
        expected, *parts = map(int, re.findall(r"\d+", cells))
        assert expected == sum(parts), (label, expected, parts)
    assert any(int(re.findall(r"\d+", cells)[-1]) > 0 for _, cells in rows)  # the demo's last days are not yet due


def test_abnormal_order_notes_have_no_english_gloss(demo_site):
    # a spike's "(above 2 × the mean of earlier cycles)" stayed on the page: the gloss pattern missed the ×
    pages = [read(p) for p in sorted((demo_site / "abnormal").glob("2026-W*/index.html"))]
    text = "\n".join(pages)
    assert "单次突增" in text and "向上取整" in text
    assert not re.search(r"\((above|below|month) ", text), re.search(r".{80}\((above|below|month) .{40}", text)


def test_ranking_says_who_has_left(mini):
    # a customer manager who left mid-month (active: false) was ranked like the others, last with a half
    # month's sales against a whole month's target, and nothing on the ranking said they had left
    from crmdocs.plugins.pages_managers import ranking_page
    from crmdocs.plugins.sitedata import Privacy, SiteData
    from crmdocs.scripts.repository import load
    from crmdocs.scripts.rules import compute_all

    mini.edit("people/cm-li.yaml", lambda d: d.update(active=False))
    repo, _ = load(mini.root)
    result = compute_all(repo)
    data = SiteData(repo=repo, computed=result.records, privacy=Privacy("public"), as_of=result.ctx.as_of)
    text = "".join(map(str, ranking_page(data).body))
    assert "李明（离岗）" in text
    assert "王芳（离岗）" not in text and "王芳" in text


def test_yaml_examples_inside_list_items_are_code_blocks(demo_site):
    # the market manager's review and approval examples sit inside a numbered list: without superfences
    # they rendered as one line of inline code (<p><code>yaml review: reviewer: …), newlines lost
    for page in ["workflow/index.html", "guide/admin-year/index.html", "guide/plan-and-diary/index.html"]:
        html = read(demo_site / page)
        assert "<code>yaml" not in html and "<code>sh" not in html, page
        assert not re.search(r"\n- <strong>", html), page  # a list item swallowed by the paragraph above it
    html = read(demo_site / "workflow/index.html")
    blocks = [re.sub(r"<[^>]+>", "", b) for b in re.findall(r"<pre.*?</pre>", html, flags=re.S)]
    assert any("review:\n  reviewer: mm-ma-peng" in b for b in blocks), blocks
    assert any("approval:\n  by: mm-ma-peng" in b for b in blocks), blocks


def test_ranking_page_shows_the_quarter_and_the_year(mini):
    # leaders appraise quarters and years (the grade rules read quarters), but the 客户经理 page ranked
    # the latest month only: a quarter's or the year's totals were on each manager's own page alone
    from crmdocs.plugins.pages_managers import ranking_page
    from crmdocs.plugins.sitedata import Privacy, SiteData
    from crmdocs.scripts.repository import load
    from crmdocs.scripts.rules import compute_all

    repo, _ = load(mini.root)
    result = compute_all(repo)
    data = SiteData(repo=repo, computed=result.records, privacy=Privacy("public"), as_of=result.ctx.as_of)
    text = "".join(map(str, ranking_page(data).body))
    assert re.search(r"## 季度和全年考核（2026\\?-Q3、2026）", text), text[:2000]
    assert "2026-Q3 得分" in text and "2026 得分" in text
    section = text[text.index("季度和全年考核"):text.index("全部客户经理")]
    for mid in ("cm-li", "cm-wang"):
        q = result.records[f"2026-Q3/managers/{mid}.yaml"].appraisal.total
        assert f"{q:.1f}" in section, (mid, q)
    assert "不是各月得分的平均" in section  # the quarter has not ended: said, with how it adds up
    assert "等级建议（依据已结束的季度）" in section  # beside an open quarter's score
