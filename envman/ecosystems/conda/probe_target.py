"""Conda prefixes, probed where they live: standard library only, no envman imports.

Imported normally on the host (conda:PREFIX, envman.ecosystems.conda.probe) and
concatenated into the in-target probe script (envman/targets/probe_runner.py assembles it): Python
3.6 syntax, no relative imports, no name another probe module defines differently.
Each `conda-meta/*.json` record gives a package; with deep, its files' sha256 are checked
against the record's paths_data (never following a path outside the prefix).
"""

import os

__all__ = ["CONDA_AUTO", "probe_conda", "conda_section"]

CONDA_AUTO = ("/opt/conda", "/opt/miniconda3", "/opt/miniforge3", "/opt/mambaforge", "/opt/env", "/opt/pixi")

_CONDA_MAX_LISTED = 20


def _conda_sha256(path):
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
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
        try:
            actual = _conda_sha256(os.path.join(prefix, rel))
        except OSError:
            bad.append(rel + " (missing)")
            continue
        if actual != expected:
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


def probe_conda(prefixes, deep, problems):
    """The probe's "conda" section: {prefixes found, packages} ("auto": the usual places)."""
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

            try:
                with open(os.path.join(meta, fname), "r", encoding="utf-8") as handle:
                    record = json.load(handle)
            except (OSError, ValueError) as exc:
                problems.append("unreadable %s: %s" % (os.path.join(meta, fname), exc))
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
    """The probe's "conda" section; options: prefixes (a list, or "auto")."""
    return probe_conda(options.get("prefixes") or [], deep, problems)
