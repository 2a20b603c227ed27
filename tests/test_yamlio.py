"""The YAML reader (yamlio) and writer (yamlwrite): YAML 1.2 scalars the same
in every tool, YAML's traps as errors with a line, positions for Pydantic errors."""

from __future__ import annotations

import datetime as dt

import pytest

from crmdocs.schemas.common import UnquotedDigits
from crmdocs.scripts import yamlio, yamlwrite


def one(text: str):
    return yamlio.parse(f"a: {text}\n")["a"]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("yes", "yes"),  # YAML 1.1 would say True
        ("no", "no"),
        ("on", "on"),
        ("12:30", "12:30"),  # YAML 1.1 would say 750
        ("2026-09-01", "2026-09-01"),  # dates stay text; the models parse them
        ("2026-02-30", "2026-02-30"),  # so an impossible date is not a crash
        ("0x1F", "0x1F"),
        ("1_000", "1_000"),
        ("true", True),
        ("False", False),
        ("~", None),
        ("", None),
        ("42", 42),
        ("-7", -7),
        ("1.5", 1.5),
        ("1e3", 1000.0),
        ("13812345678", 13812345678),
        ("99999999999999999999999", 99999999999999999999999),
    ],
)
def test_scalars_resolve_by_yaml_1_2_core(text, expected):
    value = one(text)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("text", ["0832", "083245892072", "00", "-012"])
def test_unquoted_digits_with_leading_zero_are_marked(text):
    value = one(text)
    assert isinstance(value, UnquotedDigits) and value == text


def test_quoted_digits_are_plain_text():
    value = one('"0832"')
    assert value == "0832" and not isinstance(value, UnquotedDigits)


def test_bom_is_accepted():
    assert yamlio.parse(yamlio.decode("\ufeffa: 1\n".encode("utf-8"))) == {"a": 1}


def test_gbk_is_refused_with_a_hint_and_line():
    data = "a: 1\nb: 李记便利店\n".encode("gbk")
    with pytest.raises(yamlio.YamlProblem) as info:
        yamlio.decode(data)
    assert info.value.line == 2 and "GBK" in info.value.message and "UTF-8" in info.value.message


def test_binary_content_is_refused():
    with pytest.raises(yamlio.YamlProblem) as info:
        yamlio.decode(b"a: 1\x00\x00")
    assert info.value.code == "encoding"


@pytest.mark.parametrize(
    "text, line, code, words",
    [
        ("a: 1\nb: 2\na: 3\n", 3, "duplicate_key", "第 1 行"),
        ("x:\n  a: 1\n  a: 1\n", 3, "duplicate_key", "两次"),
        ("a: &anchor 1\nb: *anchor\n", 1, "alias", "锚点"),
        ("a:\n\tb: 1\n", 2, "yaml", "Tab"),
        ("a: b: c\n", 1, "yaml", "冒号"),
        ("a: [1, 2\nb: 3\n", 2, "yaml", "YAML"),
        ("a: 1\n---\nb: 2\n", 2, "yaml", "---"),
        ("a: !!python/object:os.system x\n", 1, "yaml", "YAML"),
        ("a: 'open\n", 2, "yaml", "YAML"),
        # hurried edits: the slip's own line is named, not the next one libyaml stops at
        ("a: 1\nb： 2\nc: 3\n", 2, "yaml", "中文冒号"),
        ("v:\n- retailer：r-1\n  time: '08:00'\n", 2, "yaml", "中文冒号"),
        ("a: 1\nb:2\nc: 3\n", 2, "yaml", "冒号后面要有空格"),
        ("a: 1\n  b: 2\nc: 3\n", 2, "yaml", "缩进多了"),
        ("v:\n- retailer: r-1\n time: '08:00'\n", 3, "yaml", "缩进不对"),
        ("a: 1\nb: 价格：高，http://x\nc: [1, 2\n", 4, "yaml", "YAML"),
        ("a: 1\nb:\u3000\"x\"\nc: 2\n", 2, "yaml", "全角空格"),  # a Chinese input method's space after the colon
        ("v:\n- r: 1\n\u3000t: 2\n  u: 3\n", 3, "yaml", "全角空格"),
    ],
)
def test_yaml_traps_are_problems_with_a_line(text, line, code, words):
    with pytest.raises(yamlio.YamlProblem) as info:
        yamlio.parse(text)
    assert (info.value.line, info.value.code) == (line, code)
    assert words in info.value.message


def test_billion_laughs_is_refused_before_expansion():
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i, name in enumerate("bcdefghij"):
        prev = "abcdefghij"[i]
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(yamlio.YamlProblem) as info:
        yamlio.parse("\n".join(lines))
    assert info.value.code == "alias" and info.value.line == 1


def test_text_with_ampersand_and_star_is_fine():
    assert yamlio.parse('a: "R&D * 2"\nb: 烟酒&食杂\n') == {"a": "R&D * 2", "b": "烟酒&食杂"}


# ---------------------------------------------------------------- locate


TEXT = """\
id: r-1
basic:
  shop_name: 店
  network: city
visits:
- retailer: r-1
  time: "09:00"
- retailer: r-2
"""


@pytest.mark.parametrize(
    "loc, line, column, field",
    [
        (("basic", "network"), 4, 12, "basic.network"),
        (("visits", 1, "retailer"), 8, 13, "visits[1].retailer"),
        (("visits", 1, "time"), 8, 3, "visits[1].time"),  # missing: its mapping
        (("basic", "address"), 2, 1, "basic.address"),  # missing: the parent key
        (("visits", 5, "retailer"), 5, 1, "visits[5].retailer"),  # index beyond the list
        (("visits", 0, "function-after[_shape()]", "time"), 7, 9, "visits[0].time"),  # validator segment dropped
        ((), 1, 1, ""),
    ],
)
def test_locate_maps_pydantic_locations_to_lines(loc, line, column, field):
    where = yamlio.locate(yamlio.compose(TEXT), loc)
    assert (where.line, where.column, where.field) == (line, column, field)


# ---------------------------------------------------------------- writer


def test_writer_output_reads_back_the_same():
    data = {
        "phone": "13812345678",
        "lead": "0832",
        "yes": "yes",
        "float": "1.5",
        "day": dt.date(2026, 9, 1),
        "at": dt.datetime(2026, 9, 1, 8, 30),
        "clock": dt.time(9, 30),
        "empty": "",
        "lines": "一\n二",
        "count": 3,
        "ratio": 0.25,
    }
    back = yamlio.parse(yamlwrite.dumps(data))
    assert back == {**data, "day": "2026-09-01", "at": "2026-09-01 08:30", "clock": "09:30"}
    assert not isinstance(back["lead"], UnquotedDigits)


def test_writer_is_deterministic_and_keeps_chinese():
    data = {"b": "李记", "a": [1, 2]}
    assert yamlwrite.dumps(data) == yamlwrite.dumps(data) == "b: 李记\na:\n- 1\n- 2\n"


def test_write_atomic_replaces_and_reports_unchanged(tmp_path):
    target = tmp_path / "sub" / "x.yaml"
    assert yamlwrite.write_atomic(target, "a: 1\n") is True
    mtime = target.stat().st_mtime_ns
    assert yamlwrite.write_atomic(target, "a: 1\n") is False
    assert target.stat().st_mtime_ns == mtime
    assert yamlwrite.write_atomic(target, "a: 2\n") is True
    assert target.read_text() == "a: 2\n"
    assert [p.name for p in target.parent.iterdir()] == ["x.yaml"]  # no temp file left


TRICKY = {
    "yes": "no", "1": "2026-09-01", "0832": 13812345678, "on": None, "a: b": "c #d", " lead": "trail ",
    "中文": "中文，标点。", "slug-id": "r-00001", "f": 1.0, "g": 0.1, "h": -3.25, "t": True, "n": None,
    "when": dt.datetime(2026, 9, 1, 14, 30), "day": dt.date(2026, 2, 28), "clock": dt.time(9, 5),
    "list": [{"k": "v", "n": 1}, {}, "x", 2.5, None], "empty": [], "map": {}, 7: {0: 40, 3: 100},
    "quote": "it's \"quoted\"", "star": "*alias", "amp": "&anchor", "pct": "95.8 %", "dash": "- item",
}


def test_the_fast_writer_writes_the_bytes_pyyaml_writes():
    from crmdocs.scripts import yamlwrite

    fast = yamlwrite.dumps(TRICKY, header="# h\n")
    assert fast == yamlwrite._pyyaml_dumps(yamlwrite.plain(TRICKY), header="# h\n")
    assert yamlio.parse(fast)["0832"] == 13812345678  # and it reads back


def test_shapes_the_fast_writer_leaves_to_pyyaml_still_come_out_right():
    from crmdocs.scripts import yamlwrite

    for data in ({"text": "line 1\nline 2"}, {"nested": [[1, 2], [3]]}, {"long": "字 " * 600}):
        assert yamlwrite.dumps(data) == yamlwrite._pyyaml_dumps(data)
