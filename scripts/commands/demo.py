"""crmdocs demo --seed N --out DIR [--scale county|city]"""

from __future__ import annotations

import argparse
import sys


def register(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="生成演示单位的全部记录 (write a demo office)",
        description=(
            "生成一个可信的演示单位：组织、人员、品牌、零售户档案、月度销售、每日拜访计划和日记、"
            "投诉、走访报告单、目标、工作日历和政策。同一个 --seed 生成的文件逐字节相同。"
            "county：约 900 户、9 名客户经理（即仓库自带的 records/）；city：2 万户、100 名客户经理、一整年（只用于测速，不要提交）。"
        ),
    )
    p.add_argument("--seed", type=int, default=1, help="随机种子，默认 1 (random seed)")
    p.add_argument("--out", required=True, help="输出目录，即 records/ 目录 (output folder: the records/ folder)")
    p.add_argument("--scale", choices=("county", "city"), default="county", help="规模：county 县级（默认）/ city 市级")
    p.add_argument("--jobs", type=int, default=None, help="city 规模的并行进程数，默认为 CPU 核数 (worker processes)")
    # size overrides for tests and benchmarks of a smaller city
    p.add_argument("--retailers", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--managers", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument("--until", default=None, help=argparse.SUPPRESS)  # last day of plans and diaries
    p.set_defaults(func=run)


def run(args) -> int:
    from ..demo import generate
    from ..diagnostics import CrmdocsError
    from ..validate import default_jobs

    import datetime as dt

    try:
        until = dt.date.fromisoformat(args.until) if args.until else None
    except ValueError:
        raise CrmdocsError(f"--until {args.until!r} 不是日期，应写成 YYYY-MM-DD (expected a date)") from None
    try:
        summary = generate(
            args.out, seed=args.seed, scale=args.scale, retailers=args.retailers, managers=args.managers,
            jobs=args.jobs or default_jobs(), progress=lambda msg: print(msg, file=sys.stderr), until=until,
        )
    except ValueError as exc:
        raise CrmdocsError(f"参数不对：{exc} (bad arguments)") from None
    print(
        f"已生成演示单位（{summary.scale}）到 {args.out}：{summary.files} 个文件，零售户 {summary.retailers} 户，"
        f"客户经理 {summary.managers} 名，计划 {summary.plans} 份，日记 {summary.diaries} 篇，"
        f"销售 {summary.sales_rows} 行，投诉 {summary.complaints} 件，走访报告单 {summary.surveys} 份，"
        f"用时 {summary.seconds} 秒 (demo office written)"
    )
    return 0
