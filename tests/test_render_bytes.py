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


def test_a_shop_name_pyyaml_writes_over_two_lines_is_written_as_pyyaml_writes_it():
    # 400 characters, but ~1,000 once escaped: PyYAML breaks the line where it stands (its
    # width), so its text at the top of a file cannot stand deeper in one
    for name in ("\x01 " * 200, "\x07店 " * 133):
        record = tiers(floor_area=20.0)
        record.retailers["r-000001"].name = name
        assert recalc.render_record(record) == pyyaml(record)
        assert yamlwrite.dumps({"a": {"b": {"name": name}}}) == yamlwrite._pyyaml_dumps({"a": {"b": {"name": name}}})


# ---------------------------------------------------------------- any value the models allow

ODD = [
    "yes", "no", "on", "off", "null", "Null", "~", "1e3", "0x1F", "0o17", "2026-01-01", "12:30", "010", "-", "- a",
    ": ", "a: b", "#", "a #b", " x", "x ", "", '"q"', "'q'", "it's", "a\nb", "店\n", "东乡超市", "店，一号", "店：一",
    "（店）", "😀", ".inf", ".nan", "+1", "1_000", "TRUE", "y", "?", "!x", "&a", "*a", "%x", "@x", "`x", "|", ">",
    "{a}", "[a]", "a,b", "r-00001", "007", "0.5", "-0", ".5", "x" * 401, "a\tb", "\u3000店", "a\rb", "店\x85名",
    "a\u2028b", "\ufeffx", "１２３", "\x01 " * 200,
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


# ---------------------------------------------------------------- the side worker's texts, any policy and archive


def _office(data):
    """A fixture office drawn by Hypothesis: the policy's modes and switches, closed and suspended shops,
    adjustments in and out of bounds, hand-overs around the day, overrides, odd shop names, holes in the sales."""
    import random

    from crmdocs.schemas.retailer import TierOverride
    from retail_fixtures import repo, retailer
    from test_rules_blocks import AS_OF, DEPTS, START, office_rows
    from test_rules_classes import SEED_001

    d = data.draw
    policy = dict(SEED_001) if d(st.booleans()) else {}
    if d(st.booleans()):
        policy["tiers"] = {"mode": "bands", "period": d(st.sampled_from(["quarter", "month"])),
                           "bands": [{"tier": 4, "min": 75}, {"tier": 3, "min": 70}, {"tier": 2, "min": 65}]}
    policy["limits"] = {**policy.get("limits", {}), "lower_limits": d(st.booleans()), "brand_limits": d(st.booleans()),
                        "main_brand_share": d(st.sampled_from([0.5, 0.8, 1.0, 0.333])), "turnover_weeks": d(st.integers(1, 10)),
                        "coefficient": {"min": d(st.sampled_from([0.5, 0.9])), "max": d(st.sampled_from([1.1, 1.234567]))}}
    policy["abnormal"] = {"outside_limits": {"enabled": d(st.booleans())},
                          "spike": {"enabled": d(st.booleans()), "ratio": d(st.sampled_from([1.5, 1.3333333]))},
                          "month_jump": {"enabled": d(st.booleans()), "ratio": d(st.sampled_from([1.2, 2.0]))}}
    as_of = d(st.sampled_from([AS_OF, AS_OF - dt.timedelta(days=3), dt.date(2026, 9, 1), dt.date(2026, 7, 15), START + dt.timedelta(days=40)]))
    names = ["yes", "~", "1e3", "2026-01-01", "12:30", "010", "-", "#", " x", "", "'q'", "a\nb", "店，一号", "😀", "a, b", "店\u2028名", "x" * 401]
    archives = []
    for n in range(12):
        more = {}
        if d(st.integers(0, 3)) == 0:
            more["adjustment"] = {"coefficient": d(st.sampled_from([1.3, 9.0, 0.1, 1.23456789]))}
        if d(st.integers(0, 3)) == 0:
            more["manager_history"] = [{"manager": "cm-wang", "until": (as_of - dt.timedelta(days=d(st.integers(-3, 60)))).isoformat()}]
        status = d(st.sampled_from(["active", "active", "active", "closed", "suspended"]))
        archives.append(retailer(f"r-{n + 1:06d}", DEPTS[n % 3], "cm-li" if n % 2 else "cm-wang", status=status,
                                 area=d(st.sampled_from([20, 25.5, 0.1, 1000.123456])), **more))
        archives[-1].basic.shop_name = d(st.sampled_from(names)) if d(st.booleans()) else f"店{n}"
    archives.append(retailer("r-000099", "d-east", area=55))  # never bought
    keep = random.Random(d(st.integers(0, 99)))
    r = repo(archives, [row for row in office_rows(d(st.integers(0, 99))) if keep.random() < 0.9], policy=policy)
    for _ in range(d(st.integers(0, 2))):
        period = d(st.sampled_from([f"{as_of:%Y-%m}", f"{as_of.year}-Q{(as_of.month - 1) // 3 + 1}"]))
        rid = f"r-{d(st.integers(1, 12)):06d}"
        r.tier_overrides[(period, rid)] = TierOverride(period=period, retailer=rid, tier=d(st.integers(1, 30)),
                                                       reason=d(st.sampled_from(["新店装修", "yes", "a: b"])), approver="mm-zhao", date=as_of)
    return r, as_of


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_the_side_worker_s_texts_are_the_records_bytes_for_any_office(data):
    from crmdocs.scripts.rules import compute_all
    from crmdocs.scripts.rules.retail import as_texts

    r, as_of = _office(data)
    records = compute_all(r, as_of=as_of).records
    usual = {path: recalc.render_record(record) for path, record in records.items()}
    assert usual == {path: pyyaml(record) for path, record in records.items()}  # PyYAML's bytes
    with as_texts():
        got = compute_all(r, as_of=as_of).records
    assert {path: v if isinstance(v, str) else recalc.render_record(v) for path, v in got.items()} == usual
