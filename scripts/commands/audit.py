"""crmdocs audit --base REV [--head REV] | --ci-email | --ci-name"""

from __future__ import annotations

import json
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
    p.add_argument("--base", default=None, help="从这个提交之后开始审核，例如 origin/main (base revision)")
    p.add_argument("--head", default="HEAD", help="审核到这个提交，默认 HEAD (head revision)")
    p.add_argument("--format", choices=("text", "json"), default="text",
                   help="输出格式：text 每条一行，json 供 CI 机器人读取 (output format)")
    p.add_argument("--ci-email", action="store_true",
                   help="只打印 CI 身份（role: ci 的人员）的邮箱，供 CI 任务 git config 用 (print the CI identity's e-mail)")
    p.add_argument("--ci-name", action="store_true", help="只打印 CI 身份的姓名 (print the CI identity's name)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..audit import audit, ci_identity
    from ..diagnostics import CrmdocsError

    root = find_root(args.root)
    if args.ci_email or args.ci_name:
        name, email = ci_identity(root)
        print(email if args.ci_email else name)
        return 0
    if not args.base:
        raise CrmdocsError("请用 --base 指定从哪个提交之后开始审核，例如 --base origin/main (--base is required)")
    found = audit(root, args.base, args.head)
    if args.format == "json":
        print(json.dumps({"violations": [v.as_dict() for v in found]}, ensure_ascii=False, indent=2))
        return 1 if found else 0
    for v in found:
        print(v.format())
    if found:
        print(f"审核发现 {len(found)} 处越权修改 ({len(found)} violations)", file=sys.stderr)
        return 1
    print("审核通过：所有修改都在各人权限之内 (audit passed)")
    return 0
