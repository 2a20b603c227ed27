"""`crmdocs recalc`'s side worker (scripts/sidecar.py): the retailer rules
run in a forked worker while this process validates, and their files come
back rendered — only when the worker stood on exactly the records validated
here; otherwise, or when it fails, everything is computed here. The files
are the same bytes either way."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import time
from pathlib import Path

import pytest

from conftest import SALES, SALES_ROWS, MiniRepo, build_mini_repo, sales_csv

from crmdocs.scripts import recalc, sidecar
from crmdocs.scripts.diagnostics import CrmdocsError
from crmdocs.scripts.rules import MODULES, NotHanded, compute_all

DEMO = Path(__file__).resolve().parents[1] / "records"


@pytest.fixture
def started(monkeypatch):
    """Every side worker recalc.compute starts, recorded."""
    sides: list[sidecar.Side] = []
    real = sidecar.start

    def start(*args, **kwargs):
        side = real(*args, **kwargs)
        sides.append(side)
        return side

    monkeypatch.setattr(sidecar, "start", start)
    return sides


def warm(mini: MiniRepo) -> None:
    """Files older than the caches' trust window, and the caches written (a first run)."""
    mini.age()
    recalc.compute(mini.root, handed_in=None, jobs=1)


@pytest.fixture
def office(tmp_path) -> MiniRepo:
    mini = MiniRepo(build_mini_repo(tmp_path))
    warm(mini)
    return mini


def plain(root: Path) -> dict[str, str]:
    """The files as computed without the worker."""
    return recalc.render(recalc.compute(root, handed_in=None, jobs=1))


def overlapped(root: Path, **kwargs):
    return recalc.compute(root, handed_in=None, jobs=2, files_only=True, **kwargs)


# ---------------------------------------------------------------- the same files


def test_the_worker_s_files_are_taken_and_are_the_same_bytes(office, started):
    computed = overlapped(office.root)
    assert len(started) == 1 and started[0].why == ""
    side_files = {rel.split("/")[-1] for rel in computed.texts}
    assert computed.texts and not set(computed.texts) & set(computed.records)
    assert any(rel.startswith("2026-09/") for rel in computed.texts)
    assert all("/managers/" not in rel and "complaints" not in rel for rel in computed.texts), side_files
    assert all(type(text) is bytes for text in computed.texts.values())  # handed over as the files' UTF-8 bytes
    assert recalc.render(computed) == plain(office.root)
    assert computed.files == len(plain(office.root))


def test_demo_office_same_bytes_with_and_without_the_worker(tmp_path, started):
    shutil.copytree(DEMO, tmp_path / "records", ignore=shutil.ignore_patterns("computed"))
    mini = MiniRepo(tmp_path)
    warm(mini)
    computed = overlapped(tmp_path)
    assert started[0].why == "" and len(computed.texts) > 20
    assert recalc.render(computed) == plain(tmp_path)


def test_settle_writes_and_checks_the_handed_over_texts(office, started):
    computed = overlapped(office.root)
    assert computed.texts
    result = recalc.settle(office.root, computed, write_files=True, jobs=1)
    assert sorted(result.written) == sorted(plain(office.root))
    assert recalc.settle(office.root, overlapped(office.root), write_files=False, jobs=2) == []
    computed = overlapped(office.root)
    rel = sorted(computed.texts)[0]
    (recalc.computed_dir(office.root) / rel).write_text("edited\n", encoding="utf-8")
    found = recalc.settle(office.root, computed, write_files=False, jobs=1)
    assert [d.path for d in found] == [f"records/computed/{rel}"]


def test_cli_recalc_counts_every_file(office, started):
    code, out = office.cli("recalc", "--jobs", "2")
    assert code == 0, out
    code, out = office.cli("recalc", "--check", "--jobs", "2")
    assert code == 0, out
    n = len(plain(office.root))
    assert f"的 {n} 个文件与重新计算的结果一致" in out
    assert started and all(side.why == "" for side in started)


def test_one_job_starts_no_worker(office, monkeypatch):
    monkeypatch.setattr(sidecar, "start", lambda *a, **k: pytest.fail("a worker with jobs 1"))
    computed = recalc.compute(office.root, handed_in=None, jobs=1, files_only=True)
    assert not computed.texts
    computed = recalc.compute(office.root, handed_in=None, jobs=2)  # not files_only: the records are wanted
    assert not computed.texts and computed.files == len(computed.records)


# ---------------------------------------------------------------- fallbacks


def test_a_file_changed_after_the_worker_read_it_means_everything_computed_here(office, monkeypatch):
    marker = office.root / "worker-done"
    real_work = sidecar.work
    more = [dict(row, quantity=row["quantity"] * 7) for row in SALES_ROWS]

    def work(root, as_of, send):  # in the worker: it has read the files; now they change
        out = real_work(root, as_of, send)
        (Path(root) / "records" / SALES).write_text(sales_csv(more), encoding="utf-8")
        marker.write_text("done")
        return out

    real_start = sidecar.start

    def start(root, as_of=None):
        side = real_start(root, as_of)
        deadline = time.monotonic() + 60
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        return side

    before = plain(office.root)
    monkeypatch.setattr(sidecar, "work", work)
    monkeypatch.setattr(sidecar, "start", start)
    computed = recalc.compute(office.root, handed_in=None, jobs=2, files_only=True)
    assert marker.exists()
    assert not computed.texts
    after = plain(office.root)
    assert after != before  # the change matters to the retailer rules
    assert recalc.render(computed) == after


def test_the_first_part_is_refused_on_other_files_or_another_as_of(office):
    from crmdocs.scripts.validate import validate

    repo, _ = validate(office.root, jobs=1)
    side = sidecar.start(office.root)
    assert side.first(repo, dt.date(2027, 1, 1)) is None and side.why == "another as_of (first part)"
    assert side.last() is None  # nothing more is taken from it
    side.stop()
    side = sidecar.start(office.root)
    repo.digests["records/policy.yaml"] = "0" * 40
    assert side.first(repo, None) is None and side.why == "other files (first part)"
    side.stop()
    side = sidecar.start(office.root)
    del repo.digests["records/policy.yaml"]
    assert side.first(repo, None) is None and side.why == "other files (first part)"
    side.stop()
    assert side.pid == 0 and side.fd == -1


def test_both_parts_are_taken_the_first_before_the_worker_ends(office, started, monkeypatch):
    """The rules here run between the two parts, while the worker works on."""
    from crmdocs.scripts.rules import visits

    ran_here = office.root / "visits-ran-here"
    seen = office.root / "worker-saw-visits"
    real_work, real_visits = sidecar.work, visits.compute

    def work(root, as_of, send):
        def send_then_wait(part):
            send(part)
            deadline = time.monotonic() + 60
            while not ran_here.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            if ran_here.exists():
                seen.write_text("yes")
        return real_work(root, as_of, send_then_wait)

    def compute(ctx):
        ran_here.write_text("yes")
        return real_visits(ctx)

    monkeypatch.setattr(sidecar, "work", work)
    monkeypatch.setattr(visits, "compute", compute)
    computed = overlapped(office.root)
    assert seen.exists()  # the worker was still at work when visits ran here
    side = started[0]
    assert side.why == "" and computed.texts and len(side.arrived) == 2
    assert side.started <= side.arrived[0] <= side.arrived[1]
    monkeypatch.setattr(visits, "compute", real_visits)
    assert recalc.render(computed) == plain(office.root)


def _second_part(how):
    """A worker whose second part goes wrong in the way ``how`` says, after a good first part."""
    real_work = sidecar.work

    def work(root, as_of, send):
        last = real_work(root, as_of, send)
        if how == "killed":
            os.kill(os.getpid(), signal.SIGKILL)
        if how == "exits":
            os._exit(3)
        if how == "raises":
            raise MemoryError("no room")
        if how == "missing":
            return None
        if how == "other files":
            last.digests = dict(last.digests, **{"records/policy.yaml": "0" * 40})
        if how == "another as_of":
            last.as_of = last.as_of - dt.timedelta(days=1)
        if how == "not its kind":
            return {"texts": last.texts}
        return last

    return work


@pytest.mark.parametrize("how,why", [
    ("killed", "failed: no second part"),
    ("exits", "failed: no second part"),
    ("raises", "failed: MemoryError: no room"),
    ("missing", "gave up: no second part"),
    ("other files", "other files (second part)"),
    ("another as_of", "another as_of (second part)"),
    ("not its kind", "failed: sent dict as its second part"),
])
def test_a_second_part_not_taken_means_everything_computed_here(office, started, monkeypatch, how, why):
    from crmdocs.scripts.rules import visits

    ran = []
    real_visits = visits.compute
    monkeypatch.setattr(visits, "compute", lambda ctx: ran.append(1) or real_visits(ctx))
    monkeypatch.setattr(sidecar, "work", _second_part(how))
    computed = overlapped(office.root)
    side = started[0]
    assert side.why == why and len(side.arrived) == 1  # the first part was taken
    assert ran == [1, 1]  # the rules here ran on it, then everything again, here
    assert not computed.texts and side.pid == 0 and side.fd == -1
    monkeypatch.setattr(visits, "compute", real_visits)
    assert recalc.render(computed) == plain(office.root)


@pytest.mark.parametrize("how,why", [
    ("other files", "other files (first part)"),
    ("another as_of", "another as_of (first part)"),
    ("not its kind", "failed: sent str as its first part"),
    ("killed", "failed: no first part"),
])
def test_a_first_part_not_taken_means_everything_computed_here(office, started, monkeypatch, how, why):
    real_work = sidecar.work

    def work(root, as_of, send):
        def spoil(part):
            if how == "other files":
                part.digests = {rel: d for rel, d in part.digests.items() if rel != "records/policy.yaml"}
            if how == "another as_of":
                part.as_of = part.as_of + dt.timedelta(days=1)
            if how == "killed":
                os.kill(os.getpid(), signal.SIGKILL)
            send("not a part" if how == "not its kind" else part)
        return real_work(root, as_of, spoil)

    monkeypatch.setattr(sidecar, "work", work)
    computed = overlapped(office.root)
    side = started[0]
    assert side.why == why and not side.arrived and not computed.texts
    assert side.pid == 0 and side.fd == -1  # the worker was ended and reaped
    assert recalc.render(computed) == plain(office.root)


def test_a_worker_whose_first_part_is_refused_is_ended_before_everything_is_computed_here(office, started, monkeypatch):
    # (review7) it went on with tiers, limits, abnormal and their rendering beside the computation here (a core and,
    # at city scale, ~1.4 GB) until that computation was done
    from crmdocs.scripts import rules

    real_work, real_all = sidecar.work, rules.compute_all
    seen, here = [], os.getpid()

    def work(root, as_of, send):
        def spoil(part):
            part.as_of = part.as_of + dt.timedelta(days=1)
            send(part)
        return real_work(root, as_of, spoil)

    def compute_all(*args, **kwargs):
        if os.getpid() == here:  # (the worker, forked, runs its rules through it too)
            seen.append(started[0].pid)
        return real_all(*args, **kwargs)

    monkeypatch.setattr(sidecar, "work", work)
    monkeypatch.setattr(rules, "compute_all", compute_all)
    computed = overlapped(office.root)
    assert started[0].why == "another as_of (first part)" and seen == [0], seen  # ended (and reaped) by then
    monkeypatch.setattr(rules, "compute_all", real_all)
    assert recalc.render(computed) == plain(office.root)


@pytest.mark.parametrize("how", ["raises", "dies", "garbles"])
def test_a_failing_worker_means_everything_computed_here(office, started, monkeypatch, how):
    def work(root, as_of, send):
        if how == "raises":
            raise MemoryError("no room")
        if how == "dies":
            os._exit(9)
        return "not a handover"

    monkeypatch.setattr(sidecar, "work", work)
    computed = overlapped(office.root)
    assert not computed.texts and started[0].why
    assert recalc.render(computed) == plain(office.root)


def test_cold_caches_the_worker_gives_up(tmp_path, started):
    mini = MiniRepo(build_mini_repo(tmp_path))  # no cache yet; the files just written
    computed = overlapped(tmp_path)
    assert started[0].why == "gave up" and not computed.texts
    assert recalc.render(computed) == plain(tmp_path)


def test_errors_compute_nothing_and_stop_the_worker(office, started):
    office.write("retailers/d-east/r-0001.yaml", "id: [unclosed\n")
    with pytest.raises(CrmdocsError) as caught:
        overlapped(office.root)
    assert "nothing computed" in str(caught.value)
    side = started[0]
    assert side.pid == 0 and side.fd == -1  # stopped and reaped
    assert not recalc.computed_dir(office.root).exists()


# ---------------------------------------------------------------- what the worker may read


def test_the_partial_repository_refuses_kinds_it_did_not_load(office):
    got = sidecar.load(office.root)
    assert got is not None
    repo, digests, days = got
    part = sidecar.partial(repo)
    assert part.retailers and part.policy is not None and part.org and part.brands and len(part.sales)
    for name in ("plans", "diaries", "people", "surveys", "targets", "analyses", "summaries"):
        with pytest.raises(sidecar.NotLoaded):
            getattr(part, name)
    with pytest.raises(sidecar.NotLoaded):
        getattr(part, "people", {})  # not an AttributeError: no default hides it
    with pytest.raises(sidecar.NotLoaded):
        part.source("plan", ("cm-li", dt.date(2026, 9, 1)))
    with pytest.raises(sidecar.NotLoaded):
        part.sources.get(("diary", ("cm-li", dt.date(2026, 9, 1))))
    assert part.source("retailer", "r-0001") == "records/retailers/d-east/r-0001.yaml"
    assert dt.date(2026, 9, 1) in days and all(sidecar.wanted(rel) for rel in digests)
    assert not any("/plans/" in rel or "/people/" in rel for rel in digests)


def test_a_retailer_rule_reading_another_kind_fails_loudly_and_recalc_computes_here(office, started, monkeypatch):
    from crmdocs.scripts.rules import tiers

    real = tiers.compute

    def compute(ctx):
        ctx.repo.people  # a rule change that starts reading the people
        return real(ctx)

    monkeypatch.setattr(tiers, "compute", compute)
    with pytest.raises(sidecar.NotLoaded):
        sidecar.work(office.root, None, lambda part: None)
    computed = overlapped(office.root)
    assert "NotLoaded" in started[0].why and not computed.texts
    assert recalc.render(computed) == plain(office.root)


def test_the_worker_has_no_hand_in_times():
    with pytest.raises(sidecar.NotLoaded):
        sidecar._Refused().get("records/plans/cm-li/2026/2026-09-01.yaml")
    for name in sidecar.SIDE + ("retail",):
        text = (Path(sidecar.__file__).parent / "rules" / f"{name}.py").read_text(encoding="utf-8")
        assert "handed_in" not in text, name  # (an `is None` test could not be caught)


def test_a_later_rule_reading_an_entry_not_handed_over_fails_loudly(office, started, monkeypatch):
    from crmdocs.scripts.rules import visits
    from crmdocs.scripts.validate import validate

    repo, _ = validate(office.root, jobs=1)
    with pytest.raises(NotHanded):  # not an empty class list
        compute_all(repo, modules=["visits"], shared={})
    real = visits.compute

    def compute(ctx):
        ctx.shared.get("tiers")  # a rule change that starts reading the tiers
        return real(ctx)

    monkeypatch.setattr(visits, "compute", compute)
    computed = overlapped(office.root)
    assert started[0].why == "" and not computed.texts  # taken, but the rest could not run on it
    assert recalc.render(computed) == plain(office.root)


def test_compute_all_runs_given_modules_in_order():
    assert MODULES[: len(sidecar.SIDE)] == sidecar.SIDE
    from retail_fixtures import repo, retailer

    r = repo([retailer("r-1")], [(dt.date(2026, 9, 1), "r-1", "b-1", 5, 500.0)])
    whole = compute_all(r, as_of=dt.date(2026, 9, 30))
    done = []
    first = compute_all(r, as_of=dt.date(2026, 9, 30), modules=reversed(sidecar.SIDE),
                        after=lambda name, ctx: done.append((name, sorted(ctx.shared))))
    assert [name for name, _ in done] == list(sidecar.SIDE)
    assert set(sidecar.SHIPPED) <= set(dict(done)[sidecar.SENT_AFTER])  # all set when the first part is sent
    assert first.records == {k: v for k, v in whole.records.items() if k in first.records}
    assert first.ctx.shared["classes"] == whole.ctx.shared["classes"]
    with pytest.raises(ValueError):
        compute_all(r, modules=["nonsense"])


def test_a_changed_archive_is_parsed_by_the_worker_the_rest_comes_from_the_cache(office, started, monkeypatch):
    def change(rel: str, area: int) -> None:
        office.edit(rel, lambda r: r["basic"].update(floor_area=area))
        past = time.time() - 600  # outside the caches' trust window; the others keep their times
        os.utime(office.path(rel), (past, past))

    change("retailers/d-east/r-0001.yaml", 90)
    monkeypatch.setattr(sidecar, "COLD_FILES", 1)  # its folder holds two archives: one to parse
    computed = overlapped(office.root)
    assert started[0].why == "" and computed.texts
    assert recalc.render(computed) == plain(office.root)
    change("retailers/d-east/r-0001.yaml", 91)
    change("retailers/d-east/r-0002.yaml", 92)
    assert sidecar.load(office.root) is None  # two to parse: more than it takes on
    monkeypatch.setattr(sidecar, "COLD_FILES", 2)
    assert sidecar.load(office.root) is not None


# ---------------------------------------------------------------- the sales read on first use


def read_here(repo) -> bool:
    """Whether ``repo.sales`` holds its arrays (a LazySales not yet read does not)."""
    return "_load" not in vars(repo.sales)


def checked(mini: MiniRepo) -> None:
    """``crmdocs validate`` run (its report cached: the checks, which read the sales, need not run again)."""
    from crmdocs.scripts.cache import validate_report

    validate_report(mini.root, today=dt.date.today())


def test_appraisals_sales_sums_are_worked_out_here_while_the_worker_works(office, started, monkeypatch):
    # (the worker is the longer of the two: this process works them out while it waits for the first part)
    from crmdocs.scripts.rules import appraisals

    checked(office)
    here, calls = os.getpid(), []
    real = appraisals.monthly_sales

    def monthly_sales(repo, as_of):
        calls.append(os.getpid())
        return real(repo, as_of)

    monkeypatch.setattr(appraisals, "monthly_sales", monthly_sales)
    computed = overlapped(office.root)
    assert started[0].why == "" and computed.texts
    assert calls == [here] and not read_here(computed.ctx.repo)  # (from the sales cache's narrow columns: main8)
    assert appraisals.SALES in computed.ctx.shared
    assert recalc.render(computed) == plain(office.root)


def test_a_worker_that_gave_up_before_the_sums_costs_no_sums_here(tmp_path, started, monkeypatch):
    from crmdocs.scripts.rules import appraisals

    calls = []
    real = appraisals.monthly_sales
    monkeypatch.setattr(appraisals, "monthly_sales", lambda *a: calls.append(1) or real(*a))
    mini = MiniRepo(build_mini_repo(tmp_path))  # no cache yet: the worker gives up at once
    computed = overlapped(mini.root)
    assert started[0].why == "gave up" and not computed.texts
    assert not calls  # (the computation here works out only the months it appraises)
    assert recalc.render(computed) == plain(mini.root)


def test_without_the_worker_the_sales_are_read_when_the_rules_need_them(office, monkeypatch):
    monkeypatch.setattr(sidecar, "start", lambda *a, **k: None)
    computed = recalc.compute(office.root, handed_in=None, jobs=2, files_only=True)
    assert read_here(computed.ctx.repo) and not computed.texts
    assert recalc.render(computed) == plain(office.root)


def test_validate_reads_the_sales_arrays_only_on_first_use(office):
    from crmdocs.scripts.rules import last_day
    from crmdocs.scripts.sales import SalesData
    from crmdocs.scripts.validate import validate

    checked(office)
    repo, report = validate(office.root, jobs=1)
    assert not read_here(repo)
    assert last_day(repo) >= dt.date(2026, 9, 8)
    assert repo.sales.last_day() == dt.date(2026, 9, 8) and not read_here(repo)  # from the cache's header
    assert any(rel.endswith(SALES) for rel in repo.digests)  # what Side.first compares
    assert len(repo.sales) == len(SALES_ROWS) and isinstance(repo.sales, SalesData)
    assert "_load" not in vars(repo.sales)  # read: no longer a LazySales (where rows came from: made on first use)
    assert repo.sales.retailer_ids == ["r-0001", "r-0002", "r-0003"]


def test_sales_arrays_damaged_before_their_first_use_are_read_from_the_files(office):
    from crmdocs.scripts.repository import SALES_CACHE
    from crmdocs.scripts.validate import validate, validate_plain

    checked(office)
    repo, _ = validate(office.root, jobs=1)
    assert not read_here(repo)
    path = office.root / SALES_CACHE
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x10  # in the arrays (the header is read already)
    path.write_bytes(bytes(data))
    expected = validate_plain(office.root)[0].sales
    for column in ("day", "retailer", "brand", "quantity", "amount"):
        assert getattr(repo.sales, column).tolist() == getattr(expected, column).tolist(), column


def test_a_sales_file_changed_before_their_first_use_stops_with_a_clear_error(office):
    from crmdocs.scripts.repository import SALES_CACHE
    from crmdocs.scripts.validate import validate

    checked(office)
    repo, _ = validate(office.root, jobs=1)
    assert not read_here(repo)
    (office.root / SALES_CACHE).write_bytes(b"")  # the arrays cannot be read: the files are
    office.write(SALES, sales_csv([dict(row, quantity=row["quantity"] * 7) for row in SALES_ROWS]))
    with pytest.raises(CrmdocsError) as caught:
        len(repo.sales)
    assert "records/sales/2026-09.csv" in str(caught.value) and "改动" in str(caught.value)


def test_the_sales_read_in_a_forked_process_and_here_are_the_same(office):
    from crmdocs.scripts.validate import validate

    checked(office)
    repo, _ = validate(office.root, jobs=1)
    assert not read_here(repo)
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        try:
            os.write(write, repr(repo.sales.quantity.tolist()).encode())
        finally:
            os._exit(0)
    os.close(write)
    assert repo.sales.quantity.tolist() == [10, 5, 8]  # this process reads at the same time
    os.waitpid(pid, 0)
    assert os.read(read, 1000) == b"[10, 5, 8]"
    os.close(read)


def test_appraisals_sales_handed_over_are_those_worked_out_from_the_sales(office):
    import numpy as np

    from crmdocs.scripts.rules import appraisals, make_context
    from crmdocs.scripts.validate import validate

    repo, _ = validate(office.root, jobs=1)
    for as_of in (dt.date(2026, 9, 5), dt.date(2026, 11, 30)):
        whole = appraisals.monthly_sales(repo, as_of)
        months = ["2026-07", "2026-09", "2026-10", "2026-12"]  # before the sales, with, without, after as_of
        ctx = make_context(repo, None, as_of)
        ctx.shared[appraisals.SALES] = whole
        handed = appraisals._sales_for(ctx, months)
        direct = appraisals.sales_by_manager(repo, months, as_of)
        assert handed.managers == direct.managers and handed.months == direct.months
        assert np.array_equal(handed.total, direct.total) and np.array_equal(handed.key, direct.key)
        assert handed.total.sum() == (10 + 5 + 8 if as_of.month > 9 else 10 + 5)


def test_sales_never_read_let_go_of_their_cache_file(office):
    import gc
    import warnings

    from crmdocs.scripts.validate import validate

    checked(office)
    repo, _ = validate(office.root, jobs=1)
    assert not read_here(repo)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        del repo
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_the_worker_holds_the_retailers_as_their_kept_facts(office, monkeypatch):
    from crmdocs.scripts import repository
    from crmdocs.scripts.facts import RetailerFacts

    built: list[str] = []
    real = repository._load_unit

    def load_unit(root, unit, digest):
        built.append(unit.folder)
        return real(root, unit, digest)

    monkeypatch.setattr(repository, "_load_unit", load_unit)
    repo, digests, _ = sidecar.load(office.root)
    assert repo.retailers and all(type(r) is RetailerFacts for r in repo.retailers.values())
    assert not [folder for folder in built if "/retailers/" in folder]  # no archive model made
    assert all(digests[rel] for rel in digests if "/retailers/" in rel)


def test_where_each_sales_row_came_from_is_made_on_first_use_and_is_what_the_files_give(office):
    import pickle

    from crmdocs.scripts.sales import DEFERRED, DeferredSales, SalesData
    from crmdocs.scripts.validate import validate, validate_plain

    checked(office)
    expected = validate_plain(office.root)[0].sales
    columns = ("day", "retailer", "brand", "quantity", "amount", *DEFERRED)
    repo, _ = validate(office.root, jobs=1)
    assert len(repo.sales) == len(expected) and type(repo.sales) is DeferredSales
    assert not set(DEFERRED) & set(vars(repo.sales))  # not made by reading the rest
    again = pickle.loads(pickle.dumps(repo.sales))  # (the side worker's way back, the site's pools)
    assert type(again) is SalesData
    for column in columns:
        assert getattr(again, column).tolist() == getattr(expected, column).tolist(), column
    repo, _ = validate(office.root, jobs=1)
    sales = repo.sales
    assert [sales.origin(i) for i in range(len(sales))] == [expected.origin(i) for i in range(len(expected))]
    assert type(sales) is SalesData and sales.file_of.dtype == expected.file_of.dtype  # every column made


def test_the_worker_finds_the_latest_plan_or_diary_day_from_the_names_alone(tmp_path):
    from crmdocs.scripts.kinds import BY_NAME
    from crmdocs.scripts.repository import discover

    names = [
        "plans/cm-a/2026/2026-09-01.yaml", "plans/cm-a/2026/2026-09-03.yaml", "plans/cm-a/2026/notes.txt",
        "plans/cm-a/2026/.2026-12-31.yaml", "plans/cm-a/2026/2026-09-09.yaml.bak", "plans/cm-a/zz-2027-01-01.yaml",
        "diaries/cm-b/2026/2026-09-02.yaml", "diaries/cm-b/2025/2026-09-05.yaml", "diaries/.git/2026/2026-12-01.yaml",
        "diaries/cm-b/2026/sub/2026-10-01.yaml", "retailers/d-east/r-0001.yaml",
    ]
    for name in names:
        path = tmp_path / "records" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x: 1\n", encoding="utf-8")
    rels, _ = discover(tmp_path)
    days = []
    for rel in rels:  # what the whole walk gives
        sub = rel.split("/", 1)[1]
        for kind in ("plan", "diary"):
            found = BY_NAME[kind].pattern.fullmatch(sub)
            if found is not None:
                days.append(found.group("date"))
    assert max(days) == sidecar._latest_daily(tmp_path) == "2026-09-05"
    assert sidecar._latest_daily(tmp_path / "nowhere") is None
    assert discover(tmp_path, sidecar._TOPS)[0] == ["records/retailers/d-east/r-0001.yaml"]


def claims_late(monkeypatch, who: str) -> None:
    """The worker (``who`` = "worker") or this process claims the current period's files only after 1.5 s."""
    here = os.getpid()
    real = sidecar._claimed

    def claimed(jobs):
        if (os.getpid() != here) == (who == "worker"):
            time.sleep(1.5)
        return real(jobs)

    monkeypatch.setattr(sidecar, "_claimed", claimed)


@pytest.mark.parametrize("late", ["worker", "here"])
def test_the_current_period_s_files_are_written_by_whichever_process_claims_them_first(office, started, monkeypatch, late):
    from crmdocs.scripts.rules import classes, tiers

    claims_late(monkeypatch, late)
    here = os.getpid()
    written: list[str] = []
    for module in (classes, tiers):
        real = module.current_files
        monkeypatch.setattr(module, "current_files",
                            lambda *a, real=real, name=module.NAME: (os.getpid() == here and written.append(name)) or real(*a))
    computed = overlapped(office.root)
    assert started[0].why == ""
    assert sorted(written) == (["classes", "tiers"] if late == "worker" else [])  # each written once, by one of the two
    assert any("/classes/" in rel for rel in computed.texts) and any("/tiers/" in rel for rel in computed.texts)
    assert recalc.render(computed) == plain(office.root)


def test_current_classes_files_that_cannot_be_written_here_mean_everything_computed_here(office, started, monkeypatch):
    from crmdocs.scripts.rules import classes

    def broken(*args):
        raise KeyError("r-0001")

    claims_late(monkeypatch, "worker")  # this process claims them
    monkeypatch.setattr(classes, "current_files", broken)
    computed = overlapped(office.root)
    assert started[0].why.startswith("failed: the current classes files here") and not computed.texts
    assert recalc.render(computed) == plain(office.root)


@pytest.mark.parametrize("texts", [{}, {"a.yaml": b""}, {"2026-11/limits/d-east.yaml": "零售户: 1\n".encode(), "b.yaml": b"x" * 70000}])
def test_the_parts_are_read_back_as_written_and_refused_when_cut_short(texts):
    last = sidecar.Last(dt.date(2026, 11, 27), {"records/sales/2026-11.csv": "ab" * 20}, dict(texts), (1.0, 2.0))
    first = sidecar.First(dt.date(2026, 11, 27), {}, {"classes": {"2026-11": {"r-1": "a"}}})
    side = sidecar.Side(0, (sidecar._answer_file(), sidecar._answer_file()), -1)
    try:
        sidecar._write(side.fds[0], ("ok", first))
        sidecar._write(side.fds[1], ("ok", last))
        assert side._read(0) == ("ok", first)
        status, back = side._read(1)
        assert status == "ok" and back == last and all(type(v) is bytes for v in back.texts.values())
        size = os.fstat(side.fds[1]).st_size
        os.ftruncate(side.fds[1], size - 1)  # cut short (a worker killed while writing)
        assert side._read(1) is None
        os.ftruncate(side.fds[0], 0)
        assert side._read(0) is None
        failed = sidecar._answer_file()
        sidecar._write(failed, ("failed", "KeyError: 'x'"))
        side.fds[0], fd = failed, side.fds[0]
        os.close(fd)
        assert side._read(0) == ("failed", "KeyError: 'x'")
    finally:
        side.stop()
