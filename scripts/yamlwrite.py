"""Writing records as YAML: stable, readable, safe to diff.

Keys keep the model's field order, Chinese stays Chinese, digit strings are
quoted (so a phone number is never read back as a number), dates are
``YYYY-MM-DD`` and datetimes ``"YYYY-MM-DD HH:MM"``. Files are written
atomically: a killed run leaves the old file whole.
"""

from __future__ import annotations

import datetime as dt
import enum
import os
import re
import sys
import tempfile
from pathlib import Path
from typing import Any, Optional

import yaml

try:
    from yaml import CSafeDumper as _BaseDumper
except ImportError:  # pragma: no cover
    from yaml import SafeDumper as _BaseDumper  # type: ignore[assignment]

from pydantic import BaseModel

from .yamlio import Loader

_NEEDS_QUOTES = re.compile(r"^[-+]?[0-9][0-9_:.eE+-]*$|^(?:true|false|yes|no|on|off|null|~)$", re.I)


class Dumper(_BaseDumper):  # type: ignore[misc, valid-type]
    # resolve like the reader (YAML 1.2 core): dates need no quotes, while
    # anything the reader would take as a number or boolean gets them
    yaml_implicit_resolvers = Loader.yaml_implicit_resolvers

    def ignore_aliases(self, data: Any) -> bool:
        # equal dates/objects repeated in one record must be written out, never as &id001/*id001
        return True


def _str(dumper: yaml.SafeDumper, value: str):
    style = None
    if _NEEDS_QUOTES.match(value) or value == "":
        style = '"'
    elif "\n" in value:
        style = "|"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


def _date(dumper: yaml.SafeDumper, value: dt.date):
    return dumper.represent_scalar("tag:yaml.org,2002:str", value.isoformat())


def _datetime(dumper: yaml.SafeDumper, value: dt.datetime):
    return dumper.represent_scalar("tag:yaml.org,2002:str", value.strftime("%Y-%m-%d %H:%M"), style='"')


def _time(dumper: yaml.SafeDumper, value: dt.time):
    return dumper.represent_scalar("tag:yaml.org,2002:str", value.strftime("%H:%M"), style='"')


def _float(dumper: yaml.SafeDumper, value: float):
    if value != value or value in (float("inf"), float("-inf")):  # int() of these raises
        text = ".nan" if value != value else (".inf" if value > 0 else "-.inf")
    elif value == int(value) and abs(value) < 1e15:
        text = f"{value:.1f}"
    else:
        text = repr(round(value, 6))
    return dumper.represent_scalar("tag:yaml.org,2002:float", text)


class FlowMap(dict):
    """A mapping written on one line, ``{quantity: 7, upper: 2}``: a table row
    (a brand's limits) reads, and diffs, as one line instead of six."""


def _flow(dumper: yaml.SafeDumper, value: FlowMap):
    return dumper.represent_mapping("tag:yaml.org,2002:map", value, flow_style=True)


Dumper.add_representer(FlowMap, _flow)
Dumper.add_representer(str, _str)
Dumper.add_representer(dt.date, _date)
Dumper.add_representer(dt.datetime, _datetime)
Dumper.add_representer(dt.time, _time)
Dumper.add_representer(float, _float)


def plain(value: Any) -> Any:
    """Models and enums → plain dicts, lists and scalars."""
    if isinstance(value, BaseModel):
        return plain(value.model_dump(mode="python", by_alias=True, exclude_defaults=True))
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dict):
        items = {plain(k): plain(v) for k, v in value.items()}
        return FlowMap(items) if isinstance(value, FlowMap) else items
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def _pyyaml_dumps(value: Any, header: str = "") -> str:
    text = yaml.dump(
        value, Dumper=Dumper, allow_unicode=True, sort_keys=False,
        default_flow_style=False, width=1000, indent=2,
    )
    return (header + text) if header else text


# ---------------------------------------------------------------- fast path
# PyYAML's representer costs ~5 µs a node: a city's computed records (millions
# of nodes) took minutes. Records are plain block mappings, lists and scalars,
# so they are laid out here directly; every scalar's (and key's) text that is
# not trivially plain is asked from PyYAML itself once and cached, so quoting
# never drifts. Anything else (multi-line or very long text, nested lists)
# goes through PyYAML whole. Tests compare both paths byte for byte.

_scalar_cache: dict[Any, str] = {}
# text PyYAML writes plain for sure: starts with a Chinese character and holds
# only Chinese, full-width punctuation, ASCII letters and digits; or a slug
# with a hyphen (never a number, boolean or null)
_PLAIN = re.compile(r"[\u4e00-\u9fff][\u4e00-\u9fff\u3000-\u303f\uff01-\uff5eA-Za-z0-9]*|[a-z][a-z0-9]*(?:-[a-z0-9]+)+")


class _NotFast(ValueError):
    """A shape the fast path leaves to PyYAML."""


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        if _PLAIN.fullmatch(value):
            return value
        if value.isdigit() and value.isascii():  # phone, licence and ID numbers: quoted
            return f'"{value}"'
        if "\n" in value or len(value) > 400 or "\u2028" in value or "\u2029" in value:
            raise _NotFast(value[:20])  # block scalars, folding, the Unicode line breaks: PyYAML's
    elif kind is int:
        return str(value)
    elif kind is dt.date:
        return value.isoformat()
    elif kind is dt.datetime:
        return f'"{value:%Y-%m-%d %H:%M}"'
    elif kind is dt.time:
        return f'"{value:%H:%M}"'
    elif kind not in (float, bool, type(None)):
        raise _NotFast(kind.__name__)
    key = (kind, value)
    text = _scalar_cache.get(key)
    if text is None:
        text = _pyyaml_dumps({"x": value})[3:-1]
        if len(text) > 400 or "\n" in text:  # long once escaped: where PyYAML breaks it depends on where it stands
            raise _NotFast(text[:20])
        if len(_scalar_cache) < 500_000 and (value or kind is not float):  # (0.0 and -0.0: one key, two texts)
            _scalar_cache[key] = text
    return text


def _emit_map(data: dict, indent: str, out: list[str], first_prefix: Optional[str] = None) -> None:
    prefix = first_prefix
    for key, value in data.items():
        lead = prefix if prefix is not None else indent
        prefix = None
        name = _scalar(key)
        if isinstance(value, FlowMap):
            out.append(f"{lead}{name}: {_flow_text(value)}\n")
        elif isinstance(value, dict):
            if value:
                out.append(f"{lead}{name}:\n")
                _emit_map(value, indent + "  ", out)
            else:
                out.append(f"{lead}{name}: {{}}\n")
        elif isinstance(value, list):
            if value:
                out.append(f"{lead}{name}:\n")
                _emit_list(value, indent, out)
            else:
                out.append(f"{lead}{name}: []\n")
        else:
            out.append(f"{lead}{name}: {_scalar(value)}\n")


def _emit_list(items: list, indent: str, out: list[str]) -> None:
    for item in items:
        if isinstance(item, FlowMap):
            out.append(f"{indent}- {_flow_text(item)}\n")
            continue
        if isinstance(item, dict):
            if item:
                _emit_map(item, indent + "  ", out, first_prefix=f"{indent}- ")
            else:
                out.append(f"{indent}- {{}}\n")
        elif isinstance(item, list):
            raise _NotFast("nested list")
        else:
            out.append(f"{indent}- {_scalar(item)}\n")


# ---------------------------------------------------------------- plain data, fastest
# ``dumps_plain`` takes data that is already plain (``model_dump`` output:
# dicts, lists, str, int, float, bool, None, dates) and skips the second walk
# of :func:`plain`; each scalar's text is looked up by type in its own cache
# (1 == 1.0 == True must not share an entry), keys included. A city's computed
# records are ~7 million scalars: this is most of what ``recalc`` renders.

_str_text: dict[str, str] = {}
_float_text: dict[float, str] = {}
_DECIMAL = re.compile(r"-?[0-9]+\.[0-9]+")  # what PyYAML surely writes plain as a float


def _plain_float(value: float) -> str:
    text = _float_text.get(value)
    if text is None:
        # the usual number (finite, at most 6 decimals in its shortest form):
        # what the lines below give is its repr — worked out without them
        text = repr(value)
        point = text.find(".")
        if point < 0 or len(text) - point > 7 or "e" in text:
            text = _plain_float_text(value)
        if value and len(_float_text) < 500_000:  # (never a zero: 0.0 and -0.0 are one key, "0.0" and "-0.0")
            _float_text[value] = text
    return text


def _plain_float_text(value: float) -> str:
    """A float's text in a record: one decimal when whole, else rounded to 6
    decimals; exponents, nan and inf as PyYAML writes them."""
    if value == value and value not in (float("inf"), float("-inf")) and value == int(value) and abs(value) < 1e15:
        text = f"{value:.1f}"
    else:
        text = repr(round(value, 6)) if value == value and abs(value) != float("inf") else ""
    if not _DECIMAL.fullmatch(text):
        text = _scalar(value)  # exponents, nan, inf: PyYAML's own text
    return text


def _plain_str(value: str) -> str:
    text = _str_text.get(value)
    if text is None:
        text = _scalar(value)  # may raise _NotFast (multi-line, long): PyYAML writes the record
        if len(_str_text) < 500_000:
            _str_text[value] = text
    return text


def float_text(value: float) -> str:
    """The text a float is written as (the writers' own, cached)."""
    text = _float_text.get(value)
    return text if text is not None else _plain_float(value)


def float_texts(values: list) -> list[str]:
    """:func:`float_text` of each of ``values`` (Python floats), the cached ones looked up in one pass."""
    texts = list(map(_float_text.get, values))
    if None in texts:
        texts = [text if text is not None else _plain_float(value) for text, value in zip(texts, values)]
    return texts


def str_texts(values: list) -> list[str]:
    """:func:`str_text` of each of ``values`` (text)."""
    texts = list(map(_str_text.get, values))
    if None in texts:
        texts = [text if text is not None else _plain_str(value) for text, value in zip(texts, values)]
    return texts


def str_text(value: str) -> str:
    """The text a string (a value or a key) is written as in a block; raises
    ``ValueError`` for text only PyYAML may write (multi-line, very long)."""
    text = _str_text.get(value)
    return text if text is not None else _plain_str(value)


def row_str_text(value: str) -> str:
    """The text a string is written as in a one-line row (``{…}``); raises
    ``ValueError`` for text that cannot stand there as it is."""
    return value if _flow_str.get(value) else _flow_str_text(value)


def fields_text(record: BaseModel, indent: str) -> str:
    """The lines of ``record``'s fields (not None) in a block at ``indent``,
    as :func:`dumps_model` writes them there ("" when there are none); raises
    ``ValueError`` where the record needs PyYAML."""
    kind = type(record)
    _model_spec(kind)
    out: list[str] = []
    (_BLOCK.get(kind) or _block_writer(kind))(record, out, indent, indent)
    return "".join(out)


def _plain_scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        return _plain_str(value)
    if kind is int:
        return str(value)
    if kind is float:
        return _plain_float(value)
    if kind is bool:
        return "true" if value else "false"
    if value is None:
        return "null"
    return _scalar(value)


def _emit_plain_map(data: dict, indent: str, out: list[str], lead: str) -> None:
    if lead == indent and len(data) > 8 and _emit_table(data, indent, out):
        return
    _emit_plain_pairs(data.items(), indent, out, lead)


def _emit_table(data: dict, indent: str, out: list[str]) -> bool:
    """A mapping of text keys whose values are all text, all whole numbers
    or all models of one class (a file's list of classes, tiers, retailers,
    brands) written as the loop below writes it, entry by entry without its
    tests; False (nothing written) for any other mapping."""
    kinds = set(map(type, data.values()))
    if len(kinds) != 1 or set(map(type, data)) != {str}:
        return False
    kind = kinds.pop()
    st = _str_text.get
    keys = [st(k) or _plain_str(k) for k in data]
    if kind is str:
        out.extend([f"{indent}{k}: {st(v) or _plain_str(v)}\n" for k, v in zip(keys, data.values())])
    elif kind is int:
        out.extend([f"{indent}{k}: {v}\n" for k, v in zip(keys, data.values())])
    elif kind in _MODELS:
        if kind in _rows:
            row = _ROW.get(kind) or _row_writer(kind)
            out.extend([f"{indent}{k}: {row(v)}\n" for k, v in zip(keys, data.values())])
        else:
            block = _BLOCK.get(kind) or _block_writer(kind)
            deeper = indent + "  "
            for k, v in zip(keys, data.values()):
                out.append(f"{indent}{k}:\n")
                if not block(v, out, deeper, deeper):
                    out[-1] = f"{indent}{k}: {{}}\n"
    else:
        return False
    return True


def _emit_plain_pairs(pairs, indent: str, out: list[str], lead: str) -> None:
    deeper = indent + "  "
    str_text = _str_text
    float_text = _float_text
    for key, value in pairs:
        name = str_text.get(key) if type(key) is str else None
        if name is None:
            name = _plain_scalar(key)
        kind = type(value)
        if kind is str:
            text = str_text.get(value)
            out.append(f"{lead}{name}: {text if text is not None else _plain_str(value)}\n")
        elif kind is dict:
            if value:
                out.append(f"{lead}{name}:\n")
                _emit_plain_map(value, deeper, out, deeper)
            else:
                out.append(f"{lead}{name}: {{}}\n")
        elif kind is list:
            if value:
                out.append(f"{lead}{name}:\n")
                _emit_plain_list(value, indent, out)
            else:
                out.append(f"{lead}{name}: []\n")
        elif kind is int:
            out.append(f"{lead}{name}: {value}\n")
        elif kind is float:
            text = float_text.get(value)
            out.append(f"{lead}{name}: {text if text is not None else _plain_float(value)}\n")
        elif kind is FlowMap:
            out.append(f"{lead}{name}: {_flow_text(value)}\n")
        elif kind in _MODELS:
            if kind in _rows:
                out.append(f"{lead}{name}: {(_ROW.get(kind) or _row_writer(kind))(value)}\n")
            else:
                out.append(f"{lead}{name}:\n")
                if not (_BLOCK.get(kind) or _block_writer(kind))(value, out, deeper, deeper):
                    out[-1] = f"{lead}{name}: {{}}\n"
        elif isinstance(value, BaseModel):
            _model_spec(kind)
            _emit_plain_pairs(((key, value),), indent, out, lead)
        else:
            out.append(f"{lead}{name}: {_plain_scalar(value)}\n")
        lead = indent


_FLOW_KEY = re.compile(r"[a-z_][a-z0-9_]*")
_FLOW_UNSAFE = re.compile(r"[,\[\]{}:#&*!|>'\"%@`?]|^[-\s]|\s$")


_flow_keys: set[str] = set()  # keys seen to be plain names
_flow_str: dict[str, bool] = {}  # text → may stand in a flow row as it is


def _flow_text(row: FlowMap) -> str:
    """``{key: value, …}`` of a row of plain keys and numbers, dates, or text
    PyYAML writes plain that holds no flow indicator (Chinese words, ids) —
    what PyYAML writes; anything else leaves the record to PyYAML. (A city
    writes ~10⁶ rows: each key's and text's verdict is kept.)"""
    return _flow_pairs(row.items())


def _flow_pairs(pairs) -> str:
    parts = []
    for key, value in pairs:
        if key not in _flow_keys:
            if type(key) is not str or not _FLOW_KEY.fullmatch(key):
                raise _NotFast("flow row key")
            _flow_keys.add(key)
        kind = type(value)
        if kind is int:
            text = str(value)
        elif kind is float:
            text = _float_text.get(value)
            if text is None:
                text = _plain_float(value)
        elif kind is str:
            ok = _flow_str.get(value)
            if ok is None:
                # plain in a block (PyYAML's own verdict, cached) and no flow indicator
                ok = _plain_str(value) == value and not _FLOW_UNSAFE.search(value)
                if len(_flow_str) < 500_000:
                    _flow_str[value] = ok
            if not ok:
                raise _NotFast("flow row text")
            text = value
        elif kind in (bool, type(None), dt.date):
            text = _plain_scalar(value)
        else:
            raise _NotFast("flow row value")
        parts.append(f"{key}: {text}")
    return "{" + ", ".join(parts) + "}"


def _emit_plain_list(items: list, indent: str, out: list[str]) -> None:
    deeper = indent + "  "
    for item in items:
        kind = type(item)
        if kind is dict:
            if item:
                _emit_plain_map(item, deeper, out, f"{indent}- ")
            else:
                out.append(f"{indent}- {{}}\n")
        elif kind is FlowMap:
            out.append(f"{indent}- {_flow_text(item)}\n")
        elif kind is list:
            raise _NotFast("nested list")
        elif isinstance(item, BaseModel):
            if kind not in _MODELS:
                _model_spec(kind)
            if kind in _rows:
                out.append(f"{indent}- {(_ROW.get(kind) or _row_writer(kind))(item)}\n")
            elif not (_BLOCK.get(kind) or _block_writer(kind))(item, out, f"{indent}- ", deeper):
                out.append(f"{indent}- {{}}\n")
        else:
            out.append(f"{indent}- {_plain_scalar(item)}\n")


def dumps_plain(data: Any, header: str = "") -> str:
    """:func:`dumps` of data that is already plain (``model_dump`` output),
    the same bytes, without walking it twice."""
    if type(data) is dict and data:
        out: list[str] = [header] if header else []
        try:
            _emit_plain_map(data, "", out, "")
            return "".join(out)
        except _NotFast:
            pass
    return dumps(data, header)


# ---------------------------------------------------------------- computed records, one walk
# ``dumps_model`` writes a model as ``dumps_plain(model.model_dump(mode="python",
# by_alias=True, exclude_none=True))`` would — the same bytes — walking the
# model itself instead of a dumped copy (~7 million scalars at city scale:
# the copy was a third of rendering). Models of the classes in ``rows`` are
# written as one-line rows (what ``FlowMap`` does to their dumps). A model
# whose class serializes in its own way (serializers, computed fields,
# extra fields) leaves the record to the plain path.

_MODELS: dict[type, tuple[tuple[str, str], ...]] = {}  # class → (field name, key written) of each field dumped
_rows: frozenset = frozenset()  # the classes written as rows by the dumps_model running


def _model_spec(cls: type) -> tuple[tuple[str, str], ...]:
    spec = _MODELS.get(cls)
    if spec is None:
        decorators = cls.__pydantic_decorators__
        if (decorators.field_serializers or decorators.model_serializers or decorators.computed_fields
                or cls.model_config.get("extra") == "allow"):
            raise _NotFast("own serialization")
        spec = _MODELS[cls] = tuple(
            (name, f.serialization_alias or f.alias or name)
            for name, f in cls.__pydantic_fields__.items() if not f.exclude
        )
    return spec


def _items(model: BaseModel, spec: Optional[tuple] = None) -> list[tuple[str, Any]]:
    """(key, value) of each field ``model_dump(by_alias=True, exclude_none=True)``
    keeps, in field order."""
    values = model.__dict__
    if model.__pydantic_extra__:
        raise _NotFast("extra fields")
    return [(key, value) for name, key in (spec or _MODELS[type(model)]) if (value := values[name]) is not None]


# Each model class gets its own writer, made once from its fields (Python
# source compiled here): a block writer puts one line per field that is not
# None into ``out`` — the key's text worked out once, the value's type tested
# where the loop above tested it, text, whole and decimal numbers, booleans,
# days, times and lists written inline (days and times as ``_scalar`` writes
# them), anything else (mappings, models) handed to that loop — and a row writer makes the ``{key: value, …}`` line of
# ``_flow_pairs``. Same bytes as the loop (tests), at about half its cost: a
# city's computed records are ~2 million lines.

_BLOCK: dict[type, Any] = {}  # class → writer(model, out, lead, indent) → lines written
_ROW: dict[type, Any] = {}  # class → writer(model) → "{key: value, …}"


def _writer(name: str, lines: list[str]) -> Any:
    scope = {
        "_NotFast": _NotFast, "st": _str_text.get, "ps": _plain_str, "ft": _float_text.get, "pf": _plain_float,
        "pairs": _emit_plain_pairs, "fs": _flow_str_text, "fo": _flow_str.get,
        "pmap": _emit_plain_map, "M": _MODELS, "Y": sys.modules[__name__], "BW": _BLOCK, "bw": _block_writer,
        "plist": _emit_plain_list, "D": dt.date, "DT": dt.datetime, "str": str, "int": int, "float": float, "bool": bool,
        "list": list,
    }
    exec(compile("\n".join(lines), f"<yamlwrite {name}>", "exec"), scope)  # noqa: S102 - our own source, from field names
    return scope["write"]


def _block_writer(cls: type) -> Any:
    """The block writer of model class ``cls`` (see above): each field's
    value tested first for the type its annotation names (a float field's
    value is a float: one test, not three), its line made by one f-string."""
    lines = [
        "def write(m, out, lead, indent):",
        "    if m.__pydantic_extra__:",
        "        raise _NotFast('extra fields')",
        "    d = m.__dict__",
        "    n = len(out)",
    ]
    fields = cls.__pydantic_fields__
    for name, key in _model_spec(cls):
        try:
            head = _plain_scalar(key) + ": "
        except _NotFast:
            head = None
        lines += [f"    v = d[{name!r}]", "    if v is not None:"]
        if head is not None:
            h = head.replace("{", "{{").replace("}", "}}")  # (in an f-string)
            branches = {  # type tested → the lines writing a value of it
                "str": ["x = st(v)", f"out.append(f'{{lead}}{h}{{x if x is not None else ps(v)}}\\n')"],
                "int": [f"out.append(f'{{lead}}{h}{{v}}\\n')"],
                "float": ["x = ft(v)", f"out.append(f'{{lead}}{h}{{x if x is not None else pf(v)}}\\n')"],
                "bool": [f"out.append(f'{{lead}}{h}{{\"true\" if v else \"false\"}}\\n')"],
                "D": [f"out.append(f'{{lead}}{h}{{v.isoformat()}}\\n')"],
                "DT": [f"out.append(f'{{lead}}{h}\"{{v:%Y-%m-%d %H:%M}}\"\\n')"],
                "list": ["if v:", f"    out.append(f'{{lead}}{h[:-1]}\\n')", "    plist(v, indent, out)",
                         "else:", f"    out.append(f'{{lead}}{h}[]\\n')"],
            }
            likely = _likely(fields[name].annotation) if name in fields else None
            lines.append("        t = type(v)")
            for i, test in enumerate(sorted(branches, key=lambda b: b != likely)):  # (stable: the rest as before)
                lines.append(f"        {'elif' if i else 'if'} t is {test}:")
                lines += [f"            {line}" for line in branches[test]]
            lines += [
                "        elif t is dict and v:",
                f"            out.append(lead + {head[:-1]!r} + '\\n')",
                "            deeper = indent + '  '",
                "            pmap(v, deeper, out, deeper)",
                "        elif t in M and t not in Y._rows:",
                f"            out.append(lead + {head[:-1]!r} + '\\n')",
                "            deeper = indent + '  '",
                "            if not (BW.get(t) or bw(t))(v, out, deeper, deeper):",
                f"                out[-1] = lead + {head!r} + '{{}}\\n'",
                "        else:",
                f"            pairs((({key!r}, v),), indent, out, lead)",
            ]
        else:  # a key the loop writes in its own way (or refuses)
            lines.append(f"        pairs((({key!r}, v),), indent, out, lead)")
        lines.append("        lead = indent")
    lines.append("    return len(out) - n")
    _BLOCK[cls] = found = _writer(f"{cls.__name__} block", lines)
    return found


_LIKELY = {str: "str", int: "int", float: "float", bool: "bool", dt.date: "D", dt.datetime: "DT", list: "list"}


def _likely(annotation: Any) -> Optional[str]:
    """The type test a field's values most likely pass: its annotation's
    type (``Optional`` left aside; ``list[…]`` is a list), else None."""
    import types
    import typing

    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        annotation = args[0] if len(args) == 1 else None
    return _LIKELY.get(typing.get_origin(annotation) or annotation)


def _row_writer(cls: type) -> Any:
    """The row writer of model class ``cls``: ``_flow_pairs`` of its fields."""
    lines = [
        "def write(m):",
        "    if m.__pydantic_extra__:",
        "        raise _NotFast('extra fields')",
        "    d = m.__dict__",
        "    p = []",
    ]
    for name, key in _model_spec(cls):
        lines += [f"    v = d[{name!r}]", "    if v is not None:"]
        if type(key) is not str or not _FLOW_KEY.fullmatch(key):
            lines.append("        raise _NotFast('flow row key')")
            continue
        lines += [
            "        t = type(v)",
            "        if t is int:",
            f"            p.append({key + ': '!r} + str(v))",
            "        elif t is float:",
            "            x = ft(v)",
            f"            p.append({key + ': '!r} + (x if x is not None else pf(v)))",
            "        elif t is str and fo(v):  # text seen to stand in a row as it is",
            f"            p.append({key + ': '!r} + v)",
            "        else:",
            f"            p.append({key + ': '!r} + fs(v))",
        ]
    lines.append("    return '{' + ', '.join(p) + '}'")
    _ROW[cls] = found = _writer(f"{cls.__name__} row", lines)
    return found


def _flow_str_text(value: Any) -> str:
    """A row's value other than a number: what ``_flow_pairs`` writes for it."""
    return _flow_pairs(((_FLOW_ROW_KEY, value),))[len(_FLOW_ROW_KEY) + 3 : -1]


_FLOW_ROW_KEY = "x"


def dumps_model(record: BaseModel, header: str = "", rows: frozenset = frozenset()) -> Optional[str]:
    """The text ``dumps_plain`` writes for the record's dump (see above), or
    None when the record needs the plain path."""
    global _rows
    before = _rows
    _rows = rows
    try:
        kind = type(record)
        _model_spec(kind)
        out: list[str] = [header] if header else []
        if not (_BLOCK.get(kind) or _block_writer(kind))(record, out, "", ""):
            return None
        return "".join(out)
    except (_NotFast, KeyError):
        return None
    finally:
        _rows = before


def dumps(data: Any, header: str = "") -> str:
    """YAML text of a record (a model or plain data), the same bytes whichever
    path writes it."""
    value = plain(data)
    if isinstance(value, dict) and value:
        out: list[str] = [header] if header else []
        try:
            _emit_map(value, "", out)
            return "".join(out)
        except _NotFast:
            pass
    return _pyyaml_dumps(value, header)


def dump_record(record: BaseModel, header: str = "") -> str:
    """A hand-editable record: defaults left out, model field order kept."""
    return dumps(record, header)


_UMASK = os.umask(0)
os.umask(_UMASK)


def write_atomic(path: Path | str, text: str | bytes) -> bool:
    """Write ``path`` via a temporary file and rename; return False when the
    content was already the same (the file is then not touched)."""
    path = Path(path)
    data = text.encode("utf-8") if isinstance(text, str) else text
    try:
        if path.read_bytes() == data:
            return False
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; a record is an ordinary file
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(exc, OSError) and exc.errno is not None and exc.filename in (None, tmp):
            # a folder where the file goes, a full disk: named by the file meant, not the
            # temporary one just removed (or nothing at all)
            raise type(exc)(exc.errno, exc.strerror, str(path)) from exc
        raise
    return True
