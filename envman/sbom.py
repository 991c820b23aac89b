"""CycloneDX 1.5 SBOM (JSON) of one environment/platform of the lock, every ecosystem.

An entry another ecosystem installs (a Python package conda provides) is the same software
as that ecosystem's entry: it is listed once, as the installer's component, and the
dependencies that name it point there."""

from __future__ import annotations

import json
from typing import Any

from envman import ecosystems

__all__ = ["cyclonedx_json"]


def cyclonedx_json(manifest: Any, plock: Any, environment: str, platform: str) -> str:
    present = [(eco, sorted(plock.entries(eco.name), key=lambda e: e.name)) for eco in ecosystems.all_ecosystems()]
    refs = {eco.name: {e.name: eco.purl(e) for e in entries} for eco, entries in present}
    installed_elsewhere: set[tuple[str, str]] = set()
    for eco, entries in present:  # point entries another ecosystem installs at its component
        for entry in entries:
            installer = eco.installed_by(entry)
            if installer and installer[1] in refs.get(installer[0], {}):
                refs[eco.name][entry.name] = refs[installer[0]][installer[1]]
                installed_elsewhere.add((eco.name, entry.name))
    components = []
    dependencies = []
    for eco, entries in present:
        own = refs[eco.name]
        for entry in entries:
            if (eco.name, entry.name) in installed_elsewhere:
                continue  # listed as its installer's component
            ref = own[entry.name]
            components.append({
                "type": "library",
                "bom-ref": ref,
                "name": entry.name,
                "version": entry.version,
                "purl": ref,
                "hashes": [{"alg": "SHA-256", "content": digest} for digest in eco.sbom_hashes(entry)],
                "properties": [{"name": "envman:ecosystem", "value": eco.name}],
            })
            dependencies.append({"ref": ref, "dependsOn": sorted({own[r] for r in entry.requires if r in own})})
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
