"""The demo office generator: deterministic, valid, with the awkward cases
real offices have, and a city-shaped variant that writes fast."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import gzip
import io
import os
from collections import Counter
from pathlib import Path

import pytest

from crmdocs.schemas import Policy
from crmdocs.scripts import demo, demo_fast
from crmdocs.scripts.cli import main
from crmdocs.scripts.demo_city import write_city
from crmdocs.scripts.demo_county import daily_records
from crmdocs.scripts.kinds import BY_NAME
from crmdocs.scripts.validate import validate
from crmdocs.scripts.workdays import WorkCalendar
from crmdocs.scripts.yamlwrite import dump_record

REPO = Path(__file__).resolve().parents[1]
END = dt.date(2026, 11, 27)


def tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def county(tmp_path_factory):
    root = tmp_path_factory.mktemp("county")
    summary = demo.generate(root / "records", seed=1)
    repo, report = validate(root, today=END)
    return root, summary, repo, report


# ---------------------------------------------------------------- determinism


def test_same_seed_gives_byte_identical_files_and_rewrites_nothing(county):
    root, *_ = county
    before = tree(root / "records")
    stamps = {p: p.stat().st_mtime_ns for p in (root / "records").rglob("*") if p.is_file()}
    demo.generate(root / "records", seed=1)
    assert tree(root / "records") == before
    assert {p: p.stat().st_mtime_ns for p in (root / "records").rglob("*") if p.is_file()} == stamps


def test_other_seed_gives_another_office():
    a, b = demo.build(1, demo.county_shape()), demo.build(2, demo.county_shape())
    assert [s.record for s in a.shops[:50]] != [s.record for s in b.shops[:50]]
    assert a.calendars == b.calendars


def test_bundled_records_are_the_generators_output(county):
    """records/ is `crmdocs demo --seed 1 --out records`: regenerate after changing the generator."""
    root, *_ = county
    if not (REPO / "records" / "policy.yaml").is_file():
        pytest.skip("no bundled records")
    stale = [rel for rel, data in tree(root / "records").items()
             if not (REPO / "records" / rel).is_file() or (REPO / "records" / rel).read_bytes() != data]
    assert stale == []


# ---------------------------------------------------------------- validity and shape


def test_demo_office_validates_without_errors(county):
    _, _, _, report = county
    errors = [d.format() for d in report.diagnostics if d.severity == "error"]
    assert errors == []
    assert report.files > 2000


def test_counts_match_the_issue(county):
    _, summary, repo, _ = county
    kinds = Counter(u.kind.value for u in repo.org.values())
    assert kinds == {"city": 1, "county": 1, "department": 3}
    roles = Counter(p.role.value for p in repo.people.values())
    assert roles["market_manager"] == 3 and roles["customer_manager"] == 9
    assert roles["leader"] >= 1 and roles["admin"] >= 1 and roles["ci"] == 1
    assert all(p.emails for p in repo.people.values())
    grades = {p.grade for p in repo.people.values() if p.grade}
    assert grades == set(Policy().grades.ids())
    assert len(repo.brands) == 12
    assert any(b.key for b in repo.brands.values()) and any(b.scarce for b in repo.brands.values())
    assert {b.price_class for b in repo.brands.values()} == {1, 2, 3, 4, 5}
    assert 850 <= len(repo.retailers) <= 950
    assert Counter(r.management.department for r in repo.retailers.values()).keys() == {
        u for u, unit in repo.org.items() if unit.kind.value == "department"
    }
    assert summary.managers == 9


def test_retailers_are_varied_and_realistic(county):
    _, _, repo, _ = county
    rs = list(repo.retailers.values())
    assert Counter(r.basic.network.value for r in rs).keys() == {"urban", "rural"}
    formats = Counter(r.basic.format.value for r in rs)
    assert len(formats) == 7 and formats["other"] < 0.05 * len(rs)
    assert len({r.basic.shop_name for r in rs}) > 0.5 * len(rs)
    assert all(len(r.basic.licence_no) == 12 and r.basic.licence_no.isdigit() for r in rs)
    assert all(r.personal.phone and len(r.personal.phone) == 11 for r in rs)
    assert any(r.personal.id_number for r in rs) and any(r.personal.care_group for r in rs)
    assert any(r.management.violations for r in rs) and any(r.management.late_payments for r in rs)
    reps = sum(r.evaluation.representative for r in rs)
    assert 0 < reps <= 0.2 * len(rs)
    adjusted = [r for r in rs if r.sales.adjustment]
    assert adjusted and all(repo.people[r.sales.adjustment.approver].role.value == "market_manager" for r in adjusted)


def test_numbers_are_quoted_in_the_files(county):
    root, *_ = county
    path = next((root / "records" / "retailers").rglob("*.yaml"))
    text = path.read_text(encoding="utf-8")
    assert 'licence_no: "' in text and 'phone: "' in text


def test_policy_is_written_out_in_full_with_a_chinese_header(county):
    root, *_ = county
    text = (root / "records" / "policy.yaml").read_text(encoding="utf-8")
    assert text.startswith("# 政策文件")
    for key in ("grades:", "cycle_days:", "plan_deadline:", "indicators:", "survey_scores:"):
        assert key in text


def test_calendar_2026_has_the_state_council_holidays(county):
    _, _, repo, _ = county
    cal = WorkCalendar(repo.calendars)
    assert not cal.is_working_day(dt.date(2026, 2, 16))  # 春节
    assert cal.is_working_day(dt.date(2026, 2, 14)) and cal.is_working_day(dt.date(2026, 2, 28))
    assert not cal.is_working_day(dt.date(2026, 10, 7))
    assert cal.is_working_day(dt.date(2026, 9, 20)) and cal.is_working_day(dt.date(2026, 10, 10))
    assert cal.is_working_day(dt.date(2026, 1, 4)) and not cal.is_working_day(dt.date(2026, 5, 5))


def test_sales_cover_26_weeks_in_monthly_files(county):
    root, _, repo, _ = county
    names = sorted(p.name for p in (root / "records" / "sales").iterdir())
    assert names == [f"2026-{m:02d}.csv" for m in range(6, 12)]
    days = repo.sales.day
    assert str(days.min()) == "2026-06-01" and str(days.max()) == "2026-11-27"
    rows = list(csv.reader(io.StringIO((root / "records" / "sales" / "2026-09.csv").read_text())))[1:200]
    for _, _, brand, qty, amount in rows:
        assert abs(float(amount) - int(qty) * repo.brands[brand].price) < 0.01


def test_plans_and_diaries_every_working_day_of_the_period(county):
    _, _, repo, _ = county
    cal = WorkCalendar(repo.calendars)
    days = cal.working_days(dt.date(2026, 9, 1), END)
    managers = [p for p, person in repo.people.items() if person.role.value == "customer_manager"]
    plan_days = {d for _, d in repo.plans}
    assert plan_days == set(days)
    for m in managers:
        mine = sum(1 for (who, _) in repo.diaries if who == m)
        assert mine >= 0.9 * len([d for d in days if d >= max(days[0], repo.people[m].hire_date)])
    sizes = [len(p.visits) for p in repo.plans.values() if p.visits]
    assert min(sizes) >= 20 and max(sizes) <= 35


def test_execution_reviews_approvals_and_hand_in_times_vary(county):
    root, _, repo, _ = county
    ratios = []
    for key, plan in repo.plans.items():
        diary = repo.diaries.get(key)
        if plan.visits and diary:
            done = {v.retailer for v in diary.visits}
            ratios.append(sum(v.retailer in done for v in plan.visits) / len(plan.visits))
    mean = sum(ratios) / len(ratios)
    assert 0.85 <= mean <= 0.98
    reviewed = sum(d.review is not None for d in repo.diaries.values())
    assert 0.7 * len(repo.diaries) < reviewed < len(repo.diaries)
    assert any(d.review and d.review.valuable for d in repo.diaries.values())
    assert 0.8 * len(repo.plans) < sum(p.approval is not None for p in repo.plans.values()) < len(repo.plans)
    rows = list(csv.DictReader(io.StringIO((root / "records" / "handed-in.csv").read_text())))
    paths = {r["path"] for r in rows if not r["path"].endswith("#review")}
    assert all((root / p).is_file() for p in paths)
    reviews = {r["path"]: r["time"] for r in rows if r["path"].endswith("#review")}
    assert len(reviews) == reviewed
    key, when = sorted(reviews.items())[0]
    diary = repo.diaries[(key.split("/")[2], dt.date.fromisoformat(key.split("/")[4][:10]))]
    assert diary.review.at.strftime("%Y-%m-%d %H:%M") == when
    files = {f"records/{p.relative_to(root / 'records').as_posix()}" for folder in ("plans", "diaries")
             for p in (root / "records" / folder).glob("*/*/*.yaml")}
    assert paths == files  # every plan and diary is listed …
    unknown = [r for r in rows if not r["time"]]
    assert 0 < len(unknown) < 0.1 * len(files)  # … some without a time: not in the old system's log
    assert max(r["time"] for r in rows) <= f"{END} 23:59"  # nothing after the records' last day
    late_plans = [r for r in rows if "/plans/" in r["path"] and r["time"] and r["time"][11:] > "08:30"]
    assert 0 < len(late_plans) < 0.2 * len(repo.plans)


def test_awkward_cases_exist(county):
    _, summary, repo, _ = county
    special = summary.special
    suspended = repo.retailers[special["suspended"]]
    assert suspended.status.value == "suspended" and suspended.basic.licence_expiry < END
    assert repo.retailers[special["closed"]].status.value == "closed"
    new = repo.retailers[special["new"]]
    assert END - dt.timedelta(days=14) < new.basic.opened <= END - dt.timedelta(days=END.weekday() + 1)
    assert repo.sales.retailer_code(new.id) == -1  # no sales history
    moved = repo.people[special["moved_manager"]]
    assert moved.unit_history and moved.unit_history[0].unit != moved.unit
    change = moved.unit_history[0].until
    before = [r for r in repo.retailers.values() if r.management.manager_on(change - dt.timedelta(days=1)) == moved.id]
    after = [r for r in repo.retailers.values() if r.management.manager == moved.id]
    assert before and after
    assert {r.management.department for r in before} == {moved.unit_history[0].unit}
    assert {r.management.department for r in after} == {moved.unit}
    manager, day = special["sick"].split("/")
    sick = repo.diaries[(manager, dt.date.fromisoformat(day))]
    assert sick.absence.value == "sick" and sick.visits == []
    trainee = repo.people[special["trainee"]]
    assert trainee.grade == "trainee" and trainee.hire_date > dt.date(2026, 9, 1)


def test_complaints_surveys_and_targets(county):
    _, _, repo, _ = county
    cs = list(repo.complaints.values())
    assert {c.severity.value for c in cs} == {"general", "major", "special"}
    specials = [c for c in cs if c.severity.value == "special"]
    assert any(c.approver for c in specials) and any(c.approver is None for c in specials)
    assert any(c.resolved is None for c in cs)
    policy = Policy()
    cal = WorkCalendar(repo.calendars)
    overdue = [c for c in cs if c.resolved and c.resolved.date() > cal.add_working_days(
        c.received.date(), policy.complaints.working_days[c.severity.value])]
    assert overdue
    surveys = list(repo.surveys.values())
    assert len(surveys) > 100
    assert Counter(s.quality for s in surveys).keys() <= set(policy.survey_scores.quality)
    assert {t for t in repo.targets} == {"2026-09", "2026-10", "2026-11"}
    from crmdocs.scripts.sales import managers as row_managers

    codes, ids = row_managers(repo.sales, repo.retailers)
    months = repo.sales.day.astype("datetime64[M]").astype(str)
    ratios = []
    for period, targets in repo.targets.items():
        for line in targets.targets:
            sel = (months == period) & (codes == ids.index(line.manager))
            ratios.append(float(repo.sales.quantity[sel].sum()) / line.sales)
    assert 0.65 <= min(ratios) and max(ratios) <= 1.25 and max(ratios) - min(ratios) > 0.2


# ---------------------------------------------------------------- the fast emitter


def test_fast_emitter_writes_what_dump_record_writes():
    office = demo.build(3, demo.county_shape())
    office.build_sales()
    plans, diaries, _ = daily_records(office)
    surveys = office.build_surveys(diaries)
    items = (
        [("retailer", s.record) for s in office.shops[::7]] + [("plan", p) for p in plans[::5]]
        + [("diary", d) for d in diaries[::5]] + [("complaint", c) for c in office.complaints]
        + [("survey", s) for s in surveys[::5]] + [("person", p) for p in office.people]
        + [("org", u) for u in office.org] + [("brand", b) for b in office.build_brands()]
        + [("targets", t) for t in office.build_targets()] + [("calendar", c) for c in office.calendars]
    )
    for kind, data in items:
        assert demo_fast.dumps(data) == dump_record(BY_NAME[kind].model.model_validate(data)), kind


# ---------------------------------------------------------------- the city shape


def test_small_city_validates_and_compresses_sales(tmp_path):
    shape = dataclasses.replace(demo.city_shape(retailers=400, managers=8), daily_end=dt.date(2026, 2, 27))
    summary = write_city(tmp_path / "records", seed=5, shape=shape, jobs=2)
    assert summary.retailers == 400 and summary.managers == 8
    files = sorted(p.name for p in (tmp_path / "records" / "sales").iterdir())
    assert files == [f"2026-{m:02d}.csv.gz" for m in range(1, 13)]
    head = gzip.decompress((tmp_path / "records" / "sales" / "2026-03.csv.gz").read_bytes()).decode().splitlines()[:3]
    assert head[0] == "date,retailer,brand,quantity,amount" and head[1].startswith("2026-03-")
    repo, report = validate(tmp_path, today=dt.date(2026, 12, 31))
    assert [d.format() for d in report.diagnostics if d.severity == "error"] == []
    assert len(repo.sales) == summary.sales_rows > 400 * 50 * 10
    assert len(repo.diaries) == summary.diaries > 8 * 30
    assert not list(tmp_path.glob(".*demo-partial"))


def test_city_files_do_not_depend_on_the_number_of_processes(tmp_path):
    shape = dataclasses.replace(demo.city_shape(retailers=120, managers=8), daily_end=dt.date(2026, 1, 16))
    write_city(tmp_path / "a" / "records", seed=2, shape=shape, jobs=1)
    write_city(tmp_path / "b" / "records", seed=2, shape=shape, jobs=2)
    a, b = tree(tmp_path / "a" / "records"), tree(tmp_path / "b" / "records")
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []  # gzip headers carry no time either


# ---------------------------------------------------------------- the command


def test_command_refuses_size_overrides_for_a_county(tmp_path, capsys):
    code = main(["demo", "--out", str(tmp_path / "records"), "--retailers", "5"])
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err and "city" in err
    assert not (tmp_path / "records").exists()


def test_refuses_a_folder_of_real_records(tmp_path, capsys):
    out = tmp_path / "records"
    (out / "people").mkdir(parents=True)
    (out / "people" / "cm-real.yaml").write_text("id: cm-real\n", encoding="utf-8")
    code = main(["demo", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and "空目录" in err and "Traceback" not in err
    assert (out / "people" / "cm-real.yaml").read_text(encoding="utf-8") == "id: cm-real\n"


def test_regenerating_removes_files_of_an_earlier_run_only_in_its_folders(county):
    root, *_ = county
    stale = root / "records" / "surveys" / "2026" / "s-2026-09-r-99999.yaml"
    stale.write_text("id: s-2026-09-r-99999\n", encoding="utf-8")
    computed = root / "records" / "computed" / "x.yaml"
    computed.parent.mkdir(parents=True, exist_ok=True)
    computed.write_text("a: 1\n", encoding="utf-8")
    demo.generate(root / "records", seed=1)
    assert not stale.exists() and computed.exists()
    computed.unlink()


def test_command_writes_a_small_city(tmp_path, capsys):
    out = tmp_path / "records"
    code = main(["demo", "--scale", "city", "--seed", "4", "--out", str(out), "--retailers", "80",
                 "--managers", "8", "--until", "2026-01-09", "--jobs", "1"])
    assert code == 0
    assert "零售户 80 户" in capsys.readouterr().out
    assert len(list((out / "retailers").rglob("*.yaml"))) == 80
    assert len(list((out / "sales").glob("*.csv.gz"))) == 12
    assert sorted(p.name for p in (out / "diaries").glob("*/2026/*.yaml"))[-1] == "2026-01-09.yaml"
