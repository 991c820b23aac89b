"""CycloneDX 1.5 SBOM (JSON) of one environment/platform of the lock, every ecosystem."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

__all__ = ["cyclonedx_json", "purl"]


def purl(ecosystem: str, entry: Any) -> str:
    if ecosystem == "python":
        return f"pkg:pypi/{quote(entry.name)}@{quote(entry.version)}"
    if ecosystem == "r":
        return f"pkg:cran/{quote(entry.name)}@{quote(entry.version)}"
    if ecosystem == "jvm":
        parts = entry.name.split(":")
        base = f"pkg:maven/{quote(parts[0])}/{quote(parts[1])}@{quote(entry.version)}"
        qualifiers = []
        if len(parts) > 2:
            qualifiers.append(f"classifier={quote(parts[2])}")
        if getattr(entry, "type", "jar") != "jar":
            qualifiers.append(f"type={quote(entry.type)}")
        return base + ("?" + "&".join(qualifiers) if qualifiers else "")
    if ecosystem == "conda":
        return f"pkg:conda/{quote(entry.name)}@{quote(entry.version)}?build={quote(entry.build)}"
    raise ValueError(ecosystem)


def _hashes(ecosystem: str, entry: Any) -> list[dict[str, str]]:
    if ecosystem == "python":
        return [{"alg": "SHA-256", "content": h.removeprefix("sha256:")} for h in entry.hashes]
    return [{"alg": "SHA-256", "content": entry.sha256.removeprefix("sha256:")}]


def cyclonedx_json(manifest: Any, plock: Any, environment: str, platform: str) -> str:
    components = []
    dependencies = []
    for ecosystem in ("python", "r", "jvm", "conda"):
        entries = getattr(plock, ecosystem)
        refs = {e.name: purl(ecosystem, e) for e in entries}
        for entry in sorted(entries, key=lambda e: e.name):
            ref = refs[entry.name]
            components.append({
                "type": "library",
                "bom-ref": ref,
                "name": entry.name,
                "version": entry.version,
                "purl": ref,
                "hashes": _hashes(ecosystem, entry),
                "properties": [{"name": "envman:ecosystem", "value": ecosystem}],
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
