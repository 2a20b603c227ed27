"""crmdocs recalc [--check] [--diff REV]"""

from __future__ import annotations

import sys

from ..cli import find_root, keep
from ..validate import default_jobs


def register(sub) -> None:
    p = sub.add_parser(
        "recalc",
        help="重新计算分类、限量、拜访、投诉和考核 (recalculate the computed records)",
        description=(
            "读取并检查全部记录，有错误时不计算；按政策重新计算，写入 records/computed/"
            "（原子写入，只动 records/computed/）。--check 只比较不写入：有不一致的文件时退出码为 1。"
            "--diff REV 列出与另一个 git 版本相比谁的分类、档位、限量、得分或等级建议变了。"
        ),
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="只检查 records/computed/ 是否与重新计算的结果一致 (check, write nothing)")
    mode.add_argument("--diff", metavar="REV", default=None, help="与 git 版本 REV 的计算结果比较 (compare with a revision)")
    p.add_argument("--all", action="store_true", help="--diff 时列出全部期间、全部零售户 (list every period and retailer)")
    p.add_argument("--jobs", type=int, default=None, help="读取记录的并行进程数 (worker processes)")
    p.set_defaults(func=run)


def run(args) -> int:
    from .. import recalc
    from ..diagnostics import CrmdocsError
    from ..rules import NO_DAY

    if args.all and not args.diff:  # it ran a whole writing recalc: --all only widens --diff's list
        raise CrmdocsError("--all 只能和 --diff REV 一起用，列出全部期间和零售户 (--all goes with --diff)")
    root = find_root(args.root)
    jobs = args.jobs or default_jobs()
    if args.diff:
        # each side reduced to what review reads as soon as it is computed: one computation in memory at a time
        old, new = recalc.computations(root, args.diff, jobs=jobs, reduce=_Reviewed)
        lines = recalc.review(old.fields, new.fields, new.class_order, everything=args.all, names=new.names)
        if not lines:
            print(f"与 {args.diff} 相比，分类、档位、限量、考核总分和等级建议都没有变化 (no changes against {args.diff})")
            return 0
        print(f"与 {args.diff} 相比，按现在的记录和政策重新计算 (changes against {args.diff}):")
        if old.as_of != new.as_of:  # a new diary moves the day everything stands on: say so before who changed
            print(f"计算日 {old.as_of} → {new.as_of}（记录里最后一天）：交件到期、超期天数、按周算的限量等随日子而变，"
                  f"下面的变化不全出自这次修改的内容 (as of {old.as_of} → {new.as_of}: day-dependent results move too)")
        for line in lines:
            print(line)
        return 0
    computed = recalc.compute(root, jobs=jobs, files_only=True)  # the retailer rules beside the validation
    keep(computed)  # the records and results are not freed one by one at the end (~0.9 s for a city)
    if args.check:
        differences = recalc.settle(root, computed, write_files=False, jobs=jobs)
        for d in differences:
            print(d.format(), file=sys.stdout)
        if differences:
            print(
                f"records/computed/ 有 {len(differences)} 个文件与重新计算的结果不一致；"
                f"计算结果不能手工修改：合并后由 CI 运行 crmdocs recalc 提交（别人提交 records/computed/ 会被 crmdocs audit 拒绝）；"
                f"本地运行 crmdocs recalc 可以先看结果 (computed records out of date: CI recalculates and commits them)",
            )
            return 1
        n = computed.files
        print(f"records/computed/ 的 {n} 个文件与重新计算的结果一致 (all {n} computed files agree)")
        return 0
    result = recalc.settle(root, computed, write_files=True, jobs=jobs)
    as_of = computed.ctx.as_of
    zh, en = ("尚无带日期的记录（计划、日记、投诉、销售）", "no dated records yet") if as_of == NO_DAY else (f"计算到 {as_of}", f"as of {as_of}")
    print(
        f"{zh}：写入 {len(result.written)} 个文件，{result.unchanged} 个没有变化，删除 {len(result.removed)} 个过时的文件 "
        f"({en}: {len(result.written)} written, {result.unchanged} unchanged, {len(result.removed)} removed)"
    )
    for rel in result.removed:
        print(f"  删除 records/computed/{rel}")
    return 0


class _Reviewed:
    """What ``--diff`` keeps of one side's computation (the models freed):
    the fields review reads, the day it stands on, and — used of the working
    tree's side — the class order and the names the site shows beside ids."""

    def __init__(self, computed) -> None:
        from .. import recalc

        repo, policy = computed.ctx.repo, computed.ctx.policy
        self.fields = recalc.reviewed(computed.records)
        self.as_of = computed.ctx.as_of
        self.class_order = policy.classes.ids()
        names = {c.id: c.name for c in policy.classes.rule.classes}  # B 类, as the site and explain say
        names.update((g.id, g.name) for g in policy.grades.ladder)
        names.update((pid, p.name) for pid, p in repo.people.items())
        names.update((rid, r.basic.shop_name) for rid, r in repo.retailers.items())
        self.names = names

