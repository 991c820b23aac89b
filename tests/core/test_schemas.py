"""The committed JSON Schemas match the models, and they accept real manifests and locks."""

from __future__ import annotations

import json
from pathlib import Path

from envman.schemas import render_schemas

ROOT = Path(__file__).resolve().parents[2]


def test_committed_schemas_are_current():
    for name, text in render_schemas().items():
        committed = (ROOT / "schemas" / name).read_text()
        assert committed == text, f"schemas/{name} is stale: run `python -m envman.schemas`"


def test_manifest_schema_names_sections():
    schema = json.loads((ROOT / "schemas" / "envman.schema.json").read_text())
    assert {"version", "python", "r", "jvm", "conda", "environments"} <= set(schema["properties"])
    assert schema["additionalProperties"] is False
