"""Image data for the R packages of one environment (the image issue builds on this)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from envman.ecosystems.base import Fragment
from envman.ecosystems.r.resolver import install_order

__all__ = ["R_LIBRARY", "to_fragment"]

R_LIBRARY = "/opt/envman/r-library"


def to_fragment(entries: Sequence[Any]) -> Fragment:
    """Tarballs to fetch and verify, in install (dependency) order, into one library."""
    by_name = {e.name: e for e in entries}
    order = install_order(list(by_name), {e.name: list(e.requires) for e in entries})
    packages = [
        {
            "name": name,
            "version": by_name[name].version,
            "url": by_name[name].url,
            "sha256": by_name[name].sha256,
            "needs_compilation": bool(by_name[name].needs_compilation),
        }
        for name in order
    ]
    steps = [{"kind": "r-install", "library": R_LIBRARY, "packages": packages}] if packages else []
    return Fragment(
        ecosystem="r",
        steps=steps,
        env={"R_LIBS_SITE": R_LIBRARY} if packages else {},
        labels={"org.envman.r-libs": R_LIBRARY} if packages else {},
    )
