"""Importing archive spreadsheets into records (retailers, targets, surveys).

``import_sheet(root, "retailers", "archive.xlsx", "map.yaml")`` reads the
sheet, turns each row into a record through the mapping file, validates it
with the record's own model and writes the valid ones where
``kinds.path_for`` says. A row that does not validate is reported with its
sheet, row and column (``archive.xlsx:Sheet1!D7: basic.licence_no: …``) and is
not written. A record that already exists is compared field by field: the
same → left alone (its file stays byte-identical); different → the
differences are shown, and the file is changed only with ``update=True`` —
by editing just the changed values in place (:mod:`yamlpatch`: comments,
layout and untouched values stay byte for byte); a change that is not a small
edit rewrites the file whole, and the report says its comments were lost.
"""

from __future__ import annotations

import codecs
import copy
import datetime as dt
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

from pydantic import BaseModel, Field, ValidationError

from crmdocs.schemas import Retailer, Survey, Targets
from crmdocs.schemas.common import Period, desc
from crmdocs.schemas.service import ManagerTarget

from . import kinds, yamlpatch, yamlwrite
from .diagnostics import CrmdocsError, Diagnostic
from .messages import explain
from .repository import load_file, parse_record
from .sheetio import Grid, column_letter, read_grid
from .spreadsheet_map import ColumnSpec, FieldKind, Mapping, field_kind, load_mapping
from .spreadsheet_values import MISSING, ZH_NAMES, Problem, convert, is_empty


class TargetRow(ManagerTarget):
    """One spreadsheet row of targets: a manager's targets in one period."""

    period: Period = Field(description=desc("期间", "period"))


@dataclass(frozen=True)
class ImportKind:
    name: str  # the command word: retailers | targets | surveys
    record_kind: str  # kinds.BY_NAME key
    row_model: type[BaseModel]
    label: str
    default_id: Optional[str] = None


IMPORT_KINDS: dict[str, ImportKind] = {
    "retailers": ImportKind("retailers", "retailer", Retailer, "零售户档案", "r-{basic.licence_no}"),
    "targets": ImportKind("targets", "targets", TargetRow, "销售目标"),
    "surveys": ImportKind("surveys", "survey", Survey, "走访报告单", "s-{period}-{retailer}"),
}


# ---------------------------------------------------------------- results


@dataclass
class Change:
    """One record the sheet creates or changes."""

    rel: str  # path relative to the repository root
    where: str  # the sheet row(s) it came from
    diffs: list[tuple[str, Any, Any]] = field(default_factory=list)  # (field, before, after)
    old_rel: Optional[str] = None  # when the record moves (e.g. another department)


@dataclass
class ImportResult:
    what: str
    dry_run: bool = False
    update: bool = False
    rows: int = 0  # data rows read (empty rows not counted)
    created: list[Change] = field(default_factory=list)
    updated: list[Change] = field(default_factory=list)
    pending: list[Change] = field(default_factory=list)  # differ, not written (no --update)
    unchanged: list[str] = field(default_factory=list)
    errors: list[Diagnostic] = field(default_factory=list)
    warnings: list[Diagnostic] = field(default_factory=list)
    bad_rows: set[int] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.pending

    def to_text(self, list_limit: int = 20) -> str:
        would = "将" if self.dry_run else "已"
        lines = [d.format() for d in self.errors]
        lines += [d.format() for d in self.warnings]
        for change in self.pending:
            lines.append(
                f"{change.rel}: 与表格（{change.where}）不同，加 --update 才会改写 "
                f"(differs from the sheet; rerun with --update to write)"
            )
            lines += _diff_lines(change)
        for change in self.updated:
            moved = f"（原在 {change.old_rel}）" if change.old_rel else ""
            lines.append(f"{would}更新 {change.rel}{moved} ← {change.where} (updated)")
            lines += _diff_lines(change)
        for change in self.created[:list_limit]:
            lines.append(f"{would}新建 {change.rel} ← {change.where} (created)")
        if len(self.created) > list_limit:
            lines.append(f"……另{would}新建 {len(self.created) - list_limit} 个文件 (and more)")
        if not self.created and not self.updated and not self.pending and not self.errors:
            lines.append(
                f"没有任何变化：表格里的 {len(self.unchanged)} 条记录与现有文件一致 (nothing to change)"
            )
        lines.append(
            f"读了 {self.rows} 行：{would}新建 {len(self.created)}，{would}更新 {len(self.updated)}，"
            f"没有变化 {len(self.unchanged)}，有差异未更新 {len(self.pending)}，出错 {len(self.bad_rows)} 行"
            f" (rows {self.rows}: created {len(self.created)}, updated {len(self.updated)}, "
            f"unchanged {len(self.unchanged)}, differing {len(self.pending)}, rows with errors {len(self.bad_rows)})"
            + ("；试运行，没有写任何文件 (dry run: nothing written)" if self.dry_run else "")
        )
        return "\n".join(lines)


def _show(value: Any) -> str:
    if value is None:
        return "（空）"
    if isinstance(value, str):
        return repr(value)
    return str(value)


def _diff_lines(change: Change) -> list[str]:
    return [f"    {name}: {_show(before)} → {_show(after)}" for name, before, after in change.diffs]


# ---------------------------------------------------------------- headers


def _header_text(value: Any) -> str:
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return re.sub(r"\s+", "", text)


@dataclass
class Layout:
    header_row: int  # the last header row (1-based)
    columns: dict[str, int]  # mapping header → 1-based column


def find_layout(grid: Grid, mapping: Mapping) -> Layout:
    """Where the header row is and which column each mapped header is in."""
    wanted = {_header_text(h): h for h in mapping.columns}
    if mapping.header_row is not None:
        header_row = mapping.header_row
    else:
        best, header_row = 0, 0
        for r in range(1, min(len(grid.rows), 30) + 1):
            texts = {_header_text(v) for v in grid.rows[r - 1]}
            hits = sum(1 for w in wanted if w in texts)
            if hits and hits >= best:  # ties → the lower row (the last header row)
                best, header_row = hits, r
        if not header_row:
            names = "、".join(mapping.columns)
            raise CrmdocsError(
                f"{grid.where(1)}: 前 30 行里找不到表头（{names}）；请检查对照文件的列名，或写 header_row"
                " (no header row found)"
            )
    if header_row > len(grid.rows):
        raise CrmdocsError(f"{grid.where(header_row)}: 表头行在表格之外 (header row beyond the sheet)")
    top = max(1, header_row - mapping.header_rows + 1)
    names: dict[int, tuple[str, str]] = {}  # column → (last part, full name)
    for c in range(1, grid.width + 1):
        parts: list[str] = []
        for r in range(top, header_row + 1):
            text = _header_text(grid.value(r, c))
            if text and text not in parts:
                parts.append(text)
        if parts:
            names[c] = (parts[-1], "/".join(parts))
    columns: dict[str, int] = {}
    problems: list[Diagnostic] = []
    for key, header in wanted.items():
        hits = [c for c, (last, full) in names.items() if key in (last, full)]
        if len(hits) > 1:
            exact = [c for c in hits if names[c][1] == key]
            hits = exact or hits
        if not hits:
            found = "、".join(full for _, full in names.values()) or "（空）"
            problems.append(Diagnostic(
                grid.where(header_row), 0, 0, "",
                f"表头里没有列 “{header}”；这一行的列名是：{found} (column not found)", "error", "no_column",
            ))
        elif len(hits) > 1:
            where = "、".join(column_letter(c) for c in hits)
            problems.append(Diagnostic(
                grid.where(header_row), 0, 0, "",
                f"列名 “{header}” 出现在 {where} 几列：请在对照文件里写“分组/列名”并设 header_rows (ambiguous column)",
                "error", "ambiguous_column",
            ))
        else:
            columns[header] = hits[0]
    if problems:
        raise CrmdocsError("表格的列与对照文件对不上 (the sheet's columns do not match the mapping)", problems)
    return Layout(header_row, columns)


# ---------------------------------------------------------------- lookups


def _retailer_paths(root: Path) -> dict[str, str]:
    """Retailer id → file (relative to root), by listing the folders only."""
    out: dict[str, str] = {}
    base = root / kinds.RECORDS / "retailers"
    if base.is_dir():
        for dept in sorted(os.listdir(base)):
            folder = base / dept
            if not folder.is_dir():
                continue
            for name in sorted(os.listdir(folder)):
                if name.endswith(".yaml") and not name.startswith("."):
                    out.setdefault(name[:-5], f"{kinds.RECORDS}/retailers/{dept}/{name}")
    return out


def _survey_paths(root: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    base = root / kinds.RECORDS / "surveys"
    if base.is_dir():
        for year in sorted(os.listdir(base)):
            folder = base / year
            if folder.is_dir():
                for name in sorted(os.listdir(folder)):
                    if name.endswith(".yaml") and not name.startswith("."):
                        out.setdefault(name[:-5], f"{kinds.RECORDS}/surveys/{year}/{name}")
    return out


_LICENCE_LINE = re.compile(r"""^\s*licence_no:\s*["']?([0-9A-Za-z]+)["']?\s*(?:#.*)?$""", re.M)


class Lookups:
    """People and retailers of the repository, read only when needed."""

    def __init__(self, root: Path):
        self.root = root
        self._people: Optional[dict[str, Any]] = None
        self._retailers: Optional[dict[str, Any]] = None
        self._paths: Optional[dict[str, str]] = None
        self._licences: Optional[dict[str, list[str]]] = None

    @property
    def people(self) -> dict[str, Any]:
        if self._people is None:
            self._people = {}
            base = self.root / kinds.RECORDS / "people"
            if base.is_dir():
                for name in sorted(os.listdir(base)):
                    if name.endswith(".yaml"):
                        loaded = load_file(self.root, f"{kinds.RECORDS}/people/{name}")
                        if loaded.record is not None:
                            self._people[loaded.record.id] = loaded.record
        return self._people

    @property
    def retailers(self) -> dict[str, Any]:
        if self._retailers is None:
            self._retailers = {}
            for rid, rel in self.retailer_paths.items():
                loaded = load_file(self.root, rel)
                if loaded.record is not None:
                    self._retailers[rid] = loaded.record
        return self._retailers

    def person(self, value: str) -> Any:
        if value in self.people:
            return value
        hits = sorted(pid for pid, p in self.people.items() if p.name == value)
        if not hits:  # 钟 俊: a name padded with spaces in its cell to line up with three-character ones
            squeezed = "".join(value.split())
            hits = sorted(pid for pid, p in self.people.items() if "".join(p.name.split()) == squeezed)
        if len(hits) == 1:
            return hits[0]
        if hits:
            return Problem(
                f"有 {len(hits)} 位人员叫 {value}（{'、'.join(hits)}），请在表格里写人员编号 (ambiguous name)",
                "ambiguous_person",
            )
        return Problem(f"找不到人员 “{value}”：records/people/ 里没有这个姓名或编号 (no such person)", "unknown_person")

    @property
    def retailer_paths(self) -> dict[str, str]:
        if self._paths is None:
            self._paths = _retailer_paths(self.root)
        return self._paths

    @property
    def licences(self) -> dict[str, list[str]]:
        """Licence number → retailer ids, from a quick scan of the files' text
        (a city's 20,000 archives in well under a second; a match is then
        confirmed by reading that one record)."""
        if self._licences is None:
            self._licences = {}
            for rid, rel in self.retailer_paths.items():
                try:
                    text = (self.root / rel).read_text(encoding="utf-8-sig")
                except (OSError, UnicodeDecodeError):
                    continue
                m = _LICENCE_LINE.search(text)
                if m:
                    self._licences.setdefault(m.group(1), []).append(rid)
        return self._licences

    def retailer(self, value: str) -> Any:
        if value in self.retailer_paths:
            return value
        by_licence = sorted(self.licences.get(value, []))
        if len(by_licence) == 1:
            return by_licence[0]
        by_name = [] if by_licence else sorted(rid for rid, r in self.retailers.items() if r.basic.shop_name == value)
        if len(by_name) == 1:
            return by_name[0]
        if by_licence or by_name:
            hits = by_licence or by_name
            return Problem(
                f"有 {len(hits)} 个零售户对得上 “{value}”（{'、'.join(hits)}），请写零售户编号或许可证号 (ambiguous retailer)",
                "ambiguous_retailer",
            )
        return Problem(f"找不到零售户 “{value}”：没有这个编号、许可证号或店名 (no such retailer)", "unknown_retailer")


# ---------------------------------------------------------------- rows → data


def set_path(data: dict, path: str, value: Any) -> None:
    parts = path.split(".")
    for part in parts[:-1]:
        data = data.setdefault(part, {})
    data[parts[-1]] = value


def _copy_tree(data: dict) -> dict:
    """A copy of the nested dicts (leaves shared): enough to add fields safely."""
    return {k: _copy_tree(v) if isinstance(v, dict) else v for k, v in data.items()}


def get_path(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return MISSING
        data = data[part]
    return data


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """Nested dicts → {"basic.licence_no": …}; lists stay whole values."""
    if isinstance(data, dict) and (data or not prefix):
        out: dict[str, Any] = {}
        for key, value in data.items():
            out.update(flatten(value, f"{prefix}.{key}" if prefix else str(key)))
        return out
    return {prefix: data}


def diff(before: BaseModel, after: BaseModel) -> list[tuple[str, Any, Any]]:
    """Field differences between two records, by dotted path."""
    a = flatten(before.model_dump(mode="json", by_alias=True))
    b = flatten(after.model_dump(mode="json", by_alias=True))
    return [(k, a.get(k), b.get(k)) for k in sorted(set(a) | set(b), key=_path_order(a, b)) if a.get(k) != b.get(k)]


def _path_order(a: dict, b: dict) -> Callable[[str], Any]:
    order = {k: i for i, k in enumerate([*a, *(k for k in b if k not in a)])}
    return lambda k: order[k]


def render_id(template: str, data: dict) -> Any:
    """``r-{basic.licence_no}`` → ``r-510802104567`` (lowercase, safe for a file name)."""
    missing: list[str] = []

    def one(m: re.Match) -> str:
        value = get_path(data, m.group(1))
        if value is MISSING or value is None:
            missing.append(m.group(1))
            return ""
        fmt = m.group(2)
        if fmt and isinstance(value, (dt.date, int, float)):
            return format(value, fmt)
        return value.isoformat() if isinstance(value, dt.date) else str(value)

    text = re.sub(r"\{([^}:]+)(?::([^}]*))?\}", one, template)
    if missing:
        return Problem(
            f"编号模板 {template} 需要 {'、'.join(missing)}，这一行没有 (the id template needs a value this row lacks)",
            "id_missing",
        )
    text = unicodedata.normalize("NFKC", text).lower()
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text)).strip("-")


@dataclass
class Row:
    number: int  # 1-based sheet row
    data: dict  # nested field data from the sheet
    given: list[str]  # field paths the sheet gave values for
    bad: tuple[str, ...] = ()  # field paths whose cells were wrong (reported): the row is checked, never imported


# a field filled from another when the sheet leaves it out (``Importer.enrich``): while the other
# field's cell is wrong, the missing one is no mistake of its own
DERIVED = {"management.department": "management.manager"}


class Importer:
    def __init__(self, root: Path, kind: ImportKind, mapping: Mapping, grid: Grid, mapping_rel: str,
                 update: bool, dry_run: bool, extra_defaults: Optional[dict[str, Any]] = None):
        self.root = root
        self.kind = kind
        self.mapping = mapping
        self.grid = grid
        self.mapping_rel = mapping_rel
        self.specs = mapping.specs()
        self.defaults = {**mapping.defaults, **(extra_defaults or {})}
        self.lookups = Lookups(root)
        self.result = ImportResult(kind.name, dry_run=dry_run, update=update)
        self.writes: list[tuple[str, str]] = []  # (rel, text), written at the end
        self.removals: list[str] = []  # files of records that moved
        self.layout = find_layout(grid, mapping)
        self.field_column = {spec.field: self.layout.columns[h] for h, spec in self.specs.items()}
        self.kinds = {spec.field: field_kind(kind.row_model, spec.field) for spec in self.specs.values()}

    # -- reporting
    def error(self, row: int, path: str, message: str, code: str) -> None:
        column = self.column_of(path)
        self.result.errors.append(Diagnostic(self.grid.where(row, column), 0, 0, path, message, "error", code))
        self.result.bad_rows.add(row)

    def column_of(self, path: str) -> int:
        best = ""
        for fld in self.field_column:
            if (path == fld or path.startswith(fld + ".") or path.startswith(fld + "[")) and len(fld) > len(best):
                best = fld
        return self.field_column.get(best, 0)

    def row_where(self, row: int) -> str:
        return self.grid.where(row)

    # -- reading
    def rows(self) -> list[Row]:
        markers = set(self.mapping.empty)
        out: list[Row] = []
        for number in range(self.layout.header_row + 1, len(self.grid.rows) + 1):
            cells = {h: self.grid.value(number, c) for h, c in self.layout.columns.items()}
            if all(is_empty(v, markers) for v in cells.values()):
                continue  # an empty row (or one with only unmapped notes)
            self.result.rows += 1
            data: dict = {}
            given: list[str] = []
            bad: list[str] = []
            for header, spec in self.specs.items():
                kind = self.kinds.get(spec.field) or FieldKind(spec.field, "text")
                value = convert(cells[header], kind, spec, markers)
                if value is not MISSING and not isinstance(value, Problem) and spec.lookup:
                    value = self.lookup(spec, value)
                if isinstance(value, Problem):
                    self.error(number, spec.field, value.message, value.code)
                    bad.append(spec.field)
                    continue
                if value is MISSING:
                    continue
                set_path(data, spec.field, value)
                given.append(spec.field)
            # a row with a wrong cell is still checked field by field, so all its mistakes are
            # reported at once (a mistyped manager used to hide the rest); it is never imported
            out.append(Row(number, data, given, tuple(bad)))
        return out

    def lookup(self, spec: ColumnSpec, value: Any) -> Any:
        values = value if isinstance(value, list) else [value]
        found = []
        for v in values:
            got = self.lookups.person(str(v)) if spec.lookup == "person" else self.lookups.retailer(str(v))
            if isinstance(got, Problem):
                return got
            found.append(got)
        return found if isinstance(value, list) else found[0]

    def with_defaults(self, data: dict) -> dict:
        out = _copy_tree(data)
        for path, value in self.defaults.items():
            if get_path(out, path) is MISSING:
                set_path(out, path, copy.deepcopy(value))
        return out

    def validate(self, row: Row, data: dict, model: type[BaseModel], skip: tuple[str, ...] = ()) -> Optional[BaseModel]:
        """The row's record, or None after reporting its errors. A row with wrong cells
        (``row.bad``, reported already) gives None, with the errors of its other fields."""
        skip = (*row.bad, *skip)
        try:
            record = model.model_validate(data)
        except ValidationError as exc:
            for error in exc.errors(include_url=False):
                path = _loc_text(error["loc"])
                if any(path == b or path.startswith((b + ".", b + "[")) for b in skip) or (
                        error["type"] == "missing" and DERIVED.get(path) in row.bad):
                    continue  # follows from a cell reported already
                message = self.choices_message(path, error) or explain(error)
                if self.column_of(path) == 0 and path in self.defaults:
                    message += f"（这个值来自对照文件 {self.mapping_rel} 的 defaults）"
                self.error(row.number, path, message, error["type"])
            return None
        return None if row.bad else record

    def choices_message(self, path: str, error: dict) -> Optional[str]:
        """For a value outside a list: the words the sheet may use, in Chinese."""
        if error["type"] not in ("enum", "literal_error"):
            return None
        kind = self.kinds.get(path)
        spec = next((sp for sp in self.specs.values() if sp.field == path), None)
        if kind is None or spec is None:
            return None
        words = list(spec.values)
        if kind.enum is not None:
            words += [w for w in ZH_NAMES.get(kind.enum, {}) if w not in words]
        elif kind.category == "literal":
            words += [str(c) for c in kind.choices if str(c) not in words]
        if not words:
            return None
        found = error.get("input")
        return f"“{found}” 不是可选的值，可填：{'、'.join(words)} (not one of the allowed values)"

    # -- one record per row (retailers, surveys)
    def run_records(self) -> None:
        kind = kinds.BY_NAME[self.kind.record_kind]
        existing_paths = self.lookups.retailer_paths if self.kind.name == "retailers" else _survey_paths(self.root)
        template = self.mapping.id or self.kind.default_id
        seen: dict[str, int] = {}
        for row in self.rows():
            data = row.data
            if "id" not in row.given:
                rid = render_id(template, self.with_defaults(data))
                if isinstance(rid, Problem):
                    if row.bad:  # the id's cell is among the wrong ones: check the other fields without it
                        data = self.with_defaults(data)
                        self.enrich(data)
                        self.validate(row, data, kind.model, skip=("id",))
                    else:
                        self.error(row.number, _template_field(template, data), rid.message, rid.code)
                    continue
                if self.kind.name == "retailers" and rid not in existing_paths:
                    rid = self.same_licence(row, data, rid)
                    if rid is None:
                        continue
                data = {"id": rid, **data}
            rid = str(data["id"])
            if rid in seen:
                self.error(
                    row.number, "id",
                    f"与第 {seen[rid]} 行是同一条记录（编号 {rid}），这一行不导入，请删去或合并到第 {seen[rid]} 行 (same record as row {seen[rid]})",
                    "duplicate_row",
                )
                continue
            if not row.bad:
                seen[rid] = row.number
            old_rel = existing_paths.get(rid)
            old = None
            if old_rel is not None:
                loaded = load_file(self.root, old_rel)
                if loaded.record is None:
                    first = loaded.diagnostics[0].format() if loaded.diagnostics else old_rel
                    self.error(
                        row.number, "id",
                        f"已有的记录 {old_rel} 本身有错误，请先改好它：{first} (the existing record has errors)",
                        "existing_invalid",
                    )
                    continue
                old = loaded.record
                merged = yamlwrite.plain(old)
                for path in row.given:
                    set_path(merged, path, copy.deepcopy(get_path(data, path)))
                for path, value in self.defaults.items():
                    if get_path(merged, path) is MISSING:
                        set_path(merged, path, copy.deepcopy(value))
                if "management.manager" in row.given and "management.department" not in row.given \
                        and "management.department" not in self.defaults:
                    # a new customer manager from another department moves the retailer
                    merged.get("management", {}).pop("department", None)
                    self.enrich(merged)
                    if get_path(merged, "management.department") is MISSING:
                        set_path(merged, "management.department", old.management.department)
                data = merged
            else:
                data = self.with_defaults(data)
                self.enrich(data)
            record = self.validate(row, data, kind.model)
            if record is None:
                continue
            self.place(kind, record, old, old_rel, self.row_where(row.number))

    def same_licence(self, row: Row, data: dict, rid: str) -> Optional[str]:
        """An archive already kept under another id (e.g. ``r-00363``) is the
        same retailer when its licence number is the same: never a duplicate."""
        licence = get_path(data, "basic.licence_no")
        if not isinstance(licence, str):
            return rid
        hits = sorted(self.lookups.licences.get(licence, []))
        if len(hits) > 1:
            self.error(
                row.number, "basic.licence_no",
                f"已有 {len(hits)} 份档案用许可证号 {licence}（{'、'.join(hits)}），请在表格里加编号列 (licence number used twice)",
                "duplicate_licence",
            )
            return None
        return hits[0] if hits else rid

    def enrich(self, data: dict) -> None:
        """Fill what the repository already knows: a retailer's department is
        its customer manager's unit."""
        if self.kind.name != "retailers":
            return
        manager = get_path(data, "management.manager")
        if get_path(data, "management.department") is MISSING and isinstance(manager, str):
            person = self.lookups.people.get(manager)
            if person is not None:
                set_path(data, "management.department", person.unit)

    def place(self, kind: kinds.Kind, record: BaseModel, old: Optional[BaseModel], old_rel: Optional[str], where: str) -> None:
        rel = f"{kinds.RECORDS}/{kinds.path_for(kind.name, record)}"
        if old is not None:
            changes = diff(old, record)
            if not changes and rel == old_rel:
                self.result.unchanged.append(rel)
                return
            change = Change(rel, where, changes, old_rel if old_rel != rel else None)
            if not self.result.update:
                self.result.pending.append(change)
                return
            if self.write(kind, rel, record, where, old_rel, [name for name, _, _ in changes]):
                if change.old_rel:
                    self.removals.append(change.old_rel)
                self.result.updated.append(change)
            return
        if self.write(kind, rel, record, where):
            self.result.created.append(Change(rel, where))

    def write(self, kind: kinds.Kind, rel: str, record: BaseModel, where: str,
              old_rel: Optional[str] = None, paths: Optional[list] = None) -> bool:
        m = kind.match(rel[len(kinds.RECORDS) + 1 :])
        if old_rel is not None and paths is not None:
            text = self.patched(kind, rel, m, record, old_rel, paths)
            if text is not None:
                self.writes.append((rel, text))
                return True
            self.result.warnings.append(Diagnostic(
                old_rel, 0, 0, "", "这个文件只能整个重写，文件里的注释和排版没有保留"
                " (rewritten whole: its comments and layout were not kept)", "warning", "rewritten",
            ))
        text = yamlwrite.dump_record(record)
        # read it back the way `crmdocs validate` will: never leave a file it rejects
        loaded = parse_record(rel, kind, m, text.encode("utf-8"))
        if loaded.record is None or loaded.diagnostics:
            for d in loaded.diagnostics:
                self.result.errors.append(Diagnostic(where, 0, 0, d.field, d.message, "error", d.code))
            return False
        self.writes.append((rel, text))
        return True

    def patched(self, kind: kinds.Kind, rel: str, m: Any, record: BaseModel, old_rel: str,
                paths: list) -> Optional[str]:
        """The existing file with only the changed values edited (comments,
        layout and untouched values kept byte for byte), or None when the
        change is not a small edit or the edited text would not read back as
        ``record``."""
        try:
            data = (self.root / old_rel).read_bytes()
            original = data.decode("utf-8-sig")
        except (OSError, UnicodeDecodeError):
            return None
        full = yamlwrite.plain(record.model_dump(mode="python", by_alias=True))
        try:
            text = yamlpatch.patch(original, paths, full, yamlwrite.plain(record))
        except yamlpatch.NotPatchable:
            return None
        if data.startswith(codecs.BOM_UTF8):
            text = "\ufeff" + text
        loaded = parse_record(rel, kind, m, text.encode("utf-8"))
        if loaded.record != record or any(d.severity == "error" for d in loaded.diagnostics):
            return None
        return text

    def flush(self) -> None:
        """Write the files (each atomically). Threads overlap the disk syncs:
        ~4× faster for thousands of small files on this kind of machine."""
        if self.result.dry_run:
            return
        from concurrent.futures import ThreadPoolExecutor

        def one(item: tuple[str, str]) -> Optional[str]:
            rel, text = item
            try:
                yamlwrite.write_atomic(self.root / rel, text)
            except OSError as exc:
                return f"{rel}: 写不进去：{exc.strerror} (cannot write)"
            return None

        with ThreadPoolExecutor(max_workers=16) as pool:
            failures = [f for f in pool.map(one, self.writes) if f]
        for rel in self.removals:
            (self.root / rel).unlink(missing_ok=True)
        if failures:
            raise CrmdocsError("有文件没有写成 (some files could not be written)", [
                Diagnostic(f.split(":", 1)[0], 0, 0, "", f.split(": ", 1)[1], "error", "write_failed") for f in failures
            ])

    # -- targets: rows grouped into one file per period
    def run_targets(self) -> None:
        kind = kinds.BY_NAME["targets"]
        by_period: dict[str, list[tuple[Row, ManagerTarget]]] = {}
        seen: dict[tuple[str, str], int] = {}
        for row in self.rows():
            data = self.with_defaults(row.data)
            line = self.validate(row, data, TargetRow)
            if line is None:
                continue
            key = (line.period, line.manager)
            if key in seen:
                self.error(
                    row.number, "manager",
                    f"{line.manager} 在 {line.period} 的目标与第 {seen[key]} 行重复，这一行不导入，请删去或合并到第 {seen[key]} 行 (duplicate row)",
                    "duplicate_row",
                )
                continue
            if line.manager not in self.lookups.people and self.lookups.people:
                self.error(row.number, "manager", f"找不到客户经理 {line.manager} (no such customer manager)", "unknown_person")
                continue
            seen[key] = row.number
            target = ManagerTarget(**line.model_dump(exclude={"period"}))
            by_period.setdefault(line.period, []).append((row, target))
        for period, items in sorted(by_period.items()):
            rel = f"{kinds.RECORDS}/targets/{period}.yaml"
            rows = [r.number for r, _ in items]
            where = self.grid.rows_where(min(rows), max(rows))
            old = None
            if (self.root / rel).exists():
                loaded = load_file(self.root, rel)
                if loaded.record is None:
                    first = loaded.diagnostics[0].format() if loaded.diagnostics else rel
                    self.result.errors.append(Diagnostic(
                        where, 0, 0, "", f"已有的目标文件 {rel} 本身有错误，请先改好它：{first} (existing file has errors)",
                        "error", "existing_invalid",
                    ))
                    self.result.bad_rows.update(rows)
                    continue
                old = loaded.record
            lines = list(old.targets) if old else []
            position = {t.manager: i for i, t in enumerate(lines)}
            for _, target in items:
                if target.manager in position:
                    lines[position[target.manager]] = target
                else:
                    position[target.manager] = len(lines)
                    lines.append(target)
            record = Targets(period=period, targets=lines)
            if old is None:
                if self.write(kind, rel, record, where):
                    self.result.created.append(Change(rel, where))
                continue
            changes = _target_diff(old, record)
            if not changes:
                self.result.unchanged.append(rel)
            elif not self.result.update:
                self.result.pending.append(Change(rel, where, changes))
            elif self.write(kind, rel, record, where, rel, _target_paths(changes, position)):
                self.result.updated.append(Change(rel, where, changes))


def _target_diff(before: Targets, after: Targets) -> list[tuple[str, Any, Any]]:
    a = {t.manager: t for t in before.targets}
    out = []
    for t in after.targets:
        old = a.get(t.manager)
        if old is None:
            out.append((f"targets[{t.manager}]", None, f"销量 {t.sales:g}，重点品牌 {t.key_brands:g}"))
            continue
        for name in ("sales", "key_brands"):
            if getattr(old, name) != getattr(t, name):
                out.append((f"targets[{t.manager}].{name}", getattr(old, name), getattr(t, name)))
    return out


def _target_paths(changes: list[tuple[str, Any, Any]], position: dict[str, int]) -> list[tuple]:
    """``targets[cm-x].sales`` → ``("targets", 3, "sales")`` for :mod:`yamlpatch`
    (a new manager: ``("targets", 9)``, the whole item)."""
    out: list[tuple] = []
    for name, _, _ in changes:
        m = re.fullmatch(r"targets\[(.+?)\](?:\.(\w+))?", name)
        if m is None:
            continue
        out.append(("targets", position[m.group(1)], *([m.group(2)] if m.group(2) else [])))
    return out


def _loc_text(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", str(part)):
            out += ("." if out else "") + str(part)
    return out


def _template_field(template: str, data: dict) -> str:
    for name in re.findall(r"\{([^}:]+)", template):
        if get_path(data, name) is MISSING:
            return name
    return "id"


# ---------------------------------------------------------------- entry point


def import_sheet(
    root: Path | str,
    what: str,
    sheet_path: Path | str,
    mapping_path: Path | str,
    update: bool = False,
    dry_run: bool = False,
    defaults: Optional[dict[str, Any]] = None,
    sheet: Optional[str] = None,
) -> ImportResult:
    """Import one sheet; raise :class:`CrmdocsError` for problems with the
    mapping or the sheet as a whole, report row problems in the result."""
    if what not in IMPORT_KINDS:
        raise CrmdocsError(f"不能导入 {what}，只能导入 {'、'.join(IMPORT_KINDS)} (unknown import kind)")
    kind = IMPORT_KINDS[what]
    root = Path(root)
    mapping = load_mapping(mapping_path, kind.row_model, what=what)
    if mapping.kind is not None and mapping.kind != what:
        raise CrmdocsError(
            f"{mapping_path}: 这个对照文件是给 {mapping.kind} 用的，现在导入的是 {what} (mapping is for another kind)"
        )
    if sheet is not None:
        mapping = mapping.model_copy(update={"sheet": sheet})
    grid = read_grid(sheet_path, mapping.sheet)
    importer = Importer(root, kind, mapping, grid, str(mapping_path), update, dry_run, defaults)
    if what == "targets":
        importer.run_targets()
    else:
        importer.run_records()
    importer.flush()
    importer.result.errors.sort(key=lambda d: _sheet_order(d.path))
    return importer.result


def _sheet_order(where: str) -> tuple:
    m = re.search(r"([A-Z]*)(\d+)(?::\d+)?$", where)
    if not m:
        return (0, 0, where)
    letters = m.group(1)
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return (int(m.group(2)), col, where)
