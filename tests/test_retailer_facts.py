"""Retailer facts (scripts/facts.py): ``crmdocs recalc`` holds the retailer
archives as small facts (``repo.retailers`` itself, the models' attribute
names) taken from the facts cache, and makes none of the 20,000 retailer
models of a city, when the validation cache answers — with the same computed
files; a changed archive is read again, and every model is built when the
cache cannot answer."""

from __future__ import annotations

import datetime as dt
import pickle

import pytest

from conftest import RETAILER, RETAILER_2, RETAILER_WEST, TODAY, MiniRepo, warm_caches
from crmdocs.scripts import facts, repository
from crmdocs.scripts.recalc import render
from crmdocs.scripts.rules import compute_all
from crmdocs.scripts.validate import validate, validate_plain


def rich(d: dict) -> None:
    """An archive with every field the facts carry set to something."""
    d["status"] = "suspended"
    d["status_reason"] = "装修"
    d["basic"].update(floor_area=42.5, format="convenience", location="school")
    d["management"]["manager_history"] = [
        {"manager": "cm-wang", "until": "2026-08-15"}, {"manager": "cm-li", "until": "2026-07-01"},
    ]
    d["management"]["violations"] = [
        {"date": "2026-06-03", "kind": "price", "confirmed": False}, {"date": "2026-07-09", "kind": "licence"},
    ]
    d["management"]["late_payments"] = [{"date": "2026-08-20", "note": "晚了两天"}]
    d["sales"] = {"adjustment": {"coefficient": 1.3, "reason": "新店", "approver": "mm-zhao", "since": "2026-08-01"}}
    d["image"] = {"level": 2}


def same(fact, model, where: str = "") -> None:
    """Every field the facts name has the model's value (nested facts: field by field)."""
    if isinstance(fact, tuple) and hasattr(fact, "_fields"):
        for name in fact._fields:
            same(getattr(fact, name), getattr(model, name), f"{where}.{name}")
    elif isinstance(fact, tuple):
        assert len(fact) == len(model), where
        for i, (f, m) in enumerate(zip(fact, model)):
            same(f, m, f"{where}[{i}]")
    else:
        assert fact == model and type(fact) is type(model), (where, fact, model)


def warm(mini: MiniRepo) -> None:
    warm_caches(mini, load=False)


def held(mini: MiniRepo):
    return validate(mini.root, today=TODAY, facts=True)


def texts(repo) -> dict[str, str]:
    return render(compute_all(repo))


def test_retailer_facts_carry_the_models_values(mini):
    mini.edit(RETAILER, rich)
    repo, report = validate_plain(mini.root, today=TODAY)
    assert not report.errors, report.to_text()
    for rid, model in repo.retailers.items():
        got = facts.retailer_facts(model)
        same(got, model, rid)
    got = facts.retailer_facts(repo.retailers["r-0001"])
    assert got.sales.adjustment.coefficient == 1.3 and len(got.management.violations) == 2


def test_retailer_facts_kept_as_plain_data_come_back_equal(mini):
    mini.edit(RETAILER, rich)
    repo, _ = validate_plain(mini.root, today=TODAY)
    for model in repo.retailers.values():
        got = facts.retailer_facts(model)
        plain = facts.plain("retailer", got)
        # plain data only (the facts files' unpickler refuses any class but the datetime types)
        stack = [plain]
        while stack:
            item = stack.pop()
            if isinstance(item, tuple):
                assert type(item) is tuple
                stack.extend(item)
            else:
                assert type(item) in (str, int, float, bool, dt.date, type(None)), item
        back = facts.MAKE["retailer"](pickle.loads(pickle.dumps(plain)))
        assert back == got
        same(back, model)
        assert back.status is model.status and back.basic.format is model.basic.format


def test_manager_on_is_the_models(mini):
    mini.edit(RETAILER, rich)
    repo, _ = validate_plain(mini.root, today=TODAY)
    model = repo.retailers["r-0001"]
    got = facts.retailer_facts(model)
    for day in (dt.date(2026, 6, 30), dt.date(2026, 7, 1), dt.date(2026, 8, 14), dt.date(2026, 8, 15), TODAY):
        assert got.management.manager_on(day) == model.management.manager_on(day)
    assert {got.management.manager_on(d) for d in (dt.date(2026, 6, 1), dt.date(2026, 7, 2), TODAY)} == {"cm-li", "cm-wang"}


def test_recalc_builds_no_retailer_model_and_gives_the_same_files(mini, built):
    mini.edit(RETAILER_2, lambda d: d["management"].update(manager_history=[{"manager": "cm-wang", "until": "2026-08-20"}]))
    mini.edit(RETAILER_2, lambda d: d.update(sales={"adjustment": {
        "coefficient": 1.2, "reason": "新店", "approver": "mm-zhao", "since": "2026-08-01"}}))
    warm(mini)
    built.clear()
    repo, report = held(mini)
    assert not report.errors
    assert "retailer" not in built
    assert all(type(r) is facts.RetailerFacts for r in repo.retailers.values()) and len(repo.retailers) == 3
    assert repo.facts["retailer"] is repo.retailers
    plain, plain_report = validate_plain(mini.root, today=TODAY)
    assert report.to_text() == plain_report.to_text()
    assert texts(repo) == texts(plain)


def test_a_changed_retailer_file_is_read_again(mini, built):
    warm(mini)
    held(mini)
    mini.edit(RETAILER, lambda d: d["basic"].update(shop_name="李记超市"))
    built.clear()
    repo, report = held(mini)  # a universe file changed: the cache cannot answer, every model is built
    assert "retailer" in built and not report.errors
    assert repo.retailers["r-0001"].basic.shop_name == "李记超市"
    warm(mini)
    built.clear()
    repo, _ = held(mini)
    assert "retailer" not in built
    assert repo.retailers["r-0001"].basic.shop_name == "李记超市"
    assert texts(repo) == texts(validate_plain(mini.root, today=TODAY)[0])


def test_a_retailer_moved_to_another_department_is_read_again(mini, built):
    warm(mini)
    mini.edit(RETAILER_WEST, lambda d: d["management"].update(department="d-east", manager="cm-li"))
    mini.move(RETAILER_WEST, "retailers/d-east/r-0003.yaml")
    warm(mini)
    built.clear()
    repo, report = held(mini)
    assert not report.errors and "retailer" not in built
    assert repo.retailers["r-0003"].management.manager == "cm-li"
    assert not (mini.root / "records/retailers/d-west").exists() or not list((mini.root / "records/retailers/d-west").iterdir())
    assert sorted(repo.retailers) == ["r-0001", "r-0002", "r-0003"]
    assert texts(repo) == texts(validate_plain(mini.root, today=TODAY)[0])


def test_damaged_retailer_facts_mean_models(mini, built):
    warm(mini)
    held(mini)
    path = facts.folder_path(mini.root, "records/retailers/d-west")
    data = bytearray(open(path, "rb").read())
    data[len(data) // 2] ^= 0xFF
    open(path, "wb").write(bytes(data))
    built.clear()
    repo, report = held(mini)
    assert not report.errors
    assert built.count("retailer") == 1  # r-0003, the folder whose facts are damaged
    assert type(repo.retailers["r-0003"]) is facts.RetailerFacts  # (made facts, as every held kind)
    assert texts(repo) == texts(validate_plain(mini.root, today=TODAY)[0])


def test_a_cold_crmdocs_validate_keeps_the_retailers_facts(mini, built):
    mini.age()
    assert mini.cli("validate")[0] == 0
    names = {p.name for p in (mini.root / facts.FACTS_DIR).iterdir()}
    assert {facts.folder_path(mini.root, f"records/retailers/{d}").rpartition("/")[2] for d in ("d-east", "d-west")} <= names
    built.clear()
    repo, _ = held(mini)
    assert "retailer" not in built and len(repo.retailers) == 3


def test_site_and_plain_loads_still_build_retailer_models(mini):
    warm(mini)
    repo, _ = validate(mini.root, today=TODAY)
    assert type(repo.retailers["r-0001"]).__name__ == "Retailer"


# ---------------------------------------------------------------- folders held as facts at once (repository.Held)


def test_a_folder_with_a_file_that_is_no_record_is_still_held(mini, built):
    mini.write("plans/cm-li/2026/README.md", "计划说明\n")
    mini.write("plans/cm-li/2026/2026-09-02.yaml", mini.text("plans/cm-li/2026/2026-09-01.yaml").replace("2026-09-01", "2026-09-02"))
    warm(mini)
    held(mini)
    built.clear()
    repo, report = held(mini)
    assert not report.errors and "plan" not in built
    assert sorted(repo.facts["plan"]) == [("cm-li", dt.date(2026, 9, 1)), ("cm-li", dt.date(2026, 9, 2))]
    plain, plain_report = validate_plain(mini.root, today=TODAY)
    assert report.to_text() == plain_report.to_text() and report.files == plain_report.files
    assert texts(repo) == texts(plain)


def test_a_retailer_id_twice_is_reported_as_without_facts(mini):
    warm(mini)
    held(mini)
    mini.write("retailers/d-west/r-0001.yaml", mini.text(RETAILER).replace("d-east", "d-west"))
    plain_repo, plain_report = validate_plain(mini.root, today=TODAY)
    assert any(d.code == "duplicate" for d in plain_report.errors)
    repo, report = held(mini)  # a universe file new: models
    assert report.to_text() == plain_report.to_text()
    mini.age()
    assert mini.cli("validate")[0] == 1  # the cache written with the error; the facts of both folders kept
    held(mini)
    repo, report = held(mini)  # the cache answers: both folders held as facts
    assert type(repo.retailers["r-0001"]) is facts.RetailerFacts
    assert report.to_text() == plain_report.to_text()
    assert repo.source("retailer", "r-0001") == plain_repo.source("retailer", "r-0001")


def test_held_folders_count_and_hash_every_file(mini, built):
    warm(mini)
    held(mini)
    repo, report = held(mini)
    plain_repo, plain_report = validate(mini.root, today=TODAY)
    assert repo.files == plain_repo.files and report.files == plain_report.files
    assert repo.digests == plain_repo.digests and len(repo.digests) == repo.files
    assert repo.sources == plain_repo.sources
