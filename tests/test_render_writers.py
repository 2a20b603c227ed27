"""The writers ``yamlwrite`` makes for each model class (block and row
writers) and its table path (a long mapping of text, whole numbers or models
of one class) write what PyYAML itself writes for the record's dump — or
step aside when PyYAML must decide."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field

from crmdocs.scripts import yamlwrite


class Line(BaseModel):
    model_config = ConfigDict(extra="forbid")
    quantity: int
    turnover: float
    lower: Optional[int] = None
    upper: Optional[int] = None
    note: Optional[str] = None
    day: Optional[dt.date] = None
    ok: Optional[bool] = None


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    name: str = ""
    class_: Optional[str] = Field(default=None, alias="class")
    score: Optional[float] = None
    count: Optional[int] = None
    flag: Optional[bool] = None
    when: Optional[dt.date] = None
    total: Optional[Line] = None
    brands: dict[str, Line] = Field(default_factory=dict)
    parts: dict[str, float] = Field(default_factory=dict)
    tags: list[str] = Field(default_factory=list)
    empty: Optional["Empty"] = None


class Empty(BaseModel):
    x: Optional[int] = None


class File(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: str = "test_file"
    month: str
    classes: dict[str, str] = Field(default_factory=dict)
    tiers: dict[str, int] = Field(default_factory=dict)
    retailers: dict[str, Item] = Field(default_factory=dict)
    weeks: dict[str, list[Line]] = Field(default_factory=dict)


Item.model_rebuild()


def pyyaml(record: BaseModel, rows: frozenset) -> str:
    """PyYAML's own text of the record's dump, rows as one-line mappings."""
    def rowed(value, model):
        if isinstance(model, BaseModel):
            data = {}
            for name, f in type(model).model_fields.items():
                if f.exclude or getattr(model, name) is None:
                    continue
                data[f.alias or name] = rowed(None, getattr(model, name))
            return yamlwrite.FlowMap(data) if type(model) in rows else data
        if isinstance(model, dict):
            return {k: rowed(None, v) for k, v in model.items()}
        if isinstance(model, list):
            return [rowed(None, v) for v in model]
        return model

    return yamlwrite._pyyaml_dumps(rowed(None, record))


TEXTS = ["b", "a1", "r-00001", "东乡生活超市", "007", "yes", "null", "1.5", "2026-10-01", "x y", "e", "True", "~"]


def big_file() -> File:
    ids = [f"r-{i:05d}" for i in range(12)]
    return File(
        month="2026-11",
        classes={rid: TEXTS[i % len(TEXTS)] for i, rid in enumerate(ids)},
        tiers={rid: i * 7 - 20 for i, rid in enumerate(ids)},
        retailers={
            rid: Item(
                name=TEXTS[i % len(TEXTS)], class_="a" if i % 2 else None, score=[0.5, 100.0, 1e20, -2.5, 3.14159][i % 5],
                count=i, flag=bool(i % 3), when=dt.date(2026, 1 + i, 3) if i % 4 else None,
                total=Line(quantity=i, turnover=i / 8, upper=i + 1, lower=None if i % 2 else 0),
                brands={f"b-{j}": Line(quantity=j, turnover=j * 1.25, note=TEXTS[j % 4]) for j in range(i)},
                parts={f"p{j}": j / 3 for j in range(10)} if i == 3 else {},
                tags=TEXTS[:i % 3], empty=Empty() if i == 5 else None,
            )
            for i, rid in enumerate(ids)
        },
        weeks={"2026-W40": [Line(quantity=q, turnover=1.0, day=dt.date(2026, 10, q + 1), ok=q > 1) for q in range(3)]},
    )


def test_a_long_file_of_tables_is_written_as_pyyaml_writes_it():
    record = big_file()
    for rows in (frozenset(), frozenset({Line})):
        walked = yamlwrite.dumps_model(record, rows=rows)
        assert walked is not None
        assert walked == pyyaml(record, rows)
    assert '  r-00004: "007"\n' in yamlwrite.dumps_model(record)  # digits quoted in a table too
    assert "  r-00005:\n    name: yes\n" not in yamlwrite.dumps_model(record)


def test_tables_of_mixed_values_or_keys_take_the_loop():
    mixed = {f"k{i}": (i if i % 2 else str(i)) for i in range(12)}
    assert yamlwrite.dumps_plain({"m": mixed}) == yamlwrite._pyyaml_dumps({"m": mixed})
    keys = {**{f"k{i}": i for i in range(10)}, 5: 1}
    assert yamlwrite.dumps_plain({"m": keys}) == yamlwrite._pyyaml_dumps({"m": keys})
    flags = {f"k{i}": bool(i % 2) for i in range(10)}  # booleans are not whole numbers here
    assert yamlwrite.dumps_plain({"m": flags}) == yamlwrite._pyyaml_dumps({"m": flags})


def test_a_row_text_that_cannot_stand_in_a_row_leaves_the_record_to_pyyaml():
    record = big_file()
    record.retailers["r-00003"].brands["b-1"].note = "a, b"
    assert yamlwrite.dumps_model(record, rows=frozenset({Line})) is None
    assert yamlwrite.dumps_model(record) == pyyaml(record, frozenset())  # as a block it is fine


def test_an_empty_nested_model_is_written_as_an_empty_mapping():
    text = yamlwrite.dumps_model(big_file())
    assert "    empty: {}\n" in text


scalars = st.one_of(
    st.integers(-10**6, 10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=64).map(lambda x: round(x, 4) + 0.0),  # (no negative zero: the rules never write one)
    st.text(alphabet="ab01-. 东乡:", max_size=6),
    st.sampled_from(TEXTS),
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(alphabet="abr-0123东", min_size=1, max_size=6), scalars, min_size=9, max_size=14),
       st.sampled_from(["int", "str", "any"]))
def test_generated_tables_agree_with_pyyaml(table, kind):
    if kind == "int":
        table = {k: v for k, v in table.items() if type(v) is int} or {"x": 1}
    elif kind == "str":
        table = {k: v for k, v in table.items() if type(v) is str} or {"x": "y"}
    data = {"table": table, "nested": {"inner": table}}
    assert yamlwrite.dumps_plain(data) == yamlwrite._pyyaml_dumps(data)


@settings(max_examples=400, deadline=None)
@given(st.one_of(
    st.floats(width=64),
    st.floats(-1e7, 1e7).map(lambda x: round(x, 2)),
    st.floats(-10, 10).map(lambda x: round(x, 4)),
    st.sampled_from([1e15, 1e16, -1e16, 9.999999e15, 1e-5, 0.000123, 123456.1234567, 2.5e-7, 1e300]),
))
def test_a_float_s_text_is_the_long_way_s(value):
    """The quick repr of a usual number is what the long way writes (the cache left aside)."""
    if value == 0:
        value = abs(value)  # (0.0 and -0.0 share a cache entry; the rules write no negative zero)
    yamlwrite._float_text.pop(value, None)
    assert yamlwrite._plain_float(value) == yamlwrite._plain_float_text(value)
    if value == value:
        assert yamlwrite._plain_float(value) == yamlwrite._pyyaml_dumps({"x": value})[3:-1]
