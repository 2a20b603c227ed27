"""A fast YAML text emitter for generated records, byte-identical to
:func:`crmdocs.scripts.yamlwrite.dumps` on the same plain data.

The city-shaped demo office has ≈ 50,000 daily files; building a Pydantic
model and running PyYAML's emitter for each costs minutes. The block layout
of a record is simple (mappings, lists, scalars), so it is formatted here
directly; every scalar's text is asked from PyYAML itself (with the project's
Dumper) once and cached, so quoting rules cannot drift. A test compares the
output with ``dump_record(Model.model_validate(data))`` for every kind.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import yaml

from .yamlwrite import Dumper

_cache: dict[Any, str] = {}
# text PyYAML writes plain for sure: starts with a Chinese character and holds
# only Chinese, full-width punctuation, ASCII letters and digits; or a slug
# with a hyphen (never a number, boolean or null)
_PLAIN = re.compile(r"[\u4e00-\u9fff][\u4e00-\u9fff\u3000-\u303f\uff01-\uff5eA-Za-z0-9]*|[a-z][a-z0-9]*(?:-[a-z0-9]+)+")


def _scalar(value: Any) -> str:
    kind = type(value)
    if kind is str:
        if _PLAIN.fullmatch(value):
            return value
        if value.isdigit() and value.isascii():  # phone, licence and ID numbers: quoted
            return f'"{value}"'
    elif kind is int:
        return str(value)
    elif kind is dt.date:
        return value.isoformat()
    elif kind is dt.datetime:
        return f'"{value:%Y-%m-%d %H:%M}"'
    elif kind is dt.time:
        return f'"{value:%H:%M}"'
    key = (type(value), value)
    text = _cache.get(key)
    if text is None:
        if isinstance(value, str) and "\n" in value:
            raise ValueError("multi-line text is not supported by the fast emitter")
        out = yaml.dump({"x": value}, Dumper=Dumper, allow_unicode=True, sort_keys=False,
                        default_flow_style=False, width=1000, indent=2)
        text = out[3:-1]
        if len(_cache) < 500_000:
            _cache[key] = text
    return text


def _emit_map(data: dict, indent: str, out: list[str], first_prefix: str | None = None) -> None:
    prefix = first_prefix
    for key, value in data.items():
        lead = prefix if prefix is not None else indent
        prefix = None
        if isinstance(value, dict):
            if value:
                out.append(f"{lead}{key}:\n")
                _emit_map(value, indent + "  ", out)
            else:
                out.append(f"{lead}{key}: {{}}\n")
        elif isinstance(value, (list, tuple)):
            if value:
                out.append(f"{lead}{key}:\n")
                _emit_list(value, indent, out)
            else:
                out.append(f"{lead}{key}: []\n")
        else:
            out.append(f"{lead}{key}: {_scalar(value)}\n")


def _emit_list(items, indent: str, out: list[str]) -> None:
    for item in items:
        if isinstance(item, dict):
            if item:
                _emit_map(item, indent + "  ", out, first_prefix=f"{indent}- ")
            else:
                out.append(f"{indent}- {{}}\n")
        elif isinstance(item, (list, tuple)):
            raise ValueError("nested lists are not supported by the fast emitter")
        else:
            out.append(f"{indent}- {_scalar(item)}\n")


def dumps(data: dict, header: str = "") -> str:
    """YAML text of a plain record (dicts, lists, str, int, float, bool,
    date, datetime, time), as :func:`yamlwrite.dumps` writes it."""
    if not data:
        return header + "{}\n"
    out: list[str] = [header] if header else []
    _emit_map(data, "", out)
    return "".join(out)


__all__ = ["dumps", "dt"]
