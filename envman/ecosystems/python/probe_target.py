"""Python distributions, probed with the target's own interpreter: standard library only,
no envman imports.

Part of the in-target probe script (envman/targets/probe_runner.py assembles it with the other
ecosystems' probe_target modules): Python 3.6 syntax, no relative imports, no name another
probe module defines differently. It scans `*.dist-info`/`*.egg-info` folders on sys.path
directly (reading only the metadata header), which is faster than importlib.metadata and
`pip freeze`; with deep, each file's sha256 is checked against RECORD.
"""

import os
import sys

__all__ = ["probe_python", "python_section"]

_MAX_LISTED = 20


def _header(path, fields):
    """Fields of an RFC 822 style header (METADATA, PKG-INFO), up to the first blank line."""
    found = {}
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line in ("\n", "\r\n"):
                    break
                key, sep, value = line.partition(":")
                if sep and key in fields and key not in found:
                    found[key] = value.strip()
                    if len(found) == len(fields):
                        break
    except OSError:
        return None
    return found


def _sha256_file(path):
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest


def _verify_record(site, dist_dir):
    """Files whose sha256 differs from RECORD, or that are gone; [] when all match."""
    import base64
    import csv

    bad = []
    record = os.path.join(dist_dir, "RECORD")
    try:
        with open(record, "r", encoding="utf-8", errors="replace", newline="") as handle:
            rows = list(csv.reader(handle))
    except OSError:
        return ["RECORD (unreadable)"]
    for row in rows:
        if len(row) < 2 or not row[1].startswith("sha256="):
            continue
        rel, expected = row[0], row[1][7:]
        path = rel if os.path.isabs(rel) else os.path.normpath(os.path.join(site, rel))
        try:
            actual = base64.urlsafe_b64encode(_sha256_file(path).digest()).rstrip(b"=").decode()
        except OSError:
            bad.append(rel + " (missing)")
            continue
        if actual != expected.rstrip("="):
            bad.append(rel)
    return bad


def _python_version():
    info = sys.version_info
    text = "%d.%d.%d" % info[:3]
    if info.releaselevel != "final":
        text += {"alpha": "a", "beta": "b", "candidate": "rc"}.get(info.releaselevel, info.releaselevel) + str(info.serial)
    return text


def _markers():
    """PEP 508 marker environment (what packaging.markers.default_environment computes)."""
    uname = os.uname()
    impl = sys.implementation
    info = impl.version
    impl_version = "{0.major}.{0.minor}.{0.micro}".format(info)
    if info.releaselevel != "final":
        impl_version += info.releaselevel[0] + str(info.serial)
    return {
        "implementation_name": impl.name,
        "implementation_version": impl_version,
        "os_name": os.name,
        "platform_machine": uname.machine,
        "platform_release": uname.release,
        "platform_system": uname.sysname,
        "platform_version": uname.version,
        "python_full_version": _python_version(),
        "platform_python_implementation": {"cpython": "CPython", "pypy": "PyPy"}.get(impl.name, impl.name),
        "python_version": "%d.%d" % sys.version_info[:2],
        "sys_platform": sys.platform,
    }


def _direct_url(path):
    """The PEP 610 record of a distribution installed from a URL, VCS or folder (None when
    it came from an index); only the fields drift compares, bounded in size."""
    import json

    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            data = json.loads(handle.read(65536))
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return None
    out = {"url": data["url"][:2048]}
    for key in ("vcs_info", "archive_info", "dir_info"):
        value = data.get(key)
        if isinstance(value, dict):
            out[key] = {k: v for k, v in value.items() if k in ("vcs", "commit_id", "hash", "hashes", "editable")}
    return out


def probe_python(deep):
    packages = []
    seen_dirs = set()
    paths = []
    for entry in sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        real = os.path.realpath(entry)
        if real in seen_dirs:
            continue
        seen_dirs.add(real)
        paths.append(entry)
        try:
            names = sorted(os.listdir(entry))
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                meta = os.path.join(entry, name, "METADATA")
            elif name.endswith(".egg-info"):
                full = os.path.join(entry, name)
                meta = os.path.join(full, "PKG-INFO") if os.path.isdir(full) else full
            else:
                continue
            head = _header(meta, ("Name", "Version"))
            if not head or "Name" not in head:
                continue
            row = {"name": head["Name"], "version": head.get("Version", ""), "location": entry, "metadata": name}
            if name.endswith(".dist-info"):
                direct = _direct_url(os.path.join(entry, name, "direct_url.json"))
                if direct is not None:
                    row["direct_url"] = direct
            if deep and name.endswith(".dist-info"):
                bad = _verify_record(entry, os.path.join(entry, name))
                if bad:
                    row["modified"] = bad[:_MAX_LISTED]
                    row["modified_count"] = len(bad)
            packages.append(row)
    return {
        "version": _python_version(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "markers": _markers(),
        "paths": paths,
        "packages": packages,
    }


def python_section(options, deep, problems):
    """The probe's "python" section: the interpreter running the probe, its distributions."""
    return probe_python(deep)
