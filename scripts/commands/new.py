"""crmdocs new plan|diary|analysis|summary [--manager M] [--date D]"""

from __future__ import annotations

import datetime as dt

from ..cli import find_root
from ..diagnostics import CrmdocsError


def register(sub) -> None:
    p = sub.add_parser(
        "new",
        help="写明天的拜访计划、今天的日记、本周市场分析或本月工作总结 (start a plan, diary, weekly analysis or monthly summary)",
        description=(
            "new plan：按拜访周期、重点客户、未办结投诉和异常订单排出下一个工作日的拜访计划；"
            "new diary：按当天计划预填今天的日记；new analysis：本周市场分析，预填本周日记里的市场信息；"
            "new summary：本月工作总结，预填按计划和日记统计的数字。都只新建文件，已有的文件不会被覆盖；写好后提交、开拉取请求。"
        ),
    )
    p.add_argument("what", choices=("plan", "diary", "analysis", "summary"),
                   help="plan 拜访计划 / diary 日记 / analysis 周市场分析 / summary 月工作总结")
    p.add_argument("--manager", default=None, help="客户经理编号（如 cm-liu-ping）或姓名，默认按 git config user.email 查人员记录 (customer manager id or name)")
    p.add_argument("--date", default=None, help="日期 YYYY-MM-DD；计划默认为下一个工作日，日记默认为今天（今天没有计划时为最近一个有计划、还没写日记的日子）；"
                   "分析和总结写这一天所在的周、月，默认今天 (the day)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..newday import new_analysis, new_diary, new_plan, new_summary

    root = find_root(args.root)
    day = None
    if args.date:
        try:
            day = dt.date.fromisoformat(args.date)
        except ValueError:
            raise CrmdocsError(f"--date {args.date!r} 不对，应写成 YYYY-MM-DD (expected a date)") from None
        if not 1900 <= day.year <= 2999:  # the week or month around 9999-12-31 runs past the calendar's end
            raise CrmdocsError(f"--date {args.date} 超出范围，年份应在 1900–2999 之间 (date out of range)")
    make = {"plan": new_plan, "diary": new_diary, "analysis": new_analysis, "summary": new_summary}[args.what]
    path = make(root, args.manager, day)
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    label = {"plan": "拜访计划", "diary": "日记", "analysis": "周市场分析", "summary": "月工作总结"}[args.what]
    print(f"已写好{label} {rel}：请打开核对、补充，然后提交 (written)")
    return 0
