"""The retailer rules work on the sales rows block by block (``sales.CHUNK``
rows at a time), find orders on a dense grid and take shortcuts when the rows
come sorted by day and every row is a line of its own. None of that may
change a computed record: these tests compute the same office with tiny
blocks, with the rows shuffled, with rows of unknown retailers and with an
order line split over two rows, and compare every rendered file."""

from __future__ import annotations

import datetime as dt
import random

import numpy as np
import pytest

from crmdocs.scripts import sales as S
from crmdocs.scripts.recalc import render
from crmdocs.scripts.rules import abnormal, retail as retail_mod
from crmdocs.scripts.rules.retail import fast_model, retail
from crmdocs.schemas.computed_retailers import LimitLine
from retail_fixtures import ctx_for, repo, retailer, run

START = dt.date(2026, 3, 2)  # a Monday
WEEKS = 30
AS_OF = START + dt.timedelta(days=7 * WEEKS - 1)
DEPTS = ("d-east", "d-west", "d-far")
BRANDS = ("b-1", "b-2", "b-3")


def office_rows(seed: int = 7) -> list[tuple]:
    """Weekly orders of 12 retailers over 30 weeks, 1–3 brands each, with
    spikes; amounts are multiples of 0.25, so their sums are exact in any order."""
    rng = random.Random(seed)
    rows = []
    for k in range(WEEKS):
        for n in range(12):
            rid = f"r-{n + 1:06d}"
            day = START + dt.timedelta(days=7 * k + n % 7)  # Monday … Sunday
            for brand in BRANDS[: 1 + n % 3]:
                q = rng.randint(5, 40) * (4 if rng.random() < 0.05 else 1)
                rows.append((day, rid, brand, q, q * 25.25))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))  # as an export comes: by day
    return rows


def archives():
    return [retailer(f"r-{n + 1:06d}", DEPTS[n % 3], "cm-li" if n % 2 else "cm-wang", area=20 + 5 * n)
            for n in range(12)]


def texts(rows, monkeypatch=None, chunk=None) -> dict[str, str]:
    if chunk is not None:
        for module in (S, retail_mod, abnormal):
            monkeypatch.setattr(module, "CHUNK", chunk)
    return render(run(repo(archives(), rows), AS_OF))


@pytest.fixture(scope="module")
def expected() -> dict[str, str]:
    return texts(office_rows())


def test_the_office_flags_orders_and_limits(expected):
    # the comparisons below mean something: every retailer rule wrote files
    kinds = {path.split("/")[1] for path in expected}
    assert {"classes", "tiers", "limits", "abnormal"} <= kinds
    assert any("rule: spike" in text for p, text in expected.items() if "/abnormal/" in p)
    assert any("rule: above_upper" in text for p, text in expected.items() if "/abnormal/" in p)


@pytest.mark.parametrize("chunk", [1, 5, 64])
def test_block_size_changes_no_record(expected, monkeypatch, chunk):
    assert texts(office_rows(), monkeypatch, chunk) == expected


def test_offices_too_large_for_a_dense_grid_give_the_same_records(expected, monkeypatch):
    monkeypatch.setattr(retail_mod, "GRID_CELLS", 0)  # orders and order lines found by sorting
    assert texts(office_rows()) == expected
    assert texts(split_rows()) == expected  # order lines over two rows, summed after a sort too


def test_rows_in_any_order_give_the_same_records(expected, monkeypatch):
    rows = office_rows()
    random.Random(3).shuffle(rows)
    assert texts(rows) == expected
    assert texts(rows, monkeypatch, 7) == expected


def test_rows_of_retailers_without_archive_change_no_retailer_record(expected, monkeypatch):
    rows = office_rows()
    ghost = [(day, "r-999999", brand, q, q * 2.0) for day, _, brand, q, _ in rows[::9]]
    mixed = sorted(rows + ghost, key=lambda r: (r[0], r[1], r[2]))
    got = texts(mixed, monkeypatch, 16)
    assert {p: t for p, t in got.items() if "/appraisals/" not in p} == \
        {p: t for p, t in expected.items() if "/appraisals/" not in p}


def split_rows() -> list[tuple]:
    """The office's rows with every 11th order line written as two rows."""
    split = []
    for n, (day, rid, brand, q, amount) in enumerate(office_rows()):
        if n % 11 == 0 and q >= 2:
            split += [(day, rid, brand, q - 1, (q - 1) * 25.25), (day, rid, brand, 1, 25.25)]
        else:
            split.append((day, rid, brand, q, amount))
    return split


def test_an_order_line_split_over_two_rows_counts_as_one(expected):
    assert texts(split_rows()) == expected


def test_day_windows_are_the_sums_of_their_rows():
    rows = office_rows()
    ctx = ctx_for(repo(archives(), rows), AS_OF)
    R = retail(ctx)
    rng = random.Random(5)
    for _ in range(40):
        a = START + dt.timedelta(days=rng.randint(-20, 7 * WEEKS + 10))
        b = a + dt.timedelta(days=rng.randint(0, 90))
        for value, col in (("quantity", 3), ("amount", 4)):
            want = np.zeros(R.n)
            for row in rows:
                if a <= row[0] < b:
                    want[R.ids.index(row[1])] += row[col]
            assert R.window(value, a, b).tolist() == want.tolist(), (value, a, b)
    assert R.bought_before(START).tolist() == [False] * 12
    assert R.bought_before(START + dt.timedelta(days=2)).tolist() == [n % 7 < 2 for n in range(12)]


def test_pair_windows_are_the_sums_of_their_rows_even_past_int32():
    rows = office_rows()
    rows.append((START + dt.timedelta(days=15), "r-000001", "b-1", 2**31, 1.0))  # the count needs 8 bytes
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    R = retail(ctx_for(repo(archives(), rows), AS_OF))
    assert R.pair_weeks().dtype == np.int64
    pairs = R.pairs()
    w0, w1 = R.week_range()
    for wa, wb in ((w0 - 3, w0 + 4), (w0 + 1, w0 + 3), (w1 - 2, w1 + 5), (w0 + 5, w0 + 5)):
        got = R.pair_window(wa, wb)
        want = np.zeros(len(pairs), np.int64)
        for day, rid, brand, q, _ in rows:
            if wa <= S.week_of(day) < wb:
                p = np.flatnonzero((pairs.retailer == R.sales.retailer_code(rid))
                                   & (pairs.brand == R.sales.brand_code(brand)))[0]
                want[p] += q
        assert got.tolist() == want.tolist()
    small = retail(ctx_for(repo(archives(), office_rows()), AS_OF))
    assert small.pair_weeks().dtype == np.int32  # cartons that cannot reach 2³¹: 4 bytes a cell


def test_orders_are_a_retailers_rows_of_one_day():
    rows = office_rows()
    R = retail(ctx_for(repo(archives(), rows), AS_OF))
    O = R.orders()
    cells = sorted({(R.ids.index(rid), (day - START).days) for day, rid, *_ in rows})
    assert O.key.tolist() == [r * R.days + d for r, d in cells]
    assert O.inv.dtype == np.int32 and len(O.inv) == len(rows)
    q = np.zeros(len(cells))
    for n, (day, rid, brand, quantity, _) in enumerate(rows):
        q[O.inv[n]] += quantity
        assert O.key[O.inv[n]] == R.ids.index(rid) * R.days + (day - START).days
    assert O.totals["quantity"].tolist() == q.tolist()


def test_records_built_from_the_same_fields_share_one_fields_set():
    one = fast_model(LimitLine, {"quantity": 1, "turnover": 1.0, "upper": 2})
    two = fast_model(LimitLine, {"quantity": 5, "turnover": 2.5, "upper": 9})
    assert one.model_fields_set == {"quantity", "turnover", "upper"}
    assert one.__pydantic_fields_set__ is two.__pydantic_fields_set__
    assert one.model_dump(exclude_none=True) == {"quantity": 1, "turnover": 1.0, "upper": 2}


def test_sales_of_an_office_without_archives_compute_nothing_and_do_not_fail():
    rows = [(START + dt.timedelta(days=7 * k), "r-999999", "b-1", 5, 50.0) for k in range(20)]
    assert run(repo([], rows), AS_OF).records == {}
    only_ghosts = run(repo(archives()[:1], rows), AS_OF).records
    assert not [p for p in only_ghosts if "/abnormal/" in p]  # nobody's orders to check
    R = retail(ctx_for(repo(archives()[:1], rows), AS_OF))
    assert R.window("amount", START, AS_OF).tolist() == [0.0]
    assert len(R.orders().key) == 0
