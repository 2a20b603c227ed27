"""recalc's side worker has the retailer rules write their large files (limits,
the current month's classes and tiers, abnormal orders) as texts straight
from their columns (``rules.retail.as_texts``) instead of records it would
only render. Every file must be the bytes ``recalc.render_record`` writes
for the record computed the usual way — whatever the policy's modes and
switches, with overrides, adjustments, hand-overs and odd shop names."""

from __future__ import annotations

import datetime as dt

import pytest

from crmdocs.schemas.retailer import TierOverride
from crmdocs.scripts.recalc import render_record
from crmdocs.scripts.rules import compute_all
from crmdocs.scripts.rules.retail import as_texts, texts_wanted
from retail_fixtures import repo, retailer
from test_rules_blocks import AS_OF, DEPTS, office_rows
from test_rules_classes import SEED_001

VOLUME = SEED_001  # classes by last month's quantity
BANDS = {"tiers": {"mode": "bands", "period": "quarter",
                   "bands": [{"tier": 4, "min": 75}, {"tier": 3, "min": 70}, {"tier": 2, "min": 65}]}}
SWITCHES = {"limits": {"lower_limits": False, "brand_limits": False}}


def archives(name=lambda n: f"店{n}", **extra):
    out = []
    for n in range(12):
        more = dict(extra)
        if n == 4:
            more["adjustment"] = {"coefficient": 1.3}
        if n == 5:
            more["adjustment"] = {"coefficient": 9.0}  # held within the policy's bounds
        out.append(retailer(f"r-{n + 1:06d}", DEPTS[n % 3], "cm-li" if n % 2 else "cm-wang", area=20 + 5 * n, **more))
        out[-1].basic.shop_name = name(n)
    out.append(retailer("r-000099", "d-east", area=55))  # never bought: new, without history
    return out


def both_ways(repository):
    """(every file rendered from its record, every file as the side worker gets it)."""
    usual = {path: render_record(record) for path, record in compute_all(repository, as_of=AS_OF).records.items()}
    with as_texts():
        got = compute_all(repository, as_of=AS_OF).records
    worker = {path: value if isinstance(value, str) else render_record(value) for path, value in got.items()}
    return usual, worker, {path for path, value in got.items() if isinstance(value, str)}


def kinds(paths) -> set[str]:
    return {path.split("/")[1] for path in paths}


@pytest.mark.parametrize("policy", [None, VOLUME, BANDS, SWITCHES], ids=["default", "volume_bands", "bands", "switches"])
def test_the_texts_are_the_records_bytes(policy):
    usual, worker, as_text = both_ways(repo(archives(), office_rows(), policy=policy))
    assert usual == worker
    assert kinds(as_text) == {"classes", "tiers", "limits", "abnormal"}


def test_a_tier_override_and_a_retailer_without_purchases_are_written_alike():
    r = repo(archives(), office_rows())
    period = f"{AS_OF:%Y-%m}"
    r.tier_overrides[(period, "r-000001")] = TierOverride(
        period=period, retailer="r-000001", tier=9, reason="新店装修后经营面积扩大", approver="mm-zhao", date=AS_OF)
    usual, worker, as_text = both_ways(r)
    assert usual == worker
    current = f"{period}/tiers/d-east.yaml"
    assert current in as_text and "    override:\n      tier: 9\n" in worker[current]
    assert "  r-000099:\n    name: 店r-000099\n    basis: new_retailer\n" in worker[current]


def test_a_manager_handed_over_mid_month_is_written_alike():
    history = [{"manager": "cm-wang", "until": f"{AS_OF:%Y-%m}-03"}]  # cm-wang until the 3rd, then the archive's manager
    usual, worker, _ = both_ways(repo(archives(manager_history=history), office_rows()))
    assert usual == worker


@pytest.mark.parametrize("name", ["店, 一号", "a: b", "{店}", "007", "yes", "店 #1", "'店'"])
def test_odd_shop_names_are_written_alike(name):
    usual, worker, as_text = both_ways(repo(archives(name=lambda n: name if n % 2 else f"店{n}"), office_rows()))
    assert usual == worker  # (a name a one-line row cannot hold leaves that file to the record)
    assert kinds(as_text) >= {"classes", "tiers", "limits"}


def test_texts_only_within_as_texts():
    assert not texts_wanted()
    with as_texts():
        assert texts_wanted()
    assert not texts_wanted()
    records = compute_all(repo(archives(), office_rows()), as_of=AS_OF).records
    assert not any(isinstance(value, str) for value in records.values())


def test_abnormal_orders_carry_their_message_except_for_the_texts():
    r = repo(archives(), office_rows())
    usual = compute_all(r, as_of=AS_OF).ctx.shared["abnormal"]
    with as_texts():
        quiet = compute_all(r, as_of=AS_OF).ctx.shared["abnormal"]
    assert usual and all(item["message"] for item in usual)
    assert [{**item, "message": ""} for item in usual] == quiet  # the same orders, no explanation (not in the files)


def test_brands_coded_out_of_id_order_are_written_alike():
    r = repo(archives(), office_rows())
    r.sales.brand_ids = r.sales.brand_ids[::-1]  # codes no longer in id order (a file's order of first sight)
    r.sales.brand = (len(r.sales.brand_ids) - 1 - r.sales.brand).astype(r.sales.brand.dtype)
    usual, worker, as_text = both_ways(r)
    assert usual == worker
    limits = [path for path in as_text if "/limits/" in path]
    assert limits and any("      b-1: {" in worker[path] and "      b-2: {" in worker[path] for path in limits)


def test_each_abnormal_order_goes_to_the_manager_in_charge_on_its_day():
    history = [{"manager": "cm-wang", "until": "2026-05-13"}, {"manager": "cm-li", "until": "2026-07-02"}]
    r = repo(archives(manager_history=history), office_rows())
    items = compute_all(r, as_of=AS_OF).ctx.shared["abnormal"]
    assert {item["manager"] for item in items} == {"cm-li", "cm-wang"}
    for item in items:
        assert item["manager"] == r.retailers[item["retailer"]].management.manager_on(item["date"])
