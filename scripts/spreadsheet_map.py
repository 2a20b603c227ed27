"""The mapping file of an import: which spreadsheet column is which field.

Example (``examples/import/retailers.yaml``)::

    sheet: 档案            # the worksheet; default the first one
    header_row: 2          # the (last) header row; default: found by itself
    id: "r-{basic.licence_no}"
    columns:
      许可证号: {field: basic.licence_no, digits: 12}
      店名: basic.shop_name
      城网/农网: {field: basic.network, values: {城网: urban, 农网: rural}}
      客户经理: {field: management.manager, lookup: person}
    defaults:
      basic.location: other

Field paths are dotted (``basic.licence_no``) and must name a field of the
record kind; the file is checked like a record (line numbers, Chinese words).
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from crmdocs.schemas import common

from . import yamlio
from .diagnostics import CrmdocsError, Diagnostic
from .messages import explain

Scalar = Union[str, int, float, bool]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ColumnSpec(_Strict):
    field: str = Field(description="字段路径，如 basic.licence_no (dotted field path)")
    values: dict[str, Scalar] = Field(default_factory=dict, description="取值翻译，如 城网: urban (value translations)")
    lookup: Optional[Literal["person", "retailer"]] = Field(
        default=None, description="person：按姓名找人员编号；retailer：按许可证号或店名找零售户编号"
    )
    digits: Optional[int] = Field(default=None, ge=1, le=30, description="号码应有的位数，用来发现 Excel 去掉的开头 0")
    split: Optional[str] = Field(default=None, description="列表字段的分隔符，默认 、，, 和空格")


class Mapping(_Strict):
    kind: Optional[Literal["retailers", "targets", "surveys"]] = Field(default=None, description="记录种类（可省）")
    sheet: Optional[str] = Field(default=None, description="工作表名，默认第一个 (worksheet name)")
    header_row: Optional[int] = Field(default=None, ge=1, description="表头所在行（多行表头写最后一行），默认自动找")
    header_rows: int = Field(default=1, ge=1, le=5, description="表头占几行（合并的分组标题）")
    id: Optional[str] = Field(default=None, description="记录编号模板，如 r-{basic.licence_no}")
    columns: dict[str, Union[str, ColumnSpec]] = Field(min_length=1, description="列名 → 字段")
    defaults: dict[str, Any] = Field(default_factory=dict, description="表格里没有的字段的默认值")
    empty: list[str] = Field(default_factory=lambda: ["-", "—", "/", "／"], description="当作空白的占位符")

    def specs(self) -> dict[str, ColumnSpec]:
        return {
            header: spec if isinstance(spec, ColumnSpec) else ColumnSpec(field=spec)
            for header, spec in self.columns.items()
        }


# ---------------------------------------------------------------- field kinds


@dataclass(frozen=True)
class FieldKind:
    """What a field path holds, as far as converting a cell is concerned."""

    path: str
    category: str  # text phone licence slug period date datetime number int bool enum literal
    choices: tuple[Any, ...] = ()  # enum values / literal values
    enum: Optional[type] = None
    is_list: bool = False


_VALIDATORS = {
    common._phone: "phone",
    common._licence: "licence",
    common._slug: "slug",
    common._period: "period",
    common._date: "date",
    common._datetime: "datetime",
    common._clock: "text",
    common._text_only: "text",
}


def _unwrap(annotation: Any, metadata: list) -> tuple[Any, list, bool]:
    """Strip Optional/Annotated; return (base type, metadata, is_list)."""
    is_list = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            args = typing.get_args(annotation)
            annotation = args[0]
            metadata = [*metadata, *args[1:]]
        elif origin in (Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation, metadata, is_list
            annotation = args[0]
        elif origin is list:
            is_list = True
            annotation = typing.get_args(annotation)[0]
        else:
            return annotation, metadata, is_list


def field_kind(model: type[BaseModel], path: str) -> Optional[FieldKind]:
    """The kind of ``path`` (dotted) inside ``model``; None if there is no such field."""
    current: Any = model
    parts = path.split(".")
    for index, part in enumerate(parts):
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        info = current.model_fields.get(part)
        if info is None:  # an alias (e.g. "from")?
            info = next((f for f in current.model_fields.values() if f.alias == part), None)
            if info is None:
                return None
        base, metadata, is_list = _unwrap(info.annotation, list(info.metadata))
        if index < len(parts) - 1:
            if is_list:
                return None
            current = base
            continue
        if isinstance(base, type) and issubclass(base, BaseModel):
            return None  # a group of fields, not one value
        category = None
        for item in metadata:
            func = getattr(item, "func", None)
            if func in _VALIDATORS:
                category = _VALIDATORS[func]
                break
        choices: tuple[Any, ...] = ()
        enum_cls = None
        if typing.get_origin(base) is Literal:
            category, choices = "literal", typing.get_args(base)
        elif isinstance(base, type) and issubclass(base, enum.Enum):
            category, enum_cls = "enum", base
            choices = tuple(m.value for m in base)
        elif category is None:
            if base is bool:
                category = "bool"
            elif base is int:
                category = "int"
            elif base is float:
                category = "number"
            elif base is dt.datetime:
                category = "datetime"
            elif base is dt.date:
                category = "date"
            else:
                category = "text"
        return FieldKind(path, category, choices, enum_cls, is_list)
    return None


# ---------------------------------------------------------------- loading


def load_mapping(
    path: Path | str, model: type[BaseModel], extra_fields: tuple[str, ...] = (), what: Optional[str] = None,
) -> Mapping:
    """Read and check a mapping file; raise :class:`CrmdocsError` listing every problem.
    ``what``: the kind being imported — a mapping written for another kind says so
    in one line instead of one "no such field" per column."""
    path = Path(path)
    rel = str(path)
    try:
        text = yamlio.decode(path.read_bytes())
        raw = yamlio.parse(text)
    except FileNotFoundError:
        raise CrmdocsError(f"找不到对照文件 {path} (no such mapping file)") from None
    except yamlio.YamlProblem as problem:
        raise CrmdocsError(
            "对照文件读不了 (mapping file unreadable)",
            [Diagnostic(rel, problem.line, problem.column, "", problem.message, "error", problem.code)],
        ) from None
    if not isinstance(raw, dict):
        raise CrmdocsError(
            "对照文件应是一组“字段: 值” (mapping file must be a mapping)",
            [Diagnostic(rel, 1, 1, "", "应写 columns: 等字段 (expected a mapping)", "error", "not_mapping")],
        )
    tree = yamlio.compose(text)
    if what is not None and raw.get("kind") not in (None, what):
        where = yamlio.locate(tree, ("kind",))
        raise CrmdocsError("对照文件是给另一种记录用的 (the mapping is for another kind)", [Diagnostic(
            rel, where.line, where.column, where.field,
            f"这个对照文件是给 {raw.get('kind')} 用的，现在导入的是 {what}；"
            f"请用 examples/import/{what}.yaml 这样的 {what} 对照文件 (expected kind: {what}, found kind: {raw.get('kind')})",
            "error", "wrong_kind",
        )])
    try:
        mapping = Mapping.model_validate(raw)
    except ValidationError as exc:
        diags = []
        shown: set[tuple] = set()
        for error in exc.errors(include_url=False):
            loc = tuple(error["loc"])
            message = explain(error)
            if len(loc) >= 3 and loc[0] == "columns" and loc[2] in ("str", "ColumnSpec"):
                # a column is either "field.path" or {field: …}: one message, from the shape written
                given = raw.get("columns", {}).get(loc[1]) if isinstance(raw.get("columns"), dict) else None
                if isinstance(given, dict) and loc[2] == "str":
                    continue
                if not isinstance(given, dict):
                    loc, message = loc[:2], (
                        "应写字段路径（如 basic.shop_name）或 {field: 字段路径, values: {…}} "
                        "(expected a field path or a column spec)"
                    )
                loc = tuple(p for p in loc if p not in ("str", "ColumnSpec"))
            if (loc, message) in shown:
                continue
            shown.add((loc, message))
            where = yamlio.locate(tree, loc)
            diags.append(Diagnostic(rel, where.line, where.column, where.field, message, "error", error["type"]))
        raise CrmdocsError("对照文件有错误 (the mapping file has errors)", diags) from None
    diags = []

    def bad(loc: tuple, message: str, code: str) -> None:
        where = yamlio.locate(tree, loc)
        diags.append(Diagnostic(rel, where.line, where.column, where.field, message, "error", code))

    seen: dict[str, str] = {}
    for header, spec in mapping.specs().items():
        if spec.field in extra_fields:
            continue
        if field_kind(model, spec.field) is None:
            bad(("columns", header), _unknown_field(model, spec.field), "unknown_field")
        elif spec.field in seen:
            bad(("columns", header), f"字段 {spec.field} 已由列 “{seen[spec.field]}” 对应，不能对应两列 (field mapped twice)", "field_twice")
        seen.setdefault(spec.field, header)
    for key in mapping.defaults:
        if key not in extra_fields and field_kind(model, key) is None:
            bad(("defaults", key), _unknown_field(model, key), "unknown_field")
    if mapping.id is not None:
        for name in re.findall(r"\{([^}:]+)", mapping.id):
            if name not in extra_fields and field_kind(model, name) is None:
                bad(("id",), f"编号模板里的 {{{name}}} 不是字段 (unknown field in the id template)", "unknown_field")
    if diags:
        raise CrmdocsError("对照文件有错误 (the mapping file has errors)", diags)
    return mapping


def _unknown_field(model: type[BaseModel], path: str) -> str:
    head = path.split(".")[0]
    known = "、".join(model.model_fields)
    if head in model.model_fields:
        return f"没有字段 {path}；请对照记录的格式说明检查拼写 (no such field)"
    return f"没有字段 {path}；顶层字段有：{known} (no such field)"
