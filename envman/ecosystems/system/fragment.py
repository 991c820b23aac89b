"""The image's system layer as data: the locked .debs, fetched and sha256-verified on the
host, installed offline in the first stage (before every language layer) by
templates/ecosystems/system/install.sh.j2."""

from __future__ import annotations

from typing import Any

from envman.ecosystems.requests import Artifact, Fragment
from envman.ecosystems.system.entry import deb_filename

__all__ = ["system_fragment", "DEBS_DIR"]

DEBS_DIR = "system/debs"


def system_fragment(ecosystem: str, entries: list[Any]) -> Fragment:
    ordered = sorted((e for e in entries if not e.base), key=lambda e: (e.name, e.architecture))
    artifacts = [Artifact(url=e.url, sha256=e.sha256, path=f"{DEBS_DIR}/{deb_filename(e)}") for e in ordered]
    return Fragment(
        ecosystem=ecosystem,
        template="system",
        rank=0,  # the slowest-moving layer, under every language layer
        install_dir="/",
        artifacts=artifacts,
        data={"debs": [a.path.removeprefix("system/") for a in artifacts], "count": len(artifacts)},
    )
