"""The loader's quick validators (``schemas.common.quick_validator``): the
common shapes are checked by pydantic-core alone, anything else by the
model's own validator — so every outcome (record or messages) is the model's."""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from typing import Any, Optional

import pytest
from conftest import DIARY, PLAN, RETAILER, valid_record, valid_records
from pydantic import ValidationError

from crmdocs.schemas.common import (
    Clock, Date, DateTime, NumberRecord, OptText, QuotedNumber, Record, Slug, Text, UnquotedDigits, quick_only, quick_validator,
)
from crmdocs.schemas.daily import Diary, Plan, PlannedVisit
from crmdocs.scripts.kinds import kind_of


class Probe(Record):
    slug: Optional[Slug] = None
    text: Optional[Text] = None
    opt: Optional[OptText] = None
    day: Optional[Date] = None
    clock: Optional[Clock] = None
    minute: Optional[DateTime] = None


class Numbers(NumberRecord):
    count: Optional[int] = None
    share: Optional[float] = None
    counts: list[int] = []


QUICK = quick_only(Probe).validate_python
CAREFUL = Probe.model_validate


def quick_agrees(field: str, value: Any, model: type = Probe) -> bool:
    """Whether the quick validator takes ``value``; when it does, the model's
    own validator takes it too and gives the same value (the test's point)."""
    try:
        fast = (QUICK if model is Probe else quick_only(model).validate_python)({field: value})
    except ValidationError:
        return False
    slow = model.model_validate({field: value})
    assert repr(fast) == repr(slow), (field, value)
    assert type(getattr(fast, field)) is type(getattr(slow, field)), (field, value)
    return True


def test_every_kind_quick_gives_the_models_record():
    for rel in valid_records():
        match = kind_of(rel)
        if match is None:
            continue
        model = match[0].model
        raw = valid_record(rel)
        assert repr(quick_only(model).validate_python(raw)) == repr(model.model_validate(raw)), rel


def test_ids_the_common_way_are_quick_and_the_rest_go_to_the_model():
    for value in ("r-0001", "cm-li", "a", "0", "9", "a" * 64, "2026-q3"):
        assert quick_agrees("slug", value), value
    # the model decides these: unquoted digits (refused), a quoted 0832 (taken), spaces, a newline, too long
    for value in (UnquotedDigits("0832"), UnquotedDigits("0x1f"), "0832", "00", "0-a", " r-1", "r-1 ", "r-1\n",
                  "a" * 65, "R-1", "-a", "", 5, True, b"r-1", ["r-1"], {"a": 1}):
        assert not quick_agrees("slug", value), value


def test_texts_the_common_way_are_quick_and_unquoted_digits_never():
    for value in ("李记便利店", "a", "+86 138", "-", "0", "+0", "-0", "12", "1.5", "note 0832"):
        assert quick_agrees("opt", value), value
        assert quick_agrees("text", value), value
    assert quick_agrees("opt", "")
    for value in (UnquotedDigits("0832"), UnquotedDigits("-012"), UnquotedDigits("+012"), UnquotedDigits("00"),
                  "0832", "0.5", "-012", 12, 1.5, True, b"x", ["x"], {"a": 1}):
        assert not quick_agrees("opt", value), value
        assert not quick_agrees("text", value), value
    assert not quick_agrees("text", "") and not quick_agrees("text", "   ")


def test_every_clock_time_the_quick_way_is_the_models():
    taken = [f"{h:02d}:{m:02d}" for h, m in itertools.product(range(100), range(100)) if quick_agrees("clock", f"{h:02d}:{m:02d}")]
    assert len(taken) == 24 * 60
    for value in ("9:05", " 09:05", "09:05 ", "09:05:00", "0905", 930, dt.time(9, 5), "24:00", "09:60"):
        assert not quick_agrees("clock", value), value
    assert CAREFUL({"clock": "9:05"}).clock == dt.time(9, 5)  # the model still takes it


def test_every_day_the_quick_way_is_the_models():
    days = 0
    for year, month, day in itertools.product((0, 1, 2024, 2026, 9999), range(14), range(33)):
        days += quick_agrees("day", f"{year:04d}-{month:02d}-{day:02d}")
    assert days == 365 + 366 + 365 + 365
    assert quick_agrees("day", dt.date(2026, 9, 1))
    for value in (dt.datetime(2026, 9, 1, 8, 0), "2026-9-1", " 2026-09-01", "2026-02-30", "20260901", 20260901):
        assert not quick_agrees("day", value), value


def test_every_minute_time_the_quick_way_is_the_models():
    taken = 0
    for year, month, day, hour, minute in itertools.product((0, 2024, 9999), range(14), range(33), (0, 9, 23, 24), (0, 59, 60)):
        taken += quick_agrees("minute", f"{year:04d}-{month:02d}-{day:02d} {hour:02d}:{minute:02d}")
    assert taken == (366 + 365) * 3 * 2
    assert quick_agrees("minute", dt.datetime(2026, 9, 1, 14, 30)) is False  # the model takes it as it is
    for value in ("2026-09-01T14:30", "2026-09-01 14:30:00", " 2026-09-01 14:30", "2026-9-1 8:05", "2026-09-01"):
        assert not quick_agrees("minute", value), value
    assert CAREFUL({"minute": "2026-09-01T14:30"}).minute == dt.datetime(2026, 9, 1, 14, 30)


def test_numbers_are_quick_only_as_numbers():
    for field, value in (("count", 3), ("count", -1), ("share", 0.5), ("share", 2), ("counts", [1, 2])):
        assert quick_agrees(field, value, Numbers), value
    assert repr(quick_only(Numbers).validate_python({"share": 2}).share) == "2.0"
    for field, value in (("count", "3"), ("count", True), ("count", 3.0), ("count", UnquotedDigits("07")),
                         ("share", "0.5"), ("counts", ["1"])):
        assert not quick_agrees(field, value, Numbers), value
    with pytest.raises(ValidationError) as caught:  # the model's error: a quoted number, which messages.explain names
        quick_validator(Numbers)({"count": "3"})
    assert type(caught.value.errors()[0]["input"]) is QuotedNumber
    assert quick_validator(Numbers)({"count": UnquotedDigits("07")}).count == 7  # as the model reads it


def test_the_loader_gives_the_models_messages():
    validate = quick_validator(Plan)
    raw = valid_record(PLAN)
    raw["visits"][0]["retailer"] = UnquotedDigits("0832")
    with pytest.raises(ValidationError) as quick:
        validate(raw)
    with pytest.raises(ValidationError) as careful:
        Plan.model_validate(raw)
    assert quick.value.errors() == careful.value.errors()
    assert quick.value.errors()[0]["type"] == "text_needs_quotes"
    raw["visits"][0]["retailer"] = "0832"  # quoted: an id like any other
    assert validate(raw).visits[0].retailer == "0832"


def test_a_repeated_retailer_is_found_either_way():
    raw = valid_record(PLAN)
    raw["visits"] = [{"retailer": "r-0001"}, {"retailer": "r-0002"}, {"retailer": "r-0001"}]
    with pytest.raises(ValidationError) as caught:
        quick_validator(Plan)(raw)
    assert caught.value.errors()[0]["type"] == "visit_twice"
    assert caught.value.errors()[0]["ctx"]["at"] == (2, "retailer")


def test_the_models_own_validators_are_untouched():
    mark = PlannedVisit.__dict__.get("__pydantic_complete__")  # (defer_build: True once it was first used)
    quick_validator(Diary)
    assert Diary.__pydantic_complete__ and PlannedVisit.__dict__.get("__pydantic_complete__") == mark
    with pytest.raises(ValidationError) as caught:
        PlannedVisit.model_validate({"retailer": "R-1"})
    assert caught.value.errors()[0]["type"] == "slug" and "编号" in str(caught.value)
    raw = valid_record(DIARY)
    raw["visits"][0]["time"] = "9:05"
    assert quick_validator(Diary)(raw).visits[0].time == dt.time(9, 5)
    assert quick_validator(kind_of(RETAILER)[0].model)(valid_record(RETAILER)).id == "r-0001"


# ---------------------------------------------------------------- the invariant, over generated input
# (review7) Whatever the loader's quick validator is given, its outcome is the
# model's own: the same record, or the same errors (whose messages users read).

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_CHARS = st.sampled_from([*"0123456789-:T +.azA\n", "\u3000", "\u00a0", "０", "：", "“", "李"])
_N = st.integers
_SPACE = st.sampled_from(["", "", " ", "\n"])
_TEXTS = st.one_of(
    st.text(_CHARS, max_size=14),
    st.builds("{}{:04d}-{:02d}-{:02d}{}".format, _SPACE, _N(0, 9999), _N(0, 13), _N(0, 32), st.sampled_from(["", " 09:30", " 23:59:00", "T08:05"])),
    st.builds("{}{:02d}-{:02d}-{:02d} {:02d}:{:02d}{}".format, _SPACE, _N(2024, 2026), _N(0, 13), _N(0, 32), _N(0, 25), _N(0, 60), _SPACE),
    st.builds("{}{}:{:02d}{}".format, _SPACE, st.sampled_from(["0", "9", "09", "12", "23", "24", "99"]), _N(0, 60), _SPACE),
    st.builds("{}{}{}".format, _SPACE, st.text(st.sampled_from("az09-"), min_size=1, max_size=66), _SPACE),
    st.sampled_from(["", "true", "yes", "urban", "城网", "2026-09-01T14:30", "9:05", "r-０００２"]),
)
_VALUES = st.one_of(
    _TEXTS,
    st.tuples(st.just("unquoted"), st.sampled_from(["", "-", "+"]), st.sampled_from(["0", "7", "832", "0832", "12345678901"])),
    st.integers(-3, 3), st.sampled_from([10**20, 2.0, 0.5, -0.0, 1e300, float("nan")]), st.booleans(), st.none(),
    st.dates(), st.datetimes(), st.times(),
    st.lists(st.sampled_from(["r-0001", "r-0002", "b-1", 1, 2]), max_size=3),
    st.dictionaries(st.sampled_from(["retailer", "time", "a", "mode"]), st.sampled_from(["r-0001", "09:00", 1]), max_size=2),
)


def _value(drawn: Any) -> Any:
    """A drawn value as the YAML reader gives it: ("unquoted", sign, digits) is
    what it makes of an unquoted ``0832`` (made here: Hypothesis cannot show a str subclass)."""
    return UnquotedDigits(f"{drawn[1]}0{drawn[2]}") if type(drawn) is tuple else drawn


def _outcome(validate: Any, raw: Any) -> tuple:
    try:
        record = validate(raw)
    except ValidationError as exc:
        return "errors", repr(exc.errors(include_url=False))
    return "record", repr(record), record.model_dump_json()


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.sampled_from(["slug", "text", "opt", "day", "clock", "minute"]), _VALUES)
def test_any_value_of_a_checked_field_has_the_models_outcome(field, value):
    value = _value(value)
    assert _outcome(quick_validator(Probe), {field: value}) == _outcome(Probe.model_validate, {field: value})
    quick_agrees(field, value)  # and what the quick one alone takes, the model takes, with the same value


def _records() -> list[tuple[type, dict]]:
    from crmdocs.schemas.policy import Policy

    out = []
    for rel, raw in valid_records().items():
        match = kind_of(rel)
        if match is not None and isinstance(raw, dict):
            out.append((match[0].model, raw))
    out.append((Policy, Policy().model_dump(mode="json", by_alias=True)))  # every field, the class rule's union among them
    return out


_RECORDS = _records()


def _places(raw: Any, at: tuple = ()) -> list[tuple]:
    """Every key and list place of a record (where a value may be put)."""
    found = [at] if at else []
    items = raw.items() if isinstance(raw, dict) else enumerate(raw) if isinstance(raw, list) else ()
    for key, value in items:
        found.extend(_places(value, (*at, key)))
    return found


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_any_record_with_one_value_changed_has_the_models_outcome(data):
    model, raw = data.draw(st.sampled_from(_RECORDS))
    raw = copy.deepcopy(raw)
    place = data.draw(st.sampled_from(_places(raw)))
    parent = raw
    for key in place[:-1]:
        parent = parent[key]
    if data.draw(st.booleans(), "drop it") and isinstance(parent, dict):
        del parent[place[-1]]  # a default (default_factory) in its place
    else:
        parent[place[-1]] = _value(data.draw(_VALUES))
    given_raw = copy.deepcopy(raw)
    quick = _outcome(quick_validator(model), raw)
    assert raw == given_raw  # the input is left as it was for the model's own validator
    assert quick == _outcome(model.model_validate, given_raw)
