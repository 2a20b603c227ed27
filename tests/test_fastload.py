"""Loading the whole repository fast (scripts/repository.py, scripts/validate.py):
parsed mappings from worker processes, sales read beside them, and
``validate()`` taking its report from the validation cache — always the same
Repository and the same report as the plain run."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from conftest import DIARY, PLAN, RETAILER, TODAY, MiniRepo, codes
from crmdocs.scripts import cache, repository
from crmdocs.scripts.cache import CACHE_FILE, validate_report
from crmdocs.scripts.repository import load
from crmdocs.scripts.validate import validate, validate_plain

FIELDS = ("policy", "calendars", "org", "people", "brands", "retailers", "plans", "diaries", "analyses", "summaries",
          "complaints", "surveys", "targets", "tier_overrides", "sources", "files")


def same_repo(a, b) -> None:
    for name in FIELDS:
        assert getattr(a, name) == getattr(b, name), name
    for column in ("day", "retailer", "brand", "quantity", "amount", "file_of", "line"):
        assert np.array_equal(getattr(a.sales, column), getattr(b.sales, column)), column
    assert (a.sales.retailer_ids, a.sales.brand_ids, a.sales.files) == (b.sales.retailer_ids, b.sales.brand_ids, b.sales.files)


def break_some(mini: MiniRepo) -> None:
    mini.edit(DIARY, lambda d: d["visits"][0].update(retailer="r-9999"))  # a check problem
    mini.write("plans/cm-li/2026/2026-09-02.yaml", "manager: cm-li\ndate: 2026-09-02\nvisits:\n- retailer: [\n")  # YAML
    mini.write("complaints/2026/c-bad.yaml", "id: c-bad\n")  # fields missing: lines needed
    mini.write("diaries/cm-li/2026/2026-09-07.yaml", mini.text(DIARY).replace("2026-09-01", "2026-09-08"))  # name ≠ content
    mini.write("retailers/d-west/r-0001.yaml", mini.text(RETAILER))  # a duplicate id


@pytest.fixture
def pooled(monkeypatch):
    monkeypatch.setattr(repository, "POOL_MIN", 1)  # workers even for a few files


def assert_plain(mini: MiniRepo, repo, report, today: dt.date = TODAY) -> None:
    """``validate()`` gave what the plain run gives: the same report, the same repository."""
    plain_repo, plain_report = validate_plain(mini.root, today=today)
    assert report.to_text() == plain_report.to_text()
    same_repo(repo, plain_repo)


def after_report(monkeypatch, action) -> None:
    """``action()`` runs once ``validate()`` has its report from the cache, before it loads the files."""
    real = cache.validate_report

    def then(*args, **kwargs):
        report = real(*args, **kwargs)
        action()
        return report

    monkeypatch.setattr(cache, "validate_report", then)


def test_workers_load_the_same_repository_as_one_process(mini, pooled):
    break_some(mini)
    one, one_report = load(mini.root, jobs=1)
    two, two_report = load(mini.root, jobs=2)
    same_repo(one, two)
    assert two_report.to_text() == one_report.to_text()
    assert {"yaml", "missing", "name_mismatch", "duplicate"} <= set(codes(two_report))
    assert len(two.sales.day) > 0


def test_loading_with_digests_keeps_each_file_s_hash(mini, pooled):
    import hashlib

    repo, _ = load(mini.root, jobs=2, digest=True)
    for rel in (DIARY, PLAN, RETAILER, "records/sales/2026-09.csv"):
        rel = rel if rel.startswith("records/") else f"records/{rel}"
        assert repo.digests[rel] == hashlib.sha1((mini.root / rel).read_bytes()).hexdigest()


@pytest.mark.parametrize("jobs", [1, 2])
def test_validate_with_a_warm_cache_equals_the_plain_run(mini, pooled, jobs):
    break_some(mini)
    validate_report(mini.root, today=TODAY)  # what `crmdocs validate` leaves behind
    stats: dict = {}
    assert validate_report(mini.root, today=TODAY, stats=stats, cached_only=True) is not None
    repo, report = validate(mini.root, today=TODAY, jobs=jobs)
    assert_plain(mini, repo, report)
    assert "unknown_retailer" in codes(report)


def test_validate_reads_the_cache_but_never_writes_it(mini):
    validate(mini.root, today=TODAY)
    assert not (mini.root / CACHE_FILE).exists()
    validate_report(mini.root, today=TODAY)
    before = (mini.root / CACHE_FILE).read_bytes()
    mini.edit(DIARY, lambda d: d["visits"][0].update(retailer="r-0003"))
    _, report = validate(mini.root, today=TODAY)
    assert "territory" in codes(report)
    assert (mini.root / CACHE_FILE).read_bytes() == before


def test_a_cache_for_another_day_is_not_used(mini, monkeypatch):
    validate_report(mini.root, today=TODAY)
    calls = []
    monkeypatch.setattr(cache, "_cached", lambda *a, **k: calls.append(1) or (_ for _ in ()).throw(AssertionError))
    other = TODAY + dt.timedelta(days=400)  # licences expire in between: other warnings
    repo, report = validate(mini.root, today=other)
    assert not calls
    assert_plain(mini, repo, report, other)


def test_a_file_written_between_report_and_loading_means_the_plain_run(mini, monkeypatch):
    validate_report(mini.root, today=TODAY)
    after_report(monkeypatch, lambda: mini.edit(DIARY, lambda d: d["visits"][0].update(retailer="r-9999")))
    repo, report = validate(mini.root, today=TODAY)
    assert "unknown_retailer" in codes(report)  # the plain run saw the new bytes
    assert_plain(mini, repo, report)


def test_a_file_unreadable_since_the_report_means_the_plain_run(mini, monkeypatch):
    validate_report(mini.root, today=TODAY)
    after_report(monkeypatch, lambda: (mini.root / "records" / PLAN).write_text("manager: cm-li\ndate: [\n", encoding="utf-8"))
    _, report = validate(mini.root, today=TODAY)
    assert "yaml" in codes(report)


def test_no_cache_means_the_plain_run(mini):
    break_some(mini)
    repo, report = validate(mini.root, today=TODAY, use_cache=False)
    assert_plain(mini, repo, report)


def test_checks_split_over_workers_say_the_same(mini, pooled, monkeypatch):
    from crmdocs.scripts import checks, validate as validate_module

    break_some(mini)
    mini.edit(PLAN, lambda d: d.update(approval={"by": "cm-wang", "at": "2026-08-31 18:00"}))  # wrong reviewer
    monkeypatch.setattr(validate_module, "PARALLEL_CHECKS_MIN", 1)
    repo, _ = load(mini.root)
    one = checks.run_checks(repo, TODAY)
    two = validate_module.run_all_checks(repo, TODAY, jobs=2)
    assert sorted(set(two), key=repr) == sorted(set(one), key=repr)
    assert len(two) == len(one)
    assert {"unknown_retailer", "wrong_reviewer"} <= {d.code for d in two}


def test_sales_read_in_several_blocks_are_the_same(monkeypatch, tmp_path):
    from crmdocs.scripts import sales

    rows = [(f"2026-09-{1 + i % 28:02d}", f"r-{(i * 7919) % 900:04d}", f"b-{i % 13}", 1 + i % 5, 10.5 + i % 3)
            for i in range(40_000)]
    data = sales.write_sales_csv(rows).encode()
    whole = sales.SalesData()
    assert sales.read_sales_csv(data, "records/sales/2026-09.csv", "2026-09", whole) == []
    whole.finish()
    monkeypatch.setattr(sales, "CSV_BLOCK", 1 << 16)  # pyarrow then gives each block a dictionary of its own
    assert sales._fast(data, "2026-09", 0) is not None  # the columnar reader, not the row by row one
    blocks = sales.SalesData()
    assert sales.read_sales_csv(data, "records/sales/2026-09.csv", "2026-09", blocks) == []
    blocks.finish()
    for column in ("day", "retailer", "brand", "quantity", "amount", "file_of", "line"):
        assert np.array_equal(getattr(whole, column), getattr(blocks, column)), column
    assert whole.retailer_ids == blocks.retailer_ids and whole.brand_ids == blocks.brand_ids
    assert whole.rows_of("r-0007") == [r for r in blocks.rows_of("r-0007")] != []


def test_workers_answers_go_through_a_spool_folder_left_empty(mini, pooled, monkeypatch, tmp_path):
    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(repository, "_SPOOL_DIR", str(spool))
    one, _ = load(mini.root, jobs=1)
    two, _ = load(mini.root, jobs=3)  # two workers: at least one answer comes back through a file
    same_repo(one, two)
    assert list(spool.iterdir()) == []


def test_a_killed_run_s_spool_folder_is_removed_by_the_next_run(mini, pooled, monkeypatch, tmp_path):
    import os
    import subprocess

    spool = tmp_path / "spool"
    spool.mkdir()
    monkeypatch.setattr(repository, "_SPOOL_DIR", str(spool))
    gone = subprocess.Popen(["true"])
    gone.wait()  # a process id nobody has now: the run that was killed
    leftover = spool / f"crmdocs-load-{gone.pid}-x1y2"
    leftover.mkdir()
    (leftover / "answer.pickle").write_bytes(b"0" * 1000)
    running = spool / f"crmdocs-load-{os.getppid()}-a1b2"  # a run still going (a live process)
    running.mkdir()
    load(mini.root, jobs=2)
    assert not leftover.exists()
    assert running.exists()


def test_a_full_spool_sends_the_answers_through_the_pipe(mini, pooled, monkeypatch):
    import os
    import tempfile

    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full to stand for a full disk")
    monkeypatch.setattr(tempfile, "mkstemp", lambda dir, suffix: (os.open("/dev/full", os.O_WRONLY), os.path.join(dir, "gone")))
    break_some(mini)
    one, one_report = load(mini.root, jobs=1)
    two, two_report = load(mini.root, jobs=3)
    same_repo(one, two)
    assert two_report.to_text() == one_report.to_text()


def test_without_a_spool_folder_the_temporary_folder_serves(mini, pooled, monkeypatch, tmp_path):
    monkeypatch.setattr(repository, "_SPOOL_DIR", str(tmp_path / "no-such-folder"))
    one, _ = load(mini.root, jobs=1)
    two, _ = load(mini.root, jobs=2)
    same_repo(one, two)
