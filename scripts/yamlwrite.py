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
import tempfile
from pathlib import Path
from typing import Any

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
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


def dumps(data: Any, header: str = "") -> str:
    text = yaml.dump(
        plain(data), Dumper=Dumper, allow_unicode=True, sort_keys=False,
        default_flow_style=False, width=1000, indent=2,
    )
    return (header + text) if header else text


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
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return True
