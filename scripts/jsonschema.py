"""JSON Schemas of the record kinds, for editors (completion, red squiggles)."""

from __future__ import annotations

import json
from pathlib import Path

from .kinds import KINDS
from .yamlwrite import write_atomic

SCHEMA_DIR = "schemas"


def schema_texts() -> dict[str, str]:
    """File name → JSON text, one per record kind."""
    out = {}
    for kind in KINDS:
        schema = kind.model.model_json_schema(by_alias=True)
        schema["title"] = f"{kind.label} ({kind.name})"
        schema["$schema"] = "http://json-schema.org/draft-07/schema#"
        out[f"{kind.name}.schema.json"] = json.dumps(schema, ensure_ascii=False, indent=2, sort_keys=True) + "\n"
    return out


def write_schemas(root: Path) -> list[str]:
    """Write the schemas into ``root/schemas``; return the files that changed."""
    changed = []
    for name, text in schema_texts().items():
        if write_atomic(root / SCHEMA_DIR / name, text):
            changed.append(f"{SCHEMA_DIR}/{name}")
    return changed


def stale_schemas(root: Path) -> list[str]:
    stale = []
    for name, text in schema_texts().items():
        path = root / SCHEMA_DIR / name
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            stale.append(f"{SCHEMA_DIR}/{name}")
    return stale


def vscode_settings() -> dict:
    """``yaml.schemas`` for .vscode/settings.json: schema file → record globs."""
    return {
        "yaml.schemas": {f"./{SCHEMA_DIR}/{k.name}.schema.json": [k.glob] for k in KINDS},
        "yaml.customTags": [],
        "files.encoding": "utf8",
        "editor.insertSpaces": True,
        "[yaml]": {"editor.tabSize": 2, "editor.insertSpaces": True},
    }
