"""Probe a conda prefix: `conda-meta/*.json` records (name, version, build, channel, hashes).

The reading itself is probe_target.py beside this file (part of the in-target probe script,
so it works through docker too); this module turns its output into InstalledPackage rows,
and reads a local prefix directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from envman.ecosystems.base import InstalledPackage

__all__ = ["conda_packages", "probe_prefix"]


def conda_packages(section: dict[str, Any]) -> list[InstalledPackage]:
    out = []
    for row in section.get("packages", []):
        extra: dict[str, Any] = {}
        for key in ("build", "channel", "md5", "subdir"):
            if row.get(key):
                extra[key] = row[key]
        if row.get("modified"):
            extra["modified"] = list(row["modified"])
            extra["modified-count"] = int(row.get("modified_count", len(row["modified"])))
        out.append(InstalledPackage("conda", str(row["name"]), str(row.get("version", "")), row.get("location"), row.get("sha256"), extra))
    return out


def probe_prefix(prefix: Path, deep: bool = False) -> tuple[list[InstalledPackage], list[str]]:
    """Packages of a local conda prefix, and problems met (unreadable records)."""
    from envman.ecosystems.conda.probe_target import probe_conda

    problems: list[str] = []
    section = probe_conda([str(prefix)], deep, problems)
    return conda_packages(section), problems
