"""Image data for the R packages of one environment: tarballs in install (dependency)
order, installed into one library by templates/ecosystems/r/."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from envman.ecosystems.base import Artifact, Fragment
from envman.ecosystems.r.resolver import install_order

__all__ = ["R_LIBRARY", "to_fragment"]

R_LIBRARY = "/opt/envman/r-library"
LABEL = "org.envman.r-libs"


def to_fragment(entries: Sequence[Any]) -> Fragment:
    """One tarball per package under r/src/ and r/packages.txt ("name version file" per
    line, dependencies first); compilers are asked for only when a package needs them."""
    by_name = {e.name: e for e in entries}
    if not by_name:
        return Fragment(ecosystem="r")
    order = install_order(list(by_name), {e.name: list(e.requires) for e in entries})
    artifacts = []
    lines = []
    for name in order:
        entry = by_name[name]
        filename = f"{entry.name}_{entry.version}.tar.gz"  # both held to R's grammar by REntry
        artifacts.append(Artifact(url=entry.url, sha256=entry.sha256, path=f"r/src/{filename}"))
        lines.append(f"{entry.name} {entry.version} {filename}\n")
    compiled = sorted(name for name in order if by_name[name].needs_compilation)
    return Fragment(
        ecosystem="r",
        template="r",
        rank=40,  # changed most often in data-science projects: the top layer
        install_dir=R_LIBRARY,
        artifacts=artifacts,
        files={"r/packages.txt": "".join(lines).encode()},
        data={"library": R_LIBRARY, "compiled": compiled, "count": len(order)},
        build_apt=["r-base-dev"] if compiled else [],
        env={"R_LIBS": R_LIBRARY},  # first in .libPaths(): the locked versions win (R_LIBS_SITE comes after Debian's site library)
        labels={LABEL: R_LIBRARY},
    )
