"""crmdocs export appraisals|tiers|abnormal|overdue-visits|complaints [--period P] [--format xlsx|csv] [--out FILE]"""

from __future__ import annotations

import sys
from pathlib import Path

from ..cli import find_root

WHAT = ("appraisals", "tiers", "abnormal", "overdue-visits", "complaints")


def register(sub) -> None:
    p = sub.add_parser(
        "export",
        help="导出考核排名、档位、异常订单、超期拜访、投诉表格 (export spreadsheets)",
        description=(
            "把计算结果导出为 Excel（.xlsx）或 CSV：appraisals 考核排名（含各项指标）、tiers 档位表、"
            "abnormal 异常订单、overdue-visits 超期未拜访零售户、complaints 客户投诉。"
            "中文表头、冻结首行、数字是数字；同样的记录导出同样的字节。"
        ),
    )
    p.add_argument("what", choices=WHAT, help="导出什么 (what to export)")
    p.add_argument("--period", default=None, help="期间：月 2026-09、季度 2026-Q3 或年 2026；默认最近一个月 (period)")
    p.add_argument("--format", choices=("xlsx", "csv"), default=None,
                   help="文件格式；默认按 --out 的扩展名，没有时为 xlsx (file format)")
    p.add_argument("--out", default=None, metavar="FILE", help="输出文件；默认 <what>-<期间>.<格式>，写 - 输出到标准输出 (output file)")
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import recalc
    from ..spreadsheet_export import default_period, export_bytes, file_name, table_for
    from ..yamlwrite import write_atomic

    fmt = _format(args.format, args.out)
    root = find_root(args.root)
    computed = recalc.compute(root)
    period = args.period or default_period(computed, args.what)
    table = table_for(computed.ctx.repo, computed, args.what, period)
    data = export_bytes(table, fmt, computed)
    if args.out == "-":
        sys.stdout.buffer.write(data)
        return 0
    out = Path(args.out) if args.out else Path(file_name(args.what, period, fmt))
    try:
        write_atomic(out, data)
    except OSError as exc:
        from ..diagnostics import CrmdocsError

        raise CrmdocsError(f"写不了 {out}：{exc.strerror} (cannot write the file)") from None
    print(f"已导出 {table.title}：{len(table.rows)} 行 → {out} (exported {len(table.rows)} rows)")
    return 0


def _format(given, out) -> str:
    """The file format: --format, else the extension of --out (排名.csv is CSV,
    not an Excel file named .csv), else xlsx; the two must not disagree."""
    from ..diagnostics import CrmdocsError

    suffix = Path(out).suffix.lower().lstrip(".") if out and out != "-" else ""
    if given and suffix in ("xlsx", "csv") and suffix != given:
        raise CrmdocsError(
            f"--out {out} 的扩展名是 .{suffix}，--format 却是 {given}：请让两者一致 (the extension and --format disagree)"
        )
    return given or (suffix if suffix in ("xlsx", "csv") else "xlsx")
