"""crmdocs new plan|diary [--manager M] [--date D]"""

from __future__ import annotations

import datetime as dt

from ..cli import find_root
from ..diagnostics import CrmdocsError


def register(sub) -> None:
    p = sub.add_parser(
        "new",
        help="写明天的拜访计划或今天的日记 (start tomorrow's plan or today's diary)",
        description=(
            "new plan：按拜访周期、重点客户、未办结投诉和异常订单排出下一个工作日的拜访计划；"
            "new diary：按当天计划预填今天的日记。都只新建文件，已有的文件不会被覆盖；写好后提交、开拉取请求。"
        ),
    )
    p.add_argument("what", choices=("plan", "diary"), help="plan 拜访计划 / diary 日记")
    p.add_argument("--manager", default=None, help="客户经理编号，默认按 git config user.email 查人员记录 (customer manager id)")
    p.add_argument("--date", default=None, help="日期 YYYY-MM-DD；计划默认为下一个工作日，日记默认为今天（今天没有计划时为最近一个有计划、还没写日记的日子）(the day)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..newday import new_diary, new_plan

    root = find_root(args.root)
    day = None
    if args.date:
        try:
            day = dt.date.fromisoformat(args.date)
        except ValueError:
            raise CrmdocsError(f"--date {args.date!r} 不对，应写成 YYYY-MM-DD (expected a date)") from None
    make = new_plan if args.what == "plan" else new_diary
    path = make(root, args.manager, day)
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    label = "拜访计划" if args.what == "plan" else "日记"
    print(f"已写好{label} {rel}：请打开核对、补充，然后提交 (written)")
    return 0
