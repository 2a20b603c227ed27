"""Periods of the appraisal: months ``2026-09``, quarters ``2026-Q3`` and years ``2026``.

The one place that turns a period label into its first and last day and
knows which months a quarter or a year holds.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from typing import Iterable

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")
_QUARTER = re.compile(r"^(\d{4})-Q([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")


def month_of(day: dt.date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def quarter_of(month: str) -> str:
    return f"{month[:4]}-Q{(int(month[5:7]) - 1) // 3 + 1}"


def year_of(month: str) -> str:
    return month[:4]


def kind(period: str) -> str:
    """``month``, ``quarter`` or ``year``; ValueError for anything else."""
    if _MONTH.match(period):
        return "month"
    if _QUARTER.match(period):
        return "quarter"
    if _YEAR.match(period):
        return "year"
    raise ValueError(f"期间 {period!r} 不对，应为月 2026-09、季度 2026-Q3 或年 2026 (expected a period)")


def months(period: str) -> list[str]:
    """The months a period holds, in order."""
    k = kind(period)
    if k == "month":
        return [period]
    year = int(period[:4])
    if k == "quarter":
        q = int(period[-1])
        return [f"{year:04d}-{m:02d}" for m in range(3 * q - 2, 3 * q + 1)]
    return [f"{year:04d}-{m:02d}" for m in range(1, 13)]


def bounds(period: str) -> tuple[dt.date, dt.date]:
    """First and last day of the period."""
    ms = months(period)
    first = dt.date(int(ms[0][:4]), int(ms[0][5:7]), 1)
    y, m = int(ms[-1][:4]), int(ms[-1][5:7])
    last = dt.date(y, m, calendar.monthrange(y, m)[1])
    return first, last


def containing(month_list: Iterable[str]) -> list[str]:
    """Every month, quarter and year touched by ``month_list``: months first,
    then quarters, then years, each in time order."""
    ms = sorted(set(month_list))
    qs = sorted({quarter_of(m) for m in ms})
    ys = sorted({year_of(m) for m in ms})
    return [*ms, *qs, *ys]


def previous_quarter(quarter: str) -> str:
    year, q = int(quarter[:4]), int(quarter[-1])
    return f"{year - 1:04d}-Q4" if q == 1 else f"{year:04d}-Q{q - 1}"


def add_months(day: dt.date, n: int) -> dt.date:
    """``day`` moved by ``n`` calendar months (clamped to the month's last day)."""
    index = day.year * 12 + day.month - 1 + n
    y, m = divmod(index, 12)
    m += 1
    return dt.date(y, m, min(day.day, calendar.monthrange(y, m)[1]))
