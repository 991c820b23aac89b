"""Registry of ecosystems, in the order they are resolved, rendered and probed."""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["ORDER", "get_ecosystem", "export_formats"]

ORDER = ("conda", "python", "r", "jvm")

_MODULES = {
    "python": "envman.ecosystems.python",
    "r": "envman.ecosystems.r",
    "jvm": "envman.ecosystems.jvm",
    "conda": "envman.ecosystems.conda",
}


def get_ecosystem(name: str) -> Any:
    """The ecosystem object for a manifest section, imported lazily (keeps the CLI fast).

    Raises NotImplementedError for a section whose resolver is not built yet (conda: its
    prefixes can be probed and synced, but `conda:` sections cannot be locked yet)."""
    module = importlib.import_module(_MODULES[name])
    ecosystem = getattr(module, "ECOSYSTEM", None)
    if ecosystem is None:
        raise NotImplementedError(name)
    return ecosystem


def export_formats() -> dict[str, str]:
    """format name -> ecosystem name."""
    return {
        "requirements": "python",
        "renv": "r",
        "maven": "jvm",
        "conda-lock": "conda",
        "explicit": "conda",
        "cyclonedx": "*",
    }
