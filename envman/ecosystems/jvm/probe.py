"""`jars:DIR`: name every jar under a folder by its Maven coordinates, quickly.

For each jar only the zip central directory and one `META-INF/maven/<g>/<a>/pom.properties`
entry are read. A shaded jar carries several: the one whose artifactId matches the file name
wins. Jars without one are named by sha256 against the lock (`known`), then by file name
(`artifact-version[-classifier].jar`, the group taken from the lock or the parent folder).
"""

from __future__ import annotations

import hashlib
import os
import re
import struct
import zipfile
import zlib
from pathlib import Path

from envman.ecosystems.base import InstalledPackage

__all__ = ["probe_jars", "identify_jar"]

_POM_PROPERTIES = re.compile(r"^META-INF/maven/([^/]+)/([^/]+)/pom\.properties$")
_FILENAME = re.compile(r"^(?P<artifact>.+?)-(?P<version>\d.*)\.jar$")


def _properties(text: str) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        key, sep, value = line.partition("=")
        if not sep:
            key, _, value = line.partition(":")
        values[key.strip()] = value.strip()
    return values


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _classifier(filename: str, artifact: str, version: str) -> str:
    stem = filename[:-4] if filename.endswith(".jar") else filename
    prefix = f"{artifact}-{version}-"
    return stem[len(prefix):] if stem.startswith(prefix) and len(stem) > len(prefix) else ""


_EOCD = b"PK\x05\x06"
_CENTRAL = b"PK\x01\x02"
_MARK = b"META-INF/maven/"


def _read_pom_properties(path: Path) -> list[tuple[str, str, bytes]]:
    """(group, artifact, file bytes) of each META-INF/maven/*/*/pom.properties, reading only
    the end of the zip (its central directory) and those entries."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        tail_size = min(size, 65536 + 22)
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
        eocd = tail.rfind(_EOCD)
        if eocd < 0 or eocd + 22 > len(tail):
            raise zipfile.BadZipFile("no end of central directory")
        cd_size, cd_offset = struct.unpack_from("<II", tail, eocd + 12)
        if cd_offset == 0xFFFFFFFF or cd_size == 0xFFFFFFFF:  # zip64: let zipfile handle it
            return _read_with_zipfile(path)
        handle.seek(cd_offset)
        directory = handle.read(cd_size)
        found: list[tuple[str, str, bytes]] = []
        position = directory.find(_MARK)
        while position >= 0:
            header = position - 46
            if header >= 0 and directory[header:header + 4] == _CENTRAL:
                (method, _, _, _, compressed, _, name_len, extra_len, comment_len) = struct.unpack_from(
                    "<HHHIIIHHH", directory, header + 10)
                local_offset = struct.unpack_from("<I", directory, header + 42)[0]
                name = directory[position:position + name_len].decode("utf-8", "replace")
                match = _POM_PROPERTIES.match(name)
                if match:
                    handle.seek(local_offset)
                    local = handle.read(30)
                    if local[:4] != b"PK\x03\x04":
                        raise zipfile.BadZipFile("bad local header")
                    skip = struct.unpack_from("<HH", local, 26)
                    handle.seek(local_offset + 30 + skip[0] + skip[1])
                    data = handle.read(compressed)
                    if method == 8:
                        data = zlib.decompress(data, -15)
                    elif method != 0:
                        raise zipfile.BadZipFile("unsupported compression")
                    found.append((match.group(1), match.group(2), data))
                position = directory.find(_MARK, position + max(name_len, 1))
            else:
                position = directory.find(_MARK, position + 1)
        return found


def _read_with_zipfile(path: Path) -> list[tuple[str, str, bytes]]:
    with zipfile.ZipFile(path) as archive:
        found = []
        for name in archive.namelist():
            match = _POM_PROPERTIES.match(name)
            if match:
                found.append((match.group(1), match.group(2), archive.read(name)))
        return found


def identify_jar(path: Path) -> tuple[str, str] | None:
    """(group:artifact[:classifier], version) from the jar's pom.properties, or None."""
    try:
        candidates = _read_pom_properties(path)
    except (OSError, zipfile.BadZipFile, struct.error, zlib.error, ValueError, EOFError):
        return None
    if not candidates:
        return None
    chosen = candidates[0]
    if len(candidates) > 1:
        matching = [c for c in candidates if path.name.startswith(c[1] + "-")]
        if not matching:
            return None  # a fat jar of many artifacts: not one Maven artifact
        chosen = max(matching, key=lambda c: len(c[1]))
    elif not path.name.startswith(chosen[1]) and _FILENAME.match(path.name):
        # `other-1.2.jar` carrying only a shaded dependency's pom.properties (jars built
        # without Maven metadata of their own): do not take it for that dependency
        return None
    props = _properties(chosen[2].decode("utf-8", "replace"))
    group = props.get("groupId") or chosen[0]
    artifact = props.get("artifactId") or chosen[1]
    version = props.get("version")
    if not version:
        return None
    classifier = _classifier(path.name, artifact, version)
    name = f"{group}:{artifact}" + (f":{classifier}" if classifier else "")
    return name, version


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
    jars: list[Path] = []
    for current, dirs, files in os.walk(directory):
        dirs.sort()
        for filename in files:
            if filename.endswith(".jar"):
                jars.append(Path(current) / filename)
    for path in sorted(jars):
        sha = _sha256(path) if deep else None
        identified = identify_jar(path)
        how = "pom.properties"
        if identified is None and known:
            sha = sha or _sha256(path)
            if sha in known:
                identified, how = known[sha], "sha256"
        if identified is None:
            identified, how = _from_filename(path, directory, known), "filename"
        if identified is None:
            identified = (f"unknown:{path.stem}", "unknown")
        name, version = identified
        found.append(
            InstalledPackage(ecosystem="jvm", name=name, version=version, location=str(path), sha256=sha,
                             extra={"identified_by": how})
        )
    found.sort(key=lambda p: (p.name, p.version, p.location or ""))
    return found
