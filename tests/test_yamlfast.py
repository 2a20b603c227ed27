"""The fast YAML paths of yamlio (``_parse_simple``, ``_parse_fast``) answer
exactly as ``yamlio.Loader`` does, or step aside: same values, same types
(``UnquotedDigits`` included), never accepting what the Loader refuses."""

from __future__ import annotations

import math
from pathlib import Path

import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from crmdocs.scripts import yamlio

REPO = Path(__file__).resolve().parent.parent


def same(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(type(k) is type(j) for k, j in zip(a, b)) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, float) and math.isnan(a):
        return math.isnan(b)
    return a == b


def slow(text: str):
    try:
        return "ok", yaml.load(text, Loader=yamlio.Loader)  # noqa: S506 - a SafeLoader
    except Exception as exc:  # noqa: BLE001 - any refusal counts
        return "refused", type(exc).__name__


def agrees(text: str) -> None:
    try:
        yamlio._check_aliases(text)  # parse() refuses anchors before any fast path
    except Exception:  # noqa: BLE001 - anchors, aliases, or broken YAML
        if "&" in text or "*" in text:
            return
    expected = slow(text)
    for fast in (yamlio._parse_simple, yamlio._parse_fast):
        try:
            got = fast(text)
        except Exception:  # noqa: BLE001 - stepping aside is always allowed
            continue
        assert expected[0] == "ok", f"{fast.__name__} accepted what Loader refuses ({expected[1]}): {text!r}"
        assert same(got, expected[1]), f"{fast.__name__}: {got!r} != {expected[1]!r} for {text!r}"


def test_every_record_file_in_the_repository_reads_the_same():
    files = [p for folder in ("records", "tests/bad", "examples") for p in (REPO / folder).rglob("*.y*ml")]
    checked = 0
    for path in files:
        try:
            if path.stat().st_size > 1_000_000:  # the 50 MB file is about size, not syntax
                continue
            text = path.read_bytes().decode("utf-8-sig")
        except (UnicodeDecodeError, OSError):
            continue
        agrees(text)
        checked += 1
    assert checked > 0


def test_the_writer_s_shapes_take_the_simple_path():
    text = (
        'manager: cm-li\ndate: 2026-09-01\nvisits:\n- retailer: r-0001\n  time: "08:30"\n  findings:\n'
        "    price_tags: ok\n    stock_outs:\n    - b-yunyan\nmarket_info: []\nnote: 门店 a:b 地址\n"
    )
    assert yamlio._parse_simple(text) == yaml.load(text, Loader=yamlio.Loader)  # noqa: S506


def test_tricky_values_agree():
    for value in ("0832", "-012", "+5", "-.5", "1e3", ".inf", "-.Inf", ".nan", "~", "Null", "TRUE", "yes", "no",
                  "2026-02-30", "12:30", "1_000", "0x1F", "'x'", '"y"', "[]", "{}", "a:b", "a#b", "http://x/y"):
        agrees(f"a: {value}\n")
        agrees(f"- {value}\n")


PIECES = st.sampled_from([
    "a", "b", "ab_c", "x.y", "1", "01", "true", "null", "中", "-a", "'k'", '"k"', "k k",
])
VALUES = st.sampled_from([
    "", " ", "1", "01", "-5", "+5", "1.5", ".5", "1.", "1e3", ".inf", ".NaN", "~", "null", "Null", "true", "False",
    "yes", "no", "'q'", "'it''s'", '"d"', '"a\\"b"', '"\\u4e2d"', "a: b", "a #c", "a#c", "a:", "[]", "{}", "[1, 2]",
    "{a: 1}", "&x", "*x", "!t 1", "!!str 1", "|", ">", "%", "@", "`", "中文", "08:43", "2026-01-01", "-", "- x", "?",
    ":", "http://x", "a\tb", "\u2028", "\x85", "\ufeff", "\x7f", "x ", "a  b", "#c",
])
LINES = st.tuples(
    st.sampled_from([0, 0, 1, 2, 2, 3, 4, 4, 6]),
    st.sampled_from(["", "", "- ", "-  ", "- - ", "-"]),
    PIECES,
    st.sampled_from([": ", ": ", ":", ":  ", " : ", ""]),
    VALUES,
).map(lambda t: " " * t[0] + t[1] + t[2] + t[3] + t[4])


@settings(max_examples=600, deadline=None)
@given(st.lists(st.one_of(LINES, st.sampled_from(["", "# c", "---", "  # c"])), min_size=1, max_size=8))
def test_generated_documents_agree(lines):
    agrees("\n".join(lines) + "\n")
    agrees("\n".join(lines))


KEYS = st.sampled_from(["a", "b", "c", "ab_c", "x.y", "k-1", "1", "true", "null", "中"])


def _render(node, indent: int, step: int, compact: bool) -> list[str]:
    pad = " " * indent
    out = []
    if isinstance(node, dict):
        for key, value in node.items():
            if isinstance(value, (dict, list)) and value:
                out.append(f"{pad}{key}:")
                inner = indent if isinstance(value, list) and compact else indent + step
                out += _render(value, inner, step, compact)
            else:
                out.append(f"{pad}{key}: {value}" if isinstance(value, str) else f"{pad}{key}: []")
    else:
        for value in node:
            if isinstance(value, (dict, list)) and value:
                lines = _render(value, indent + 2, step, compact)
                lines[0] = f"{pad}- {lines[0][indent + 2:]}"
                out += lines
            else:
                out.append(f"{pad}- {value}" if isinstance(value, str) else f"{pad}- []")
    return out


SAFE = st.sampled_from(["1", "01", "-5", "1.5", "x", "r-0001", "中文 内容", "08:43", '"08:43"', "'q'", "~", "true", "no",
                        "2026-01-01", "a:b", "a#b", "[]", "{}", '"0832"', ".inf", "1e3", "+5"])
TREES = st.recursive(
    st.one_of(SAFE, SAFE, SAFE, SAFE, SAFE, SAFE, VALUES),
    lambda inner: st.one_of(st.lists(inner, min_size=1, max_size=3), st.dictionaries(KEYS, inner, min_size=1, max_size=3)),
    max_leaves=8,
)


@settings(max_examples=600, deadline=None)
@given(st.dictionaries(KEYS, TREES, min_size=1, max_size=4), st.sampled_from([1, 2, 3, 4]), st.booleans(),
       st.integers(0, 40), st.sampled_from(["", " ", "  ", "- ", "#", "\t"]))
def test_generated_trees_agree(tree, step, compact, where, insert):
    lines = _render(tree, 0, step, compact)
    agrees("\n".join(lines) + "\n")
    i = where % len(lines)
    lines[i] = insert + lines[i]  # one line shifted or broken
    agrees("\n".join(lines) + "\n")


def test_the_fast_composer_locates_like_the_full_one():
    from crmdocs.scripts.yamlio import compose, compose_marks, locate

    text = (
        'manager: cm-li\ndate: 2026-09-01\nvisits:\n- retailer: r-0001\n  time: "08:30"\n  findings:\n'
        "    price_tags: ok\n    stock_outs: [b-a, b-b]\nmarket_info: []\nnote: |\n  line\n"
    )
    for loc in [("manager",), ("visits", 0, "time"), ("visits", 0, "findings", "stock_outs", 1), ("note",), ("nope",),
                ("visits", 3), ("market_info", 0)]:
        assert locate(compose_marks(text), loc) == locate(compose(text), loc), loc


def test_one_key_items_read_like_the_loader():
    for text in ("visits:\n- retailer: r-1\n- retailer: r-2\n", "- a: 1\n- b: x\n  c: 2\n- d: ~\n", "v:\n- a: 1\n  b:\n  - x\n- a: 2\n",
                 "- a: 1\nb: 2\n", "x:\n  - a: 1\n  - a: 2\ny: 3\n", "- a:\n- b: 1\n"):
        agrees(text)
        if slow(text)[0] == "ok":
            assert same(yamlio.parse(text), slow(text)[1]), text
