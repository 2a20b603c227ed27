"""``crmdocs recalc`` writes a computed record by walking the model itself
(``yamlwrite.dumps_model``) instead of dumping it to dicts first. The bytes
must be those of the dump: every record of a small office is written both
ways, and so are models with aliases, left-out fields, empty parts, rows and
their own serializers."""

from __future__ import annotations

import datetime as dt
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field, field_serializer

from crmdocs.scripts import yamlwrite
from crmdocs.scripts.recalc import HEADER, _rows, render_record
from test_rules_blocks import AS_OF, archives, office_rows
from retail_fixtures import repo, run


def dumped(record: BaseModel) -> str:
    """The text of the record's dump, the way recalc wrote it before."""
    data = record.model_dump(mode="python", by_alias=True, exclude_none=True)
    return yamlwrite.dumps_plain(_rows(record, data), header=HEADER)


def test_every_record_of_an_office_is_written_as_its_dump():
    records = run(repo(archives(), office_rows()), AS_OF).records
    kinds = {path.split("/")[1] for path in records}
    assert {"classes", "tiers", "limits", "abnormal"} <= kinds
    for path, record in records.items():
        walked = yamlwrite.dumps_model(record, header=HEADER, rows=_rows_of())
        assert walked is not None, path
        assert walked == dumped(record), path
        assert render_record(record) == walked


def _rows_of():
    from crmdocs.scripts.recalc import _row_models

    return _row_models()


class Part(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    a: int
    b: Optional[float] = None
    hidden: str = Field(default="x", exclude=True)


class Row(BaseModel):
    q: int
    name: str = "店一"


class Whole(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    class_: str = Field(alias="class")
    when: dt.date
    none: Optional[str] = None
    parts: list[Part] = Field(default_factory=list)
    by_id: dict[str, Part] = Field(default_factory=dict)
    rows: dict[str, list[Row]] = Field(default_factory=dict)
    maybe: dict[str, Optional[int]] = Field(default_factory=dict)
    empty: Optional[Part] = None


def test_aliases_left_out_fields_nulls_and_rows_as_the_dump():
    w = Whole.model_validate({
        "class": "A", "when": "2026-10-01", "parts": [{"a": 1, "b": 2.5}, {"a": 2}],
        "by_id": {"p-1": {"a": 3, "b": 0.1}}, "rows": {"2026-W40": [{"q": 4}, {"q": 5, "name": "店二"}]},
        "maybe": {"x": None, "y": 1},
    })
    walked = yamlwrite.dumps_model(w, rows=frozenset({Row}))
    data = w.model_dump(mode="python", by_alias=True, exclude_none=True)
    data["rows"] = {k: [yamlwrite.FlowMap(r) for r in v] for k, v in data["rows"].items()}
    assert walked == yamlwrite.dumps_plain(data)
    assert "class: A\n" in walked and "hidden" not in walked and "none" not in walked
    assert "  y: 1\n" in walked and "  x: null\n" in walked  # nulls inside a mapping stay, as in the dump
    assert "- {q: 4, name: 店一}\n" in walked
    # text a one-line row cannot hold as it is (a comma): PyYAML writes the record, as before
    w.rows["2026-W40"].append(Row(q=6, name="a, b"))
    assert yamlwrite.dumps_model(w, rows=frozenset({Row})) is None


def test_a_model_with_its_own_serializer_is_left_to_the_dump():
    class Odd(BaseModel):
        x: int

        @field_serializer("x")
        def double(self, v: int) -> int:
            return 2 * v

    class Holder(BaseModel):
        odd: Odd

    h = Holder(odd=Odd(x=2))
    assert yamlwrite.dumps_model(h) is None
    assert yamlwrite.dumps_model(Odd(x=1)) is None


def test_an_empty_record_or_an_unwritable_value_is_left_to_the_dump():
    class Nothing(BaseModel):
        x: Optional[int] = None

    class Tupled(BaseModel):
        t: tuple[int, int]

    assert yamlwrite.dumps_model(Nothing()) is None
    assert yamlwrite.dumps_model(Tupled(t=(1, 2))) is None  # a tuple: PyYAML decides
    assert render_record(Tupled(t=(1, 2))).endswith("t:\n- 1\n- 2\n")
