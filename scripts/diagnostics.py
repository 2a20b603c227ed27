"""One shape for every problem found in the records: file, line, column,
field path, message, severity. Printed compiler-style or as JSON."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Iterable, Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, order=True)
class Diagnostic:
    path: str  # relative to the repository root, "/" separated
    line: int = 0  # 1-based; 0 = the whole file
    column: int = 0  # 1-based; 0 = unknown
    field: str = ""  # e.g. visits[3].retailer
    message: str = ""
    severity: Severity = "error"
    code: str = ""  # stable machine-readable type, e.g. missing, unknown_retailer

    def format(self) -> str:
        where = self.path
        if self.line:
            where += f":{self.line}"
            if self.column:
                where += f":{self.column}"
        label = "错误 error" if self.severity == "error" else "提醒 warning"
        field_part = f" {_one_line(self.field)}:" if self.field else ""
        return f"{where}: {label}:{field_part} {_one_line(self.message)}"


def _one_line(text: str, limit: int = 400) -> str:
    """One problem, one line: newlines shown as ⏎, a pasted novel cut short."""
    text = text.replace("\r\n", "⏎").replace("\n", "⏎").replace("\r", "⏎")
    return text if len(text) <= limit else text[: limit - 1] + "…"


@dataclass
class Report:
    diagnostics: list[Diagnostic] = field(default_factory=list)
    files: int = 0

    def add(self, diag: Diagnostic) -> None:
        self.diagnostics.append(diag)

    def extend(self, diags: Iterable[Diagnostic]) -> None:
        self.diagnostics.extend(diags)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "warning"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def sorted(self) -> list[Diagnostic]:
        return sorted(set(self.diagnostics), key=lambda d: (d.path, d.line, d.column, d.field, d.message))

    def to_text(self) -> str:
        lines = [d.format() for d in self.sorted()]
        lines.append(
            f"检查了 {self.files} 个文件：{len(self.errors)} 个错误，{len(self.warnings)} 个提醒"
            f" (checked {count(self.files, 'file')}: {count(len(self.errors), 'error')}, {count(len(self.warnings), 'warning')})"
        )
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps(
            {
                "files": self.files,
                "errors": len(self.errors),
                "warnings": len(self.warnings),
                "diagnostics": [asdict(d) for d in self.sorted()],
            },
            ensure_ascii=False,
            indent=2,
        )


class CrmdocsError(Exception):
    """A problem the user can fix: printed as one clean message, exit 1."""

    def __init__(self, message: str, diagnostics: list[Diagnostic] | None = None):
        super().__init__(message)
        self.diagnostics = diagnostics or []


def count(n: int, noun: str) -> str:
    """``1 error``, ``2 errors``: the English gist of a count."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
