"""Field types shared by every record kind.

Every alias here is an ``Annotated`` type so a rule (e.g. "text only, never a
number") is written once.  Messages are Chinese first, English in brackets:
the people who read them are customer managers.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
import functools
from types import UnionType
from typing import Annotated, Any, Optional, Union, get_args, get_origin

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import PydanticCustomError

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class Record(BaseModel):
    """Base of every record: unknown keys are errors, values are not coerced
    silently into another type. A record with number fields derives from
    :class:`NumberRecord` (checked when the class is made)."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,  # `.inf` / `.nan` are YAML floats no record means
        frozen=False,
        str_strip_whitespace=True,
        use_enum_values=False,
        validate_default=False,
        # each model's validator is made on first use, not at import: a warm
        # recalc validates ~30 of the ~100 models (the rest come as facts or
        # are never read), each in the process that needs it
        defer_build=True,
    )

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        if cls.model_fields and _number_fields(cls) and "_quoted_numbers" not in cls.__pydantic_decorators__.model_validators:
            raise TypeError(f"{cls.__qualname__} has number fields {_number_fields(cls)}: derive it from NumberRecord")


class NumberRecord(Record):
    """A record with number fields (int, float): a number written in quotes is
    refused with its own message. Only these models pay for the check — the
    millions of visits in a city's plans and diaries have no number field."""

    @model_validator(mode="before")
    @classmethod
    def _quoted_numbers(cls, data: Any) -> Any:
        # YAML: `price: "120"` is text. The editors' JSON Schema says number, so
        # validation refuses it too (with a clear message) instead of converting.
        if type(data) is dict:
            names = _number_fields(cls)
            hits = [name for name in names if type(data.get(name)) is str] if names else None
            if hits:
                data = dict(data)
                for name in hits:
                    data[name] = QuotedNumber(data[name])
        return data


class QuotedNumber:
    """A number written in quotes; the field's own check then fails on it and
    :func:`crmdocs.scripts.messages.explain` says to drop the quotes."""

    __slots__ = ("text",)

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return repr(self.text)


@functools.cache
def _number_fields(cls: type) -> tuple[str, ...]:
    """Keys (aliases where set) of the fields typed int/float or Optional of them."""
    out = []
    for name, info in cls.model_fields.items():
        annotation = info.annotation
        args = get_args(annotation) if get_origin(annotation) in (Union, UnionType) else (annotation,)
        kinds = [a for a in args if a is not type(None)]
        if kinds and all(a in (int, float) for a in kinds):
            out.append(info.alias or name)
    return tuple(out)


class UnquotedDigits(str):
    """A digit string written without quotes that has a leading zero (``0832…``).

    The YAML reader returns these instead of plain text: YAML 1.1 tools read
    them as text, YAML 1.2 tools as a number, so a text field refuses them."""


def _text_only(value: Any) -> Any:
    # YAML turns unquoted 13812345678 into an int and `yes` into a bool; a
    # text field must say so instead of accepting a mangled value.
    if value.__class__ is str:  # the common case, first (not UnquotedDigits)
        return value
    if isinstance(value, UnquotedDigits):
        raise PydanticCustomError(
            "text_needs_quotes",
            "号码 {found} 没有加引号：以 0 开头的数字各工具读法不一（有的会丢掉开头的 0），请加引号，"
            '例如 "{found}" (unquoted digits: put the value in quotes)',
            {"found": str(value)},
        )
    if isinstance(value, (dict, list)):
        raise PydanticCustomError(
            "string_type",
            "这里应填文字，读到的是{what} (expected text, found a {en})",
            {"what": "一组字段" if isinstance(value, dict) else "一个列表", "en": "mapping" if isinstance(value, dict) else "list"},
        )
    if isinstance(value, bool) or isinstance(value, (int, float, Decimal)):
        raise PydanticCustomError(
            "text_needs_quotes",
            "这里应填文字，但读到的是数字或真假值 {found}；号码类内容（电话、许可证号）请加引号，"
            '例如 "{found}" (expected text, found a number: put the value in quotes)',
            {"found": value},
        )
    return value


Text = Annotated[str, BeforeValidator(_text_only), StringConstraints(min_length=1)]
"""Non-empty text. Numbers are refused with a hint to quote them."""

OptText = Annotated[str, BeforeValidator(_text_only)]


def _slug(value: Any) -> Any:
    if value.__class__ is str and SLUG_RE.match(value):  # the common case, first
        return value
    value = _text_only(value)
    if not isinstance(value, str) or not SLUG_RE.match(value):
        raise PydanticCustomError(
            "slug",
            "编号 “{found}” 不合规：只能用小写字母、数字和连字符，以字母或数字开头，最长 64 位，"
            "不能含 / .. 或空格 (an id is lowercase letters, digits and '-')",
            {"found": value},
        )
    return value


Slug = Annotated[
    str,
    BeforeValidator(_slug),
    WithJsonSchema({"type": "string", "pattern": SLUG_RE.pattern, "description": "编号：小写字母、数字和连字符 / id"}),
]
"""A stable id usable as a file name."""


def _phone(value: Any) -> Any:
    value = _text_only(value)
    if isinstance(value, str) and not re.fullmatch(r"[0-9+\- ]{5,20}", value):
        raise PydanticCustomError(
            "phone",
            "电话号码 “{found}” 格式不对，只能含数字、空格、+ 和 - (phone number: digits only)",
            {"found": value},
        )
    return value


Phone = Annotated[str, BeforeValidator(_phone), WithJsonSchema({"type": "string", "pattern": r"^[0-9+\- ]{5,20}$"})]


def _licence(value: Any) -> Any:
    value = _text_only(value)
    if isinstance(value, str) and not re.fullmatch(r"[0-9A-Za-z]{6,20}", value):
        raise PydanticCustomError(
            "licence",
            "许可证号 “{found}” 格式不对，应为 6–20 位数字或字母 (licence number: 6-20 digits/letters)",
            {"found": value},
        )
    return value


LicenceNo = Annotated[str, BeforeValidator(_licence), WithJsonSchema({"type": "string", "pattern": r"^[0-9A-Za-z]{6,20}$"})]


def _date(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            raise PydanticCustomError(
                "bad_date",
                "日期 “{found}” 不存在或格式不对，应写成 YYYY-MM-DD，例如 2026-09-01 "
                "(not a valid date, expected YYYY-MM-DD)",
                {"found": value},
            ) from None
    raise PydanticCustomError(
        "bad_date",
        "应为日期 YYYY-MM-DD，读到的是 “{found}” (expected a date)",
        {"found": value},
    )


Date = Annotated[dt.date, BeforeValidator(_date), WithJsonSchema({"type": "string", "format": "date"})]


_MINUTE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}")
_TIME_FORMATS = ("%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S")


def parse_minute(text: str, formats: tuple[str, ...] = _TIME_FORMATS) -> Optional[dt.datetime]:
    """``text`` (``YYYY-MM-DD HH:MM``, a ``T`` allowed for the space) as a
    datetime, or None when it is no such time (``2026-02-30 09:00``). The
    common shape goes through ``fromisoformat``, ~20 × faster than
    ``strptime``, same value; other shapes (``2026-9-1 8:05``, seconds)
    through ``strptime`` with ``formats``."""
    text = text.strip().replace("T", " ")
    if _MINUTE_RE.fullmatch(text):
        try:
            return dt.datetime.fromisoformat(text)
        except ValueError:
            pass  # 2026-02-30 and the like: strptime below says no as well
    for fmt in formats:
        try:
            return dt.datetime.strptime(text, fmt)
        except ValueError:
            continue
    return None


def _datetime(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, str):
        found = parse_minute(value)
        if found is not None:
            return found
    raise PydanticCustomError(
        "bad_datetime",
        "时间 “{found}” 不对，应写成 \"YYYY-MM-DD HH:MM\"，例如 \"2026-09-01 14:30\" "
        "(expected date and time)",
        {"found": value},
    )


DateTime = Annotated[
    dt.datetime,
    BeforeValidator(_datetime),
    WithJsonSchema({"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?$"}),
]


_CLOCKS: dict[str, dt.time] = {}  # "08:30" → time(8, 30): a city's diaries repeat a few hundred times of day


def _clock(value: Any) -> Any:
    if value.__class__ is str:  # the common case, first; times are immutable, so shared
        known = _CLOCKS.get(value)
        if known is not None:
            return known
        try:
            known = dt.time.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            if len(_CLOCKS) < 10_000:
                _CLOCKS[value] = known
            return known
    if isinstance(value, int) and not isinstance(value, bool):
        raise PydanticCustomError(
            "clock_needs_quotes",
            "时刻请加引号写成 \"HH:MM\"，例如 \"14:30\" (a clock time must be quoted)",
        )
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str):
        text = value.strip()
        if text[1:2] == ":":  # 9:05, as the editors' schema (pattern \d{1,2}:\d{2}) lets it through
            text = "0" + text
        try:
            return dt.time.fromisoformat(text)
        except ValueError:
            pass
    raise PydanticCustomError(
        "bad_clock",
        "时刻 “{found}” 不对，应写成 \"HH:MM\"，例如 \"09:05\" (expected a clock time HH:MM)",
        {"found": value},
    )


Clock = Annotated[dt.time, BeforeValidator(_clock), WithJsonSchema({"type": "string", "pattern": r"^\d{1,2}:\d{2}$"})]


def _period(value: Any) -> Any:
    if type(value) is int and 2000 <= value <= 2100:  # a year needs no quotes
        value = str(value)
    value = _text_only(value)
    if isinstance(value, str) and re.fullmatch(r"\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?", value):
        return value
    raise PydanticCustomError(
        "period",
        "期间 “{found}” 不对，应为年 2026、月 2026-09 或季度 2026-Q3 (expected a period)",
        {"found": value},
    )


Period = Annotated[
    str, BeforeValidator(_period), WithJsonSchema({"type": "string", "pattern": r"^\d{4}(-(0[1-9]|1[0-2])|-Q[1-4])?$"})
]
"""A period: ``2026`` (year), ``2026-09`` (month) or ``2026-Q3`` (quarter)."""

Fraction = Annotated[float, Field(ge=0, le=1)]
Percent = Annotated[float, Field(ge=0, le=100)]
NonNeg = Annotated[float, Field(ge=0)]
PosInt = Annotated[int, Field(gt=0)]
NonNegInt = Annotated[int, Field(ge=0)]


def unique_list(items: list, field: tuple = ()) -> list:
    """``items`` unchanged, or an error at the repeated item (``at``: its place)."""
    seen = set()
    for index, item in enumerate(items):
        key = item if isinstance(item, (str, int)) else repr(item)
        if key in seen:
            raise PydanticCustomError(
                "duplicate_item", "“{found}” 出现了两次 (listed twice)", {"found": item, "at": (index, *field)}
            )
        seen.add(key)
    return items


UniqueSlugs = Annotated[list[Slug], AfterValidator(unique_list)]


def desc(zh: str, en: str) -> str:
    """Field description in both languages, as editors show it."""
    return f"{zh} / {en}"


# ---------------------------------------------------------------- the loader's quick validators
#
# A city's warm load makes ~2.4 M models, and the Python checks above
# (_slug, _text_only, _date, _clock, _datetime, NumberRecord's quoted
# numbers) ran ~3.4 M times in it. The loader validates with
# :func:`quick_validator` instead: the model's own schema with each of those
# checks replaced by pydantic-core's own check (in Rust, no Python call) of
# the common shape — an exact str matching a pattern, a date object, a number
# that is a number. It accepts less than the model: anything unusual
# (another type, a text starting with 0 that YAML may have read from
# unquoted digits — the reader's UnquotedDigits is a str to pydantic-core —,
# an id with spaces around it, `9:05`, a number in quotes) is refused by it,
# and then the model's own validator decides: its record, or its errors with
# their Chinese messages. What the quick validator accepts, the model's
# validator accepts too, with the same value. So the outcome is always the
# model's; only the common case is faster.

_QUICK_SLUG = r"^(?:[a-z1-9][a-z0-9-]*|0)$"  # and at most 64 long: SLUG_RE less what starts with a 0 (0832, 0x1f)
_QUICK_TEXT = r"^(?:$|[^+\-0]|[+\-](?:$|[^0])|[+\-]?0$)"  # does not start like digits with a leading zero (0832, -012, 0x1f)
_QUICK_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"  # YYYY-MM-DD (a day that does not exist: refused by both)
_QUICK_MINUTE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2} (?:[01][0-9]|2[0-3]):[0-5][0-9]$"  # YYYY-MM-DD HH:MM
_QUICK_CLOCK = r"^(?:[01][0-9]|2[0-3]):[0-5][0-9]$"  # HH:MM, a time that exists
_SCHEMA_KEYS = ("schema", "items_schema", "keys_schema", "values_schema", "extras_schema", "steps", "choices", "fields", "definitions")


def _quick(schema: Any) -> Any:
    """A core schema (or list, or mapping of them) with the Python checks of
    this module replaced by pydantic-core's own, where they stand for the
    common shape; the rest unchanged."""
    if type(schema) is list:
        return [_quick(item) for item in schema]
    if type(schema) is tuple:  # a union's (choice, label)
        return (_quick(schema[0]), *schema[1:])
    if type(schema) is not dict:
        return schema
    kind = schema.get("type")
    if kind is None:  # a mapping of schemas (model fields, tagged choices)
        return {key: _quick(value) for key, value in schema.items()}
    if kind == "function-before":
        check, inner = schema["function"].get("function"), schema["schema"]
        if check is _slug and inner == {"type": "str"}:
            return {"type": "str", "strict": True, "strip_whitespace": False, "max_length": 64, "pattern": _QUICK_SLUG}
        if check is _text_only and inner == {"type": "str"}:
            return {"type": "str", "strict": True, "pattern": _QUICK_TEXT}
        if check is _date and inner == {"type": "date"}:
            text = {"type": "chain", "steps": [{"type": "str", "strict": True, "strip_whitespace": False, "pattern": _QUICK_DATE}, inner]}
            return {"type": "union", "mode": "left_to_right", "choices": [text, {"type": "date", "strict": True}]}
        if check is _datetime and inner.get("type") == "datetime":
            minute = {"type": "str", "strict": True, "strip_whitespace": False, "pattern": _QUICK_MINUTE}
            return {"type": "chain", "steps": [minute, inner]}
        if getattr(check, "__func__", None) is NumberRecord._quoted_numbers.__func__:  # numbers are strict below: text in one is refused
            return _quick(inner)
        if check is _clock and inner.get("type") == "time":
            clock = {"type": "str", "strict": True, "strip_whitespace": False, "pattern": _QUICK_CLOCK}
            return {"type": "chain", "steps": [clock, inner]}
    if kind in ("int", "float"):  # a number written as text (or true, or 1.0 for an int) goes to the model's own check
        return {**schema, "strict": True}
    if kind == "function-after":  # Text: min_length as a Python check after _text_only, folded into the str
        check, inner = schema["function"].get("function"), _quick(schema["schema"])
        if (
            isinstance(check, functools.partial) and getattr(check.func, "__name__", "") == "min_length_validator"
            and not check.args and set(check.keywords) == {"min_length"}
            and inner.get("type") == "str" and inner.get("strict") and "min_length" not in inner
        ):
            return {**inner, "min_length": check.keywords["min_length"]}
        return {**schema, "schema": inner}
    return {key: (_quick(value) if key in _SCHEMA_KEYS else value) for key, value in schema.items()}


def _models(schema: Any, found: set) -> set:
    """The model classes a core schema makes."""
    if type(schema) in (list, tuple):
        for item in schema:
            _models(item, found)
    elif type(schema) is dict:
        if schema.get("type") == "model":
            found.add(schema["cls"])
        for value in schema.values():
            if type(value) in (list, tuple, dict):
                _models(value, found)
    return found


def quick_validator(model: type[BaseModel]) -> Any:
    """``model.model_validate`` for the loader, quicker for the common case
    (see above): the quick validator first, the model's own when it refuses."""
    from pydantic import ValidationError

    quick = quick_only(model).validate_python
    careful = model.__pydantic_validator__.validate_python

    def validate(raw: Any) -> Any:
        try:
            return quick(raw)
        except ValidationError:
            return careful(raw)

    return validate


def quick_only(model: type[BaseModel]) -> Any:
    """The quick validator alone (a SchemaValidator; its errors are pydantic's own)."""
    from pydantic_core import SchemaValidator

    if not model.__pydantic_complete__:  # (defer_build: its schema is made on first use)
        model.model_rebuild()
    schema = _quick(model.__pydantic_core_schema__)
    # pydantic-core would take each model's own (prebuilt) validator for its
    # part, the Python checks in it; it does so for a class marked complete
    marks = {cls: cls.__dict__.get("__pydantic_complete__", _NO_MARK) for cls in _models(schema, set())}
    try:
        for cls in marks:
            type.__setattr__(cls, "__pydantic_complete__", False)
        return SchemaValidator(schema, schema.get("config"))
    finally:
        for cls, mark in marks.items():
            if mark is _NO_MARK:
                type.__delattr__(cls, "__pydantic_complete__")
            else:
                type.__setattr__(cls, "__pydantic_complete__", mark)


_NO_MARK = object()
