"""Turning one spreadsheet cell into one field value — without guessing.

Excel stores what people type in surprising ways: a phone number becomes a
number (and a leading 0 of an area code is gone), a licence number becomes
``5.10802E+11``, a date becomes a serial number, "2026-09" becomes a date.
Each conversion here either gives the value the record needs or a
:class:`Problem` that says what happened in the cell, so the row is reported
instead of written with a wrong value.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Optional

from crmdocs.schemas import daily, retailer, service

from .spreadsheet_map import ColumnSpec, FieldKind


class _Missing:
    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return "MISSING"


MISSING: Any = _Missing()


@dataclass(frozen=True)
class Problem:
    message: str
    code: str


def _zh_names() -> dict[type, dict[str, str]]:
    """Each enum's Chinese names (from the schemas' *_ZH tables) → value."""
    out: dict[type, dict[str, str]] = {}
    for module in (retailer, service, daily):
        for name, table in vars(module).items():
            if name.endswith("_ZH") and isinstance(table, dict):
                for member, zh in table.items():
                    if isinstance(member, enum.Enum):
                        out.setdefault(type(member), {})[zh] = member.value
    return out


ZH_NAMES = _zh_names()

TRUE_WORDS = {"是", "有", "对", "y", "yes", "true", "1", "√", "✓", "✔"}
FALSE_WORDS = {"否", "无", "没有", "不是", "n", "no", "false", "0", "×", "✗", "✘"}

MOBILE = re.compile(r"1[3-9]\d{9}")
SCIENTIFIC = re.compile(r"[0-9](\.[0-9]+)?[eE]\+?[0-9]+")
EXCEL_EPOCH = dt.datetime(1899, 12, 30)
# Excel keeps 15 significant digits; beyond that the digits are already zeros
EXCEL_DIGITS = 15


def normalise_text(value: str) -> str:
    """Full-width digits and letters → ASCII, spaces trimmed (NFKC)."""
    return unicodedata.normalize("NFKC", value).strip()


def is_empty(value: Any, markers: set[str]) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        text = value.strip()
        return text == "" or text in markers
    return False


def _number_text(value: float | int) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)


def _digits_problem(value: float | int, kind: FieldKind, spec: Optional[ColumnSpec]) -> Optional[Problem]:
    """A number cell for a number-like text field: did Excel eat digits?"""
    codeish = kind.category != "text" or bool(spec and spec.digits)
    if isinstance(value, float) and not value.is_integer():
        if not codeish:
            return None
        return Problem(
            f"单元格是带小数的数字 {value}，这里应是号码；请把这一列设为“文本”格式后重新输入 "
            "(a number with decimals where a code is expected: format the column as text)",
            "number_for_text",
        )
    if isinstance(value, float):
        # what Excel shows: 15 significant digits, then zeros
        digits = str(abs(int(Decimal(format(value, ".15g")))))
        lost = len(digits) > EXCEL_DIGITS
    else:
        # a program-written exact integer keeps its digits; Excel's come back with zeros
        digits = str(abs(value))
        lost = len(digits) > EXCEL_DIGITS and not digits[EXCEL_DIGITS:].strip("0")
    if lost:
        return Problem(
            f"单元格是数字 {digits}，超过 15 位：Excel 只保留 15 位有效数字，后面几位已经变成 0，"
            "无法还原。请把这一列设为“文本”格式后重新输入 (Excel keeps 15 digits: the last digits are lost)",
            "digits_lost",
        )
    wanted = spec.digits if spec else None
    if wanted and len(digits) < wanted:
        return Problem(
            f"单元格是数字 {digits}，只有 {len(digits)} 位，应有 {wanted} 位：多半是 Excel 去掉了开头的 0。"
            f"不猜测补 0，请把这一列设为“文本”格式后按原号码重新输入 "
            f"(stored as a number: {wanted - len(digits)} leading zero(s) probably lost)",
            "leading_zero_lost",
        )
    if kind.category == "phone" and not wanted and not MOBILE.fullmatch(digits):
        return Problem(
            f"电话号码单元格是数字格式，读到 {digits}：不是 11 位手机号，如果原号码以 0 开头（区号），"
            "Excel 已经把 0 去掉了。不猜测补 0，请把这一列设为“文本”格式后按原号码重新输入 "
            "(phone stored as a number: a leading 0 may be lost)",
            "leading_zero_lost",
        )
    return None


def _parse_date_text(text: str) -> Optional[dt.date]:
    text = normalise_text(text)
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?", text)
    if not m:
        m = re.fullmatch(r"(\d{4})(\d{2})(\d{2})", text)
    if not m:
        return None
    try:
        return dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _serial_to_date(value: float) -> Optional[dt.date]:
    # 1..2958465 are Excel's valid day serials (1900-01-01 … 9999-12-31);
    # serials before 1900-03-01 are off by one in Excel (the 1900 leap bug),
    # no archive date is that old
    if 60 < value < 2958466:
        return (EXCEL_EPOCH + dt.timedelta(days=int(value))).date()
    return None


def _period_text(text: str) -> str:
    text = normalise_text(text)
    m = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?(?:份)?", text)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{int(m.group(2)):02d}"
    m = re.fullmatch(r"(\d{4})\s*(?:年)?\s*(?:-|第)?\s*[Qq]?([1-4])\s*(?:季度)?", text)
    if m and ("季" in text or "q" in text.lower()):
        return f"{m.group(1)}-Q{m.group(2)}"
    m = re.fullmatch(r"(\d{4})(\d{2})", text)
    if m and 1 <= int(m.group(2)) <= 12:
        return f"{m.group(1)}-{m.group(2)}"
    m = re.fullmatch(r"(\d{4})\s*年?", text)
    if m:
        return m.group(1)
    return text


def convert(value: Any, kind: FieldKind, spec: Optional[ColumnSpec], markers: set[str]) -> Any:
    """The field value for a cell, :data:`MISSING` for an empty cell, or a :class:`Problem`."""
    if is_empty(value, markers):
        return MISSING
    if kind.is_list:
        if isinstance(value, str):
            sep = spec.split if spec and spec.split else None
            parts = value.split(sep) if sep else re.split(r"[、，,;；\s]+", value)
        else:
            parts = [value]
        single = FieldKind(kind.path, kind.category, kind.choices, kind.enum, False)
        out = []
        for part in parts:
            if is_empty(part, markers):
                continue
            got = convert(part, single, spec, markers)
            if isinstance(got, Problem):
                return got
            out.append(got)
        return out
    # the mapping's own translations come first, on the cell's text
    if spec and spec.values:
        key = _number_text(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else (
            normalise_text(value) if isinstance(value, str) else None
        )
        if key is not None:
            if key in spec.values:
                return spec.values[key]
            if isinstance(value, str) and value.strip() in spec.values:
                return spec.values[value.strip()]
    category = kind.category
    if category in ("text", "phone", "licence", "slug"):
        if isinstance(value, bool):
            return "是" if value else "否"
        if isinstance(value, (int, float)):
            problem = _digits_problem(value, kind, spec)
            return problem if problem else _number_text(value)
        if isinstance(value, dt.datetime):
            return value.date().isoformat() if value.time() == dt.time() else value.strftime("%Y-%m-%d %H:%M")
        if isinstance(value, dt.date):
            return value.isoformat()
        text = str(value).strip()
        if category in ("phone", "licence") or (spec and spec.digits):
            plain = normalise_text(text)
            if SCIENTIFIC.fullmatch(plain):
                return Problem(
                    f"读到 {text}：号码被 Excel 写成了科学计数法，后面的数字已经丢失，无法还原。"
                    "请把这一列设为“文本”格式后重新输入 (the number was saved in scientific notation: digits are lost)",
                    "digits_lost",
                )
            if category in ("phone", "licence"):
                text = plain
            if spec and spec.digits and plain.isdigit() and len(plain) < spec.digits:
                return Problem(
                    f"号码 {plain} 只有 {len(plain)} 位，应有 {spec.digits} 位：多半是 Excel 去掉了开头的 0。"
                    f"不猜测补 0，请按原号码重新输入 (too few digits: leading zeros probably lost)",
                    "leading_zero_lost",
                )
        if category == "slug":
            text = normalise_text(text)
        return text
    if category == "period":
        if isinstance(value, dt.date):
            return f"{value.year:04d}-{value.month:02d}"
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return _period_text(_number_text(value))
        return _period_text(str(value))
    if category == "date":
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            text = _number_text(value)
            if re.fullmatch(r"(19|20)\d{6}", text):
                parsed = _parse_date_text(text)
                if parsed:
                    return parsed
            parsed = _serial_to_date(float(value))
            if parsed:
                return parsed
            return Problem(f"读到数字 {text}，不是日期 (a number where a date is expected)", "bad_date")
        parsed = _parse_date_text(str(value))
        return parsed if parsed else str(value).strip()
    if category == "datetime":
        if isinstance(value, dt.datetime):
            return value
        if isinstance(value, dt.date):
            return dt.datetime.combine(value, dt.time())
        if isinstance(value, (int, float)) and not isinstance(value, bool) and 60 < value < 2958466:
            return EXCEL_EPOCH + dt.timedelta(days=float(value))
        return normalise_text(str(value)).replace("/", "-")
    if category in ("number", "int"):
        if isinstance(value, bool):
            return value
        if isinstance(value, (int, float)):
            if category == "int" and isinstance(value, float) and value.is_integer():
                return int(value)
            return value
        text = normalise_text(str(value)).replace(",", "").replace(" ", "")
        if re.fullmatch(r"[-+]?\d+", text):
            return int(text)
        if re.fullmatch(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?", text):
            number = float(text)
            return int(number) if category == "int" and number.is_integer() else number
        return str(value).strip()
    if category == "bool":
        if isinstance(value, bool):
            return value
        word = normalise_text(_number_text(value) if isinstance(value, (int, float)) else str(value)).lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        return Problem(f"应填 是/否，读到的是 “{value}” (expected yes or no)", "bool_parsing")
    if category in ("enum", "literal"):
        text = normalise_text(_number_text(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else str(value))
        if kind.enum is not None:
            names = ZH_NAMES.get(kind.enum, {})
            if text in names:
                return names[text]
            lowered = text.lower()
            if lowered in kind.choices:
                return lowered
        if kind.category == "literal" and isinstance(kind.choices[0], int) and text.isdigit():
            return int(text)
        return text
    return value
