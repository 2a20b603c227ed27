"""Weekly market analyses (周市场分析) and monthly work summaries (月工作总结),
seed 003: "客户经理每天写一篇工作日记，每周写一篇市场分析，每月写一篇工作总结"."""

from __future__ import annotations

import datetime as dt

import pytest
from conftest import ANALYSIS, SUMMARY, TODAY, codes, only, valid_record

from crmdocs.schemas import MonthlySummary, WeeklyAnalysis
from crmdocs.schemas.daily import week_bounds, week_of
from crmdocs.scripts.cache import validate_report
from crmdocs.scripts.kinds import kind_of, path_for

# ---------------------------------------------------------------- the records load


def test_valid_analysis_and_summary_load_into_the_repository(mini):
    repo, report = mini.load()
    assert report.diagnostics == [], report.to_text()
    analysis = repo.analyses[("cm-li", "2026-W36")]
    assert analysis.review.reviewer == "mm-zhao" and analysis.review.valuable == [2]
    assert analysis.observations[1].category.value == "competitor"
    summary = repo.summaries[("cm-li", "2026-09")]
    assert [(f.label, f.value, f.unit) for f in summary.results] == [("销量", 15.0, "条"), ("拜访户数", 2.0, "户")]
    assert summary.review is None


def test_the_mini_office_with_them_validates_clean(mini):
    assert mini.validate().diagnostics == []


@pytest.mark.parametrize("rel, model", [(ANALYSIS, WeeklyAnalysis), (SUMMARY, MonthlySummary)])
def test_the_writer_path_is_the_reader_path(rel, model):
    kind, _ = kind_of(rel)
    assert kind.model is model
    assert path_for(kind.name, model.model_validate(valid_record(rel))) == rel


def test_week_helpers():
    assert week_bounds("2026-W48") == (dt.date(2026, 11, 23), dt.date(2026, 11, 29))
    assert week_of(dt.date(2026, 11, 27)) == "2026-W48"
    assert week_of(dt.date(2027, 1, 1)) == "2026-W53"  # the ISO year, not the calendar year


# ---------------------------------------------------------------- file:line errors


def test_week_in_the_file_must_match_the_file_name(mini):
    rel = mini.edit(ANALYSIS, lambda d: d.update(week="2026-W37"))
    d = only(mini.validate(), "name_mismatch")
    assert (d.path, d.line, d.field) == (rel, mini.line_of(ANALYSIS, "week: 2026-W37"), "week")
    assert "2026-W36" in d.message and "2026-W37" in d.message
    assert d.format().startswith(f"{rel}:{d.line}:")


def test_month_in_the_file_must_match_the_file_name(mini):
    rel = mini.edit(SUMMARY, lambda d: d.update(month="2026-10"))
    d = only(mini.validate(), "name_mismatch")
    assert (d.path, d.line, d.field) == (rel, mini.line_of(SUMMARY, 'month: "2026-10"'), "month")


def test_a_week_that_does_not_exist(mini):
    rel = mini.edit(ANALYSIS, lambda d: d.update(week="2026-W54"))
    d = only(mini.validate(), "bad_week")
    assert (d.path, d.line, d.field) == (rel, mini.line_of(ANALYSIS, "week:"), "week")
    assert "2026-W48" in d.message  # shows how to write it


@pytest.mark.parametrize("rel", [ANALYSIS, SUMMARY])
def test_unknown_manager(mini, rel):
    path = mini.write(rel.replace("cm-li", "cm-nobody"), {**valid_record(rel), "manager": "cm-nobody"})
    mini.delete(rel)
    report = mini.validate()
    d = only(report, "unknown_person")
    assert (d.path, d.field) == (path, "manager")
    assert d.line == mini.line_of(rel.replace("cm-li", "cm-nobody"), "manager: cm-nobody")


@pytest.mark.parametrize("rel", [ANALYSIS, SUMMARY])
def test_written_by_a_market_manager_is_refused(mini, rel):
    other = rel.replace("cm-li", "mm-zhao")
    path = mini.write(other, {**valid_record(rel), "manager": "mm-zhao"})
    d = only(mini.validate(), "not_customer_manager")
    assert (d.path, d.field, d.line) == (path, "manager", mini.line_of(other, "manager: mm-zhao"))


@pytest.mark.parametrize("rel, needle", [(ANALYSIS, "market_situation:"), (SUMMARY, "work_done:")])
def test_an_extra_field_is_an_error_at_its_line(mini, rel, needle):
    path = mini.edit(rel, lambda d: d.update(mood="好"))
    d = only(mini.validate(), "extra_forbidden")
    assert (d.path, d.field, d.line) == (path, "mood", mini.line_of(rel, "mood: 好"))
    assert "不认识" in d.message


def test_review_by_another_departments_market_manager(mini):
    rel = mini.edit(ANALYSIS, lambda d: d["review"].update(reviewer="mm-qian"))
    d = only(mini.validate(), "wrong_reviewer")
    assert (d.path, d.field, d.line) == (rel, "review.reviewer", mini.line_of(ANALYSIS, "reviewer: mm-qian"))


def test_review_before_the_week_began(mini):
    rel = mini.edit(ANALYSIS, lambda d: d["review"].update(at="2026-08-30 10:00"))
    d = only(mini.validate(), "review_before")
    assert (d.path, d.field) == (rel, "review.at")


def test_an_unknown_brand_in_an_observation(mini):
    rel = mini.edit(ANALYSIS, lambda d: d["observations"][0].update(brand="b-nothing"))
    d = only(mini.validate(), "unknown_brand")
    assert (d.path, d.field) == (rel, "observations[0].brand")


def test_a_summary_review_marks_nothing_valuable(mini):
    rel = mini.edit(SUMMARY, lambda d: d.update(review={"reviewer": "mm-zhao", "at": "2026-10-08 09:00", "rating": 4, "valuable": [1]}))
    report = mini.validate()
    d = only(report, "valuable_out_of_range")
    assert (d.path, d.field) == (rel, "review.valuable")


def test_a_number_in_quotes_in_a_summary(mini):
    rel = mini.edit(SUMMARY, lambda d: d["results"][0].update(value="15"))
    d = only(mini.validate(), "float_type")
    assert (d.path, d.field, d.line) == (rel, "results[0].value", mini.line_of(SUMMARY, 'value: "15"'))


# ---------------------------------------------------------------- the cached (pull request) path


def test_a_new_analysis_takes_the_cheap_path_and_is_checked(mini):
    validate_report(mini.root, today=TODAY)
    data = {**valid_record(ANALYSIS), "week": "2026-W37"}
    del data["review"]
    mini.write("analyses/cm-li/2026/2026-W37.yaml", data)
    stats: dict = {}
    report = validate_report(mini.root, today=TODAY, stats=stats)
    assert (stats["mode"], stats["parsed"]) == ("cached", 1)
    assert report.ok, report.to_text()
    mini.write("analyses/cm-li/2026/2026-W37.yaml", {**data, "manager": "cm-wang"})
    report = validate_report(mini.root, today=TODAY, stats=stats)
    assert stats["mode"] == "cached" and "name_mismatch" in codes(report)


# ---------------------------------------------------------------- the demo office

REPO = __import__("pathlib").Path(__file__).resolve().parents[1]


def test_the_demo_has_an_analysis_a_week_and_a_summary_a_month_per_manager():
    from crmdocs.scripts.repository import load

    records = REPO / "records"
    if not (records / "policy.yaml").is_file():
        pytest.skip("no bundled records")
    managers = sorted(p.name for p in (records / "diaries").iterdir())
    assert sorted(p.name for p in (records / "analyses").iterdir()) == managers
    assert sorted(p.name for p in (records / "summaries").iterdir()) == managers
    for manager in managers:
        diary_days = [dt.date.fromisoformat(p.stem) for p in (records / "diaries" / manager).rglob("*.yaml")]
        weeks = sorted(p.stem for p in (records / "analyses" / manager).rglob("*.yaml"))
        months = sorted(p.stem for p in (records / "summaries" / manager).rglob("*.yaml"))
        assert weeks == sorted({week_of(d) for d in diary_days})
        assert months == sorted({d.strftime("%Y-%m") for d in diary_days})
    analyses = list((records / "analyses").rglob("*.yaml"))
    reviewed = [p for p in analyses if "\nreview:" in p.read_text(encoding="utf-8")]
    assert 0 < len(reviewed) < len(analyses)  # some reviewed, the last week not yet
    assert len(analyses) > 100 and "2026-W36" in {p.stem for p in analyses} and "2026-W48" in {p.stem for p in analyses}


def test_the_fast_emitter_writes_them_as_dump_record_does():
    from crmdocs.scripts import demo, demo_fast
    from crmdocs.scripts.demo_county import daily_records, periodic_records
    from crmdocs.scripts.kinds import BY_NAME
    from crmdocs.scripts.yamlwrite import dump_record

    office = demo.build(3, demo.county_shape())
    _, diaries, _ = daily_records(office)
    items = periodic_records(office, diaries)
    assert {k for k, _ in items} == {"analysis", "summary"}
    for kind, data in items[::4]:
        assert demo_fast.dumps(data) == dump_record(BY_NAME[kind].model.model_validate(data)), kind


# ---------------------------------------------------------------- the site


def _manager_page(mini, profile: str = "public") -> str:
    from crmdocs.plugins.pages import generate
    from crmdocs.plugins.privacy import Privacy
    from crmdocs.plugins.sitedata import SiteData

    repo, _ = mini.load()
    data = SiteData(repo=repo, computed=None, privacy=Privacy(profile), as_of=dt.date(2026, 9, 1))
    return {p.path: p.content for p in generate(data)}["managers/cm-li.md"]


def test_the_managers_page_shows_the_analysis_and_summary_with_the_review(mini):
    page = _manager_page(mini)
    assert "周市场分析" in page and "月工作总结" in page
    assert 'id="week-2026-W36"' in page and "08-31–09-06" in page
    assert "本周城东片区动销平稳" in page and "超市新开卷烟专柜" in page
    assert "赵强" in page and "分析到位" in page and "★★★★☆" in page  # the review: who, comment, rating
    assert "有价值" in page  # the observation the reviewer marked
    assert 'id="month-2026-09"' in page and "销量 15条" in page and "国庆后加强重点客户拜访" in page
    assert "未批阅" in page  # the summary has no review yet


def test_a_manager_without_them_is_told_so(mini):
    mini.delete(ANALYSIS)
    mini.delete(SUMMARY)
    page = _manager_page(mini)
    assert "还没有周市场分析" in page and "还没有月工作总结" in page


def test_record_text_in_an_analysis_is_escaped(mini):
    mini.edit(ANALYSIS, lambda d: d.update(market_situation="<script>alert(1)</script>"))
    page = _manager_page(mini)
    assert "<script>alert(1)" not in page and "&lt;script&gt;alert(1)" in page


def test_public_and_internal_pages_show_them_alike(mini):
    from crmdocs.plugins.pages_periodic import manager_sections
    from crmdocs.plugins.privacy import Privacy
    from crmdocs.plugins.sitedata import SiteData

    repo, _ = mini.load()
    shown = [
        "".join(map(str, manager_sections(SiteData(repo=repo, computed=None, privacy=Privacy(p), as_of=TODAY), "cm-li")))
        for p in ("public", "internal")
    ]
    assert shown[0] == shown[1]


# ---------------------------------------------------------------- who may change what (crmdocs audit)


def _rules(office, base):
    from crmdocs.scripts.audit import audit

    return [(v.path, v.field, v.rule, v.commit.email.split("@")[0]) for v in audit(office.root, base)]


def test_own_analysis_and_summary_are_allowed(git_office):
    base = git_office.head()
    data = {**valid_record(ANALYSIS), "week": "2026-W37"}
    del data["review"]
    git_office.write("analyses/cm-li/2026/2026-W37.yaml", data)
    git_office.edit(SUMMARY, lambda d: d.update(problems="改写了问题"))
    git_office.commit("cm-li")
    assert _rules(git_office, base) == []


def test_someone_elses_summary_is_refused(git_office):
    base = git_office.head()
    git_office.edit(SUMMARY, lambda d: d.update(work_done="别人代写"))
    git_office.commit("cm-wang")
    assert _rules(git_office, base) == [(f"records/{SUMMARY}", "work_done", "own_records", "cm-wang")]
    from crmdocs.scripts.audit import audit

    (violation,) = audit(git_office.root, base)
    assert "月工作总结" in violation.format() and "cm-li" in violation.format()


def test_a_new_summary_for_someone_else_is_refused(git_office):
    base = git_office.head()
    git_office.write("summaries/cm-wang/2026/2026-09.yaml", {**valid_record(SUMMARY), "manager": "cm-wang"})
    git_office.commit("cm-li")
    assert {r[2] for r in _rules(git_office, base)} == {"own_records"}


def test_the_review_is_the_departments_market_managers(git_office):
    base = git_office.head()
    git_office.edit(SUMMARY, lambda d: d.update(review={"reviewer": "mm-zhao", "at": "2026-10-08 09:00", "rating": 4}))
    git_office.commit("mm-zhao")
    assert _rules(git_office, base) == []
    base = git_office.head()
    git_office.edit(ANALYSIS, lambda d: d["review"].update(rating=5))
    git_office.commit("cm-li")  # the manager raises their own rating
    assert _rules(git_office, base) == [(f"records/{ANALYSIS}", "review", "review_by_market_manager", "cm-li")]
    base = git_office.head()
    git_office.edit(ANALYSIS, lambda d: d.update(market_situation="市场经理代写"))
    git_office.commit("mm-zhao")
    assert _rules(git_office, base) == [(f"records/{ANALYSIS}", "market_situation", "market_manager_scope", "mm-zhao")]


# ---------------------------------------------------------------- crmdocs new analysis|summary


def test_new_analysis_prefills_the_weeks_market_information(mini):
    from conftest import run_cli

    mini.delete(ANALYSIS)
    code, out = run_cli("--root", str(mini.root), "new", "analysis", "--manager", "cm-li", "--date", "2026-09-03")
    assert code == 0 and f"records/{ANALYSIS}" in out, out
    text = mini.text(ANALYSIS)
    assert "本周拜访 2 户次（日记 1 篇）" in text and "红塔山零售价稳定" in text  # the diary's market information
    assert "李记便利店" in text  # shop names as comments
    assert "brand: b-hongtashan  # 红塔山（经典）" in text  # and brand names (the id alone was left to guess)
    assert mini.validate().diagnostics == []
    code, out = run_cli("--root", str(mini.root), "new", "analysis", "--manager", "cm-li", "--date", "2026-09-01")
    assert code == 1 and "不会覆盖" in out and "Traceback" not in out


def test_new_summary_counts_the_months_figures(mini):
    from conftest import run_cli

    mini.delete(SUMMARY)
    code, out = run_cli("--root", str(mini.root), "new", "summary", "--manager", "cm-li", "--date", "2026-09-30")
    assert code == 0 and f"records/{SUMMARY}" in out, out
    data = mini.read(SUMMARY)
    assert {r["label"]: r["value"] for r in data["results"]} == {"拜访户次": 2.0, "计划拜访户次": 2.0, "日记": 1.0, "上报市场信息": 1.0}
    assert mini.validate().diagnostics == []
    code, out = run_cli("--root", str(mini.root), "new", "summary", "--manager", "mm-zhao", "--date", "2026-10-30")
    assert code == 1 and "不是客户经理" in out


def test_codeowners_give_them_to_the_departments_market_manager(mini):
    from crmdocs.scripts.codeowners import GITHUB, codeowners_texts

    text = codeowners_texts(mini.root)[GITHUB]
    assert "/records/analyses/cm-li/ mm-zhao@example.com" in text
    assert "/records/summaries/cm-wang/ mm-qian@example.com" in text
