"""The python part of a probe result (host side): distributions as InstalledPackage rows.

The reading in the target is probe_target.py beside this file (standard library only, run by
the target's own interpreter). Duplicates on sys.path are kept (the later copies are marked
`shadowed-by`), never hidden.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from envman.ecosystems.base import InstalledPackage

__all__ = ["python_packages", "normalize_name"]

_NORMALIZE = re.compile(r"[-_.]+")


def normalize_name(name: str) -> str:
    """PEP 503 normalized name."""
    return _NORMALIZE.sub("-", name).lower()


def python_packages(section: Mapping[str, Any]) -> list[InstalledPackage]:
    """InstalledPackage rows from the probe's python section; later duplicates marked shadowed."""
    seen: dict[str, str] = {}
    out: list[InstalledPackage] = []
    for row in section.get("packages", []):
        name = str(row.get("name", ""))
        if not name:
            continue
        key = normalize_name(name)
        extra: dict[str, Any] = {}
        if key in seen:
            extra["shadowed-by"] = seen[key]
        else:
            seen[key] = str(row.get("location", ""))
        if row.get("direct_url") is not None:  # installed from a URL, VCS or folder (direct_url.json)
            from envman.ecosystems.python.direct import installed_reference

            direct = installed_reference(row["direct_url"])
            if direct is not None:
                extra["direct"] = direct
        if row.get("modified"):
            extra["modified"] = list(row["modified"])
            extra["modified-count"] = int(row.get("modified_count", len(row["modified"])))
        out.append(InstalledPackage("python", key, str(row.get("version", "")), row.get("location"), None, extra))
    return out
