"""The appraisals' monthly sales sums (``appraisals.monthly_sales``): in
``crmdocs recalc`` the sales are not read in the main process (its side
worker reads them), so the sums come from the sales cache's narrow columns,
block by block (``SalesCache.columns``) — the same numbers as from the
arrays, for hand-overs, key brands, days after ``as_of`` and blocks of any
size; a damaged cache means the arrays (read from the files)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from conftest import RETAILER_2, SALES, TODAY, MiniRepo, sales_csv
from crmdocs.scripts import repository
from crmdocs.scripts.rules import appraisals
from crmdocs.scripts.sales import LazySales
from crmdocs.scripts.validate import validate, validate_plain

AS_OF = dt.date(2026, 9, 5)


def rows(month: str, days: range) -> list[dict]:
    out = []
    for d in days:
        for i, (rid, brand) in enumerate([("r-0001", "b-hongtashan"), ("r-0002", "b-yunyan"), ("r-0002", "b-hongtashan"),
                                          ("r-0003", "b-yunyan")]):
            out.append({"date": f"{month}-{d:02d}", "retailer": rid, "brand": brand, "quantity": d + i, "amount": 100.0 * (d + i)})
    return out


@pytest.fixture
def office(mini: MiniRepo) -> MiniRepo:
    mini.edit(RETAILER_2, lambda d: d["management"].update(manager_history=[
        {"manager": "cm-wang", "until": "2026-08-20"}, {"manager": "cm-li", "until": "2026-08-10"},
    ]))
    mini.write("sales/2026-08.csv", sales_csv(rows("2026-08", range(3, 31, 3))))
    mini.write(SALES, sales_csv(rows("2026-09", range(1, 9))))
    mini.age()
    code, out = mini.cli("validate")
    assert code == 0, out
    return mini


def same(a, b) -> None:
    assert a.managers == b.managers and a.months == b.months
    assert np.array_equal(a.total, b.total) and np.array_equal(a.key, b.key)


def narrow(office):
    repo, report = validate(office.root, today=TODAY, jobs=1, facts=True)
    assert not report.errors
    assert repo.sales.__class__ is LazySales and repo.sales.__dict__.get("kept") is not None
    return repo


def test_the_sums_from_the_narrow_columns_are_those_of_the_arrays(office):
    repo = narrow(office)
    got = appraisals.monthly_sales(repo, AS_OF)
    assert repo.sales.__class__ is LazySales  # the arrays were never made here
    plain, _ = validate_plain(office.root, today=TODAY)
    expected = appraisals.monthly_sales(plain, AS_OF)
    same(got, expected)
    assert got.months == ["2026-08", "2026-09"] and got.total.sum() > 0 and got.key.sum() > 0
    # days after as_of are left out; the hand-overs attribute r-0002's August rows to three managers
    assert got.total[:, 1].sum() == sum(r["quantity"] for r in rows("2026-09", range(1, 6)))
    assert set(got.managers) >= {"cm-li", "cm-wang"}
    same(appraisals.sales_by_manager(narrow(office), ["2026-09"], AS_OF), appraisals.sales_by_manager(plain, ["2026-09"], AS_OF))


@pytest.mark.parametrize("block", [1, 3, 7, 1000])
def test_any_block_size_gives_the_same_sums(office, block):
    repo = narrow(office)
    kept = repo.sales.__dict__["kept"]
    texts = dict(kept.head[6])
    got = appraisals._sums_of(repo, list(texts["retailer_ids"]), list(texts["brand_ids"]),
                              kept.columns(appraisals._COLUMNS, block=block), AS_OF)
    plain, _ = validate_plain(office.root, today=TODAY)
    whole = appraisals._sums(plain, AS_OF)
    assert got[0] == whole[0] and got[2] == whole[2] and sorted(got[1]) == sorted(whole[1])
    assert all(np.array_equal(got[1][m], whole[1][m]) for m in whole[1])


def test_a_damaged_column_means_the_arrays(office):
    base = [row for _ in range(200) for row in rows("2026-08", range(3, 31, 3))]
    many = [{**row, "quantity": 1 + (n * 37) % 11} for n, row in enumerate(base)]
    # (8,000 rows, quantities changing from row to row: kept as offsets, not runs)
    office.write("sales/2026-08.csv", sales_csv(many))
    office.age()
    assert office.cli("validate")[0] == 0
    repo = narrow(office)
    kept = repo.sales.__dict__["kept"]
    ways = {a[0]: a[3] for a in kept.head[7]}
    assert ways["quantity"] == "int"
    same(appraisals.monthly_sales(narrow(office), AS_OF), appraisals.monthly_sales(validate_plain(office.root, today=TODAY)[0], AS_OF))
    path = office.root / repository.SALES_CACHE
    data = bytearray(path.read_bytes())
    offset = kept.start
    for name, wide, length, way, params, small, crc in kept.head[7]:  # to the quantity column's last byte
        if way == "runs":
            continue
        size = length * np.dtype(wide if way == "raw" else small).itemsize
        if name == "quantity":
            offset += size - 1
            break
        offset += size
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError):
        for _ in kept.columns(appraisals._COLUMNS):
            pass
    got = appraisals.monthly_sales(repo, AS_OF)
    plain, _ = validate_plain(office.root, today=TODAY)
    same(got, appraisals.monthly_sales(plain, AS_OF))


def reference(repo, as_of: dt.date) -> dict:
    """The sums row by row, each row's manager from sales.managers (the per-row attribution the rules used)."""
    from crmdocs.scripts import sales as sales_lib

    data = repo.sales
    data.finish()
    codes, managers = sales_lib.managers(data, repo.retailers)
    out: dict = {}
    for i in range(len(data.day)):
        day = data.day[i].astype(dt.date)
        if codes[i] < 0 or day > as_of:
            continue
        brand = data.brand_ids[data.brand[i]]
        key = bool(repo.brands.get(brand) and repo.brands[brand].key)
        cell = out.setdefault((managers[codes[i]], f"{day:%Y-%m}"), [0, 0])
        cell[0] += int(data.quantity[i])
        cell[1] += int(data.quantity[i]) if key else 0
    return out


def as_cells(sums) -> dict:
    return {(m, mo): [int(sums.total[i, j]), int(sums.key[i, j])]
            for i, m in enumerate(sums.managers) for j, mo in enumerate(sums.months) if sums.total[i, j]}


@pytest.mark.parametrize("shuffled", [False, True])
def test_the_sums_are_those_row_by_row_in_any_row_order(office, shuffled):
    if shuffled:  # rows not in day order: months interleaved within a block
        import random

        rows_aug = rows("2026-08", range(3, 31, 3))
        random.Random(7).shuffle(rows_aug)
        office.write("sales/2026-08.csv", sales_csv(rows_aug))
        office.age()
        assert office.cli("validate")[0] == 0
    plain, _ = validate_plain(office.root, today=TODAY)
    expected = reference(plain, AS_OF)
    assert as_cells(appraisals.monthly_sales(narrow(office), AS_OF)) == expected
    assert as_cells(appraisals.monthly_sales(plain, AS_OF)) == expected
    repo = narrow(office)
    kept = repo.sales.__dict__["kept"]
    texts = dict(kept.head[6])
    managers, by_month, _ = appraisals._sums_of(repo, list(texts["retailer_ids"]), list(texts["brand_ids"]),
                                                kept.columns(appraisals._COLUMNS, block=5), AS_OF)
    months = ["2026-08", "2026-09"]
    assert as_cells(appraisals._table(managers, months, by_month)) == expected


def test_rows_on_a_hand_over_s_own_day_count_as_attribution_says(office):
    """Rows on every day of August, so on each hand-over's `until` day and the days either side: the
    rows of a retailer that changed hands are given their manager one by one (the first hand-over
    after the row's day), the others per retailer — the same cells as row by row."""
    office.write("sales/2026-08.csv", sales_csv(rows("2026-08", range(1, 32))))
    office.age()
    assert office.cli("validate")[0] == 0
    plain, _ = validate_plain(office.root, today=TODAY)
    expected = reference(plain, AS_OF)
    got = as_cells(appraisals.monthly_sales(narrow(office), AS_OF))
    assert got == expected
    assert {m for (m, month) in got if month == "2026-08"} >= {"cm-li", "cm-wang"}
