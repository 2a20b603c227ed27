"""crmdocs build [--profile public|internal] [--offline] [--strict] [--at REV|DATE]"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from ..cli import find_root
from ..diagnostics import CrmdocsError


def register(sub) -> None:
    p = sub.add_parser(
        "build",
        help="生成报告站点 (build the report site)",
        description="用 mkdocs.yml 和 records/ 生成报告站点到 build/site/。公开版（默认）隐藏零售户的个人信息，内部版显示。",
    )
    p.add_argument("--profile", choices=("public", "internal"), default=None,
                   help="public 公开版：隐藏电话、生日、身份证号、关爱群体等个人信息（默认）；internal 内部版：显示")
    p.add_argument("--offline", action="store_true",
                   help="离线版：不用网页服务器，双击 index.html 即可浏览和搜索（U 盘、共享文件夹），"
                        "默认写到 build/site-offline/ (a copy that opens from disk: file:// links, search without a server)")
    p.add_argument("--strict", action="store_true", help="MkDocs 有任何警告（如页面链接失效）就失败；记录的提醒（计划少于每日最少户数、许可证将到期等）不算 (fail on MkDocs warnings)")
    p.add_argument("--config", default=None, help="mkdocs.yml 的路径，默认为仓库根目录下的 mkdocs.yml")
    p.add_argument("--site-dir", default=None,
                   help="输出目录，默认 build/site（内部版 build/site-internal，离线版再加 -offline）")
    p.add_argument("--quiet", action="store_true", help="只显示警告和错误")
    p.add_argument("--at", default=None, metavar="REV|DATE",
                   help="按过去某个提交（哈希、标签、分支）或日期 YYYY-MM-DD 当天结束时的记录生成站点 (build the records as they stood then)")
    p.set_defaults(func=run)


def build_site(root: Path, *, profile: str | None = None, strict: bool = False,
               config_file: Path | None = None, site_dir: Path | None = None,
               offline: bool = False) -> Path:
    """Build the site of the repository at ``root``; return the output folder.
    ``offline``: turn on Material's offline plugin (listed in mkdocs.yml) — a
    copy that opens from disk. Errors the user can fix raise :class:`CrmdocsError`."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")  # Material's end-of-life notice on every build
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError, PluginError

    config_file = config_file or root / "mkdocs.yml"
    if not config_file.is_file():
        raise CrmdocsError(f"找不到站点配置 {config_file} (no mkdocs.yml)")
    options = {"strict": strict}
    if site_dir is not None:
        options["site_dir"] = str(site_dir)
    errors = _Collect()
    logging.getLogger("mkdocs").addHandler(errors)
    try:
        config = load_config(config_file=str(config_file), **options)
        if "crmdocs" not in config.plugins:
            raise CrmdocsError(f"{config_file} 的 plugins 里没有 crmdocs (the crmdocs plugin is not enabled)")
        if profile is not None:
            config.plugins["crmdocs"].config.profile = profile
        if offline:
            plugin = config.plugins.get("material/offline") or config.plugins.get("offline")
            if plugin is None:
                raise CrmdocsError(
                    f"{config_file} 的 plugins 里没有 offline，无法生成离线版；请在 crmdocs 之前加上一行\n"
                    "  - offline:\n      enabled: !ENV [CRMDOCS_OFFLINE, false]\n"
                    "(Material's offline plugin is not listed in mkdocs.yml)"
                )
            plugin.config.enabled = True
        build(config)
    except (PluginError, ConfigurationError, Abort) as exc:
        # MkDocs logs a plugin's error and raises Abort("Aborted with a BuildError!"):
        # the logged message is the one that says what is wrong
        text = "\n".join(errors.messages) or str(exc).strip()
        if "Config value 'docs_dir'" in text:  # an office's repository without the hand-written pages' folder
            text = (f"{config_file} 的 docs_dir（手写页面目录，默认 site/）不存在：请把 crmdocs 的 site/ 目录复制过来，"
                    f"或新建一个空目录 ({text})")
        raise CrmdocsError(text) from None
    except OSError as exc:  # the output folder is a file, read-only, on a full disk …
        out = site_dir or (root / "build" / "site")
        name = exc.filename if isinstance(exc.filename, str) else None
        if name is not None and not Path(os.path.abspath(name)).is_relative_to(os.path.abspath(out)):
            # not the output: a page of site/ that is a broken link, an unreadable file …
            raise CrmdocsError(
                f"生成站点时读写 {name} 出错：{exc.strerror or exc}；请看这个文件是否存在、是不是坏的链接、有没有读取权限"
                " (cannot read or write a file)"
            ) from None
        raise CrmdocsError(
            f"写不了站点目录 {out}（{exc.filename or out}：{exc.strerror or exc}）；请用 --site-dir 指定一个可写的文件夹"
            " (cannot write the site folder)"
        ) from None
    finally:
        logging.getLogger("mkdocs").removeHandler(errors)
    return Path(config.site_dir)


class _Collect(logging.Handler):
    """Keeps the error messages MkDocs logs during a build."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


class _Handler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.ERROR:
            return  # reported once, as the command's error message
        label = {"WARNING": "提醒 warning"}.get(record.levelname, "")
        msg = record.getMessage()
        print(f"{label}: {msg}" if label else msg, file=sys.stderr)


def run(args) -> int:
    root = find_root(args.root)
    handler = _Handler()
    handler.setLevel(logging.WARNING if args.quiet else logging.INFO)
    logger = logging.getLogger("mkdocs")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    started = time.perf_counter()
    if (args.profile == "internal" or args.offline) and not args.site_dir:
        # never where the public site is published from: an internal build
        # holds personal data and must not be deployed by accident; an
        # offline copy (.html links) must not replace the hosted site's URLs
        name = "site" + ("-internal" if args.profile == "internal" else "") + ("-offline" if args.offline else "")
        args.site_dir = str(root / "build" / name)
    try:
        if args.at and args.config:  # the past tree is built with its root's mkdocs.yml: --config was ignored
            raise CrmdocsError(
                "--at 与 --config 不能同时用：按过去的记录生成时用仓库根目录的 mkdocs.yml (--at builds with the root's mkdocs.yml)"
            )
        if args.at:
            from ..history import tree_at

            # the records of the past commit, today's mkdocs.yml and site/ pages
            with tree_at(root, args.at) as past:
                out = build_site(
                    past, profile=args.profile, strict=args.strict, offline=args.offline,
                    site_dir=Path(args.site_dir).resolve() if args.site_dir else root / "build" / "site",
                )
        else:
            out = build_site(
                root, profile=args.profile, strict=args.strict,
                config_file=Path(args.config) if args.config else None,
                site_dir=Path(args.site_dir) if args.site_dir else None,
                offline=args.offline,
            )
    finally:
        logger.removeHandler(handler)
    if not args.quiet:
        pages = size = 0
        for path in out.rglob("*"):
            if path.is_file():
                size += path.stat().st_size
                pages += path.suffix == ".html"
        index = out / "search" / "search_index.json"
        if not index.is_file():  # an offline copy carries it once, as a script
            index = index.with_suffix(".js")
        index_kb = index.stat().st_size // 1024 if index.is_file() else 0
        # The plugin's log counts the pages it made from the records; this counts every HTML file
        extra = "和 404 页" if (out / "404.html").is_file() else ""
        print(f"站点已生成：{out}（{time.perf_counter() - started:.1f} 秒；"
              f"网页共 {pages} 个，含手写的说明页{extra}；{size / 1e6:.1f} MB；搜索索引 {index_kb} KB）(site built)")
        if args.offline:
            print(f"离线版：把整个目录复制到 U 盘或共享文件夹，双击 {out / 'index.html'} 打开 (open index.html from disk)")
    return 0
