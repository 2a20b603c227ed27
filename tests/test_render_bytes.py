"""A computed record's bytes are PyYAML's own text of its dump, whatever the
values the models allow — not only the values the demo office makes: the
writers' caches (one entry per scalar) must not hand one value's text to
another equal one, and text PyYAML breaks over lines is left to PyYAML."""

from __future__ import annotations

import datetime as dt
import types
from typing import Literal, Union, get_args, get_origin

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from crmdocs.schemas import computed_managers as CM
from crmdocs.schemas import computed_retailers as CR
from crmdocs.scripts import recalc, yamlwrite


def pyyaml(record: BaseModel) -> str:
    """PyYAML's text of the record's dump (rows as one-line mappings): what render_record must give."""
    data = record.model_dump(mode="python", by_alias=True, exclude_none=True)
    return yamlwrite._pyyaml_dumps(recalc._rows(record, data), header=recalc.HEADER)


def tiers(**fields) -> CR.TiersFile:
    return CR.TiersFile.model_construct(
        period="2026-11", department="d-east", mode="ranking", count=5,
        window=CR.Window(start=dt.date(2026, 8, 1), end=dt.date(2026, 10, 31)), weights={"quantity": 0.5},
        tiers={"r-000001": 1}, retailers={"r-000001": CR.TierDerivation.model_construct(
            name="店", basis="new_retailer", computed_tier=1, tier=1, **fields)},
    )


def test_negative_zero_is_written_as_pyyaml_writes_it_whatever_came_before():
    for first, then in ((0.0, -0.0), (-0.0, 0.0)):  # (equal keys of one cache entry)
        before, after = tiers(floor_area=first), tiers(floor_area=then)
        assert recalc.render_record(before) == pyyaml(before)
        assert recalc.render_record(after) == pyyaml(after)
        assert yamlwrite.float_texts([first, then]) == [repr(first), repr(then)]
        assert yamlwrite.dumps({"a": first, "b": then}) == yamlwrite._pyyaml_dumps({"a": first, "b": then})


def test_a_shop_name_with_a_unicode_line_break_is_written_as_pyyaml_writes_it():
    for name in ("东乡\u2028超市", "a\u2029b"):
        record = tiers(floor_area=20.0)
        record.retailers["r-000001"].name = name
        assert recalc.render_record(record) == pyyaml(record)
        assert yamlwrite.dumps({"name": name}) == yamlwrite._pyyaml_dumps({"name": name})


# ---------------------------------------------------------------- any value the models allow

ODD = [
    "yes", "no", "on", "off", "null", "Null", "~", "1e3", "0x1F", "0o17", "2026-01-01", "12:30", "010", "-", "- a",
    ": ", "a: b", "#", "a #b", " x", "x ", "", '"q"', "'q'", "it's", "a\nb", "店\n", "东乡超市", "店，一号", "店：一",
    "（店）", "😀", ".inf", ".nan", "+1", "1_000", "TRUE", "y", "?", "!x", "&a", "*a", "%x", "@x", "`x", "|", ">",
    "{a}", "[a]", "a,b", "r-00001", "007", "0.5", "-0", ".5", "x" * 401, "a\tb", "\u3000店", "a\rb", "店\x85名",
    "a\u2028b", "\ufeffx", "１２３",
]
IDS = ["yes", "no", "on", "null", "y", "true", "1e3", "0x1f", "2026-01-01", "010", "0", "r-00001", "b-1", "nan", "inf"]
texts = st.one_of(st.sampled_from(ODD), st.text(max_size=6))
keys = st.one_of(st.sampled_from(IDS), st.from_regex(r"[a-z0-9][a-z0-9-]{0,5}", fullmatch=True))  # ids are slugs
floats = st.one_of(
    st.sampled_from([0.1 + 0.2, 1e-7, 1e16, 123456789.123, -0.0, 0.0, 0.00005, 1.23456789, 1e15, 9.999999e15, -1.5]),
    st.floats(allow_nan=False, allow_infinity=False), st.floats(-1e6, 1e6).map(lambda x: round(x, 4)),
)
ints = st.one_of(st.integers(-10**6, 10**6), st.sampled_from([2**63, -(10**30)]))


def values(tp, depth: int = 0):
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        inner = [a for a in get_args(tp) if a is not type(None)]
        found = st.one_of(*[values(a, depth) for a in inner])
        return st.one_of(st.none(), found) if type(None) in get_args(tp) else found
    if origin is Literal:
        return st.sampled_from(get_args(tp))
    if origin is dict:
        return st.dictionaries(keys, values(get_args(tp)[1], depth + 1), max_size=3 if depth else 10)
    if origin is list:
        return st.lists(values(get_args(tp)[0], depth + 1), max_size=3)
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        fields = {name: values(f.annotation, depth + 1) for name, f in tp.model_fields.items()}
        return st.fixed_dictionaries(fields).map(lambda d: tp.model_construct(**d))
    return {str: texts, bool: st.booleans(), int: ints, float: floats, dt.date: st.dates(), dt.datetime: st.datetimes()}[tp]


FILES = [CR.ClassesFile, CR.TiersFile, CR.LimitsFile, CR.AbnormalFile, CM.Visits, CM.ManagerComplaints, CM.Appraisal,
         CM.ManagerPeriod]


@settings(max_examples=300, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.one_of(*[values(c) for c in FILES]))
def test_any_computed_record_is_written_as_pyyaml_writes_it(record):
    assert recalc.render_record(record) == pyyaml(record)
