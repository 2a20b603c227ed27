"""crmdocs audit --base REV [--head REV]"""

from __future__ import annotations

import sys

from ..cli import find_root


def register(sub) -> None:
    p = sub.add_parser(
        "audit",
        help="按人员权限审核提交 (check who changed what in a range of commits)",
        description=(
            "检查 BASE..HEAD 之间的每个提交：按提交人邮箱找到人员记录，逐个文件、逐个字段对照"
            "“谁可以改什么”（客户经理只改自己的计划日记和片区内零售户档案、批阅和审核只由本部门市场经理写、"
            "政策人员组织日历品牌只由管理员改、计算结果只由 CI 提交）。有违规时每条一行，退出码为 1。"
        ),
    )
    p.add_argument("--base", required=True, help="从这个提交之后开始审核，例如 origin/main (base revision)")
    p.add_argument("--head", default="HEAD", help="审核到这个提交，默认 HEAD (head revision)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..audit import audit

    root = find_root(args.root)
    found = audit(root, args.base, args.head)
    for v in found:
        print(v.format())
    if found:
        print(f"审核发现 {len(found)} 处越权修改 ({len(found)} violations)", file=sys.stderr)
        return 1
    print("审核通过：所有修改都在各人权限之内 (audit passed)")
    return 0
