"""crmdocs codeowners [--check]"""

from __future__ import annotations

from ..cli import find_root


def register(sub) -> None:
    p = sub.add_parser(
        "codeowners",
        help="根据人员记录生成 CODEOWNERS (write CODEOWNERS from the people records)",
        description=(
            "写 .github/CODEOWNERS 和 .gitlab/CODEOWNERS：各客户服务部的零售户档案、客户经理的计划和日记"
            "由本部门市场经理审核；政策、人员、组织等由管理员审核。人员记录里的 github / gitlab 用户名优先，"
            "没有时用第一个邮箱。"
        ),
    )
    p.add_argument("--check", action="store_true", help="只检查是否过期，过期则退出码为 1 (check only)")
    p.set_defaults(func=run)


def run(args) -> int:
    from ..codeowners import stale_codeowners, write_codeowners

    root = find_root(args.root)
    if args.check:
        stale = stale_codeowners(root)
        for rel in stale:
            print(f"{rel}: 已过期，请运行 crmdocs codeowners 并提交 (stale: run `crmdocs codeowners`)")
        return 1 if stale else 0
    changed = write_codeowners(root)
    for rel in changed:
        print(f"已更新 {rel} (written)")
    if not changed:
        print("CODEOWNERS 已是最新 (up to date)")
    return 0
