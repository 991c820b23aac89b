"""CycloneDX 1.5 SBOM (JSON) of one environment/platform of the lock, every ecosystem."""

from __future__ import annotations

import json
from typing import Any

from envman import ecosystems

__all__ = ["cyclonedx_json"]


def cyclonedx_json(manifest: Any, plock: Any, environment: str, platform: str) -> str:
    components = []
    dependencies = []
    for eco in ecosystems.all_ecosystems():
        entries = plock.entries(eco.name)
        refs = {e.name: eco.purl(e) for e in entries}
        for entry in sorted(entries, key=lambda e: e.name):
            ref = refs[entry.name]
            components.append({
                "type": "library",
                "bom-ref": ref,
                "name": entry.name,
                "version": entry.version,
                "purl": ref,
                "hashes": [{"alg": "SHA-256", "content": digest} for digest in eco.sbom_hashes(entry)],
                "properties": [{"name": "envman:ecosystem", "value": eco.name}],
            })
            dependencies.append({"ref": ref, "dependsOn": sorted(refs[r] for r in entry.requires if r in refs)})
    document = {
        "bomFormat": "CycloneDX",
        "specVersion": "1.5",
        "version": 1,
        "metadata": {
            "component": {"type": "application", "name": manifest.name or "envman-project", "bom-ref": "project"},
            "properties": [
                {"name": "envman:environment", "value": environment},
                {"name": "envman:platform", "value": platform},
            ],
            "tools": {"components": [{"type": "application", "name": "envman"}]},
        },
        "components": components,
        "dependencies": dependencies,
    }
    return json.dumps(document, indent=2) + "\n"
