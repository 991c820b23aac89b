"""`jars:DIR`: name every jar under a folder by its Maven coordinates, quickly.

A thin host-side wrapper: the jars are read by probe_target.py beside this file (the same
code the in-target probe script runs inside containers). Jars that their pom.properties
does not name are named by sha256 against the lock (`known`), then by file name
(`artifact-version[-classifier].jar`, the group taken from the lock or the parent folder).
"""

from __future__ import annotations

import re
from pathlib import Path

from envman.ecosystems.base import InstalledPackage
from envman.ecosystems.jvm.probe_target import jar_coordinates
from envman.ecosystems.jvm.probe_target import probe_jars as _probe_rows

__all__ = ["probe_jars", "identify_jar"]

_FILENAME = re.compile(r"^(?P<artifact>.+?)-(?P<version>\d.*)\.jar$")


def identify_jar(path: Path) -> tuple[str, str] | None:
    """(group:artifact[:classifier], version) from the jar's pom.properties, or None."""
    return jar_coordinates(str(path))[0]


def _from_filename(path: Path, root: Path, known: dict[str, tuple[str, str]] | None) -> tuple[str, str] | None:
    stem = path.name[:-4]
    parts = path.parent.relative_to(root).parts if path.parent != root else ()
    # Maven repository layout: <group path>/<artifact>/<version>/<artifact>-<version>[-classifier].jar
    if len(parts) >= 2 and (stem == f"{parts[-2]}-{parts[-1]}" or stem.startswith(f"{parts[-2]}-{parts[-1]}-")):
        artifact, version = parts[-2], parts[-1]
        classifier = stem[len(artifact) + len(version) + 2:]
        group = ".".join(parts[:-2]) or "unknown"
        return f"{group}:{artifact}" + (f":{classifier}" if classifier else ""), version
    for name, version in (known or {}).values():
        pieces = name.split(":")
        artifact = pieces[1]
        if stem == f"{artifact}-{version}" or stem.startswith(f"{artifact}-{version}-"):
            classifier = stem[len(artifact) + len(version) + 2:]
            return f"{pieces[0]}:{artifact}" + (f":{classifier}" if classifier else ""), version
    match = _FILENAME.match(path.name)
    if not match:
        return None
    parent = path.parent.name
    group = parent if "." in parent else "unknown"
    return f"{group}:{match.group('artifact')}", match.group("version")


def probe_jars(directory: Path, known: dict[str, tuple[str, str]] | None = None, deep: bool = False) -> list[InstalledPackage]:
    """Every `*.jar` under directory (recursively), named; sorted by name, version, location."""
    directory = Path(directory)
    found: list[InstalledPackage] = []
    for row in _probe_rows([str(directory)], deep, []):
        path = Path(row["file"])
        sha = row.get("sha256")
        identified, how = None, "pom.properties"
        if row.get("name"):
            identified = (row["name"], row["version"])
        elif known and sha in known:
            identified, how = known[sha], "sha256"
        if identified is None:
            identified, how = _from_filename(path, directory, known), "filename"
        if identified is None:
            identified = (f"unknown:{path.stem}", "unknown")
        if not (deep or known):
            sha = None  # computed by the row reader for the lock lookup; nothing to look up here
        name, version = identified
        found.append(InstalledPackage(ecosystem="jvm", name=name, version=version, location=str(path), sha256=sha,
                                      extra={"identified_by": how}))
    found.sort(key=lambda p: (p.name, p.version, p.location or ""))
    return found
