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
import stat
import struct

__all__ = ["probe_jars", "jar_coordinates", "java_version", "jvm_section"]

_EOCD = b"PK\x05\x06"
_CENTRAL = b"PK\x01\x02"
_MARK = b"META-INF/maven/"
JVM_MAX_MEMBER_BYTES = 1 << 20  # one pom.properties; the host passes its member_bytes limit (envman.limits)
_JVM_MEMBERS_FACTOR = 16  # all the pom.properties of one jar: at most 16 x the member limit
_JVM_WINDOW = 1 << 20  # the central directory is read through a window of this size
_JVM_MAX_DIRECTORY = 256 << 20  # a central directory this large (millions of entries) is not read
_JVM_MAX_JAVA_OUTPUT = 1 << 16  # what `java -version` may print


class _JarRefused(ValueError):
    """A jar that is read no further (the message is the row's problem)."""


def _jar_open(path):
    """A binary file object of a regular file, opened without blocking (a FIFO never waits
    for a writer); _JarRefused for anything else. OSError when it cannot be opened."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise _JarRefused("not a regular file")
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _jar_sha256(path):
    """Hex sha256 of a regular file, read in chunks."""
    import hashlib

    digest = hashlib.sha256()
    with _jar_open(path) as handle:
        while True:
            chunk = handle.read(1 << 20)
            if not chunk:
                break
            digest.update(chunk)
    return digest.hexdigest()


def _pom_path(name):
    """(group, artifact) of `META-INF/maven/<g>/<a>/pom.properties`, else None."""
    parts = name.split("/")
    if len(parts) == 5 and parts[4] == "pom.properties" and parts[2] and parts[3] and name.startswith("META-INF/maven/"):
        return parts[2], parts[3]
    return None


def _jar_directory_place(handle, size):
    """(offset of the central directory in the file, its size): only the file's tail is read
    (and, for zip64, its two small records). Offsets stored in the zip are taken relative
    to where the zip starts, as zipfile does (a jar may follow a launch script)."""
    tail_size = min(size, 65536 + 22)
    handle.seek(size - tail_size)
    tail = handle.read(tail_size)
    eocd = tail.rfind(_EOCD)
    if eocd < 0 or eocd + 22 > len(tail):
        raise ValueError("no end of central directory")
    eocd_at = size - tail_size + eocd
    cd_size, cd_offset = struct.unpack_from("<II", tail, eocd + 12)
    if cd_offset == 0xFFFFFFFF or cd_size == 0xFFFFFFFF:
        if eocd_at < 20:
            raise ValueError("no zip64 locator")
        handle.seek(eocd_at - 20)
        locator = handle.read(20)
        if len(locator) != 20 or locator[:4] != b"PK\x06\x07":
            raise ValueError("no zip64 locator")
        record_at = eocd_at - 20 - 56  # where the zip64 record is when nothing sits between
        handle.seek(record_at if record_at >= 0 else 0)
        record = handle.read(56)
        if len(record) != 56 or record[:4] != b"PK\x06\x06":
            raise ValueError("no zip64 end of central directory")
        cd_size, cd_offset = struct.unpack_from("<QQ", record, 40)
        end = record_at
    else:
        end = eocd_at
    concat = end - cd_size - cd_offset
    if concat < 0 or cd_offset + concat + cd_size > size:
        raise ValueError("central directory outside the file")
    return cd_offset + concat, cd_size, concat


def _jar_zip64_sizes(extra, csize, usize, offset):
    """Sizes and offset from a zip64 extra field (id 1), for those stored as 0xFFFFFFFF."""
    position = 0
    while position + 4 <= len(extra):
        tag, length = struct.unpack_from("<HH", extra, position)
        body = extra[position + 4:position + 4 + length]
        if tag == 1:
            values = []
            for start in range(0, len(body) - 7, 8):
                values.append(struct.unpack_from("<Q", body, start)[0])
            if usize == 0xFFFFFFFF and values:
                usize = values.pop(0)
            if csize == 0xFFFFFFFF and values:
                csize = values.pop(0)
            if offset == 0xFFFFFFFF and values:
                offset = values.pop(0)
            break
        position += 4 + length
    return csize, usize, offset


def _jar_members(handle, cd_at, cd_size):
    """(group, artifact, method, compressed, size, local offset) of each pom.properties entry,
    reading the central directory through a window (never whole)."""
    if cd_size > _JVM_MAX_DIRECTORY:
        raise _JarRefused("its central directory of %d bytes is over the limit of %d; not read" % (cd_size, _JVM_MAX_DIRECTORY))
    handle.seek(cd_at)
    if cd_size and handle.read(4) != _CENTRAL:
        raise ValueError("no central directory where the zip says")
    handle.seek(cd_at)
    remaining = cd_size
    buffer = b""
    resume = 0
    found = []
    reach = 46 + len(_MARK)  # a mark, with its header, that may straddle two windows
    while True:
        chunk = handle.read(min(remaining, _JVM_WINDOW)) if remaining else b""
        if remaining and not chunk:
            raise ValueError("truncated central directory")
        remaining -= len(chunk)
        buffer += chunk
        final = remaining == 0
        keep = None
        position = buffer.find(_MARK, resume)
        while position >= 0:
            header = position - 46
            if header < 0 or buffer[header:header + 4] != _CENTRAL:
                position = buffer.find(_MARK, position + 1)
                continue
            method, _, _, _, compressed, size, name_len, extra_len = struct.unpack_from("<HHHIIIHH", buffer, header + 10)
            local_offset = struct.unpack_from("<I", buffer, header + 42)[0]
            if position + name_len + extra_len > len(buffer):
                if final:
                    raise ValueError("truncated central directory")
                keep = header  # read again with the next window
                break
            where = _pom_path(buffer[position:position + name_len].decode("utf-8", "replace"))
            if where:
                extra = buffer[position + name_len:position + name_len + extra_len]
                compressed, size, local_offset = _jar_zip64_sizes(extra, compressed, size, local_offset)
                found.append((where[0], where[1], method, compressed, size, local_offset))
            resume = position + max(name_len, 1)  # (a mark past the end of the window starts at or after it)
            position = buffer.find(_MARK, resume)
        if final:
            return found
        if keep is None:
            keep = max(0, len(buffer) - reach)
            resume = max(resume, len(buffer) - len(_MARK) + 1)
        else:
            resume = keep + 46
        buffer = buffer[keep:]
        resume = max(0, resume - keep)


def _jar_member(handle, size_of_file, concat, entry, maximum):
    """The bytes of one pom.properties entry, through a bounded stream: _JarRefused when it
    is (or inflates to) more than maximum bytes."""
    import zlib

    group, artifact, method, compressed, size, local_offset = entry
    name = "META-INF/maven/%s/%s/pom.properties" % (group, artifact)
    if size > maximum:
        raise _JarRefused("%s is %d bytes, over the limit of %d; not read" % (name, size, maximum))
    if compressed > 2 * maximum + 65536:
        raise _JarRefused("%s is %d bytes compressed, over the limit of %d; not read" % (name, compressed, maximum))
    local_at = local_offset + concat
    if local_at + 30 > size_of_file:
        raise ValueError("bad local header")
    handle.seek(local_at)
    local = handle.read(30)
    if local[:4] != b"PK\x03\x04":
        raise ValueError("bad local header")
    name_skip, extra_skip = struct.unpack_from("<HH", local, 26)
    handle.seek(local_at + 30 + name_skip + extra_skip)
    if method == 0:
        if compressed > maximum:
            raise _JarRefused("%s is %d bytes, over the limit of %d; not read" % (name, compressed, maximum))
        data = handle.read(compressed)
        if len(data) > maximum:
            raise _JarRefused("%s is over the limit of %d bytes; not read" % (name, maximum))
        return data
    if method != 8:
        raise ValueError("unsupported compression")
    inflater = zlib.decompressobj(-15)
    pieces = []
    total = 0
    left = compressed
    while left > 0 and not inflater.eof:
        chunk = handle.read(min(left, 1 << 16))
        if not chunk:
            break
        left -= len(chunk)
        piece = inflater.decompress(chunk, maximum + 1 - total)
        total += len(piece)
        if total > maximum or inflater.unconsumed_tail:
            raise _JarRefused("%s inflates to more than %d bytes; not read" % (name, maximum))
        pieces.append(piece)
    return b"".join(pieces)


def _pom_entries(path, maximum=JVM_MAX_MEMBER_BYTES):
    """(group, artifact, bytes) of each pom.properties entry, reading only the end of the
    zip, its central directory (through a window) and those entries (each within maximum
    bytes, all together within 16 x maximum). _JarRefused for a non-regular file or an
    entry over the limit; ValueError/OSError/zlib.error/struct.error when damaged."""
    with _jar_open(path) as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        cd_at, cd_size, concat = _jar_directory_place(handle, size)
        found = []
        budget = _JVM_MEMBERS_FACTOR * maximum
        for entry in _jar_members(handle, cd_at, cd_size):
            data = _jar_member(handle, size, concat, entry, maximum)
            budget -= len(data)
            if budget < 0:
                raise _JarRefused("its pom.properties entries exceed %d bytes together; not read" % (_JVM_MEMBERS_FACTOR * maximum))
            found.append((entry[0], entry[1], data))
        return found


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


def jar_coordinates(path, maximum=JVM_MAX_MEMBER_BYTES):
    """((group:artifact[:classifier], version) or None, problem or None) of one jar."""
    filename = os.path.basename(path)
    try:
        candidates = _pom_entries(path, maximum)
    except _JarRefused as exc:
        return None, str(exc)
    except Exception:  # a damaged or hostile jar raises many kinds (struct, zlib, OSError…)
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


def probe_jars(dirs, deep, problems, maximum=JVM_MAX_MEMBER_BYTES):
    """Rows {file, name?, version?, sha256?, problem?} of every `*.jar` under dirs (links to
    jars are skipped: the jar they point at is counted where it is; a `*.jar` that is not a
    regular file, such as a FIFO, is skipped with a problem line, never opened). sha256 is
    computed with deep, or when the jar is not named by its pom.properties."""
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
                try:
                    regular = stat.S_ISREG(os.lstat(path).st_mode)
                except OSError as exc:
                    problems.append("cannot read %s: %s" % (path, exc.strerror))
                    continue
                if not regular:
                    problems.append("skipped %s: not a regular file" % path)
                    continue
                coords, problem = jar_coordinates(path, maximum)
                row = {"file": path}
                if coords:
                    row["name"], row["version"] = coords
                if problem:
                    row["problem"] = problem
                if deep or not coords:
                    try:
                        row["sha256"] = _jar_sha256(path)
                    except (OSError, _JarRefused) as exc:
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

    text = _jvm_run_bounded([exe, "-version"], 60, _JVM_MAX_JAVA_OUTPUT, problems)
    match = re.search(r'version "([^"]+)"', text) if text is not None else None
    return match.group(1) if match else None


def _jvm_run_bounded(argv, seconds, maximum, problems):
    """stdout and stderr of argv (decoded), at most maximum bytes and seconds: a `java` that
    prints without end or never exits is killed, not read into memory. None when it cannot run."""
    import select
    import subprocess
    import time

    try:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except OSError as exc:
        problems.append("cannot run java: %s" % exc)
        return None
    out = proc.stdout
    assert out is not None
    chunks = []
    total = 0
    deadline = time.time() + seconds
    try:
        while True:
            left = deadline - time.time()
            if left <= 0:
                problems.append("cannot run java: no answer within %d s" % seconds)
                return None
            ready, _, _ = select.select([out], [], [], left)
            if not ready:
                continue
            chunk = os.read(out.fileno(), 1 << 16)
            if not chunk:
                break
            total += len(chunk)
            if total > maximum:
                break  # `java -version` states its version in the first lines
            chunks.append(chunk)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        out.close()
    return b"".join(chunks).decode("utf-8", "replace")


def jvm_section(options, deep, problems):
    """The probe's "jvm" section; options: dirs (jar folders), java ("auto" or a path)."""
    java = options.get("java")
    maximum = options.get("max_bytes")
    if not isinstance(maximum, int) or isinstance(maximum, bool) or maximum <= 0:
        maximum = JVM_MAX_MEMBER_BYTES
    return {
        "java": java_version(java, problems) if java else None,
        "packages": probe_jars(options.get("dirs") or [], deep, problems, maximum),
    }
