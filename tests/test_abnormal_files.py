"""Abnormal orders are found as columns and written to their files by one
sort (``rules.abnormal.Found``): each file is one month of one customer
manager, its weeks in order, and in a week the items sorted by date,
retailer, rule and brand *as text* — whatever the codes' order — and every
item found is in exactly one file (the records' and the texts' way alike)."""

from __future__ import annotations

import datetime as dt

from crmdocs.scripts import sales as S
from crmdocs.scripts.rules import compute_all
from crmdocs.scripts.rules.retail import as_texts
from retail_fixtures import repo
from test_rules_blocks import AS_OF
from test_rules_texts import archives, both_ways, office_rows

HISTORY = [{"manager": "cm-wang", "until": "2026-05-13"}, {"manager": "cm-li", "until": "2026-07-02"}]


def office(reversed_brands: bool):
    r = repo(archives(manager_history=HISTORY), office_rows())
    if reversed_brands:
        r.sales.brand_ids = r.sales.brand_ids[::-1]  # codes no longer in id order
        r.sales.brand = (len(r.sales.brand_ids) - 1 - r.sales.brand).astype(r.sales.brand.dtype)
    return r


def check_files(reversed_brands: bool) -> None:
    r = office(reversed_brands)
    computed = compute_all(r, as_of=AS_OF)
    items = computed.ctx.shared["abnormal"]
    assert {it["rule"] for it in items} >= {"above_upper", "spike"}
    assert any(it["brand"] for it in items)
    seen = []
    for path, record in computed.records.items():
        if "/abnormal/" not in path:
            continue
        assert path == f"{record.month}/abnormal/{record.manager}.yaml"
        assert list(record.weeks) == sorted(record.weeks)
        assert record.count == sum(len(v) for v in record.weeks.values())
        for week, listed in record.weeks.items():
            keys = [(it.date, it.retailer, it.rule, it.brand or "") for it in listed]
            assert keys == sorted(keys)
            for it in listed:
                assert S.iso_week_label(S.week_of(it.date)) == week and f"{it.date:%Y-%m}" == record.month
                assert r.retailers[it.retailer].management.manager_on(it.date) == record.manager
                seen.append((it.date, it.retailer, it.rule, it.brand, it.quantity, record.manager))
    found = [(it["date"], it["retailer"], it["rule"], it["brand"], it["quantity"], it["manager"]) for it in items]
    assert sorted(seen, key=repr) == sorted(found, key=repr) and len(set(found)) == len(found)


def test_each_file_holds_its_items_in_date_retailer_rule_brand_order():
    check_files(reversed_brands=False)


def test_brands_sort_by_their_ids_not_their_codes():
    check_files(reversed_brands=True)


def test_the_texts_are_the_records_with_brands_out_of_order_and_hand_overs():
    usual, worker, as_text = both_ways(office(reversed_brands=True))
    assert usual == worker and any("/abnormal/" in path for path in as_text)


def test_items_are_the_same_with_and_without_texts_but_the_message():
    r = office(reversed_brands=True)
    usual = compute_all(r, as_of=AS_OF).ctx.shared["abnormal"]
    with as_texts():
        quiet = compute_all(r, as_of=AS_OF).ctx.shared["abnormal"]
    assert [{**it, "message": ""} for it in usual] == quiet
    assert all(isinstance(it["date"], dt.date) and isinstance(it["quantity"], int) for it in usual)


def test_under_texts_the_items_are_made_only_when_read(monkeypatch):
    from crmdocs.scripts.rules import abnormal

    made = []
    real = abnormal.Found._make_items
    monkeypatch.setattr(abnormal.Found, "_make_items", lambda self: made.append(1) or real(self))
    r = office(reversed_brands=False)
    with as_texts():
        quiet = compute_all(r, as_of=AS_OF).ctx.shared["abnormal"]
    assert not made  # the side worker writes the files and never reads the items
    assert len(quiet) and quiet[0]["message"] == "" and list(quiet) == quiet and made
    usual = compute_all(r, as_of=AS_OF).ctx.shared["abnormal"]
    assert type(usual) is list and [{**it, "message": ""} for it in usual] == quiet
