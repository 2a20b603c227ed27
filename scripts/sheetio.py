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
import math
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
    (pass the computation's as-of day; never the wall clock).

    The workbook's XML is written directly (inline strings, one style per
    number format): openpyxl's cell objects cost ~10 µs a cell, 10 s for a
    city's 1 million cells of abnormal orders and tiers."""
    formats: dict[str, int] = {}  # number format → its style index (2, 3, …)
    sheets = []
    names: list[str] = []
    for table in tables:
        name = _sheet_title(table.name)
        names.append(name)
        sheets.append(_sheet_xml(table, formats))
    if not sheets:
        names.append("Sheet1")
        sheets.append(_sheet_xml(Table("Sheet1", "", [], []), formats))
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    buffer = io.BytesIO()
    with _FixedZip(buffer, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        zf.writestr("[Content_Types].xml", _content_types(len(sheets)))
        zf.writestr("_rels/.rels", _ROOT_RELS)
        zf.writestr("docProps/app.xml", _APP)
        zf.writestr("docProps/core.xml", _CORE.format(created=stamp, modified=stamp))
        zf.writestr("xl/workbook.xml", _workbook_xml(names, tables))
        zf.writestr("xl/_rels/workbook.xml.rels", _workbook_rels(len(sheets)))
        zf.writestr("xl/styles.xml", _styles_xml(formats))
        for i, xml in enumerate(sheets, start=1):
            zf.writestr(f"xl/worksheets/sheet{i}.xml", xml)
    return buffer.getvalue()


_NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_NS_R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_ROOT_RELS = (
    _HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>'
    '<Relationship Id="rId3" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties" Target="docProps/app.xml"/>'
    "</Relationships>"
)
_APP = (_HEAD + '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
        "<Application>crmdocs</Application></Properties>")
_CORE = (
    _HEAD + '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" xmlns:dcterms="http://purl.org/dc/terms/" '
    'xmlns:dcmitype="http://purl.org/dc/dcmitype/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">'
    "<dc:creator>crmdocs</dc:creator>"
    '<dcterms:created xsi:type="dcterms:W3CDTF">{created}</dcterms:created>'
    '<dcterms:modified xsi:type="dcterms:W3CDTF">{modified}</dcterms:modified>'
    "</cp:coreProperties>"
)
_EPOCH = dt.date(1899, 12, 30)  # Excel's day 0 (1900 date system)
# characters XML 1.0 cannot carry at all (openpyxl refused them too)
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def _content_types(n: int) -> str:
    sheets = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        for i in range(1, n + 1)
    )
    return (
        _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        f"{sheets}"
        '<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>'
        '<Override PartName="/docProps/app.xml" ContentType="application/vnd.openxmlformats-officedocument.extended-properties+xml"/>'
        "</Types>"
    )


def _workbook_xml(names: list[str], tables: Sequence[Table]) -> str:
    sheets = "".join(f'<sheet name="{_xml(n, True)}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(names, start=1))
    defined = "".join(
        f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
        f"{_xml(_quote_sheet(names[i]))}!$A$1:${column_letter(len(t.columns))}${len(t.rows) + 1}</definedName>"
        for i, t in enumerate(tables) if t.rows and t.columns
    )
    return (
        _HEAD + f"<workbook {_NS} {_NS_R}><workbookPr/><bookViews><workbookView activeTab=\"0\"/></bookViews>"
        f"<sheets>{sheets}</sheets>" + (f"<definedNames>{defined}</definedNames>" if defined else "") + "</workbook>"
    )


def _quote_sheet(name: str) -> str:
    return "'" + name.replace("'", "''") + "'"


def _workbook_rels(n: int) -> str:
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
        f'Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, n + 1)
    )
    return (
        _HEAD + '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' + rels
        + f'<Relationship Id="rId{n + 1}" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" '
        'Target="styles.xml"/></Relationships>'
    )


def _styles_xml(formats: dict[str, int]) -> str:
    # style 0: plain; 1: the bold, vertically centred header; 2…: one per number format
    num_fmts = "".join(f'<numFmt numFmtId="{164 + i}" formatCode="{_xml(code, True)}"/>' for i, code in enumerate(formats))
    xfs = "".join(
        f'<xf numFmtId="{164 + i}" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
        for i in range(len(formats))
    )
    return (
        _HEAD + f"<styleSheet {_NS}>"
        + (f'<numFmts count="{len(formats)}">{num_fmts}</numFmts>' if formats else "")
        + '<fonts count="2"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font>'
        '<font><b/><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
        '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>'
        '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
        '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
        f'<cellXfs count="{2 + len(formats)}"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
        '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1" applyAlignment="1">'
        f'<alignment vertical="center"/></xf>{xfs}</cellXfs>'
        '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
        "</styleSheet>"
    )


def _xml(text: str, attribute: bool = False) -> str:
    text = _ILLEGAL.sub("", text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return text.replace('"', "&quot;") if attribute else text


def _text_cell(ref: str, text: str, style: str = "") -> str:
    value = _xml(text)
    space = ' xml:space="preserve"' if value != value.strip() else ""
    return f'<c r="{ref}"{style} t="inlineStr"><is><t{space}>{value}</t></is></c>'


def _sheet_xml(table: Table, formats: dict[str, int]) -> str:
    columns = list(table.columns)
    letters = [column_letter(i) for i in range(1, len(columns) + 1)]
    styles = []
    for col in columns:
        fmt = _number_format(col)
        if fmt is not None and fmt not in formats:
            formats[fmt] = 2 + len(formats)
        styles.append(f' s="{formats[fmt]}"' if fmt is not None else "")
    out = [
        _HEAD, f"<worksheet {_NS} {_NS_R}>",
        f'<dimension ref="A1:{letters[-1] if letters else "A"}{len(table.rows) + 1}"/>',
        '<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
        '<selection pane="bottomLeft" activeCell="A2" sqref="A2"/></sheetView></sheetViews>',
        '<sheetFormatPr defaultRowHeight="15"/>',
    ]
    if columns:
        cols = []
        for index, col in enumerate(columns, start=1):
            width = col.width
            if width is None:
                longest = max(
                    [_display_width(col.header)] + [_display_width(_shown(r.get(col.key), col)) for r in table.rows[:2000]]
                )
                width = min(max(longest + 2, 6), 60)
            cols.append(f'<col min="{index}" max="{index}" width="{width:g}" customWidth="1"/>')
        out.append(f"<cols>{''.join(cols)}</cols>")
    out.append("<sheetData>")
    out.append('<row r="1">' + "".join(_text_cell(f"{letters[i]}1", c.header, ' s="1"') for i, c in enumerate(columns)) + "</row>")
    kinds = [(c.key, c, letters[i], styles[i]) for i, c in enumerate(columns)]
    for n, row in enumerate(table.rows, start=2):
        cells = []
        for key, col, letter, style in kinds:
            value = _cell_value(row.get(key), col)
            if value is None or value == "":
                continue  # an empty cell is no cell
            ref = f"{letter}{n}"
            if isinstance(value, str):
                cells.append(_text_cell(ref, value))
            elif isinstance(value, dt.datetime):
                serial = (value - dt.datetime.combine(_EPOCH, dt.time())).total_seconds() / 86400
                cells.append(f'<c r="{ref}"{style}><v>{serial!r}</v></c>')
            elif isinstance(value, dt.date):
                cells.append(f'<c r="{ref}"{style}><v>{(value - _EPOCH).days}</v></c>')
            elif isinstance(value, float) and not math.isfinite(value):
                cells.append(_text_cell(ref, _shown(value, col)))
            else:  # int or float (numpy's scalars have another repr)
                if isinstance(value, float):
                    number = str(int(value)) if value.is_integer() and abs(value) < 1e15 else float.__repr__(value)
                else:
                    number = int.__repr__(value)
                cells.append(f'<c r="{ref}"{style}><v>{number}</v></c>')
        out.append(f'<row r="{n}">{"".join(cells)}</row>')
    out.append("</sheetData>")
    if table.rows and columns:
        out.append(f'<autoFilter ref="A1:{letters[-1]}{len(table.rows) + 1}"/>')
    out.append('<pageMargins left="0.75" right="0.75" top="1" bottom="1" header="0.5" footer="0.5"/></worksheet>')
    return "".join(out)


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

