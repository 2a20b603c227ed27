"""Property-based tests (Hypothesis): whatever a record file holds, validation
either accepts it or reports diagnostics that each name the file, a line ≥ 1
and a message — it never raises."""

from __future__ import annotations

import contextlib
import copy
import re
import signal
import datetime as dt
import shutil
import string
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import DIARY, PLAN, RETAILER, SURVEY, COMPLAINT, CM_LI, TODAY, MiniRepo, build_mini_repo, valid_record

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from crmdocs.scripts import yamlwrite
from crmdocs.scripts.kinds import kind_of
from crmdocs.scripts.repository import parse_record
from crmdocs.scripts.validate import validate

FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])

ODD_TEXT = st.text(
    alphabet=st.one_of(
        st.sampled_from(list(string.printable)),
        st.sampled_from(list("零售户客户经理日记拜访：，。“”（）、　\u200b\u202e\ufeff😀𠀀\u0301")),
        st.characters(blacklist_categories=("Cs",)),
    ),
    max_size=40,
)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    ODD_TEXT,
    st.sampled_from(["2026-02-30", "2026-13-01", "0832", "13812345678", "09:30", "25:99", "../x", "yes", "~", "", " ", "r-0001"]),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 12, 31)),
)
VALUES = st.recursive(SCALARS, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(ODD_TEXT, inner, max_size=4)), max_leaves=10)


def _paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    """Every key/index path inside ``data`` (the root excluded)."""
    out = []
    if isinstance(data, dict):
        for key, value in data.items():
            out.append(prefix + (key,))
            out.extend(_paths(value, prefix + (key,)))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            out.append(prefix + (i,))
            out.extend(_paths(value, prefix + (i,)))
    return out


@st.composite
def mutated(draw, rel: str):
    """A valid record of ``rel`` with 1–3 random mutations: a value replaced, a key dropped, a key added."""
    data = copy.deepcopy(valid_record(rel))
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        path = draw(st.sampled_from(paths)) if paths else ()
        action = draw(st.sampled_from(["replace", "delete", "add"]))
        parent = data
        for part in path[:-1]:
            parent = parent[part]
        if not path:
            continue
        if action == "replace":
            parent[path[-1]] = draw(VALUES)
        elif action == "delete":
            del parent[path[-1]]
        elif isinstance(parent, dict):
            parent[draw(ODD_TEXT)] = draw(VALUES)
        else:
            parent.append(draw(VALUES))
    return data


def _dump(data: Any) -> bytes:
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False).encode("utf-8")


def _check_diagnostics(diags, rel: str) -> None:
    for d in diags:
        assert d.path == rel
        assert d.line >= 1, d
        assert d.message and not unfilled(d.message), d  # no unfilled template
        assert d.severity in ("error", "warning")


UNFILLED = re.compile(r"\{[a-z_]+(![rs])?\}")


def unfilled(message: str) -> bool:
    """A template placeholder left in a message, outside the “quoted” values
    the file gave (a generated value may well be the text ``{_}``)."""
    return bool(UNFILLED.search(re.sub("“[^”]*”", "“”", message)))

KINDS_TO_FUZZ = [DIARY, RETAILER, PLAN, SURVEY, COMPLAINT, CM_LI]


@pytest.mark.parametrize("rel", KINDS_TO_FUZZ)
def test_mutated_records_validate_or_fail_cleanly(rel):
    kind, match = kind_of(rel)

    @FAST
    @given(mutated(rel))
    def check(data):
        loaded = parse_record(f"records/{rel}", kind, match, _dump(data))
        assert (loaded.record is not None) or loaded.diagnostics
        _check_diagnostics(loaded.diagnostics, f"records/{rel}")

    check()


@FAST
@given(st.text(max_size=300))
def test_any_text_as_a_diary_fails_cleanly(text):
    kind, match = kind_of(DIARY)
    loaded = parse_record(f"records/{DIARY}", kind, match, text.encode("utf-8", "surrogatepass"))
    _check_diagnostics(loaded.diagnostics, f"records/{DIARY}")
    assert loaded.record is not None or loaded.diagnostics


@FAST
@given(st.binary(max_size=300))
def test_any_bytes_as_a_retailer_fail_cleanly(data):
    kind, match = kind_of(RETAILER)
    loaded = parse_record(f"records/{RETAILER}", kind, match, data)
    _check_diagnostics(loaded.diagnostics, f"records/{RETAILER}")


@pytest.fixture(scope="module")
def base_repo(tmp_path_factory) -> MiniRepo:
    return MiniRepo(build_mini_repo(tmp_path_factory.mktemp("props")))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_whole_repository_with_a_mutated_record_never_raises(base_repo, data):
    """Cross-record checks too: a record that passes its model but says odd things."""
    rel = data.draw(st.sampled_from([DIARY, PLAN, RETAILER]))
    record = data.draw(mutated(rel))
    original = base_repo.path(rel).read_bytes()
    try:
        base_repo.path(rel).write_bytes(_dump(record))
        _, report = validate(base_repo.root, today=TODAY)
        for d in report.diagnostics:
            assert d.message and not unfilled(d.message)
            if d.path == f"records/{rel}":
                assert d.line >= 1, d
    finally:
        base_repo.path(rel).write_bytes(original)


@FAST
@given(st.dictionaries(st.sampled_from(["a", "b", "phone", "note"]), SCALARS, max_size=4))
def test_writer_round_trips_what_the_reader_reads(data):
    """yamlwrite output read back by yamlio gives the same plain values (dates as text)."""
    from crmdocs.scripts import yamlio

    back = yamlio.parse(yamlwrite.dumps(data))
    expected = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in data.items()}
    if expected:
        for key, value in expected.items():
            got = back[key]
            if isinstance(value, float) and value != value:
                assert got != got
            elif isinstance(value, float):  # the writer keeps 6 decimals (stable output)
                assert isinstance(got, float) and (got == value or abs(got - value) <= 5e-7 * max(1.0, abs(value)))
            elif isinstance(value, str) and value.strip() != value:
                assert got.strip() == value.strip() or got == value
            else:
                assert got == value and type(got) is type(value), (key, value, got)
    else:
        assert back in ({}, None)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_cached_validation_reports_what_plain_validation_reports(base_repo, data):
    """The CLI's cached, split run (crmdocs.scripts.cache) and the plain library run agree,
    cold and warm, whatever one record says."""
    from crmdocs.scripts.cache import validate_report

    rel = data.draw(st.sampled_from([DIARY, PLAN, RETAILER, COMPLAINT]))
    record = data.draw(mutated(rel))
    original = base_repo.path(rel).read_bytes()
    try:
        base_repo.path(rel).write_bytes(_dump(record))
        plain = validate(base_repo.root, today=TODAY)[1].to_text()
        assert validate_report(base_repo.root, today=TODAY, use_cache=True).to_text() == plain
        assert validate_report(base_repo.root, today=TODAY, use_cache=True).to_text() == plain  # warm
    finally:
        base_repo.path(rel).write_bytes(original)


# ---------------------------------------------------------------- the fast YAML path agrees with the reference loader


def _canon(value: Any) -> Any:
    """A comparable form keeping types (UnquotedDigits vs str, int vs float, nan)."""
    if isinstance(value, dict):
        return ("dict", sorted((repr(_canon(k)), _canon(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", [_canon(v) for v in value])
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    return (type(value).__name__, value)


_YAML_CHARS = list(":- \n#'\"[]{},0\t?|>!%@`~.") + ["\n  ", "\n- ", ": ", "  ", "0832", "yes", "1e3", "2026-02-30", "「", "：", "\u3000"]


@st.composite
def yamlish(draw) -> str:
    """Text the writer or a person could produce, then a few characters changed."""
    data = draw(st.dictionaries(st.one_of(st.sampled_from(["id", "name", "visits", "a", "1", "0832"]), ODD_TEXT), VALUES, max_size=5))
    text = yaml.safe_dump(
        data, allow_unicode=True, sort_keys=False,
        default_flow_style=draw(st.sampled_from([False, True, None])),
        default_style=draw(st.sampled_from([None, None, '"', "'"])),
    )
    for _ in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        if draw(st.booleans()):
            text = text[:at] + draw(st.sampled_from(_YAML_CHARS)) + text[at:]
        else:
            text = text[:at] + text[at + 1:]
    return text


def _outcome(read, text: str):
    try:
        return ("ok", _canon(read(text)))
    except Exception:  # noqa: BLE001 - any refusal counts as "error"
        return ("error",)


@settings(max_examples=300, deadline=None)
@given(yamlish())
def test_fast_yaml_path_reads_what_the_reference_loader_reads(text):
    """yamlio.parse (libyaml composer + own resolver, pure-Python shortcuts) must give
    exactly what yaml.load with yamlio.Loader gives, or refuse when it refuses."""
    from hypothesis import assume

    from crmdocs.scripts import yamlio

    assume("&" not in text and "*" not in text)  # aliases: parse refuses them on purpose
    expected = _outcome(lambda t: yaml.load(t, Loader=yamlio.Loader), text)
    with _time_limit(2.0, text):  # a runaway loop in a hand-written reader fails here, not by eating the machine
        got = _outcome(yamlio.parse, text)
    assert got == expected, text


class _TooSlow(BaseException):
    """Not an Exception, so the code under test cannot swallow it."""


@contextlib.contextmanager
def _time_limit(seconds: float, what: str):
    def stop(signum, frame):
        raise _TooSlow

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    except _TooSlow:
        raise AssertionError(f"took more than {seconds} s on {what!r}") from None
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ---------------------------------------------------------------- sales: the pyarrow path agrees with the row-by-row reader

_CELLS = {
    "date": st.sampled_from(["2026-09-01", "2026-09-30", "2026-10-01", "2026-08-31", "2026-9-1", "2026-09-31", "", " 2026-09-02", "20260902"]),
    "retailer": st.sampled_from(["r-0001", "r-0002", "", " r-0001", "r,1", "零售户"]),
    "brand": st.sampled_from(["b-yunyan", "b-hongtashan", "", "b-x "]),
    "quantity": st.one_of(st.integers(-3, 10**13).map(str), st.sampled_from(["", "1.5", "三", " 4", "9223372036854775808", "1e3"])),
    "amount": st.one_of(
        st.floats(min_value=-1, max_value=1e16, allow_nan=False).map(repr),
        st.sampled_from(["", "nan", "inf", "-inf", "12", " 3.5", "1e400", "￥5"]),
    ),
}


def _read(data: bytes, slow: bool):
    from crmdocs.scripts import sales

    into = sales.SalesData()
    if slow:
        into.files.append("records/sales/2026-09.csv")
        diags = sales._slow(data, "records/sales/2026-09.csv", "2026-09", 0, into)
    else:
        diags = sales.read_sales_csv(data, "records/sales/2026-09.csv", "2026-09", into)
    into.finish()
    rows = sorted(
        (str(into.day[i]), into.retailer_ids[into.retailer[i]], into.brand_ids[into.brand[i]],
         int(into.quantity[i]), float(into.amount[i]), int(into.line[i]))
        for i in range(len(into.day))
    )
    return rows, sorted(d.format() for d in diags)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.fixed_dictionaries(_CELLS), min_size=1, max_size=8), st.booleans())
@example([{"date": "2026-09-02", "retailer": "r-0001", "brand": "b-yunyan", "quantity": "10000000000000", "amount": "1.0"}], False)
def test_sales_fast_reader_agrees_with_the_row_reader(rows, all_valid):
    """Whatever the rows hold, reading a month gives the same rows and problems
    whether pyarrow or the row-by-row reader does it."""
    if all_valid:  # make sure the fast path is taken often
        rows = [
            dict(r, date="2026-09-02", retailer="r-0001", brand="b-yunyan",
                 quantity=r["quantity"] if r["quantity"].isdigit() else str(i + 1), amount=f"{i * 1.5:.2f}")
            for i, r in enumerate(rows)
        ]
    text = "date,retailer,brand,quantity,amount\n" + "".join(",".join(r[c] for c in _CELLS) + "\n" for r in rows)
    data = text.encode("utf-8")
    assert _read(data, slow=False) == _read(data, slow=True), text
