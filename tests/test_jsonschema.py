"""The editor schemas are committed and must match the models."""

import json
from pathlib import Path

from crmdocs.scripts.jsonschema import schema_texts, stale_schemas, vscode_settings
from crmdocs.scripts.kinds import KINDS

ROOT = Path(__file__).resolve().parents[1]


def test_committed_schemas_are_current():
    assert stale_schemas(ROOT) == [], "run `crmdocs schema` and commit the result"


def test_one_schema_per_record_kind():
    assert sorted(schema_texts()) == sorted(f"{k.name}.schema.json" for k in KINDS)


def test_vscode_settings_map_every_schema_onto_records():
    settings = json.loads((ROOT / ".vscode" / "settings.json").read_text(encoding="utf-8"))
    assert settings == vscode_settings()
    mapped = settings["yaml.schemas"]
    for kind in KINDS:
        globs = mapped[f"./schemas/{kind.name}.schema.json"]
        assert all(g.startswith("records/") for g in globs)
        assert (ROOT / "schemas" / f"{kind.name}.schema.json").is_file()


def test_schema_forbids_unknown_keys_and_describes_fields_in_chinese():
    schema = json.loads(schema_texts()["diary.schema.json"])
    assert schema["additionalProperties"] is False
    assert "拜访" in schema["properties"]["visits"]["description"]


def test_schema_tells_editors_a_phone_is_text():
    schema = json.loads(schema_texts()["retailer.schema.json"])
    personal = schema["$defs"]["Personal"]["properties"]["phone"]
    assert "string" in json.dumps(personal)
