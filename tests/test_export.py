"""crmdocs export: computed results → spreadsheets (headers, frozen rows, widths, numbers, same bytes)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile

import openpyxl
import pytest

from crmdocs.schemas.computed_retailers import AbnormalFile, AbnormalOrder, TierDerivation, TierOverrideRef, TiersFile, Window
from crmdocs.scripts.repository import load
from crmdocs.scripts.rules import compute_all
from crmdocs.scripts.sheetio import Column, Table, csv_bytes, xlsx_bytes
from crmdocs.scripts.spreadsheet_export import EXPORTS, download_path, export_bytes, export_files, table_for


@pytest.fixture
def office(mini):
    repo, report = load(mini.root)
    assert report.ok, report.to_text()
    return mini, repo, compute_all(repo)


def book(data: bytes):
    return openpyxl.load_workbook(io.BytesIO(data))


def with_retail_results(computed):
    """The retailer-side rules' results, as their models say (the rules may not exist yet)."""
    extra = {"tiers": {"r-0001": 22, "r-0002": 28}} if "tiers" in TiersFile.model_fields else {}
    tiers = TiersFile(
        **extra,
        period="2026-09", department="d-east", mode="ranking", count=30,
        window=Window(start=dt.date(2026, 8, 1), end=dt.date(2026, 8, 31)),
        weights={"quantity": 0.3, "amount": 0.5, "capability": 0.2},
        retailers={
            "r-0001": TierDerivation(basis="ranking", quantity=120, amount=15600.5, capability=30, score=71.25,
                                     computed_tier=22, tier=22),
            "r-0002": TierDerivation(basis="ranking", quantity=300, amount=40100.0, capability=30, score=90.0,
                                     computed_tier=27, tier=28,
                                     override=TierOverrideRef(tier=28, reason="新开商场店", approver="mm-zhao",
                                                              date=dt.date(2026, 9, 1), source="x.yaml")),
        },
    )
    abnormal = AbnormalFile(
        month="2026-09", manager="cm-li", count=2,
        weeks={"2026-W36": [
            AbnormalOrder(date=dt.date(2026, 9, 3), retailer="r-0002", rule="spike", quantity=60, mean=20.0, ratio=3.0,
                          message="单次订购 60 条，是前 3 期平均的 3 倍（超过 2 倍）(above 2 × the mean of earlier cycles)"),
            AbnormalOrder(date=dt.date(2026, 9, 1), retailer="r-0001", rule="above_upper", brand="b-yunyan",
                          quantity=12, limit=8, message="超过上限 8 条（周转数 6 × 上限系数 1.3，向上取整）(above the upper limit)"),
        ]},
    )
    for key in [k for k, v in computed.records.items() if isinstance(v, (TiersFile, AbnormalFile))]:
        del computed.records[key]  # only these, whatever the rules found
    computed.records["2026-09/tiers/d-east.yaml"] = tiers
    computed.records["2026-09/abnormal/cm-li.yaml"] = abnormal
    return computed


def test_every_export_has_chinese_headers_frozen_row_and_widths(office):
    _, repo, computed = office
    with_retail_results(computed)
    for what in EXPORTS:
        table = table_for(repo, computed, what, "2026-09")
        ws = book(export_bytes(table, "xlsx", computed)).active
        headers = [c.value for c in ws[1]]
        assert headers == [c.header for c in table.columns]
        assert all(any("\u4e00" <= ch <= "\u9fff" for ch in h) for h in headers), what
        assert ws.freeze_panes == "A2", what
        assert ws["A1"].font.bold
        for index in range(1, len(headers) + 1):
            width = ws.column_dimensions[openpyxl.utils.get_column_letter(index)].width
            assert 6 <= width <= 60, (what, headers[index - 1], width)


def test_appraisal_ranking_with_indicator_breakdown(office):
    _, repo, computed = office
    table = table_for(repo, computed, "appraisals", "2026-09")
    ws = book(export_bytes(table, "xlsx", computed)).active
    headers = [c.value for c in ws[1]]
    assert headers[:5] == ["名次", "客户经理", "人员编号", "客户服务部", "总分"]
    assert "销售目标完成率得分（满分 30）" in headers and "计划执行率" in headers
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    totals = [r[4] for r in rows]
    assert totals == sorted(totals, reverse=True)
    assert [r[0] for r in rows] == [1, 2]
    assert isinstance(rows[0][4], float)  # numbers as numbers
    ratio_col = headers.index("计划执行率") + 1
    assert ws.cell(2, ratio_col).number_format.endswith("%")


def test_ties_share_a_rank(office):
    _, repo, computed = office
    managers = [m for m in computed.records.values() if getattr(m, "period", None) == "2026-09" and hasattr(m, "appraisal")]
    for m in managers:
        m.appraisal.total = 80.0
    table = table_for(repo, computed, "appraisals", "2026-09")
    assert [r["rank"] for r in table.rows] == [1, 1]


def test_same_records_give_the_same_bytes(office):
    mini, _, computed = office
    first = {k: v for k, v in export_files(computed.ctx.repo, computed).items()}
    repo2, _ = load(mini.root)
    again = export_files(repo2, compute_all(repo2))
    assert first == again and first
    props = book(next(iter(first.values()))).properties
    as_of = dt.datetime.combine(computed.ctx.as_of, dt.time())
    assert props.created == props.modified == as_of  # the records' as-of day, not the clock
    assert as_of.date() < dt.date.today()


def test_zip_entries_carry_a_fixed_time():
    data = xlsx_bytes([Table("t", "t", [Column("a", "甲")], [{"a": "x"}])])
    times = {info.date_time for info in zipfile.ZipFile(io.BytesIO(data)).infolist()}
    assert times == {(2000, 1, 1, 0, 0, 0)}


def test_tier_list(office):
    _, repo, computed = office
    with_retail_results(computed)
    table = table_for(repo, computed, "tiers", "2026-09")
    ws = book(export_bytes(table, "xlsx", computed)).active
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert [r[1] for r in rows] == ["r-0002", "r-0001"]  # highest tier first
    assert rows[0][3] == 28 and rows[0][4] == 27
    assert "新开商场店" in rows[0][10] and "赵" in rows[0][10]
    assert rows[1][7] == 15600.5


def test_abnormal_orders_by_day_with_names(office):
    _, repo, computed = office
    with_retail_results(computed)
    table = table_for(repo, computed, "abnormal", "2026-Q3")
    rows = table.rows
    assert [r["date"] for r in rows] == [dt.date(2026, 9, 1), dt.date(2026, 9, 3)]
    assert rows[0]["rule"] == "超上限" and rows[0]["brand"] != "b-yunyan"
    ws = book(export_bytes(table, "xlsx", computed)).active
    assert ws["A2"].is_date and ws["A2"].number_format == "yyyy-mm-dd"
    # a leader's spreadsheet says it in Chinese (the 异常类型 column names the rule): the English gloss is left out
    assert [r["message"] for r in rows] == ["超过上限 8 条（周转数 6 × 上限系数 1.3，向上取整）",
                                            "单次订购 60 条，是前 3 期平均的 3 倍（超过 2 倍）"]


def test_complaints_with_deadline_and_state(office):
    _, repo, computed = office
    table = table_for(repo, computed, "complaints", "2026-09")
    (row,) = table.rows
    assert row["id"] == "c-2026-0001" and row["state"] == "按时办结"
    assert row["due"] == dt.date(2026, 9, 2)
    assert table_for(repo, computed, "complaints", "2026-10").rows == []


def test_csv_opens_in_excel_with_chinese(office):
    _, repo, computed = office
    data = export_bytes(table_for(repo, computed, "complaints", "2026-09"), "csv", computed)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows[0][0] == "投诉编号" and rows[1][0] == "c-2026-0001"


def test_period_without_results_names_the_periods_that_have_them(office):
    mini, *_ = office
    code, out = mini.cli("export", "appraisals", "--period", "2025-01")
    assert code == 1 and "2026-09" in out and "Traceback" not in out


def test_export_command_writes_the_file(office, tmp_path):
    mini, *_ = office
    out = tmp_path / "rank.xlsx"
    code, text = mini.cli("export", "appraisals", "--period", "2026-Q3", "--out", str(out))
    assert code == 0, text
    assert "已导出" in text
    ws = book(out.read_bytes()).active
    assert ws.title == "考核排名" and ws.max_row == 3


def test_wide_text_column_is_capped_and_cjk_counts_double():
    long = "很长的说明" * 40
    ws = book(xlsx_bytes([Table("t", "t", [Column("a", "说明"), Column("b", "编号")], [{"a": long, "b": "r-1"}])])).active
    assert ws.column_dimensions["A"].width == 60
    assert ws.column_dimensions["B"].width == 6


def test_numbers_stay_numbers_and_empty_cells_stay_empty():
    cols = [Column("n", "数量", "int"), Column("x", "金额", "number", decimals=2), Column("p", "比例", "percent")]
    ws = book(xlsx_bytes([Table("t", "t", cols, [{"n": 3, "x": 1.5, "p": 0.25}, {"n": None}])])).active
    assert (ws["A2"].value, ws["B2"].value, ws["C2"].value) == (3, 1.5, 0.25)
    assert ws["B2"].number_format == "0.00" and ws["C2"].number_format == "0.0%"
    assert ws["B3"].value is None
    text = csv_bytes(Table("t", "t", cols, [{"n": 3, "x": 1.5, "p": 0.25}])).decode("utf-8-sig")
    assert text.splitlines()[1] == "3,1.50,25.0%"


def test_export_files_for_the_site(office):
    _, repo, computed = office
    with_retail_results(computed)
    files = export_files(repo, computed)
    for what in ("appraisals", "tiers", "abnormal", "overdue-visits", "complaints"):
        assert download_path(what, "2026-09") in files, what
    assert "downloads/appraisals-2026-Q3.xlsx" in files and "downloads/appraisals-2026.xlsx" in files
    latest = export_files(repo, computed, latest_only=True)
    assert set(latest) < set(files) and len(latest) == 5
    assert all(data[:2] == b"PK" for data in files.values())


def test_export_to_a_folder_is_a_clean_error(office, tmp_path):
    mini, *_ = office
    code, out = mini.cli("export", "complaints", "--out", str(tmp_path))
    assert code == 1 and "写不了" in out and "Traceback" not in out


def test_export_format_follows_the_file_extension(office, tmp_path):
    mini, *_ = office
    out = tmp_path / "排名.csv"
    code, text = mini.cli("export", "appraisals", "--period", "2026-Q3", "--out", str(out))
    assert code == 0, text
    assert out.read_bytes()[:2] != b"PK"  # was an Excel file named .csv
    header = next(csv.reader(io.StringIO(out.read_text(encoding="utf-8-sig"))))
    assert "客户经理" in header
    code, text = mini.cli("export", "appraisals", "--period", "2026-Q3", "--format", "csv", "--out", str(tmp_path / "x.xlsx"))
    assert code == 1 and "扩展名" in text and not (tmp_path / "x.xlsx").exists()


def test_complaint_states_are_the_sites_words():
    """The spreadsheet said 超时办结 / 办理中 where the site and crmdocs explain say 超期办结 / 处理中."""
    from crmdocs.plugins.pages_service import STATE_ZH as SITE
    from crmdocs.scripts.spreadsheet_export import STATE_ZH as SHEET

    assert SHEET == SITE and SHEET["overdue"] == "超期办结" and SHEET["open"] == "处理中"


def test_no_spreadsheet_header_says_超时(office):
    _, repo, computed = office
    with_retail_results(computed)
    for what in ("appraisals", "complaints", "overdue-visits"):
        table = table_for(repo, computed, what, "2026-09")
        assert not [c.header for c in table.columns if "超时" in c.header], what


def test_ranking_notes_who_has_left(mini):
    # a leaver's row looked like everyone else's (说明 empty), as the site's ranking did
    mini.edit("people/cm-li.yaml", lambda d: d.update(active=False))
    repo, report = load(mini.root)
    table = table_for(repo, compute_all(repo), "appraisals", "2026-09")
    notes = {r["manager"]: r["note"] for r in table.rows}
    assert notes["cm-li"].startswith("已离岗") and "离岗" not in notes["cm-wang"]
