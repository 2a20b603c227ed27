"""crmdocs import retailers|targets|surveys FILE --map MAPPING [--update] [--dry-run]

(The module is named like the command; ``import`` is a Python keyword, so it
is loaded with importlib by the CLI, never with an import statement.)
"""

from __future__ import annotations

import sys

from ..cli import find_root


def register(sub) -> None:
    p = sub.add_parser(
        "import",
        help="从 Excel/CSV 表格导入档案、目标、走访报告 (import spreadsheets)",
        description=(
            "把已有的 Excel（.xlsx）或 CSV 表格导入为记录：零售户档案 retailers、销售目标 targets、"
            "走访报告单 surveys。对照文件（YAML）写明哪一列是哪个字段、取值怎样翻译。"
            "有错误的行列出表格位置（工作表!单元格）并跳过；已有记录与表格不同时列出差异，加 --update 才改写。"
        ),
    )
    p.add_argument("what", choices=("retailers", "targets", "surveys"), help="导入什么 (what to import)")
    p.add_argument("file", metavar="FILE", help="表格文件 .xlsx 或 .csv (the spreadsheet)")
    p.add_argument("--map", dest="mapping", required=True, metavar="MAPPING", help="对照文件 .yaml (the mapping file)")
    p.add_argument("--sheet", default=None, help="工作表名，覆盖对照文件里的 sheet (worksheet name)")
    p.add_argument("--update", action="store_true", help="改写与表格不同的已有记录 (rewrite existing records that differ)")
    p.add_argument("--dry-run", action="store_true", help="只报告，不写文件 (report only, write nothing)")
    p.add_argument("--period", default=None, help="表格没有期间列时用的期间，如 2026-09 (period, when the sheet has none)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..spreadsheet_import import import_sheet

    root = find_root(args.root)
    if args.period and args.what == "retailers":
        from ..diagnostics import CrmdocsError

        raise CrmdocsError("--period 只用于 targets 和 surveys (--period is for targets and surveys)")
    defaults = {"period": args.period} if args.period else None
    result = import_sheet(
        root, args.what, args.file, args.mapping, update=args.update, dry_run=args.dry_run, defaults=defaults,
        sheet=args.sheet,
    )
    print(result.to_text(), file=sys.stdout)
    return 0 if result.ok else 1
