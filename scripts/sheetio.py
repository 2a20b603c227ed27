"""Spreadsheets in and out: a grid of cells read from .xlsx or .csv, and
tables written as deterministic .xlsx or .csv bytes.

Reading keeps each cell's *type* as the file stores it (a number cell stays a
number, so the importer can tell that Excel dropped a leading zero) and fills
merged ranges with their top-left value (a 客户经理 cell merged down over five
rows belongs to each of them). Writing gives the same bytes for the same
table: fixed document times, fixed zip entry times, no wall clock.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Sequence

from .diagnostics import CrmdocsError


def column_letter(index: int) -> str:
    """1 → A, 27 → AA (Excel's column names)."""
    out = ""
    while index > 0:
        index, rem = divmod(index - 1, 26)
        out = chr(65 + rem) + out
    return out


@dataclass
class Grid:
    """One sheet's cells: ``rows[r][c]`` (0-based) holds the value as stored."""

    name: str  # the file name as the user gave it (for messages)
    sheet: Optional[str]  # None for CSV
    rows: list[list[Any]] = field(default_factory=list)

    def where(self, row: int, column: int = 0) -> str:
        """Excel-style place of a 1-based row (and column): ``a.xlsx:Sheet1!D7``;
        a whole row is ``a.xlsx:Sheet1!7:7``."""
        cell = f"{column_letter(column)}{row}" if column else f"{row}:{row}"
        if self.sheet is None:
            return f"{self.name}:{cell}"
        return f"{self.name}:{self.sheet}!{cell}"

    def rows_where(self, first: int, last: int) -> str:
        """Excel-style rows ``a.xlsx:Sheet1!2:9``."""
        if first == last:
            return self.where(first)
        return f"{self.name}:{first}:{last}" if self.sheet is None else f"{self.name}:{self.sheet}!{first}:{last}"

    def value(self, row: int, column: int) -> Any:
        """Value at 1-based row and column, None outside the grid."""
        if 1 <= row <= len(self.rows):
            cells = self.rows[row - 1]
            if 1 <= column <= len(cells):
                return cells[column - 1]
        return None

    @property
    def width(self) -> int:
        return max((len(r) for r in self.rows), default=0)


def read_grid(path: Path | str, sheet: Optional[str] = None, display: Optional[str] = None) -> Grid:
    """Read ``path`` (.xlsx/.xlsm or .csv) into a :class:`Grid`."""
    path = Path(path)
    name = display or path.name
    if not path.is_file():
        raise CrmdocsError(f"找不到表格文件 {path} (no such file)")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet, name)
    if suffix in (".csv", ".txt"):
        return _read_csv(path.read_bytes(), name)
    if suffix == ".xls":
        raise CrmdocsError(
            f"{name}: 不支持旧的 .xls 格式，请在 Excel 里“另存为” .xlsx 或 .csv (old .xls files are not supported; save as .xlsx)"
        )
    raise CrmdocsError(f"{name}: 只能导入 .xlsx 或 .csv 文件 (expected an .xlsx or .csv file)")


def _read_xlsx(path: Path, sheet: Optional[str], name: str) -> Grid:
    import openpyxl

    try:
        # read_only: streams the sheet, ~3x faster than the full reader;
        # data_only: the cached result of a formula, not its text
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # a damaged or password-protected file
        raise CrmdocsError(f"{name}: 打不开这个 Excel 文件：{exc} (cannot open the workbook)") from None
    try:
        if sheet is None:
            ws = wb.worksheets[0]
        elif sheet in wb.sheetnames:
            ws = wb[sheet]
        else:
            raise CrmdocsError(
                f"{name}: 没有名为 “{sheet}” 的工作表，有：{'、'.join(wb.sheetnames)} (no such sheet)"
            )
        # the <dimension> some programs write is wrong: read every row as it is
        ws.reset_dimensions()
        rows = [list(r) for r in ws.iter_rows(min_row=1, min_col=1, values_only=True)]
        for min_col, min_row, max_col, max_row in _merged_ranges(ws):
            top = min_row - 1
            left = min_col - 1
            if top >= len(rows):
                continue
            head = rows[top][left] if left < len(rows[top]) else None
            for r in range(top, min(max_row, len(rows))):
                cells = rows[r]
                if len(cells) < max_col:
                    cells.extend([None] * (max_col - len(cells)))
                for c in range(left, max_col):
                    cells[c] = head
        return Grid(name, ws.title, rows)
    finally:
        wb.close()


_MERGE = re.compile(rb'<(?:[A-Za-z0-9_]+:)?mergeCell\b[^>]*?\bref="([A-Z]+[0-9]+:[A-Z]+[0-9]+)"')


def _merged_ranges(ws) -> list[tuple[int, int, int, int]]:
    """The merged ranges of a read-only worksheet (which openpyxl does not
    expose), from the sheet's own ``<mergeCell ref="A1:C1"/>`` elements."""
    from openpyxl.utils.cell import range_boundaries

    with ws._get_source() as src:
        data = src.read()
    return [range_boundaries(m.group(1).decode("ascii")) for m in _MERGE.finditer(data)]


def _read_csv(data: bytes, name: str) -> Grid:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes nearly anything
        raise CrmdocsError(f"{name}: 读不懂文件的编码，请用 UTF-8 另存 (unknown text encoding)")
    sample = text[:4096]
    try:
        dialect = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    rows = [[c if c != "" else None for c in row] for row in csv.reader(io.StringIO(text, newline=""), dialect)]
    return Grid(name, None, rows)


# ------------------------------------------------------------------ writing


@dataclass(frozen=True)
class Column:
    """One column of an exported table."""

    key: str
    header: str  # 中文 header
    kind: str = "text"  # text | int | number | percent | date | datetime
    width: Optional[float] = None  # characters; None = from the content
    decimals: int = 1


@dataclass
class Table:
    """Rows under Chinese headers, ready for .xlsx or .csv."""

    name: str  # sheet name
    title: str  # what the table is, for messages and the site
    columns: Sequence[Column]
    rows: list[dict[str, Any]] = field(default_factory=list)


FIXED_TIME = dt.datetime(2000, 1, 1)


def _display_width(text: str) -> float:
    # a CJK character is about two Latin characters wide in Excel's default font
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def _number_format(col: Column) -> Optional[str]:
    if col.kind == "int":
        return "0"
    if col.kind == "number":
        return "0." + "0" * col.decimals if col.decimals else "0"
    if col.kind == "percent":
        return "0." + "0" * col.decimals + "%" if col.decimals else "0%"
    if col.kind == "date":
        return "yyyy-mm-dd"
    if col.kind == "datetime":
        return "yyyy-mm-dd hh:mm"
    return None


def _shown(value: Any, col: Column) -> str:
    if value is None:
        return ""
    if col.kind == "percent" and isinstance(value, (int, float)):
        return f"{value * 100:.{col.decimals}f}%"
    if col.kind == "number" and isinstance(value, float):
        return f"{value:.{col.decimals}f}"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "是" if value else "否"
    return str(value)


class _FixedZip(zipfile.ZipFile):
    """A zip whose entries all carry one fixed time: same content, same bytes."""

    def writestr(self, zinfo_or_arcname, data, compress_type=None, compresslevel=None):  # noqa: D401
        if isinstance(zinfo_or_arcname, str):
            info = zipfile.ZipInfo(zinfo_or_arcname, date_time=FIXED_TIME.timetuple()[:6])
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zinfo_or_arcname = info
        return super().writestr(zinfo_or_arcname, data, compress_type, compresslevel)

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):  # noqa: D401
        # openpyxl writes each worksheet from a temporary file: its mtime is now
        with open(filename, "rb") as fh:
            data = fh.read()
        return self.writestr(arcname or Path(filename).name, data)


def xlsx_bytes(tables: Sequence[Table], when: dt.datetime = FIXED_TIME) -> bytes:
    """The tables as one workbook (one sheet each): Chinese headers in bold,
    the header row frozen, an auto-filter, widths from the content, numbers
    stored as numbers. ``when`` becomes the document's created/modified time
    (pass the computation's as-of day; never the wall clock)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.writer.excel import ExcelWriter

    wb = Workbook()
    wb.remove(wb.active)
    bold = Font(bold=True)
    for table in tables:
        ws = wb.create_sheet(_sheet_title(table.name))
        ws.append([c.header for c in table.columns])
        for cell in ws[1]:
            cell.font = bold
            cell.alignment = Alignment(vertical="center")
        for row in table.rows:
            ws.append([_cell_value(row.get(c.key), c) for c in table.columns])
        for index, col in enumerate(table.columns, start=1):
            fmt = _number_format(col)
            letter = column_letter(index)
            if fmt:
                for (cell,) in ws.iter_rows(min_row=2, min_col=index, max_col=index):
                    if cell.value is not None and not isinstance(cell.value, str):
                        cell.number_format = fmt
            width = col.width
            if width is None:
                longest = max(
                    [_display_width(col.header)] + [_display_width(_shown(r.get(col.key), col)) for r in table.rows[:2000]]
                )
                width = min(max(longest + 2, 6), 60)
            ws.column_dimensions[letter].width = width
        ws.freeze_panes = "A2"
        if table.rows:
            ws.auto_filter.ref = f"A1:{column_letter(len(table.columns))}{len(table.rows) + 1}"
    if not wb.worksheets:
        wb.create_sheet("Sheet1")
    wb.properties.creator = "crmdocs"
    wb.properties.created = when
    wb.properties.modified = when
    buffer = io.BytesIO()
    # ExcelWriter directly: openpyxl's save_workbook stamps "modified" with now()
    archive = _FixedZip(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    ExcelWriter(wb, archive).save()
    return buffer.getvalue()


def _sheet_title(name: str) -> str:
    bad = set("[]:*?/\\")
    clean = "".join("_" if ch in bad else ch for ch in name)
    return clean[:31] or "Sheet1"


def _cell_value(value: Any, col: Column) -> Any:
    if value is None:
        return None
    if isinstance(value, bool):
        return "是" if value else "否"
    if col.kind in ("int", "number", "percent") and isinstance(value, (int, float)):
        return value
    if col.kind == "date" and isinstance(value, dt.date):
        return value
    if col.kind == "datetime" and isinstance(value, dt.datetime):
        return value
    if isinstance(value, (int, float)) and col.kind == "text":
        return str(value)
    return _shown(value, col)


def csv_bytes(table: Table) -> bytes:
    """One table as UTF-8 CSV with a BOM (so Excel opens the Chinese right)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([c.header for c in table.columns])
    for row in table.rows:
        writer.writerow([_shown(row.get(c.key), c) for c in table.columns])
    return ("\ufeff" + out.getvalue()).encode("utf-8")

