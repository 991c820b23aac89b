"""Image data for the R packages of one environment: tarballs split into separately cached
chunks (chunks.py), installed in dependency order into one library by templates/ecosystems/r/."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from envman.ecosystems.base import Artifact, Fragment
from envman.ecosystems.r.chunks import plan_chunks

__all__ = ["R_LIBRARY", "to_fragment"]

R_LIBRARY = "/opt/envman/r-library"
LABEL = "org.envman.r-libs"


def to_fragment(entries: Sequence[Any]) -> Fragment:
    """Per chunk, its tarballs under r/<chunk>/src/ and r/<chunk>/packages.txt ("height name
    version file" per line, by decreasing height); compilers are asked for only when a
    package needs them."""
    by_name = {e.name: e for e in entries}
    if not by_name:
        return Fragment(ecosystem="r")
    chunks = plan_chunks(list(by_name), {e.name: list(e.requires) for e in entries})
    artifacts = []
    files: dict[str, bytes | Any] = {}
    for chunk in chunks:
        lines = []
        for height, name in chunk.packages:
            entry = by_name[name]
            filename = f"{entry.name}_{entry.version}.tar.gz"  # both held to R's grammar by REntry
            artifacts.append(Artifact(url=entry.url, sha256=entry.sha256, path=f"r/{chunk.name}/src/{filename}"))
            lines.append(f"{height} {entry.name} {entry.version} {filename}\n")
        files[f"r/{chunk.name}/packages.txt"] = "".join(lines).encode()
    compiled = sorted(name for name in by_name if by_name[name].needs_compilation)
    return Fragment(
        ecosystem="r",
        template="r",
        rank=40,  # changed most often in data-science projects: the top layer
        install_dir=R_LIBRARY,
        artifacts=artifacts,
        files=files,
        data={
            "library": R_LIBRARY,
            "compiled": compiled,
            "count": len(by_name),
            "chain": [c.name for c in chunks if not c.leaves],
            "leaves": [c.name for c in chunks if c.leaves],
        },
        build_apt=["r-base-dev"] if compiled else [],
        env={"R_LIBS": R_LIBRARY},  # first in .libPaths(): the locked versions win (R_LIBS_SITE comes after Debian's site library)
        labels={LABEL: R_LIBRARY},
    )
