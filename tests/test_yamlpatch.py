"""Minimal edits of hand-written records: `import --update` changes only the
values that changed and keeps comments, blank lines, key order and quoting."""

from __future__ import annotations

import datetime as dt
import difflib
from pathlib import Path

import openpyxl
import pytest

from crmdocs.scripts import yamlio
from crmdocs.scripts.cli import main
from crmdocs.scripts.yamlpatch import NotPatchable, patch

MAP = str(Path(__file__).resolve().parents[1] / "examples" / "import" / "retailers.yaml")

HAND = """\
# 张记便利店的档案（手写，请保留这些注释）
id: r-510802104567
basic:
  licence_no: '510802104567'   # 单引号也行
  licence_expiry: 2028-06-30
  shop_name: 张记便利店
  address: "城关镇解放路 12 号"

  district: 城关镇
  network: urban
  format: convenience
  floor_area: 35.0
  location: residential
personal:
  owner_name: 张三   # 老板本人
  phone: "13812345678"
management:
  department: d-chengguan
  manager: cm-zhang-wei
  order_day: 2   # 周二
# 文件末尾的备注
"""


def changed_lines(before: str, after: str) -> tuple[list[str], list[str]]:
    """(lines removed, lines added) between two texts."""
    removed, added = [], []
    for line in difflib.ndiff(before.splitlines(), after.splitlines()):
        if line.startswith("- "):
            removed.append(line[2:])
        elif line.startswith("+ "):
            added.append(line[2:])
    return removed, added


# ---------------------------------------------------------------- patch() alone

DOC = """\
# 备注
a: 1   # 一
b:
  c: 旧值
  d: 'x'

  e: |
    第一行
    第二行

f: end
"""


def data(**changes):
    base = {"a": 1, "b": {"c": "旧值", "d": "x", "e": "第一行\n第二行\n"}, "f": "end"}
    for path, value in changes.items():
        node = base
        parts = path.split("__")
        for part in parts[:-1]:
            node = node[part]
        node[parts[-1]] = value
    return base


@pytest.mark.parametrize("value, shown", [
    ("新的中文值", "  c: 新的中文值"),
    ("00123", '  c: "00123"'),
    ("yes", '  c: "yes"'),
    ("2026-01-01", '  c: "2026-01-01"'),
    ("a: b", "  c: 'a: b'"),
    (dt.date(2026, 1, 1), "  c: 2026-01-01"),
    (42, "  c: 42"),
])
def test_one_value_changes_one_line_and_reads_back(value, shown):
    new = data(b__c=value)
    out = patch(DOC, ["b.c"], new, new)
    assert changed_lines(DOC, out) == (["  c: 旧值"], [shown])
    expected = str(value) if isinstance(value, dt.date) else value
    assert yamlio.parse(out)["b"]["c"] == expected


def test_multi_line_value_replaces_the_block_and_keeps_the_blank_line_after_it():
    new = data(b__e="甲\n乙\n丙")
    out = patch(DOC, ["b.e"], new, new)
    assert yamlio.parse(out)["b"]["e"] == "甲\n乙\n丙"
    assert out.endswith("    丙\n\nf: end\n")
    assert out.startswith(DOC[: DOC.index("  e: ")])


def test_a_comment_on_the_line_of_a_value_that_becomes_or_stops_being_a_block_stays():
    text = "a: 旧   # 注\nb: |  # 块\n  x\n  y\nc: 1\n"
    new = {"a": "一\n二", "b": "单行", "c": 1}
    out = patch(text, ["a", "b"], new, new)
    assert out == "a: |-   # 注\n  一\n  二\nb: 单行  # 块\nc: 1\n"
    assert yamlio.parse(out) == new


def test_a_value_becoming_multi_line_is_indented_under_its_key():
    new = data(b__c="一\n二\n")
    out = patch(DOC, ["b.c"], new, new)
    assert yamlio.parse(out) == new
    assert "  c: |\n    一\n    二\n  d: 'x'" in out


def test_comments_and_untouched_quoting_stay():
    new = data(a=2, f="结束")
    out = patch(DOC, ["a", "f"], new, new)
    assert changed_lines(DOC, out) == (["a: 1   # 一", "f: end"], ["a: 2   # 一", "f: 结束"])


def test_absent_key_is_added_after_the_key_before_it_in_field_order():
    new = {"a": 1, "b": {"c": "旧值", "g": "新字段", "d": "x", "e": "第一行\n第二行\n"}, "f": "end"}
    out = patch(DOC, ["b.g"], new, new)
    assert changed_lines(DOC, out) == ([], ["  g: 新字段"])
    assert "  c: 旧值\n  g: 新字段\n  d: 'x'" in out
    assert yamlio.parse(out) == new


def test_absent_key_first_in_order_goes_above_the_first_key():
    new = {"a": 1, "b": {"z": "00123", "c": "旧值", "d": "x", "e": "第一行\n第二行\n"}, "f": "end"}
    out = patch(DOC, ["b.z"], new, new)
    assert "b:\n  z: \"00123\"\n  c: 旧值" in out
    assert yamlio.parse(out) == new


def test_absent_key_after_a_block_scalar_and_at_the_end():
    new = {"a": 1, "b": {"c": "旧值", "d": "x", "e": "第一行\n第二行\n", "h": True}, "f": "end", "k": {"m": [1, 2]}}
    out = patch(DOC, ["b.h", "k.m"], new, new)
    assert changed_lines(DOC, out)[0] == []
    assert "    第二行\n  h: true\n\nf: end\nk:\n  m:\n  - 1\n  - 2\n" in out
    assert yamlio.parse(out) == new


def test_absent_key_with_a_default_value_needs_no_line():
    full = data()
    full["b"]["q"] = None
    assert patch(DOC, ["b.q"], full, data()) == DOC


def test_shapes_it_does_not_edit_are_refused():
    with pytest.raises(NotPatchable):
        patch(DOC, ["b"], data(b="text"), data(b="text"))  # a mapping replaced by a scalar
    with pytest.raises(NotPatchable):
        patch("a: {b: 1}\n", ["a.b"], {"a": {"b": 2}}, {"a": {"b": 2}})  # flow mapping
    with pytest.raises(NotPatchable):
        patch("a:\n- 1\n", ["a"], {"a": [2]}, {"a": [2]})  # a list as a whole


def test_windows_line_endings_stay():
    text = DOC.replace("\n", "\r\n")
    new = {"a": 5, "b": {"c": "旧值", "d": "x", "e": "第一行\n第二行\n", "n": 1}, "f": "end"}
    out = patch(text, ["a", "b.n"], new, new)
    assert "\n" not in out.replace("\r\n", "")
    assert yamlio.parse(out) == new


# ---------------------------------------------------------------- crmdocs import --update

from test_import import HEADERS, repo  # noqa: F401,E402  (the import tests' office and sheet columns)
from test_import import row as import_row  # noqa: E402


def row(name="张记便利店", address="城关镇解放路 12 号", area=35, phone="13812345678", day="周二", owner="张三"):
    return import_row(name=name, address=address, area=area, phone=phone, day=day, owner=owner)


def hand_file(repo: Path, text: str = HAND) -> Path:
    path = repo / "records" / "retailers" / "d-chengguan" / "r-510802104567.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def import_rows(repo: Path, tmp_path: Path, rows: list[list], *extra: str, name: str = "a.xlsx") -> int:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "档案"
    ws.append(HEADERS)
    for r in rows:
        ws.append(r)
    wb.save(tmp_path / name)
    return main(["--root", str(repo), "import", "retailers", str(tmp_path / name), "--map", MAP, *extra])


def test_update_changes_only_the_changed_lines_of_a_hand_written_file(repo, tmp_path, capsys):
    path = hand_file(repo)
    assert import_rows(repo, tmp_path, [row()]) == 0  # the same values: untouched
    assert path.read_text(encoding="utf-8") == HAND
    capsys.readouterr()
    assert import_rows(repo, tmp_path, [row(phone="13987654321", day="周四")], "--update") == 0
    out = capsys.readouterr().out
    assert "已更新 records/retailers/d-chengguan/r-510802104567.yaml" in out and "没有保留" not in out
    after = path.read_text(encoding="utf-8")
    assert changed_lines(HAND, after) == (
        ['  phone: "13812345678"', "  order_day: 2   # 周二"],
        ['  phone: "13987654321"', "  order_day: 4   # 周二"],
    )


def test_chinese_quoted_and_numeric_values_spliced(repo, tmp_path):
    path = hand_file(repo)
    assert import_rows(repo, tmp_path, [row(name="2026-01-01", address="新街 8 号：东门", area=40.5, owner="yes")],
                       "--update") == 0
    removed, added = changed_lines(HAND, path.read_text(encoding="utf-8"))
    assert added == ['  shop_name: "2026-01-01"', "  address: 新街 8 号：东门", "  floor_area: 40.5",
                     '  owner_name: "yes"   # 老板本人']
    assert removed == ["  shop_name: 张记便利店", '  address: "城关镇解放路 12 号"', "  floor_area: 35.0",
                       "  owner_name: 张三   # 老板本人"]
    from crmdocs.scripts.repository import load

    r = load(repo)[0].retailers["r-510802104567"]
    assert (r.basic.shop_name, r.basic.address, r.personal.owner_name) == ("2026-01-01", "新街 8 号：东门", "yes")


def test_field_absent_from_the_file_is_added_under_its_parent(repo, tmp_path, capsys):
    text = HAND.replace('  phone: "13812345678"\n', "")
    path = hand_file(repo, text)
    assert import_rows(repo, tmp_path, [row()], "--update") == 0
    after = path.read_text(encoding="utf-8")
    assert changed_lines(text, after) == ([], ['  phone: "13812345678"'])
    assert "  owner_name: 张三   # 老板本人\n  phone: \"13812345678\"\nmanagement:" in after


def test_same_import_twice_changes_nothing(repo, tmp_path, capsys):
    path = hand_file(repo)
    assert import_rows(repo, tmp_path, [row(phone="13987654321")], "--update") == 0
    first = path.read_bytes()
    mtime = path.stat().st_mtime_ns
    capsys.readouterr()
    assert import_rows(repo, tmp_path, [row(phone="13987654321")], "--update") == 0
    assert "没有任何变化" in capsys.readouterr().out
    assert path.read_bytes() == first and path.stat().st_mtime_ns == mtime


def test_byte_order_mark_and_crlf_are_kept(repo, tmp_path):
    text = HAND.replace("\n", "\r\n")
    path = hand_file(repo)
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert import_rows(repo, tmp_path, [row(area=50)], "--update") == 0
    assert path.read_bytes() == b"\xef\xbb\xbf" + text.replace("floor_area: 35.0", "floor_area: 50.0").encode("utf-8")


def test_a_shape_it_cannot_edit_is_rewritten_and_the_report_says_comments_were_lost(repo, tmp_path, capsys):
    text = HAND.replace("personal:\n  owner_name: 张三   # 老板本人\n  phone: \"13812345678\"\n",
                        "personal: {owner_name: 张三, phone: \"13812345678\"}\n")
    path = hand_file(repo, text)
    capsys.readouterr()
    assert import_rows(repo, tmp_path, [row(phone="13987654321")], "--update") == 0
    out = capsys.readouterr().out
    assert "records/retailers/d-chengguan/r-510802104567.yaml: 提醒 warning: 这个文件只能整个重写" in out
    assert "13987654321" in path.read_text(encoding="utf-8")
    assert "#" not in path.read_text(encoding="utf-8")


def test_without_update_nothing_is_written(repo, tmp_path, capsys):
    path = hand_file(repo)
    assert import_rows(repo, tmp_path, [row(phone="13987654321")]) == 1
    assert path.read_text(encoding="utf-8") == HAND


TARGETS_HAND = """\
# 2026 年 9 月目标（市场部下达）
period: "2026-09"
targets:
- manager: cm-zhang-wei   # 城关
  sales: 1200.0
  key_brands: 300.0

- manager: cm-li-na
  sales: 900.0
  key_brands: 200.0
"""


def test_targets_update_edits_one_value_and_appends_a_new_manager(repo, tmp_path, capsys):
    (repo / "records" / "people" / "cm-zhao-min.yaml").write_text(
        "id: cm-zhao-min\nname: 赵敏\nrole: customer_manager\nunit: d-chengguan\ngrade: level-1\n", encoding="utf-8")
    path = repo / "records" / "targets" / "2026-09.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(TARGETS_HAND, encoding="utf-8")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["期间", "客户经理", "销量目标（条）", "重点品牌目标（条）"])
    ws.append(["2026-09", "李娜", 950, 200])
    ws.append(["2026-09", "赵敏", 500, 100])
    wb.save(tmp_path / "t.xlsx")
    mapping = str(Path(MAP).with_name("targets.yaml"))
    args = ["--root", str(repo), "import", "targets", str(tmp_path / "t.xlsx"), "--map", mapping, "--update"]
    assert main(args) == 0
    after = path.read_text(encoding="utf-8")
    assert after == TARGETS_HAND.replace("  sales: 900.0", "  sales: 950.0") + (
        "- manager: cm-zhao-min\n  sales: 500.0\n  key_brands: 100.0\n")
    assert "没有保留" not in capsys.readouterr().out
    assert main(args) == 0
    assert path.read_text(encoding="utf-8") == after


SURVEY_HAND = """\
id: s-2026-q3-r-510802104567
retailer: r-510802104567
period: 2026-Q3
date: 2026-09-15
surveyor: cm-zhang-wei   # 本人走访
quality: 优良
service: 良好
brand_awareness: 知名
opinions: 希望多进新品   # 店主原话
"""


def test_survey_opinion_becoming_multi_line_keeps_the_rest(repo, tmp_path):
    hand_file(repo)
    path = repo / "records" / "surveys" / "2026" / "s-2026-q3-r-510802104567.yaml"
    path.parent.mkdir(parents=True)
    path.write_text(SURVEY_HAND, encoding="utf-8")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["许可证号", "调查期间", "走访日期", "走访人", "产品质量", "服务质量", "品牌知名度", "意见和建议"])
    ws.append(["510802104567", "2026-Q3", dt.date(2026, 9, 15), "张伟", "优良", "良好", "知名", "希望多进新品\n送货早一点"])
    wb.save(tmp_path / "s.xlsx")
    mapping = str(Path(MAP).with_name("surveys.yaml"))
    assert main(["--root", str(repo), "import", "surveys", str(tmp_path / "s.xlsx"), "--map", mapping, "--update"]) == 0
    after = path.read_text(encoding="utf-8")
    assert after == SURVEY_HAND.replace("opinions: 希望多进新品   # 店主原话\n",
                                        "opinions: |-   # 店主原话\n  希望多进新品\n  送货早一点\n")
    from crmdocs.scripts.repository import load

    assert load(repo)[0].surveys["s-2026-q3-r-510802104567"].opinions == "希望多进新品\n送货早一点"


@pytest.mark.parametrize("text, expected", [
    ("a:\nb: 1\n", "a: 5\nb: 1\n"),
    ("a:   # 空\nb: 1\n", "a: 5   # 空\nb: 1\n"),
    ("a: ''\nb: 1\n", "a: 5\nb: 1\n"),
])
def test_an_empty_value_gets_one(text, expected):
    assert patch(text, ["a"], {"a": 5, "b": 1}, {"a": 5, "b": 1}) == expected


def test_new_key_after_a_flow_list_and_new_list_items_in_order():
    text = "a: []   # 以后再填\nb: 1\n"
    new = {"a": [], "c": "x", "b": 1}
    assert patch(text, ["c"], new, new) == "a: []   # 以后再填\nc: x\nb: 1\n"
    text = "a:\n  - p: 1   # 一\n  - p: 3\nb: 1\n"
    new = {"a": [{"p": 1}, {"p": 9}, {"p": 4, "q": "00123"}, {"p": 5}], "b": 1}
    out = patch(text, [("a", 3), ("a", 2), ("a", 1, "p")], new, new)  # appended in index order
    assert out == "a:\n  - p: 1   # 一\n  - p: 9\n  - p: 4\n    q: \"00123\"\n  - p: 5\nb: 1\n"
    assert yamlio.parse(out) == new
