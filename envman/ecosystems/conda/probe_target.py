"""Conda prefixes, probed where they live: standard library only, no envman imports.

Imported normally on the host (conda:PREFIX, envman.ecosystems.conda.probe) and
concatenated into the in-target probe script (envman/targets/probe_runner.py assembles it): Python
3.6 syntax, no relative imports, no name another probe module defines differently.
Each `conda-meta/*.json` record gives a package; with deep, its files' sha256 are checked
against the record's paths_data (never following a path outside the prefix).

A target's files are untrusted: a record is read only when it is a regular file (opened
without blocking, so a FIFO cannot hang the probe) of at most CONDA_MAX_RECORD_BYTES (the
host passes its own limit in the options); others are skipped with a problem line. --deep
hashes only regular files (a FIFO or a link to /dev/zero is reported, never read).
"""

import os
import stat

__all__ = ["CONDA_AUTO", "CONDA_MAX_RECORD_BYTES", "read_conda_record", "probe_conda", "conda_section"]

CONDA_AUTO = ("/opt/conda", "/opt/miniconda3", "/opt/miniforge3", "/opt/mambaforge", "/opt/env", "/opt/pixi")

_CONDA_MAX_LISTED = 20
# a record lists every file of its package (python's is several MB): 64 MiB, or the host's
# member_bytes limit (envman.limits) when that is larger
CONDA_MAX_RECORD_BYTES = 64 << 20


def _conda_open_regular(path):
    """A descriptor of path when it is a regular file, opened without blocking, else None.
    OSError when it cannot be opened."""
    if not stat.S_ISREG(os.stat(path).st_mode):
        return None
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    if not stat.S_ISREG(os.fstat(fd).st_mode):  # replaced between the two looks
        os.close(fd)
        return None
    return fd


def read_conda_record(path, maximum=CONDA_MAX_RECORD_BYTES):
    """(bytes, None) of a regular file of at most maximum bytes, else (None, why).
    OSError when it cannot be read."""
    fd = _conda_open_regular(path)
    if fd is None:
        return None, "not a regular file"
    chunks = []
    total = 0
    try:
        size = os.fstat(fd).st_size
        if size > maximum:
            return None, "%d bytes, over the limit of %d" % (size, maximum)
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > maximum:
                return None, "over the limit of %d bytes" % maximum
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks), None


def _conda_sha256(path):
    """sha256 of a regular file, read in blocks; None when it is not a regular file."""
    import hashlib

    fd = _conda_open_regular(path)
    if fd is None:
        return None
    digest = hashlib.sha256()
    try:
        while True:
            block = os.read(fd, 1 << 20)
            if not block:
                break
            digest.update(block)
    finally:
        os.close(fd)
    return digest.hexdigest()


def _verify_conda(prefix, record):
    """Files of the record whose sha256 differs, or that are gone."""
    bad = []
    paths_data = record.get("paths_data")
    items = paths_data.get("paths") if isinstance(paths_data, dict) else None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        rel = item.get("_path")
        if not isinstance(rel, str) or rel.startswith("/") or ".." in rel.split("/"):
            continue
        expected = item.get("sha256_in_prefix") or (None if item.get("prefix_placeholder") else item.get("sha256"))
        if not rel or not expected or item.get("path_type", "hardlink") not in ("hardlink", "softlink"):
            continue
        path = os.path.join(prefix, rel)
        if item.get("path_type") == "softlink" and os.path.islink(path):
            # rattler records the sha256 of a symlink's target text (conda: of the file it
            # leads to, checked below; a link to a folder has no content to hash)
            import hashlib

            try:
                if hashlib.sha256(os.readlink(path).encode("utf-8", "surrogateescape")).hexdigest() == expected:
                    continue
            except OSError:
                pass
        try:
            actual = _conda_sha256(path)
        except OSError:
            if rel.endswith(".pyc") and "__pycache__" in rel.split("/") and not os.path.lexists(path):
                continue  # bytecode is a cache Python writes again (envman's images leave it out); a changed one counts
            bad.append(rel + " (missing)")
            continue
        if actual is None:
            bad.append(rel + " (not a regular file)")
        elif actual != expected:
            bad.append(rel)
    return bad


def _auto_prefixes():
    prefixes = [p for p in CONDA_AUTO if os.path.isdir(os.path.join(p, "conda-meta"))]
    if os.path.isdir("/opt"):
        for name in sorted(os.listdir("/opt")):
            path = os.path.join("/opt", name)
            if path not in prefixes and os.path.isdir(os.path.join(path, "conda-meta")):
                prefixes.append(path)
    return prefixes


def probe_conda(prefixes, deep, problems, maximum=CONDA_MAX_RECORD_BYTES):
    """The probe's "conda" section: {prefixes found, packages} ("auto": the usual places);
    maximum: the size limit of one conda-meta record, in bytes."""
    if prefixes == "auto":
        prefixes = _auto_prefixes()
    packages = []
    found = []
    for prefix in prefixes:
        meta = os.path.join(prefix, "conda-meta")
        if not os.path.isdir(meta):
            problems.append("not a conda prefix (no conda-meta): " + prefix)
            continue
        found.append(prefix)
        for fname in sorted(os.listdir(meta)):
            if not fname.endswith(".json"):
                continue
            import json  # here: a probe of a target without conda never pays for it

            path = os.path.join(meta, fname)
            try:
                data, why = read_conda_record(path, maximum)
                if data is None:
                    problems.append("skipped %s: %s" % (path, why))
                    continue
                record = json.loads(data.decode("utf-8"))
            except (OSError, ValueError, RecursionError) as exc:
                problems.append("unreadable %s: %s" % (path, str(exc)[:200]))
                continue
            if not isinstance(record, dict) or not isinstance(record.get("name"), str):
                problems.append("not a conda package record: " + os.path.join(meta, fname))
                continue
            row = {"name": record["name"], "version": str(record.get("version", "")), "location": prefix}
            for key in ("build", "channel", "sha256", "md5", "subdir"):
                if record.get(key):
                    row[key] = str(record[key])
            if deep:
                bad = _verify_conda(prefix, record)
                if bad:
                    row["modified"] = bad[:_CONDA_MAX_LISTED]
                    row["modified_count"] = len(bad)
            packages.append(row)
    return {"prefixes": found, "packages": packages}


def conda_section(options, deep, problems):
    """The probe's "conda" section; options: prefixes (a list, or "auto"), max_bytes (the
    size limit of one record)."""
    maximum = options.get("max_bytes")
    if not isinstance(maximum, int) or isinstance(maximum, bool) or maximum <= 0:
        maximum = CONDA_MAX_RECORD_BYTES
    return probe_conda(options.get("prefixes") or [], deep, problems, maximum)
