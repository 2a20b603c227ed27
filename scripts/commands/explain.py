"""crmdocs explain manager|retailer ID [--period P]"""

from __future__ import annotations

from ..cli import find_root


def register(sub) -> None:
    p = sub.add_parser(
        "explain",
        help="说明一位客户经理的考核或一户零售户的计算过程 (explain a result)",
        description="用文字和数字逐步说明计算过程：客户经理的各项考核指标、扣分、总分和等级建议；零售户的分类、档位、限量、拜访和投诉。",
    )
    p.add_argument("kind", choices=("manager", "retailer"), help="manager 客户经理 / retailer 零售户")
    p.add_argument("id", help="编号，例如 cm-zhang-wei 或 r-00001")
    p.add_argument("--period", default=None, help="期间：月 2026-09、季度 2026-Q3 或年 2026；默认最近一个月")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..explain import explain

    root = find_root(args.root)
    for line in explain(root, args.kind, args.id, args.period):
        print(line)
    return 0
