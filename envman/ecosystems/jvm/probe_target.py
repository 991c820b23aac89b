"""Jar folders, probed where they live: standard library only, no envman imports.

Imported normally on the host (jars:DIR, envman.ecosystems.jvm.probe) and concatenated
into the in-target probe script (envman/targets/probe_runner.py assembles it): Python 3.6 syntax,
no relative imports, no name another probe module defines differently.

For each jar only the zip central directory and its `META-INF/maven/<g>/<a>/pom.properties`
entries are read. A shaded jar carries several: the one matching the file name wins; a
jar that carries only a shaded dependency's pom.properties is not taken for it. A jar
named by none gets its sha256 (the host matches it against the lock).
"""

import os
import struct

__all__ = ["probe_jars", "jar_coordinates", "java_version", "jvm_section"]

_EOCD = b"PK\x05\x06"
_CENTRAL = b"PK\x01\x02"
_MARK = b"META-INF/maven/"


def _jar_sha256(path):
    """Hex sha256 of a jar (read whole: jars are small next to a machine's memory)."""
    import hashlib

    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _pom_path(name):
    """(group, artifact) of `META-INF/maven/<g>/<a>/pom.properties`, else None."""
    parts = name.split("/")
    if len(parts) == 5 and parts[4] == "pom.properties" and parts[2] and parts[3] and name.startswith("META-INF/maven/"):
        return parts[2], parts[3]
    return None


def _pom_entries(path):
    """(group, artifact, bytes) of each pom.properties entry, reading only the end of the
    zip (its central directory) and those entries. ValueError/OSError/zlib.error when damaged."""
    import zlib

    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        tail_size = min(size, 65536 + 22)
        handle.seek(size - tail_size)
        tail = handle.read(tail_size)
        eocd = tail.rfind(_EOCD)
        if eocd < 0 or eocd + 22 > len(tail):
            raise ValueError("no end of central directory")
        cd_size, cd_offset = struct.unpack_from("<II", tail, eocd + 12)
        if cd_offset == 0xFFFFFFFF or cd_size == 0xFFFFFFFF:  # zip64: let zipfile read it
            return _pom_entries_zipfile(path)
        handle.seek(cd_offset)
        directory = handle.read(cd_size)
        found = []
        position = directory.find(_MARK)
        while position >= 0:
            header = position - 46
            if header < 0 or directory[header:header + 4] != _CENTRAL:
                position = directory.find(_MARK, position + 1)
                continue
            method, _, _, _, compressed, _, name_len, _, _ = struct.unpack_from("<HHHIIIHHH", directory, header + 10)
            local_offset = struct.unpack_from("<I", directory, header + 42)[0]
            where = _pom_path(directory[position:position + name_len].decode("utf-8", "replace"))
            if where:
                handle.seek(local_offset)
                local = handle.read(30)
                if local[:4] != b"PK\x03\x04":
                    raise ValueError("bad local header")
                name_skip, extra_skip = struct.unpack_from("<HH", local, 26)
                handle.seek(local_offset + 30 + name_skip + extra_skip)
                data = handle.read(compressed)
                if method == 8:
                    data = zlib.decompress(data, -15)
                elif method != 0:
                    raise ValueError("unsupported compression")
                found.append((where[0], where[1], data))
            position = directory.find(_MARK, position + max(name_len, 1))
        return found


def _pom_entries_zipfile(path):
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return [where + (archive.read(name),) for name in archive.namelist() for where in [_pom_path(name)] if where]


def _properties(text):
    values = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        key, sep, value = line.partition("=")
        if not sep:
            key, _, value = line.partition(":")
        values[key.strip()] = value.strip()
    return values


def _looks_versioned(filename):
    """`artifact-1.2[...].jar`: a name that states some artifact's version."""
    stem = filename[:-4]
    return any(char == "-" and stem[i + 1:i + 2].isdigit() and i > 0 for i, char in enumerate(stem))


def jar_coordinates(path):
    """((group:artifact[:classifier], version) or None, problem or None) of one jar."""
    filename = os.path.basename(path)
    try:
        candidates = _pom_entries(path)
    except Exception:  # a damaged or hostile jar raises many kinds (struct, zlib, zipfile…)
        return None, "not a readable jar"
    chosen = None
    if len(candidates) > 1:
        parsed = [(c, _properties(c[2].decode("utf-8", "replace"))) for c in candidates]
        exact = [
            c for c, props in parsed
            if props.get("version") and filename.startswith((props.get("artifactId") or c[1]) + "-" + props["version"])
        ]
        matching = exact or [c for c in candidates if filename.startswith(c[1] + "-")]
        if not matching:
            return None, None  # a fat jar of many artifacts: not one Maven artifact
        chosen = max(matching, key=lambda c: len(c[1]))
    elif candidates:
        chosen = candidates[0]
        if not filename.startswith(chosen[1]) and _looks_versioned(filename):
            # `other-1.2.jar` carrying only a shaded dependency's pom.properties (jars built
            # without Maven metadata of their own): do not take it for that dependency
            return None, None
    if chosen is None:
        return None, None
    props = _properties(chosen[2].decode("utf-8", "replace"))
    group = props.get("groupId") or chosen[0]
    artifact = props.get("artifactId") or chosen[1]
    version = props.get("version")
    if not version:
        return None, None
    name = group + ":" + artifact
    stem = artifact + "-" + version + "-"
    if filename.endswith(".jar") and filename[:-4].startswith(stem) and len(filename) - 4 > len(stem):
        name += ":" + filename[len(stem):-4]
    return (name, version), None


def probe_jars(dirs, deep, problems):
    """Rows {file, name?, version?, sha256?, problem?} of every `*.jar` under dirs (links to
    jars are skipped: the jar they point at is counted where it is). sha256 is computed
    with deep, or when the jar is not named by its pom.properties."""
    packages = []
    for top in dirs:
        if not os.path.isdir(top):
            continue
        for root, subdirs, files in os.walk(top):
            subdirs.sort()
            for fname in sorted(files):
                if not fname.endswith(".jar"):
                    continue
                path = os.path.join(root, fname)
                if os.path.islink(path):
                    continue
                coords, problem = jar_coordinates(path)
                row = {"file": path}
                if coords:
                    row["name"], row["version"] = coords
                if problem:
                    row["problem"] = problem
                if deep or not coords:
                    try:
                        row["sha256"] = _jar_sha256(path)
                    except OSError as exc:
                        problems.append("cannot read %s: %s" % (path, exc))
                packages.append(row)
    return packages


def java_version(java, problems):
    """The version `java -version` states ("auto": java on PATH, else $JAVA_HOME/bin/java)."""
    exe = java
    if java == "auto":
        import shutil

        exe = shutil.which("java")
        home = os.environ.get("JAVA_HOME")
        if not exe and home and os.path.isfile(os.path.join(home, "bin", "java")):
            exe = os.path.join(home, "bin", "java")
    if not exe:
        return None
    import re
    import subprocess

    try:
        out = subprocess.run([exe, "-version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        problems.append("cannot run java: %s" % exc)
        return None
    match = re.search(r'version "([^"]+)"', out.stderr.decode("utf-8", "replace") + out.stdout.decode("utf-8", "replace"))
    return match.group(1) if match else None


def jvm_section(options, deep, problems):
    """The probe's "jvm" section; options: dirs (jar folders), java ("auto" or a path)."""
    java = options.get("java")
    return {
        "java": java_version(java, problems) if java else None,
        "packages": probe_jars(options.get("dirs") or [], deep, problems),
    }
