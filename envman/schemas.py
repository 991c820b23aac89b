"""JSON Schemas of envman.yaml and envman.lock, generated from the pydantic models.

`python -m envman.schemas` rewrites schemas/; a test fails when the committed files are stale.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["manifest_schema", "lock_schema", "render_schemas", "main"]


def manifest_schema() -> dict[str, Any]:
    from envman.manifest import manifest_model

    schema = manifest_model().model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://envman.dev/schemas/envman.schema.json"
    schema["title"] = "envman.yaml"
    schema["description"] = "envman manifest, schema version 1"
    return schema


def lock_schema() -> dict[str, Any]:
    from envman.lockfile.models import lock_model

    schema = lock_model()[0].model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://envman.dev/schemas/envman-lock.schema.json"
    schema["title"] = "envman.lock"
    return schema


def render_schemas() -> dict[str, str]:
    return {
        "envman.schema.json": json.dumps(manifest_schema(), indent=2, sort_keys=True) + "\n",
        "envman-lock.schema.json": json.dumps(lock_schema(), indent=2, sort_keys=True) + "\n",
    }


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent / "schemas"
    target.mkdir(parents=True, exist_ok=True)
    for name, text in render_schemas().items():
        (target / name).write_text(text, encoding="utf-8")
        print(f"wrote {target / name}")


if __name__ == "__main__":
    main()
