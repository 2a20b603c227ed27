"""Columnar sales data: the fast reader, the row-exact fallback, gzip months,
and the helpers the rules use (weeks, months, pairs, managers)."""

from __future__ import annotations

import datetime as dt
import gzip

import numpy as np
import pytest
from conftest import SALES, TODAY
from retail_fixtures import retailer

from crmdocs.scripts import sales as S
from crmdocs.scripts.sales import SaleRow, SalesData, read_sales_csv, write_sales_csv

HEADER = "date,retailer,brand,quantity,amount\n"
GOOD = HEADER + (
    "2026-09-01,r-0002,b-yunyan,5,900.00\n"
    "2026-09-01,r-0001,b-hongtashan,10,1200.00\n"
    "2026-09-08,r-0003,b-hongtashan,8,960.00\n"
)


def read(text: str | bytes, rel: str = "records/sales/2026-09.csv", month: str = "2026-09", into=None):
    data = into if into is not None else SalesData()
    raw = text.encode() if isinstance(text, str) else text
    diags = read_sales_csv(raw, rel, month, data)
    data.finish()
    return data, diags


def test_fast_path_gives_columns_with_sorted_codes():
    data, diags = read(GOOD)
    assert diags == []
    assert data.retailer_ids == ["r-0001", "r-0002", "r-0003"]
    assert data.brand_ids == ["b-hongtashan", "b-yunyan"]
    # rows stay in file order; codes point into the sorted id lists
    assert [data.retailer_ids[c] for c in data.retailer] == ["r-0002", "r-0001", "r-0003"]
    assert data.quantity.tolist() == [5, 10, 8]
    assert data.amount.tolist() == [900.0, 1200.0, 960.0]
    assert data.day.dtype == np.dtype("datetime64[D]")
    assert data.origin(2) == ("records/sales/2026-09.csv", 4)  # header is line 1


def test_gzip_month_reads_the_same_as_plain():
    plain, _ = read(GOOD)
    packed, diags = read(gzip.compress(GOOD.encode()), rel="records/sales/2026-09.csv.gz")
    assert diags == []
    assert packed.quantity.tolist() == plain.quantity.tolist()
    assert packed.retailer_ids == plain.retailer_ids
    assert packed.origin(0) == ("records/sales/2026-09.csv.gz", 2)


def test_broken_gzip_is_an_error_not_a_traceback():
    _, diags = read(b"not gzip at all", rel="records/sales/2026-09.csv.gz")
    assert [d.code for d in diags] == ["gzip"]
    assert "解压" in diags[0].message


@pytest.mark.parametrize(
    "row, line, column, field, words",
    [
        ("2026-09-02,r-0001,b-yunyan,x,10.00", 3, 4, "quantity", "整数"),
        ("2026-09-02,r-0001,b-yunyan,3,ten", 3, 5, "amount", "数字"),
        ("2026-10-02,r-0001,b-yunyan,3,10.00", 3, 1, "date", "不在本文件的月份"),
        ("2026-09-31,r-0001,b-yunyan,3,10.00", 3, 1, "date", "YYYY-MM-DD"),
        ("2026-09-02,r-0001,b-yunyan,-3,10.00", 3, 4, "quantity", "负数"),
        ("2026-09-02,,b-yunyan,3,10.00", 3, 2, "retailer", "不能为空"),
        ("2026-09-02,r-0001,b-yunyan,3", 3, 0, "", "列"),
    ],
)
def test_a_bad_row_is_reported_exactly_and_the_others_are_kept(row, line, column, field, words):
    text = HEADER + "2026-09-01,r-0001,b-hongtashan,10,1200.00\n" + row + "\n" + "2026-09-03,r-0002,b-yunyan,4,720.00\n"
    data, diags = read(text)
    assert len(diags) == 1
    d = diags[0]
    assert (d.path, d.line, d.column, d.field) == ("records/sales/2026-09.csv", line, column, field)
    assert words in d.message
    # the two good rows are still there, with their own line numbers
    assert data.quantity.tolist() == [10, 4]
    assert [data.origin(i)[1] for i in range(2)] == [2, 4]


def test_quoted_fields_and_blank_lines_keep_exact_line_numbers():
    text = HEADER + '2026-09-01,"r-0001",b-hongtashan,10,1200.00\n\n2026-09-02,r-0002,b-yunyan,bad,1.00\n'
    data, diags = read(text)
    assert [(d.line, d.field) for d in diags] == [(4, "quantity")]
    assert data.retailer_ids == ["r-0001"]


def test_wrong_header_and_gbk_are_reported():
    _, diags = read("日期,零售户\n")
    assert diags[0].code == "csv_header" and diags[0].line == 1
    _, diags = read(HEADER.encode() + "2026-09-01,r-0001,红塔山,1,1\n".encode("gbk"))
    assert diags[0].code == "encoding" and diags[0].line == 2


def test_files_merge_with_codes_independent_of_file_order():
    a = HEADER + "2026-09-01,r-0009,b-1,1,1.00\n"
    b = HEADER + "2026-10-01,r-0001,b-2,2,2.00\n"
    one = SalesData()
    read(a, into=one)
    read(b, rel="records/sales/2026-10.csv", month="2026-10", into=one)
    two = SalesData()
    read(b, rel="records/sales/2026-10.csv", month="2026-10", into=two)
    read(a, into=two)
    assert one.retailer_ids == two.retailer_ids == ["r-0001", "r-0009"]
    assert one.origin(1) == ("records/sales/2026-10.csv", 2)
    assert two.origin(1) == ("records/sales/2026-09.csv", 2)


def test_write_sales_csv_takes_plain_tuples_and_sale_rows_and_round_trips():
    rows = [
        (dt.date(2026, 9, 8), "r-0002", "b-1", 3, 36.0),
        SaleRow(dt.date(2026, 9, 1), "r-0001", "b-1", 10, 120.5),
        ("2026-09-01", "r-0001", "b-0", 1, 12),
    ]
    text = write_sales_csv(rows)
    assert text.splitlines() == [
        "date,retailer,brand,quantity,amount",
        "2026-09-01,r-0001,b-0,1,12.00",
        "2026-09-01,r-0001,b-1,10,120.50",
        "2026-09-08,r-0002,b-1,3,36.00",
    ]
    data, diags = read(text)
    assert diags == [] and data.quantity.tolist() == [1, 10, 3]
    assert data.rows_of("r-0001")[1] == SaleRow(dt.date(2026, 9, 1), "r-0001", "b-1", 10, 120.5)


def test_weeks_are_monday_based_and_labelled_iso():
    monday, sunday = dt.date(2026, 8, 31), dt.date(2026, 9, 6)
    assert S.week_of(monday) == S.week_of(sunday) == S.week_of(monday - dt.timedelta(days=1)) + 1
    assert S.week_start(S.week_of(sunday)) == monday
    assert S.iso_week_label(S.week_of(dt.date(2026, 9, 1))) == "2026-W36"
    days = np.array(["2026-08-30", "2026-08-31"], dtype="datetime64[D]")
    assert (S.week_of(days) == [S.week_of(dt.date(2026, 8, 30)), S.week_of(monday)]).all()


def test_weekly_and_monthly_totals_hand_counted():
    data = SalesData.from_rows([
        ("2026-08-31", "r-1", "b-1", 4, 40.0),  # Monday, week A
        ("2026-09-06", "r-1", "b-2", 6, 60.0),  # Sunday, same week A → 10
        ("2026-09-07", "r-1", "b-1", 5, 50.0),  # week B
        ("2026-09-08", "r-2", "b-1", 7, 70.0),  # week B, the other retailer
    ])
    wa = S.week_of(dt.date(2026, 8, 31))
    assert S.weekly(data, wa, wa + 2, "quantity").tolist() == [[10, 5], [0, 7]]
    assert S.weekly(data, wa, wa + 2, "amount").tolist() == [[100.0, 50.0], [0.0, 70.0]]
    totals, m0 = S.monthly(data, "quantity")
    assert S.month_key(m0) == "2026-08"
    assert totals.tolist() == [[4, 11], [0, 7]]  # r-1: Aug 4, Sep 6+5; r-2: Sep 7
    p = S.pairs(data)
    assert [(data.retailer_ids[r], data.brand_ids[b]) for r, b in zip(p.retailer, p.brand)] == [
        ("r-1", "b-1"), ("r-1", "b-2"), ("r-2", "b-1"),
    ]
    assert p.weekly(wa, wa + 2).tolist() == [[4, 5], [6, 0], [0, 7]]


def test_managers_follow_a_handover_in_the_middle_of_a_month():
    # r-1 was cm-li's until 2026-09-15 (exclusive), cm-wang's from that day
    rec = retailer("r-1", manager="cm-wang", manager_history=[{"manager": "cm-li", "until": "2026-09-15"}])
    data = SalesData.from_rows([
        ("2026-09-14", "r-1", "b-1", 1, 1.0),
        ("2026-09-15", "r-1", "b-1", 1, 1.0),
        ("2026-09-01", "r-x", "b-1", 1, 1.0),  # no archive
    ])
    codes, ids = S.managers(data, {"r-1": rec})
    assert [ids[c] if c >= 0 else None for c in codes] == ["cm-li", "cm-wang", None]


def test_repository_reads_gzip_and_refuses_two_files_for_one_month(mini):
    mini.write("sales/2026-10.csv.gz", gzip.compress((HEADER + "2026-10-06,r-0001,b-yunyan,2,360.00\n").encode()))
    repo, report = mini.load()
    assert report.errors == []
    assert repo.sales.last_day() == dt.date(2026, 10, 6)
    assert len(repo.sales) == 4
    mini.write("sales/2026-09.csv.gz", gzip.compress(GOOD.encode()))
    _, report = mini.load()
    dup = [d for d in report.errors if d.code == "duplicate"]
    assert [d.path for d in dup] == ["records/sales/2026-09.csv.gz"]


def test_unknown_retailer_is_reported_at_its_first_row_in_each_file(mini):
    text = HEADER + "2026-09-01,r-0001,b-yunyan,1,1\n2026-09-02,r-9999,b-yunyan,1,1\n2026-09-03,r-9999,b-yunyan,1,1\n"
    mini.write(SALES, text)
    report = mini.validate(TODAY)
    unknown = [d for d in report.errors if d.code == "unknown_reference"]
    assert [(d.path, d.line, d.column, d.field) for d in unknown] == [("records/sales/2026-09.csv", 3, 2, "retailer")]
    assert "r-9999" in unknown[0].message


def test_managers_asked_again_after_an_archive_changed_hands_follow_the_change():
    data = SalesData.from_rows([("2026-09-14", "r-1", "b-1", 1, 1.0), ("2026-09-15", "r-2", "b-1", 1, 1.0)])
    archives = {"r-1": retailer("r-1", manager="cm-li"), "r-2": retailer("r-2", manager="cm-li")}
    codes, ids = S.managers(data, archives)
    assert [ids[c] for c in codes] == ["cm-li", "cm-li"]
    assert S.managers(data, archives)[0] is codes  # asked again: the rows' codes are kept
    archives["r-2"] = retailer("r-2", manager="cm-wang")
    codes, ids = S.managers(data, archives)
    assert [ids[c] for c in codes] == ["cm-li", "cm-wang"]
    archives["r-1"] = retailer("r-1", manager="cm-wang", manager_history=[{"manager": "cm-li", "until": "2026-09-15"}])
    archives["r-2"] = retailer("r-2", manager="cm-wang", manager_history=[{"manager": "cm-li", "until": "2026-09-16"}])
    codes, ids = S.managers(data, archives)
    assert [ids[c] for c in codes] == ["cm-li", "cm-li"]


def test_row_weeks_and_months_match_the_calendar_helpers():
    days = ["2026-01-01", "2026-03-29", "2026-03-30", "2026-12-31", "2026-02-28"]
    data = SalesData.from_rows([(d, "r-1", "b-1", 1, 1.0) for d in days])
    as_dates = np.array(days, dtype="datetime64[D]")
    assert S.row_weeks(data).tolist() == [S.week_of(dt.date.fromisoformat(d)) for d in days]
    assert S.row_months(data).tolist() == S.month_of(as_dates).tolist()
    assert S.as_float(data, "quantity").tolist() == [1.0] * 5


def test_weeks_since_counts_weeks_from_a_start_week():
    data = SalesData.from_rows([(d, "r-1", "b-1", 1, 1.0) for d in ("2026-03-29", "2026-03-30", "2026-12-31", "1969-12-28")])
    w0 = S.week_of(dt.date(2026, 3, 23))
    assert S.weeks_since(data, w0).tolist() == [w - w0 for w in S.row_weeks(data).tolist()] == [0, 1, 40, -2935]


def test_managers_are_the_archives_manager_on_each_rows_day_through_several_handovers():
    """Every row's manager is its archive's ``manager_on(day)`` — rows on each hand-over's own day and
    the days either side, several hand-overs per shop (two a day apart), rows in any order. (Two on the
    same day are refused by the checks: ``handover_twice``.)"""
    import random

    archives = {
        "r-1": retailer("r-1", manager="cm-wang", manager_history=[
            {"manager": "cm-li", "until": "2026-09-15"}, {"manager": "cm-zhao", "until": "2026-08-01"},
            {"manager": "cm-li", "until": "2026-07-10"},
        ]),
        "r-2": retailer("r-2", manager="cm-li", manager_history=[{"manager": "cm-wang", "until": "2026-09-01"}]),
        "r-3": retailer("r-3", manager="cm-zhao"),
        "r-4": retailer("r-4", manager="cm-zhao", manager_history=[  # (listed out of order)
            {"manager": "cm-li", "until": "2026-08-21"}, {"manager": "cm-wang", "until": "2026-08-20"},
        ]),
    }
    days = [dt.date(2026, 7, 1) + dt.timedelta(days=n) for n in range(0, 100)]
    rows = [(d.isoformat(), rid, "b-1", 1, 1.0) for d in days for rid in ("r-1", "r-2", "r-3", "r-4", "r-x")]
    random.Random(7).shuffle(rows)
    data = SalesData.from_rows(rows)
    codes, ids = S.managers(data, archives)
    got = [ids[c] if c >= 0 else None for c in codes]
    shops = [data.retailer_ids[r] for r in data.retailer]
    want = [archives[rid].management.manager_on(day.astype(dt.date)) if rid in archives else None
            for rid, day in zip(shops, data.day)]
    assert got == want
    assert {"cm-li", "cm-wang", "cm-zhao", None} == set(got)
