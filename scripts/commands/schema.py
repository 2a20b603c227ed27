"""crmdocs schema"""

from __future__ import annotations

import json

from ..cli import find_root
from ..jsonschema import stale_schemas, vscode_settings, write_schemas
from ..yamlwrite import write_atomic


def register(sub) -> None:
    p = sub.add_parser(
        "schema",
        help="生成编辑器用的 JSON Schema (write JSON Schemas for editors)",
        description="为每类记录生成 schemas/<类>.schema.json，并更新 .vscode/settings.json 的 yaml.schemas。",
    )
    p.add_argument("--check", action="store_true", help="只检查是否过期，过期则退出码为 1 (check only)")
    p.set_defaults(func=run)


def run(args) -> int:
    root = find_root(args.root)
    settings = json.dumps(vscode_settings(), ensure_ascii=False, indent=2) + "\n"
    if args.check:
        stale = stale_schemas(root)
        vs = root / ".vscode" / "settings.json"
        if not vs.is_file() or vs.read_text(encoding="utf-8") != settings:
            stale.append(".vscode/settings.json")
        for name in stale:
            print(f"{name}: 已过期，请运行 crmdocs schema (stale: run `crmdocs schema`)")
        return 1 if stale else 0
    changed = write_schemas(root)
    if write_atomic(root / ".vscode" / "settings.json", settings):
        changed.append(".vscode/settings.json")
    for name in changed:
        print(f"已更新 {name} (written)")
    if not changed:
        print("JSON Schema 已是最新 (up to date)")
    return 0
