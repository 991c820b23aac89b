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


def test_atomic_write_keeps_mode_and_honours_umask(tmp_path):
    import os

    from envman.atomic import atomic_write_text

    fresh = tmp_path / "new.lock"
    old_umask = os.umask(0o022)
    try:
        atomic_write_text(fresh, "a\n")
    finally:
        os.umask(old_umask)
    assert fresh.stat().st_mode & 0o777 == 0o644
    existing = tmp_path / "existing.lock"
    existing.write_text("x\n")
    existing.chmod(0o640)
    atomic_write_text(existing, "y\n")
    assert existing.stat().st_mode & 0o777 == 0o640 and existing.read_text() == "y\n"
