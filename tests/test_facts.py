"""Facts (scripts/facts.py): the rules read plans and diaries as small facts
extracted from the validated models; ``crmdocs recalc`` takes them from the
facts cache (``.cache/crmdocs/facts/``) and builds none of those models when
the validation cache answers — with the same computed files, the same report,
and every model built and every check run when the cache cannot answer."""

from __future__ import annotations

import datetime as dt
import os

import pytest

from conftest import ANALYSIS, DIARY, PLAN, SUMMARY, TODAY, MiniRepo, warm_caches
from crmdocs.scripts import facts, repository
from crmdocs.scripts.recalc import render
from crmdocs.scripts.rules import compute_all
from crmdocs.scripts.validate import validate, validate_plain

KEY = ("cm-li", dt.date(2026, 9, 1))


warm = warm_caches  # ``crmdocs validate``, then one recalc-style load


def held(mini: MiniRepo, today: dt.date = TODAY):
    return validate(mini.root, today=today, facts=True)


def texts(repo) -> dict[str, str]:
    return render(compute_all(repo))


def test_diary_facts_are_what_the_rules_read_of_the_model(mini):
    repo, _ = validate_plain(mini.root, today=TODAY)
    diary = repo.diaries[KEY]
    got = facts.of(repo, "diary")[KEY]
    assert got.visited == tuple(v.retailer for v in diary.visits) and got.visited
    assert (got.manager, got.date) == KEY
    assert got.reviewed and got.review_at == diary.review.at and got.valuable == len(diary.review.valuable)
    assert not got.absent
    assert facts.of(repo, "plan")[KEY].planned == tuple(v.retailer for v in repo.plans[KEY].visits)


def test_an_absence_day_without_visits(mini):
    mini.edit(DIARY, lambda d: d.update(visits=[], absence="sick"))
    repo, _ = validate_plain(mini.root, today=TODAY)
    assert facts.of(repo, "diary")[KEY].absent


def test_recalc_builds_no_plan_diary_analysis_summary_or_retailer_when_the_caches_answer(mini, built):
    warm(mini)
    built.clear()
    repo, report = held(mini)
    assert not report.errors
    assert not {"plan", "diary", "analysis", "summary", "retailer"} & set(built)
    assert "policy" in built  # (the rest are models, as before)
    assert repo.retailers and all(isinstance(r, facts.RetailerFacts) for r in repo.retailers.values())
    assert facts.keys(repo, "diary") == {KEY: None}.keys()
    assert repo.facts["analysis"] and repo.facts["summary"]
    with pytest.raises(facts.NotBuilt):
        repo.diaries.get(KEY)
    with pytest.raises(facts.NotBuilt):
        list(repo.plans)


def test_rules_give_the_same_files_from_facts_as_from_models(mini):
    mini.write("diaries/cm-li/2026/2026-09-02.yaml", mini.text(DIARY).replace("2026-09-01", "2026-09-02"))
    warm(mini)
    repo, _ = held(mini)
    assert repo.facts["diary"]
    plain, _ = validate_plain(mini.root, today=TODAY)
    assert texts(repo) == texts(plain)


def test_facts_are_kept_per_folder_and_written_once(mini):
    warm(mini)
    folder = mini.root / facts.FACTS_DIR
    files = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert len(files) == 6  # the plans, diaries, analyses and summaries folders of cm-li, the two retailers' folders
    held(mini)
    validate(mini.root, today=TODAY)  # models built: the facts are there already, nothing written
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == files


def test_a_changed_diary_is_validated_again_and_its_facts_extracted_again(mini, built):
    warm(mini)
    mini.edit(DIARY, lambda d: d["visits"][0].update(retailer="r-0002"))
    built.clear()
    repo, report = held(mini)
    assert "diary" in built and not report.errors
    assert repo.facts["diary"][KEY].visited[0] == "r-0002"
    mini.age()
    assert mini.cli("validate")[0] == 0  # (recalc never writes the validation cache: it checks the diary until then)
    built.clear()
    repo, _ = held(mini)
    assert "diary" not in built
    assert repo.facts["diary"][KEY].visited[0] == "r-0002"


@pytest.mark.parametrize("change", [
    lambda mini: mini.edit(DIARY, lambda d: d["visits"][0].update(retailer="r-9999")),  # a check's problem
    lambda mini: mini.replace(DIARY, "visits:", "visits: [\n"),  # YAML
    lambda mini: mini.edit(PLAN, lambda d: d.update(date="2026-09-02")),  # name and content disagree
    lambda mini: mini.edit(ANALYSIS, lambda d: d.pop("market_situation")),  # a field missing
])
def test_a_broken_record_is_reported_as_without_facts(mini, change):
    warm(mini)
    change(mini)
    repo, report = held(mini)
    plain_repo, plain_report = validate_plain(mini.root, today=TODAY)
    assert report.errors
    assert report.to_text() == plain_report.to_text()


def test_when_the_validation_cache_cannot_answer_every_model_is_built(mini, built):
    warm(mini)
    built.clear()
    other_day = TODAY + dt.timedelta(days=1)  # the cache is for another day: every check runs
    repo, report = held(mini, other_day)
    assert {"plan", "diary", "analysis", "summary"} <= set(built)
    assert not repo.facts and repo.diaries[KEY].visits
    assert report.to_text() == validate_plain(mini.root, today=other_day)[1].to_text()


def test_a_changed_universe_file_means_models_and_every_check(mini, built):
    warm(mini)
    mini.edit("retailers/d-east/r-0002.yaml", lambda d: d["management"].update(manager="cm-nobody"))
    built.clear()
    repo, report = held(mini)
    assert "diary" in built and repo.diaries[KEY]
    assert report.to_text() == validate_plain(mini.root, today=TODAY)[1].to_text()


def test_damaged_or_foreign_facts_are_never_used(mini, built):
    warm(mini)
    folder = mini.root / facts.FACTS_DIR
    paths = sorted(folder.iterdir())
    data = bytearray(paths[0].read_bytes())
    data[len(data) // 2] ^= 0x20  # a flipped byte
    paths[0].write_bytes(bytes(data))
    paths[1].write_bytes(paths[2].read_bytes())  # another folder's
    built.clear()
    repo, report = held(mini)
    assert len(set(built) & {"plan", "diary", "analysis", "summary"}) == 2
    assert texts(repo) == texts(validate_plain(mini.root, today=TODAY)[0])
    built.clear()
    held(mini)  # written afresh
    assert not set(built) & {"plan", "diary", "analysis", "summary"}


def test_facts_of_another_code_version_are_not_used(mini, built, monkeypatch):
    warm(mini)
    monkeypatch.setattr(facts, "version", lambda: "another")
    built.clear()
    held(mini)
    assert {"plan", "diary"} <= set(built)


def test_a_file_with_the_same_bytes_is_held_whatever_its_signature(mini, built):
    warm(mini)
    mini.write(DIARY, mini.text(DIARY))  # touched: a new signature, the same bytes
    built.clear()
    repo, _ = held(mini)
    assert "diary" not in built and repo.facts["diary"][KEY]


def test_recalc_check_agrees_after_recalc_with_facts_held(mini):
    warm(mini)
    code, out = mini.cli("recalc")
    assert code == 0, out
    code, out = mini.cli("recalc", "--check")
    assert code == 0 and "agree" in out, out
    mini.delete(SUMMARY)
    code, out = mini.cli("recalc", "--check")
    assert code == 0, out  # (a summary counts for nothing the rules compute)


def test_a_cold_crmdocs_validate_leaves_the_facts_warm_for_recalc(mini, built):
    mini.age()
    assert mini.cli("validate")[0] == 0  # as CI runs it: no cache at all before
    assert len(list((mini.root / facts.FACTS_DIR).iterdir())) == 6  # (and the retailers' two folders)
    built.clear()
    repo, report = held(mini)
    assert not report.errors and repo.facts["diary"][KEY].visited
    assert not {"plan", "diary", "analysis", "summary", "retailer"} & set(built)


def test_crmdocs_validate_of_a_changed_diary_keeps_its_new_facts(mini, built):
    mini.age()
    assert mini.cli("validate")[0] == 0
    mini.write("diaries/cm-li/2026/2026-09-02.yaml", mini.text(DIARY).replace("2026-09-01", "2026-09-02"))
    mini.edit(DIARY, lambda d: d["visits"][0].update(retailer="r-0002"))  # a pull request
    assert mini.cli("validate")[0] == 0  # checks the two diaries only
    built.clear()
    repo, _ = held(mini)
    assert not {"plan", "diary"} & set(built)
    assert repo.facts["diary"][KEY].visited[0] == "r-0002"
    assert ("cm-li", dt.date(2026, 9, 2)) in repo.facts["diary"]


def test_after_a_cold_crmdocs_validate_recalc_parses_nothing_and_reads_no_sales_file(mini, monkeypatch):
    """CI: a clean checkout, ``crmdocs validate``, then ``recalc`` (and
    ``build``): what the validation parsed and read is kept — every record's
    parsed mapping, the sales arrays, the facts."""
    from crmdocs.scripts import sales

    mini.age()
    assert mini.cli("validate")[0] == 0
    seen: list[str] = []
    real_parse, real_csv = repository.parse_raw, sales.read_sales_csv
    monkeypatch.setattr(repository, "parse_raw", lambda rel, *a: seen.append(rel) or real_parse(rel, *a))
    monkeypatch.setattr(sales, "read_sales_csv", lambda data, rel, *a, **k: seen.append(rel) or real_csv(data, rel, *a, **k))
    repo, report = held(mini)
    assert seen == [] and not report.errors
    assert repo.complaints and repo.surveys and repo.targets and repo.retailers and repo.facts["plan"]
    models, _ = validate(mini.root, today=TODAY)  # (the site's build after it: every model, nothing parsed either)
    assert seen == [] and models.diaries[KEY].visits
    assert texts(repo) == texts(validate_plain(mini.root, today=TODAY)[0])


def test_with_workers_the_same_facts_and_files(mini, monkeypatch):
    monkeypatch.setattr(repository, "POOL_MIN", 1)  # workers even for a few files
    warm(mini)
    mini.edit(DIARY, lambda d: d["visits"][0].update(retailer="r-0002"))  # its folder loaded by a worker
    repo, report = validate(mini.root, today=TODAY, jobs=2, facts=True)
    assert not report.errors and repo.facts["diary"][KEY].visited[0] == "r-0002"
    assert texts(repo) == texts(validate_plain(mini.root, today=TODAY)[0])
    mini.age()
    repo, _ = validate(mini.root, today=TODAY, jobs=2, facts=True)
    assert repo.facts["diary"][KEY].visited[0] == "r-0002"


def _same_bytes_new_files(mini: MiniRepo) -> None:
    """Every record file written afresh with its bytes and time (``cp -a`` of the tree, a checkout, a restore)."""
    for path in sorted(mini.records.rglob("*")):
        if path.is_file():
            data, st = path.read_bytes(), path.stat()
            copy = path.with_name(f".{path.name}.copy")  # (made while the old one exists: another inode)
            copy.write_bytes(data)
            os.utime(copy, ns=(st.st_atime_ns, st.st_mtime_ns))
            os.replace(copy, path)


def test_after_a_copy_crmdocs_validate_lets_recalc_hold_the_facts_without_reading_the_files(mini, monkeypatch):
    mini.age()
    assert mini.cli("validate")[0] == 0
    _same_bytes_new_files(mini)
    assert mini.cli("validate")[0] == 0  # sees the new signatures: the facts are signed again
    assert mini.cli("validate")[0] == 0  # (nothing changed since: as before)
    read: list[str] = []
    real = repository._read_signed
    monkeypatch.setattr(repository, "_read_signed", lambda root, rel: read.append(rel) or real(root, rel))
    repo, report = validate(mini.root, today=TODAY, facts=True)  # as recalc loads
    assert not report.errors and repo.facts["diary"]
    assert not [rel for rel in read if "/diaries/" in rel or "/plans/" in rel or "/retailers/" in rel], read
