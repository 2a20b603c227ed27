"""crmdocs import: archive spreadsheets (real .xlsx files made here) → records."""

from __future__ import annotations

import datetime as dt
import shutil
from pathlib import Path

import openpyxl
import pytest

from crmdocs.scripts.cli import main
from crmdocs.scripts.repository import load
from crmdocs.scripts.spreadsheet_import import import_sheet

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "import"

PEOPLE = {
    "cm-zhang-wei": "name: 张伟\nrole: customer_manager\nunit: d-chengguan\ngrade: level-3\n",
    "cm-li-na": "name: 李娜\nrole: customer_manager\nunit: d-xiangcun\ngrade: level-2\n",
    "mm-wang-qiang": "name: 王强\nrole: market_manager\nunit: d-chengguan\n",
}

HEADERS = ["许可证号", "有效期至", "店名", "经营地址", "乡镇/街道", "业态", "城网/农网", "经营面积", "商圈",
           "负责人", "联系电话", "客户经理", "订货日"]


def row(licence="510802104567", expiry=dt.date(2028, 6, 30), name="张记便利店", address="城关镇解放路 12 号",
        district="城关镇", fmt="便利店", network="城网", area=35, location="居民区", owner="张三",
        phone="13812345678", manager="张伟", day="周二"):
    return [licence, expiry, name, address, district, fmt, network, area, location, owner, phone, manager, day]


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    people = tmp_path / "records" / "people"
    people.mkdir(parents=True)
    for pid, body in PEOPLE.items():
        (people / f"{pid}.yaml").write_text(f"id: {pid}\n{body}", encoding="utf-8")
    return tmp_path


def sheet(path: Path, rows: list[list], headers=HEADERS, title="档案", before: list[list] = ()) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = title
    for extra in before:
        ws.append(extra)
    ws.append(headers)
    for r in rows:
        ws.append(r)
    wb.save(path)
    return path


def run_import(repo: Path, *args: str) -> int:
    return main(["--root", str(repo), "import", *args])


def retailer_file(repo: Path, rid: str = "r-510802104567", dept: str = "d-chengguan") -> Path:
    return repo / "records" / "retailers" / dept / f"{rid}.yaml"


MAP = str(EXAMPLES / "retailers.yaml")


def test_rows_become_valid_retailer_records(repo, tmp_path, capsys):
    xlsx = sheet(tmp_path / "archive.xlsx", [row(), row(licence="510802104568", name="李记超市", fmt="超市", network="农网",
                                                        manager="李娜")])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 0
    first = retailer_file(repo)
    second = retailer_file(repo, "r-510802104568", "d-xiangcun")
    assert first.is_file() and second.is_file()
    loaded, report = load(repo)
    r = loaded.retailers["r-510802104568"]
    assert (r.basic.format.value, r.basic.network.value, r.management.manager) == ("supermarket", "rural", "cm-li-na")
    assert r.management.department == "d-xiangcun"  # the manager's unit
    assert r.management.order_day == 2
    assert loaded.retailers["r-510802104567"].basic.location.value == "residential"  # 居民区 by the schema's names
    assert [d for d in report.errors if "retailers" in d.path] == []
    assert 'licence_no: "510802104567"' in first.read_text(encoding="utf-8")
    assert "新建 2" in capsys.readouterr().out


def test_second_import_changes_nothing_and_says_so(repo, tmp_path, capsys):
    xlsx = sheet(tmp_path / "archive.xlsx", [row()])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 0
    before = retailer_file(repo).read_bytes()
    mtime = retailer_file(repo).stat().st_mtime_ns
    capsys.readouterr()
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 0
    out = capsys.readouterr().out
    assert "没有任何变化" in out and "没有变化 1" in out
    assert retailer_file(repo).read_bytes() == before
    assert retailer_file(repo).stat().st_mtime_ns == mtime


def test_changed_row_needs_update_and_shows_differences(repo, tmp_path, capsys):
    sheet(tmp_path / "a.xlsx", [row()])
    run_import(repo, "retailers", str(tmp_path / "a.xlsx"), "--map", MAP)
    hand = retailer_file(repo).read_text(encoding="utf-8") + "# 手写的备注\n"
    retailer_file(repo).write_text(hand, encoding="utf-8")
    sheet(tmp_path / "b.xlsx", [row(address="城关镇人民路 8 号", area=40)])
    capsys.readouterr()
    assert run_import(repo, "retailers", str(tmp_path / "b.xlsx"), "--map", MAP) == 1
    out = capsys.readouterr().out
    assert "--update" in out
    assert "basic.address: '城关镇解放路 12 号' → '城关镇人民路 8 号'" in out
    assert "basic.floor_area: 35.0 → 40.0" in out
    assert retailer_file(repo).read_text(encoding="utf-8") == hand  # not touched
    assert run_import(repo, "retailers", str(tmp_path / "b.xlsx"), "--map", MAP, "--update") == 0
    updated = retailer_file(repo).read_text(encoding="utf-8")
    assert "人民路" in updated
    assert updated == hand.replace("城关镇解放路 12 号", "城关镇人民路 8 号").replace("floor_area: 35.0", "floor_area: 40.0")
    assert "已更新" in capsys.readouterr().out


def test_update_keeps_fields_the_sheet_does_not_know(repo, tmp_path):
    sheet(tmp_path / "a.xlsx", [row()])
    run_import(repo, "retailers", str(tmp_path / "a.xlsx"), "--map", MAP)
    path = retailer_file(repo)
    text = path.read_text(encoding="utf-8").replace(
        "management:\n", "management:\n  violations:\n  - date: 2026-03-02\n    kind: price\n", 1
    )
    path.write_text(text, encoding="utf-8")
    sheet(tmp_path / "b.xlsx", [row(owner="张四")])
    assert run_import(repo, "retailers", str(tmp_path / "b.xlsx"), "--map", MAP, "--update") == 0
    loaded, _ = load(repo)
    r = loaded.retailers["r-510802104567"]
    assert r.personal.owner_name == "张四"
    assert len(r.management.violations) == 1


def test_bad_row_reported_with_sheet_row_column_and_not_written(repo, tmp_path, capsys):
    xlsx = sheet(tmp_path / "archive.xlsx", [row(), row(licence="51-08", name="坏行"), row(licence="510802104569")])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 1
    out = capsys.readouterr().out
    assert "archive.xlsx:档案!A3: 错误 error: basic.licence_no: 许可证号 " in out and "51-08" in out
    assert retailer_file(repo).is_file()
    assert retailer_file(repo, "r-510802104569").is_file()
    assert "坏行" not in "".join(p.read_text(encoding="utf-8") for p in (repo / "records" / "retailers").rglob("*.yaml"))
    assert "出错 1 行" in out


def test_unknown_value_is_reported_at_its_column(repo, tmp_path, capsys):
    xlsx = sheet(tmp_path / "archive.xlsx", [row(fmt="花店")])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 1
    out = capsys.readouterr().out
    assert "archive.xlsx:档案!F2: 错误 error: basic.format: “花店” 不是可选的值，可填：便利店、超市" in out
    assert "娱乐服务类" in out and "grocery" not in out


def test_unknown_manager_name_is_reported(repo, tmp_path, capsys):
    xlsx = sheet(tmp_path / "archive.xlsx", [row(manager="赵六")])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 1
    out = capsys.readouterr().out
    assert "档案!L2: 错误 error: management.manager: 找不到人员 " in out and "赵六" in out


def test_a_row_with_an_unknown_manager_reports_its_other_mistakes_too(repo, tmp_path, capsys):
    # only the manager was reported; the empty shop name and the wrong 业态 came up after it was mended
    xlsx = sheet(tmp_path / "archive.xlsx", [row(manager="赵六", name="", fmt="便利"), row(licence="510802104568")])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 1
    out = capsys.readouterr().out
    lines = [line for line in out.splitlines() if "错误 error" in line]
    assert [line.split(": 错误")[0] for line in lines] == ["archive.xlsx:档案!C2", "archive.xlsx:档案!F2", "archive.xlsx:档案!L2"], out
    assert "basic.shop_name: 缺少必填字段" in lines[0] and "“便利” 不是可选的值" in lines[1] and "赵六" in lines[2]
    assert "management.department" not in out  # follows from the manager: no error of its own
    assert not retailer_file(repo).exists() and retailer_file(repo, "r-510802104568").is_file()  # the good row is written
    assert "出错 1 行" in out


def test_a_row_whose_id_cell_is_wrong_reports_its_other_mistakes(repo, tmp_path, capsys):
    xlsx = sheet(tmp_path / "archive.xlsx", [row(licence=10802104567, manager="赵六", fmt="便利")])  # lost its leading 0
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 1
    out = capsys.readouterr().out
    assert "档案!A2" in out and "档案!F2" in out and "档案!L2" in out and "编号模板" not in out, out


def test_a_target_row_with_an_unknown_manager_reports_a_negative_target_too(repo, tmp_path, capsys):
    headers = ["期间", "客户经理", "销量目标（条）", "重点品牌目标（条）"]
    xlsx = sheet(tmp_path / "t.xlsx", [["2026-09", "赵六", -5, 1]], headers=headers, title="目标")
    assert run_import(repo, "targets", str(xlsx), "--map", str(EXAMPLES / "targets.yaml")) == 1
    out = capsys.readouterr().out
    assert "目标!B2: 错误 error: manager: 找不到人员" in out and "目标!C2: 错误 error: sales: 不能小于 0" in out, out


def test_merged_header_cells_and_group_titles(repo, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sheet1"
    groups = ["基本信息"] * 9 + ["个人信息"] * 2 + ["管理信息"] * 2
    ws.append(groups)
    ws.append(HEADERS)
    ws.append(row())
    ws.merge_cells("A1:I1")
    ws.merge_cells("J1:K1")
    ws.merge_cells("L1:M1")
    # a header merged over both header rows: 许可证号 in A1:A2 style
    ws.insert_cols(1)
    ws["A1"] = "序号"
    ws.merge_cells("A1:A2")
    ws["A3"] = 1
    wb.save(tmp_path / "merged.xlsx")
    assert run_import(repo, "retailers", str(tmp_path / "merged.xlsx"), "--map", MAP) == 0
    assert retailer_file(repo).is_file()


def test_vertically_merged_header_is_found(repo, tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["零售户档案"] + [None] * (len(HEADERS) - 1))
    ws.append(HEADERS[:-1] + ["订货日"])
    ws.append([None] * (len(HEADERS) - 1) + [None])
    ws.append(row())
    ws.merge_cells(f"A1:M1")
    for col in "ABCDEFGHIJKLM":  # every header spans rows 2-3
        ws.merge_cells(f"{col}2:{col}3")
    wb.save(tmp_path / "tall.xlsx")
    assert run_import(repo, "retailers", str(tmp_path / "tall.xlsx"), "--map", MAP) == 0
    assert retailer_file(repo).is_file()


def test_manager_merged_down_several_rows(repo, tmp_path):
    rows = [row(licence=f"51080210456{i}", manager=None if i else "李娜") for i in range(3)]
    xlsx = tmp_path / "m.xlsx"
    sheet(xlsx, rows)
    wb = openpyxl.load_workbook(xlsx)
    wb.active.merge_cells("L2:L4")
    wb.save(xlsx)
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 0
    assert all(retailer_file(repo, f"r-51080210456{i}", "d-xiangcun").is_file() for i in range(3))


def test_empty_rows_are_skipped(repo, tmp_path, capsys):
    xlsx = sheet(tmp_path / "a.xlsx", [row(), [None] * 13, ["  "] * 13, row(licence="510802104569")])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 0
    assert "读了 2 行" in capsys.readouterr().out


def test_numbers_stored_as_text_and_text_as_numbers(repo, tmp_path):
    xlsx = sheet(tmp_path / "a.xlsx", [row(licence=510802104567, area=" 35.5 ", phone=13812345678, day="2")])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 0
    r = load(repo)[0].retailers["r-510802104567"]
    assert r.basic.licence_no == "510802104567"
    assert r.basic.floor_area == 35.5
    assert r.personal.phone == "13812345678"
    assert r.management.order_day == 2
    assert 'phone: "13812345678"' in retailer_file(repo).read_text(encoding="utf-8")


def test_full_width_digits_in_a_number_cell(repo, tmp_path):
    xlsx = sheet(tmp_path / "a.xlsx", [row(area="３５")])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 0
    assert load(repo)[0].retailers["r-510802104567"].basic.floor_area == 35


@pytest.mark.parametrize("phone", [8321234567, 2154321234])
def test_landline_stored_as_number_lost_its_zero_and_is_not_guessed(repo, tmp_path, capsys, phone):
    xlsx = sheet(tmp_path / "a.xlsx", [row(phone=phone)])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 1
    out = capsys.readouterr().out
    assert "档案!K2: 错误 error: personal.phone: 电话号码单元格是数字格式" in out
    assert "0" + str(phone) not in out.split("\n")[0].split("读到")[0]
    assert not retailer_file(repo).exists()


def test_landline_as_text_keeps_its_zero(repo, tmp_path):
    xlsx = sheet(tmp_path / "a.xlsx", [row(phone="0832-1234567")])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 0
    assert load(repo)[0].retailers["r-510802104567"].personal.phone == "0832-1234567"


def test_licence_with_leading_zero_lost_is_reported(repo, tmp_path, capsys):
    xlsx = sheet(tmp_path / "a.xlsx", [row(licence=51080210456)])  # was 051080210456
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 1
    out = capsys.readouterr().out
    assert "档案!A2" in out and "去掉了开头的 0" in out and "不猜测补 0" in out


def test_long_number_beyond_excel_precision(repo, tmp_path, capsys):
    xlsx = sheet(tmp_path / "a.xlsx", [row(licence=5.10802104567e17)])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 1
    assert "15 位有效数字" in capsys.readouterr().out


def test_scientific_notation_text_is_refused(repo, tmp_path, capsys):
    csv = tmp_path / "a.csv"
    values = row(licence="5.10802E+11", expiry="2028/6/30")
    csv.write_text(",".join(HEADERS) + "\n" + ",".join(str(v) for v in values) + "\n", encoding="utf-8")
    assert run_import(repo, "retailers", str(csv), "--map", MAP) == 1
    assert "a.csv:A2: 错误 error: basic.licence_no:" in capsys.readouterr().out


@pytest.mark.parametrize(
    "cell",
    [46203, 46203.0, dt.datetime(2026, 6, 30), dt.date(2026, 6, 30), "2026-06-30", "2026/6/30", "2026年6月30日",
     "2026.6.30", 20260630],
)
def test_dates_in_every_shape(repo, tmp_path, cell):
    xlsx = sheet(tmp_path / "a.xlsx", [row(expiry=cell)])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 0
    assert load(repo)[0].retailers["r-510802104567"].basic.licence_expiry == dt.date(2026, 6, 30)


def test_impossible_date_is_reported(repo, tmp_path, capsys):
    xlsx = sheet(tmp_path / "a.xlsx", [row(expiry="2026-02-30")])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 1
    out = capsys.readouterr().out
    assert "档案!B2: 错误 error: basic.licence_expiry: 日期 " in out and "2026-02-30" in out and "不存在" in out


def test_csv_in_gbk_with_text_numbers(repo, tmp_path):
    csv = tmp_path / "archive.csv"
    values = row(expiry="2028-06-30", phone="0832-1234567")
    csv.write_bytes((",".join(HEADERS) + "\r\n" + ",".join(str(v) for v in values) + "\r\n").encode("gbk"))
    assert run_import(repo, "retailers", str(csv), "--map", MAP) == 0
    r = load(repo)[0].retailers["r-510802104567"]
    assert (r.basic.shop_name, r.personal.phone) == ("张记便利店", "0832-1234567")


def test_duplicate_row_is_reported(repo, tmp_path, capsys):
    xlsx = sheet(tmp_path / "a.xlsx", [row(), row(name="另一家")])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 1
    assert "与第 2 行是同一条记录" in capsys.readouterr().out
    assert "另一家" not in retailer_file(repo).read_text(encoding="utf-8")


def test_dry_run_writes_nothing(repo, tmp_path, capsys):
    xlsx = sheet(tmp_path / "a.xlsx", [row()])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP, "--dry-run") == 0
    assert not retailer_file(repo).exists()
    assert "将新建 1" in capsys.readouterr().out


def test_missing_column_names_the_columns_found(repo, tmp_path, capsys):
    xlsx = sheet(tmp_path / "a.xlsx", [row()[:-1]], headers=HEADERS[:-1])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 1
    err = capsys.readouterr().err
    assert "表头里没有列 “订货日”" in err and "Traceback" not in err


def test_mapping_with_unknown_field_is_refused_with_its_line(repo, tmp_path, capsys):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  店名: basic.shopname\n", encoding="utf-8")
    xlsx = sheet(tmp_path / "a.xlsx", [row()])
    assert run_import(repo, "retailers", str(xlsx), "--map", str(mapping)) == 1
    err = capsys.readouterr().err
    assert "m.yaml:2:" in err and "没有字段 basic.shopname" in err


def test_mapping_defaults_fill_missing_fields(repo, tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        (EXAMPLES / "retailers.yaml").read_text(encoding="utf-8").replace("  商圈: basic.location", "")
        + "  management.department: d-special\n",
        encoding="utf-8",
    )
    xlsx = sheet(tmp_path / "a.xlsx", [r[:8] + r[9:] for r in [row()]], headers=HEADERS[:8] + HEADERS[9:])
    assert run_import(repo, "retailers", str(xlsx), "--map", str(mapping)) == 0
    r = load(repo)[0].retailers["r-510802104567"]
    assert (r.basic.location.value, r.management.department) == ("other", "d-special")


def test_header_found_below_a_title_row(repo, tmp_path):
    xlsx = sheet(tmp_path / "a.xlsx", [row()], before=[["城关客户服务部零售户档案（2026 年 9 月）"], []])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 0


# ---------------------------------------------------------------- targets


def test_targets_grouped_by_period_and_merged(repo, tmp_path, capsys):
    mapping = str(EXAMPLES / "targets.yaml")
    headers = ["期间", "客户经理", "销量目标（条）", "重点品牌目标（条）"]
    xlsx = sheet(tmp_path / "t.xlsx", [["2026-09", "张伟", 1200, "300"], [dt.datetime(2026, 9, 1), "李娜", 900, 200],
                                        ["2026年10月", "cm-zhang-wei", 1250, 310]], headers=headers)
    assert run_import(repo, "targets", str(xlsx), "--map", mapping) == 0
    loaded = load(repo)[0]
    assert [t.manager for t in loaded.targets["2026-09"].targets] == ["cm-zhang-wei", "cm-li-na"]
    assert loaded.targets["2026-10"].targets[0].sales == 1250
    capsys.readouterr()
    assert run_import(repo, "targets", str(xlsx), "--map", mapping) == 0
    assert "没有任何变化" in capsys.readouterr().out
    sheet(tmp_path / "t2.xlsx", [["2026-09", "张伟", 1300, 300]], headers=headers)
    assert run_import(repo, "targets", str(tmp_path / "t2.xlsx"), "--map", mapping) == 1
    assert "targets[cm-zhang-wei].sales: 1200.0 → 1300.0" in capsys.readouterr().out
    assert run_import(repo, "targets", str(tmp_path / "t2.xlsx"), "--map", mapping, "--update") == 0
    t = load(repo)[0].targets["2026-09"]
    assert [(x.manager, x.sales) for x in t.targets] == [("cm-zhang-wei", 1300), ("cm-li-na", 900)]


def test_targets_period_from_the_command_line(repo, tmp_path):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  客户经理: {field: manager, lookup: person}\n  销量: sales\n  重点: key_brands\n",
                       encoding="utf-8")
    xlsx = sheet(tmp_path / "t.xlsx", [["张伟", 10, 2]], headers=["客户经理", "销量", "重点"])
    assert run_import(repo, "targets", str(xlsx), "--map", str(mapping), "--period", "2026-11") == 0
    assert (repo / "records" / "targets" / "2026-11.yaml").is_file()


def test_negative_target_is_reported_at_its_cell(repo, tmp_path, capsys):
    mapping = str(EXAMPLES / "targets.yaml")
    headers = ["期间", "客户经理", "销量目标（条）", "重点品牌目标（条）"]
    xlsx = sheet(tmp_path / "t.xlsx", [["2026-09", "张伟", -5, 1]], headers=headers, title="目标")
    assert run_import(repo, "targets", str(xlsx), "--map", mapping) == 1
    assert "t.xlsx:目标!C2: 错误 error: sales: 不能小于 0" in capsys.readouterr().out


# ---------------------------------------------------------------- surveys


def test_surveys_find_the_retailer_by_licence(repo, tmp_path, capsys):
    sheet(tmp_path / "a.xlsx", [row()])
    run_import(repo, "retailers", str(tmp_path / "a.xlsx"), "--map", MAP)
    headers = ["许可证号", "调查期间", "走访日期", "走访人", "产品质量", "服务质量", "品牌知名度", "意见和建议"]
    xlsx = sheet(tmp_path / "s.xlsx", [["510802104567", "2026-Q3", 46280, "张伟", "优良", "良好", "驰名", None],
                                        ["510802104567", "2026-Q4", "2026-10-10", "张伟", "很好", "良好", "驰名", None]],
                 headers=headers)
    assert run_import(repo, "surveys", str(xlsx), "--map", str(EXAMPLES / "surveys.yaml")) == 1
    out = capsys.readouterr().out
    assert "s.xlsx:档案!E3: 错误 error: quality: “很好” 不是可选的值，可填：非常优良、优良、良好" in out
    survey = repo / "records" / "surveys" / "2026" / "s-2026-q3-r-510802104567.yaml"
    assert survey.is_file()
    s = load(repo)[0].surveys["s-2026-q3-r-510802104567"]
    assert (s.retailer, s.date, s.surveyor) == ("r-510802104567", dt.date(2026, 9, 15), "cm-zhang-wei")


def test_new_manager_from_another_department_moves_the_file_with_update(repo, tmp_path, capsys):
    sheet(tmp_path / "a.xlsx", [row()])
    run_import(repo, "retailers", str(tmp_path / "a.xlsx"), "--map", MAP)
    sheet(tmp_path / "b.xlsx", [row(manager="李娜")])
    capsys.readouterr()
    assert run_import(repo, "retailers", str(tmp_path / "b.xlsx"), "--map", MAP) == 1
    out = capsys.readouterr().out
    assert "management.department: 'd-chengguan' → 'd-xiangcun'" in out
    assert retailer_file(repo).is_file()
    assert run_import(repo, "retailers", str(tmp_path / "b.xlsx"), "--map", MAP, "--update") == 0
    assert not retailer_file(repo).exists()
    assert retailer_file(repo, dept="d-xiangcun").is_file()
    assert "原在 records/retailers/d-chengguan/r-510802104567.yaml" in capsys.readouterr().out


def test_sheet_made_from_hand_written_records_changes_nothing(mini, tmp_path, capsys):
    """A round trip: the office's own archive as a spreadsheet (Chinese values,
    phones as number cells, a title row) → every file stays byte-identical."""
    from crmdocs.schemas.retailer import FORMAT_ZH, LOCATION_ZH, NETWORK_ZH

    loaded, _ = load(mini.root)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["零售户档案"])
    ws.merge_cells("A1:E1")
    ws.append(["编号", *HEADERS])
    for rid, r in sorted(loaded.retailers.items()):
        b, p, m = r.basic, r.personal, r.management
        ws.append([rid, int(b.licence_no), b.licence_expiry, b.shop_name, b.address, b.district, FORMAT_ZH[b.format],
                   NETWORK_ZH[b.network], b.floor_area, LOCATION_ZH[b.location], p.owner_name, int(p.phone),
                   loaded.people[m.manager].name, m.order_day])
    wb.save(tmp_path / "own.xlsx")
    mapping = tmp_path / "map.yaml"
    mapping.write_text(Path(MAP).read_text(encoding="utf-8").replace("columns:\n", "columns:\n  编号: id\n", 1),
                       encoding="utf-8")
    files = sorted((mini.root / "records" / "retailers").rglob("*.yaml"))
    before = {f: f.read_bytes() for f in files}
    assert run_import(mini.root, "retailers", str(tmp_path / "own.xlsx"), "--map", str(mapping)) == 0
    assert f"没有变化 {len(files)}" in capsys.readouterr().out
    assert {f: f.read_bytes() for f in sorted((mini.root / "records" / "retailers").rglob("*.yaml"))} == before


def test_headers_with_line_breaks_and_half_width_brackets_still_match(repo, tmp_path):
    headers = ["期间", "客户\n经理", "销量目标(条)", " 重点品牌目标（条） "]
    xlsx = sheet(tmp_path / "t.xlsx", [["2026-09", "张伟", 10, 2]], headers=headers)
    assert run_import(repo, "targets", str(xlsx), "--map", str(EXAMPLES / "targets.yaml")) == 0


def test_mapping_column_of_the_wrong_shape_gets_one_clear_message(repo, tmp_path, capsys):
    mapping = tmp_path / "m.yaml"
    mapping.write_text("columns:\n  店名: [basic.shop_name]\n  业态: {field: basic.format, lookup: shop}\n", encoding="utf-8")
    xlsx = sheet(tmp_path / "a.xlsx", [row()])
    assert run_import(repo, "retailers", str(xlsx), "--map", str(mapping)) == 1
    err = capsys.readouterr().err.splitlines()
    assert [line.split(": ")[0] for line in err[:-1]] == ["%s:2:3" % mapping, "%s:3:37" % mapping]
    assert "应写字段路径" in err[0] and "lookup" in err[1]


def test_targets_name_the_rows_they_came_from(repo, tmp_path, capsys):
    headers = ["期间", "客户经理", "销量目标（条）", "重点品牌目标（条）"]
    xlsx = sheet(tmp_path / "t.xlsx", [["2026-09", "张伟", 1, 1], [None] * 4, ["2026-09", "李娜", 2, 2]], headers=headers)
    assert run_import(repo, "targets", str(xlsx), "--map", str(EXAMPLES / "targets.yaml")) == 0
    assert "records/targets/2026-09.yaml ← t.xlsx:档案!2:4" in capsys.readouterr().out


def test_retailer_kept_under_another_id_is_matched_by_licence(mini, tmp_path, capsys):
    loaded, _ = load(mini.root)
    r = loaded.retailers["r-0001"]
    values = row(licence=r.basic.licence_no, expiry=r.basic.licence_expiry, name=r.basic.shop_name,
                 address="新地址 9 号", district=r.basic.district, fmt="grocery", network=r.basic.network.value,
                 area=r.basic.floor_area, location=r.basic.location.value, owner=r.personal.owner_name,
                 phone=r.personal.phone, manager=r.management.manager, day=r.management.order_day)
    xlsx = sheet(tmp_path / "a.xlsx", [values])
    assert run_import(mini.root, "retailers", str(xlsx), "--map", MAP) == 1
    out = capsys.readouterr().out
    assert "records/retailers/d-east/r-0001.yaml: 与表格" in out and "basic.address" in out
    assert not list((mini.root / "records" / "retailers").rglob(f"r-{r.basic.licence_no}.yaml"))


def test_sheet_chosen_on_the_command_line(repo, tmp_path, capsys):
    xlsx = sheet(tmp_path / "a.xlsx", [row()], title="城关")
    wb = openpyxl.load_workbook(xlsx)
    wb.create_sheet("说明", 0).append(["这张表是说明"])
    wb.save(xlsx)
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 1  # the first sheet has no header
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP, "--sheet", "城关") == 0
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP, "--sheet", "乡村") == 1
    assert "没有名为 “乡村” 的工作表，有：说明、城关" in capsys.readouterr().err


def test_id_number_stored_as_a_number_lost_its_last_digits(repo, tmp_path, capsys):
    mapping = tmp_path / "m.yaml"
    mapping.write_text(Path(MAP).read_text(encoding="utf-8").replace("columns:\n", "columns:\n  身份证号: personal.id_number\n", 1),
                       encoding="utf-8")
    xlsx = sheet(tmp_path / "a.xlsx", [row() + [5.11523199001012e17], row(licence="510802104569") + ["51152319900101123X"]],
                 headers=HEADERS + ["身份证号"])
    assert run_import(repo, "retailers", str(xlsx), "--map", str(mapping)) == 1
    out = capsys.readouterr().out
    assert "档案!N2: 错误 error: personal.id_number: 单元格是数字 511523199001012000，超过 15 位" in out
    assert load(repo)[0].retailers["r-510802104569"].personal.id_number == "51152319900101123X"


def test_a_mapping_for_another_kind_is_one_clear_line(repo, tmp_path, capsys):
    xlsx = sheet(tmp_path / "targets.xlsx", [["2026-09", "张伟", 100, 10]], headers=["期间", "客户经理", "销量目标（条）", "重点品牌目标（条）"])
    assert run_import(repo, "targets", str(xlsx), "--map", MAP) == 1
    out, err = capsys.readouterr()
    assert "这个对照文件是给 retailers 用的" in out + err and "targets" in out + err
    assert "没有字段" not in out + err  # was one "no such field" per column of the retailers mapping
    # like every other mapping error: file:line:col at the kind: line, the field, expected vs found
    line = next(i for i, text in enumerate(Path(MAP).read_text(encoding="utf-8").splitlines(), 1) if text.startswith("kind:"))
    assert f"{MAP}:{line}:7: 错误 error: kind: 这个对照文件是给 retailers 用的" in out + err, out + err
    assert "(expected kind: targets, found kind: retailers)" in out + err


def test_a_duplicate_of_a_bad_row_does_not_claim_the_first_was_imported(repo, tmp_path, capsys):
    xlsx = sheet(tmp_path / "archive.xlsx", [row(area="三十"), row(name="同一户又一行")])
    assert run_import(repo, "retailers", str(xlsx), "--map", MAP) == 1
    out = capsys.readouterr().out
    assert "archive.xlsx:档案!H2:" in out  # the first row's own error
    dup = next(x for x in out.splitlines() if "同一条记录" in x)
    assert "只导入第一行" not in dup and "这一行不导入" in dup  # row 2 was not imported either
    assert not retailer_file(repo).exists()


def test_a_name_padded_with_spaces_is_the_person(repo, tmp_path, capsys):
    # 李 娜: a two-character name spaced out to line up with three-character ones was 找不到人员 “李 娜”
    headers = ["期间", "客户经理", "销量目标（条）", "重点品牌目标（条）"]
    xlsx = sheet(tmp_path / "t.xlsx", [["2026-09", "李 娜", 900, 200], ["2026-09", "张\u3000伟", 800, 100]], headers=headers)
    assert run_import(repo, "targets", str(xlsx), "--map", str(EXAMPLES / "targets.yaml")) == 0, capsys.readouterr().out
    assert [t.manager for t in load(repo)[0].targets["2026-09"].targets] == ["cm-li-na", "cm-zhang-wei"]
