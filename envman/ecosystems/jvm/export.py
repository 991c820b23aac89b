"""`envman export --format maven`: the locked jars as JSON plus a `java -cp` classpath.

Each artifact gets a relative path under `lib/` named by its coordinates
(`lib/<group>/<artifact>-<version>[-<classifier>].<ext>`); the classpath joins those
paths in dependency order (depth-first from the manifest's roots, like Maven's), so
`java -cp "$(jq -r .classpath maven.json)" Main` works from the folder holding `lib/`.
"""

from __future__ import annotations

import json
from typing import Any

from envman.ecosystems.jvm.graph import ARTIFACT_TYPES

__all__ = ["export_maven", "library_path", "classpath_order"]

_CLASSPATH_EXTENSIONS = {"jar", "zip"}


def _split(name: str) -> tuple[str, str, str]:
    parts = name.split(":")
    return parts[0], parts[1], parts[2] if len(parts) > 2 else ""


def library_path(entry: Any) -> str:
    """`lib/<group>/<artifact>-<version>[-<classifier>].<ext>`; BadInputError (exit 2) for an
    entry outside the Maven grammar (a tampered lock), so no path leaves `lib/`."""
    from envman.ecosystems.jvm.coordinates import InvalidCoordinate, check_name, check_part, check_version
    from envman.errors import BadInputError

    try:
        check_name(entry.name)
        check_version(entry.version)
        check_part("type", entry.type)
    except InvalidCoordinate as exc:
        raise BadInputError(f"lock entry {entry.name!r}: {exc} (run `envman lock`)") from None
    group, artifact, classifier = _split(entry.name)
    extension = ARTIFACT_TYPES.get(entry.type, (entry.type, ""))[0]
    suffix = f"-{classifier}" if classifier else ""
    return f"lib/{group}/{artifact}-{entry.version}{suffix}.{extension}"


def _root_names(context: dict[str, Any]) -> list[str]:
    manifest = context.get("manifest")
    environment = context.get("environment")
    if manifest is None or environment is None:
        return []
    names = []
    from envman.ecosystems.jvm.resolve import root_dependency

    for item in manifest.requirements("jvm", environment):
        names.append(root_dependency(item).artifact.name)
    return names


def classpath_order(entries: list[Any], roots: list[str]) -> list[Any]:
    """Depth-first preorder from the roots over `requires`; leftovers by name."""
    by_name = {e.name: e for e in entries}
    ordered: list[Any] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        stack = [name]
        while stack:
            current = stack.pop()
            if current in seen or current not in by_name:
                continue
            seen.add(current)
            ordered.append(by_name[current])
            stack.extend(reversed(by_name[current].requires))

    if not roots:  # no manifest at hand: start from what nothing else requires
        required = {name for e in entries for name in e.requires}
        roots = sorted(e.name for e in entries if e.name not in required)
    for root in roots:
        visit(root)
    for entry in sorted(entries, key=lambda e: e.name):
        visit(entry.name)
    return ordered


def export_maven(entries: list[Any], context: dict[str, Any]) -> str:
    ordered = classpath_order(entries, _root_names(context))
    artifacts = []
    for entry in ordered:
        group, artifact, classifier = _split(entry.name)
        artifacts.append(
            {
                "name": entry.name,
                "groupId": group,
                "artifactId": artifact,
                "version": entry.version,
                "classifier": classifier or None,
                "type": entry.type,
                "scope": entry.scope,
                "url": entry.url,
                "sha256": entry.sha256,
                "path": library_path(entry),
            }
        )
    classpath = ":".join(
        a["path"] for a in artifacts if a["path"].rsplit(".", 1)[-1] in _CLASSPATH_EXTENSIONS
    )
    document = {
        "environment": context.get("environment"),
        "platform": context.get("platform"),
        "artifacts": artifacts,
        "classpath": classpath,
    }
    return json.dumps(document, indent=2, sort_keys=False) + "\n"
