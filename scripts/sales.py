"""Monthly sales exports from the order system (``records/sales/<yyyy-mm>.csv``).

Columns: ``date,retailer,brand,quantity,amount`` — the order date, retailer
id, brand id, quantity in cartons (条) and amount in yuan. One row per order
line. Rows that cannot be read are reported with file and row and left out.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Iterator, NamedTuple

from .diagnostics import Diagnostic

COLUMNS = ("date", "retailer", "brand", "quantity", "amount")


class SaleRow(NamedTuple):
    date: dt.date
    retailer: str
    brand: str
    quantity: int
    amount: float


@dataclass
class SalesData:
    rows: list[SaleRow] = field(default_factory=list)
    # (file, line) of each row, parallel to rows: only kept for messages
    origin: list[tuple[str, int]] = field(default_factory=list)

    def __iter__(self) -> Iterator[SaleRow]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def read_sales_csv(data: bytes, rel: str, month: str, into: SalesData) -> list[Diagnostic]:
    """Append the readable rows of one monthly file to ``into``; return problems."""
    diags: list[Diagnostic] = []

    def err(line: int, column: int, fld: str, message: str, code: str) -> None:
        diags.append(Diagnostic(rel, line, column, fld, message, "error", code))

    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        err(line, 0, "", "销售文件不是 UTF-8 编码（可能是 GBK）：请用 UTF-8 另存 (file is not UTF-8)", "encoding")
        return diags
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        err(1, 0, "", "销售文件是空的，第一行应为表头 date,retailer,brand,quantity,amount (empty file)", "csv_header")
        return diags
    if tuple(h.strip() for h in header) != COLUMNS:
        err(
            1, 1, "",
            f"表头应为 {','.join(COLUMNS)}，读到的是 {','.join(header)} (expected columns {','.join(COLUMNS)})",
            "csv_header",
        )
        return diags
    year, mon = int(month[:4]), int(month[5:7])
    for lineno, row in enumerate(reader, start=2):
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(COLUMNS):
            err(lineno, 0, "", f"这一行有 {len(row)} 列，应为 {len(COLUMNS)} 列 (expected {len(COLUMNS)} columns)", "csv_row")
            continue
        d, retailer, brand, qty, amount = (c.strip() for c in row)
        try:
            day = dt.date.fromisoformat(d)
        except ValueError:
            err(lineno, 1, "date", f"日期 {d!r} 不对，应为 YYYY-MM-DD (bad date)", "csv_value")
            continue
        if (day.year, day.month) != (year, mon):
            err(lineno, 1, "date", f"日期 {d} 不在本文件的月份 {month} (date outside the file's month)", "csv_value")
            continue
        try:
            quantity = int(qty)
        except ValueError:
            err(lineno, 4, "quantity", f"数量 {qty!r} 应为整数（条）(quantity must be a whole number)", "csv_value")
            continue
        try:
            value = float(amount)
        except ValueError:
            err(lineno, 5, "amount", f"金额 {amount!r} 应为数字 (amount must be a number)", "csv_value")
            continue
        if quantity < 0 or value < 0:
            err(lineno, 4, "quantity", "数量和金额不能为负数 (negative quantity or amount)", "csv_value")
            continue
        if not retailer or not brand:
            err(lineno, 2, "retailer", "零售户和品牌不能为空 (retailer and brand are required)", "csv_value")
            continue
        into.rows.append(SaleRow(day, retailer, brand, quantity, value))
        into.origin.append((rel, lineno))
    return diags


def write_sales_csv(rows: list[SaleRow]) -> str:
    """The text of a monthly file, rows in a stable order."""
    out = io.StringIO(newline="")
    w = csv.writer(out, lineterminator="\n")
    w.writerow(COLUMNS)
    for r in sorted(rows):
        w.writerow((r.date.isoformat(), r.retailer, r.brand, r.quantity, f"{r.amount:.2f}"))
    return out.getvalue()
