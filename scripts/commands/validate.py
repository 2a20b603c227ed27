"""crmdocs validate [PATH...]"""

from __future__ import annotations

import sys

from ..cli import find_root
from ..cache import validate_report
from ..validate import default_jobs, restrict


def _day(text: str):
    import argparse
    import datetime as dt

    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"日期 {text} 不对，应写成 YYYY-MM-DD (expected a date)") from None


def register(sub) -> None:
    p = sub.add_parser(
        "validate",
        help="检查全部记录 (validate every record)",
        description="检查 records/ 下的全部记录：格式、引用、工作日、重复。有错误时退出码为 1，提醒不影响退出码。",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="只报告这些文件或目录里的问题（引用仍对照全部记录检查）")
    p.add_argument("--format", choices=("text", "json"), default="text", help="输出格式 (output format)")
    p.add_argument("--jobs", type=int, default=None, help="并行进程数，默认为 CPU 核数 (worker processes)")
    p.add_argument("--today", type=_day, default=None, help="按这一天判断许可证到期等提醒，YYYY-MM-DD (date for expiry warnings)")
    p.add_argument(
        "--no-cache", action="store_true",
        help="不用也不写 .cache/crmdocs/ 里的检查缓存，全部重新检查 (ignore and do not write the validation cache)",
    )
    p.set_defaults(func=run)


def _in_records(root, path: str) -> bool:
    """``path`` (as given, or relative to the root) is the root, records/ or inside records/."""
    from pathlib import Path

    for full in (Path(path).resolve(), (root / path).resolve()):
        try:
            rel = full.relative_to(root.resolve())
        except ValueError:
            continue
        if not rel.parts or rel.parts[0] == "records":
            return True
    return False


def _nearest(root, path: str) -> str:
    """For a path that is not there: the record path it should have (2026-12-1.yaml →
    2026-12-01.yaml), else the nearest name in the deepest folder that exists (cm-liu-pin →
    cm-liu-ping); "" when nothing is near."""
    import difflib
    from pathlib import Path

    from ..kinds import RECORDS, kind_of, should_be

    full = Path(path) if Path(path).is_absolute() else root / path
    try:
        rel = full.resolve().relative_to(root.resolve()).as_posix()
    except (ValueError, OSError, RuntimeError):  # outside the repository; a symbolic link to itself (Symlink loop)
        return ""
    sub = rel[len(RECORDS) + 1:] if rel.startswith(RECORDS + "/") else ""
    if sub.lower().endswith((".yaml", ".yml")) and kind_of(sub) is None:
        path = should_be(sub)
        if path is not None:
            return f"；应为 {RECORDS}/{path}"
    parent = full.parent
    while not parent.is_dir() and parent != parent.parent:
        parent = parent.parent
    try:
        wanted = full.resolve().relative_to(parent.resolve()).parts[0]
        names = sorted(p.name for p in parent.iterdir() if not p.name.startswith("."))
        near = difflib.get_close_matches(wanted, names, n=1, cutoff=0.75)
        shown = (parent / near[0]).resolve().relative_to(root.resolve()).as_posix() if near else ""
    except (OSError, ValueError, RuntimeError):  # a folder we may not read, a link out of the repository
        return ""
    return f"；是不是 {shown}？" if shown else ""


def run(args) -> int:
    from pathlib import Path

    from ..diagnostics import CrmdocsError

    root = find_root(args.root or (args.paths[0] if args.paths else None))
    if not args.root and args.paths and not (root / "records").is_dir():
        root = find_root()  # a path outside any repository: this folder's repository says so below
    missing = [p for p in args.paths if not (Path(p).exists() or (root / p).exists())]
    if missing:
        hints = "".join(_nearest(root, p) for p in missing)
        raise CrmdocsError(f"找不到要检查的文件或目录：{'、'.join(missing)}{hints} (no such path)")
    outside = [p for p in args.paths if not _in_records(root, p)]
    if outside and not (root / "records").is_dir():
        raise CrmdocsError(f"找不到记录目录 {root / 'records'}：请在仓库里运行，或用 --root 指定仓库 (no records/ folder)")
    if outside:  # it would be "checked" and pass: nothing reads it
        raise CrmdocsError(
            f"{'、'.join(outside)} 不在 {root / 'records'} 里：crmdocs validate 只检查 records/ 下的记录 (not a record)"
        )
    report = validate_report(root, today=args.today, jobs=args.jobs or default_jobs(), use_cache=not args.no_cache)
    report = restrict(report, root, args.paths)
    out = report.to_json() if args.format == "json" else report.to_text()
    print(out, file=sys.stdout)
    return 0 if report.ok else 1
