"""The ``crmdocs`` command: a thin layer over the library.

Each command lives in ``crmdocs.scripts.commands.<name>`` with a
``register(subparsers)`` function that adds its parser and sets ``func``.
Library errors (:class:`CrmdocsError`) become one clean message and exit 1.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from pathlib import Path
from typing import Optional, Sequence

from .diagnostics import CrmdocsError

# the order of `crmdocs --help`; a module in crmdocs.scripts.commands that is
# not listed here comes after these, alphabetically
ORDER = ("validate", "recalc", "explain", "build", "new", "audit", "codeowners", "import", "export", "demo", "schema")


def command_names() -> list[str]:
    """Every module of ``crmdocs.scripts.commands`` (each adds one command)."""
    from . import commands

    found = sorted(m.name for m in pkgutil.iter_modules(commands.__path__) if not m.name.startswith("_"))
    return sorted(found, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n))


def find_root(start: Optional[str] = None) -> Path:
    """The repository root: the nearest folder (upwards) holding ``records/``."""
    try:
        here = Path(start or ".").resolve()
    except (RuntimeError, OSError) as exc:  # a symbolic link that points at itself (Symlink loop)
        raise CrmdocsError(f"无法打开目录 {start or '.'}：符号链接指向自己或无法读取 ({exc})") from None
    for folder in (here, *here.parents):
        if (folder / "records").is_dir():
            return folder
    return here


def _command_in(argv: Sequence[str]) -> Optional[str]:
    """The command named in ``argv`` (after the global options), if any."""
    skip = False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--root":
            skip = True
        elif arg.startswith("--root=") or arg == "--":
            continue
        elif arg.startswith("-"):
            return None  # --help, or an option this pre-scan does not know: the full parser decides
        else:
            return arg
    return None


_ONLY: Optional[str] = None  # the one command main() saw named


def build_parser(only: Optional[str] = None) -> argparse.ArgumentParser:
    """The parser with every command — or, with ``only``, with that one alone
    (importing one command module, not all of them: start-up time)."""
    parser = argparse.ArgumentParser(
        prog="crmdocs",
        description="客户经理制度：记录、规则与报告站点 (customer-manager records, rules and report site)",
    )
    parser.add_argument("--root", default=None, help="仓库根目录（含 records/），默认向上查找 (repository root)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    only = only if only is not None else _ONLY
    for name in [only] if only is not None else command_names():
        module = importlib.import_module(f"crmdocs.scripts.commands.{name}")
        module.register(sub)
    return parser


def _chinese_output() -> None:
    """Messages are Chinese: a terminal declared ASCII/Latin-1 gets UTF-8 rather than a crash."""
    for stream in (sys.stdout, sys.stderr):
        try:
            "客户".encode(stream.encoding or "ascii")
        except (LookupError, UnicodeEncodeError):
            try:
                stream.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
            except (AttributeError, ValueError):  # not a text file stream (tests capture output)
                pass


KEEP: list = []
"""What a command hands back to live until the process ends (:func:`keep`)."""


def keep(*objects: object) -> None:
    """Let ``objects`` (a city's records and results: millions of Python
    objects, ~0.9 s to free) live until the process ends: the console script
    then leaves with ``os._exit`` after flushing its output, without freeing
    them one by one. In-process callers of :func:`main` (tests) free them
    when it returns. Only for objects whose end needs no clean-up (no open
    file, temporary folder or worker of their own)."""
    KEEP.extend(objects)


def entry() -> None:
    """The ``crmdocs`` console script: :func:`main`, then the exit — at
    once when a command kept its results (:func:`keep`)."""
    code = _main(None)
    if KEEP:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except BrokenPipeError:  # `crmdocs … | head`: the reader left
            pass
        os._exit(code)
    sys.exit(code)


def main(argv: Optional[Sequence[str]] = None) -> int:
    try:
        return _main(argv)
    finally:
        KEEP.clear()


def _main(argv: Optional[Sequence[str]] = None) -> int:
    _chinese_output()
    global _ONLY
    command = _command_in(sys.argv[1:] if argv is None else argv)
    _ONLY = command if command in command_names() else None
    try:
        parser = build_parser()
    finally:
        _ONLY = None
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except CrmdocsError as exc:
        for d in exc.diagnostics:
            print(d.format(), file=sys.stderr)
        print(f"crmdocs: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `crmdocs validate | head`: the reader left; say nothing more
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except OSError as exc:  # the file system said no: a file where a folder goes, no permission, a full disk
        if os.environ.get("CRMDOCS_DEBUG"):
            raise
        where = exc.filename or exc.filename2 or ""
        if isinstance(exc, FileNotFoundError) and where:
            print(f"crmdocs: 找不到 {where}：请看路径是否写对 (no such file or folder: {where})", file=sys.stderr)
            return 1
        print(
            f"crmdocs: 无法读写{f' {where}' if where else '文件'}：{exc.strerror or exc}；请看这个位置是否被同名的文件或目录占着、"
            f"有没有写权限、磁盘是否已满 (cannot read or write{f' {where}' if where else ''})",
            file=sys.stderr,
        )
        return 1
    except Exception as exc:  # a bug, not the user's records: one clear line, no traceback
        if os.environ.get("CRMDOCS_DEBUG"):
            raise
        print(
            f"crmdocs: 内部错误 {type(exc).__name__}: {exc}。这是 crmdocs 的缺陷，不是记录的问题；"
            f"设置环境变量 CRMDOCS_DEBUG=1 再运行可看到出错位置 (internal error: set CRMDOCS_DEBUG=1 for the traceback)",
            file=sys.stderr,
        )
        return 70


if __name__ == "__main__":  # pragma: no cover
    # `python -m crmdocs.scripts.cli`: this module runs as __main__, while the
    # commands call keep() of the imported crmdocs.scripts.cli — so its entry,
    # or the quick exit never sees what they kept (a warm city recalc 0.9 s slower)
    from crmdocs.scripts.cli import entry as _entry

    _entry()
