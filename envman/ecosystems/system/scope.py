"""Which installed Debian packages `check` and `diff` talk about (pure).

A target's dpkg database holds the whole base image. The lock names every package the base
lacks, so a package the lock does not name is the base's own and is not drift, unless it
depends (directly or through other such packages) on a package the lock names: then it was
installed on top of the locked ones (`apt-get install gdal-bin` over a locked libgdal32)
and is reported as extra. Without a lock to go by (diff of two live targets), every package
is compared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from envman.ecosystems.base import InstalledPackage

__all__ = ["scoped_rows"]


def scoped_rows(ecosystem: str, rows: list[Mapping[str, Any]], known: Mapping[str, tuple[str, str]]) -> list[InstalledPackage]:
    names = [str(row["name"]) for row in rows]
    locked = {name for name, _version in known.values()} & set(names) if known else set(names)
    provides: dict[str, set[str]] = {}
    for row in rows:
        for virtual in row.get("provides") or []:
            provides.setdefault(str(virtual), set()).add(str(row["name"]))
    depends = {str(row["name"]): {p for d in (row.get("depends") or []) for p in provides.get(str(d), {str(d)})} for row in rows}
    above: dict[str, str] = {}
    changed = True
    while changed:  # packages that reach a locked package through their dependencies
        changed = False
        for name, deps in depends.items():
            if name in locked or name in above:
                continue
            hit = next((d for d in sorted(deps) if d in locked), None) or next((above[d] for d in sorted(deps) if d in above), None)
            if hit:
                above[name] = hit
                changed = True
    packages = []
    for row in rows:
        name = str(row["name"])
        extra: dict[str, Any] = {"architecture": str(row.get("architecture", ""))}
        if name not in locked and name not in above:
            extra["base"] = True
        elif name in above:
            extra["depends-on-locked"] = above[name]
        if row.get("state"):
            extra["state"] = str(row["state"])
        if row.get("modified"):
            extra["modified"] = [str(p) for p in row["modified"]]
            extra["modified-count"] = int(row.get("modified-count", len(row["modified"])))
        packages.append(InstalledPackage(ecosystem, name, str(row.get("version", "")), "dpkg", None, extra))
    return packages
