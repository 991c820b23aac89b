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
    """The ecosystem object for a manifest section, imported lazily (keeps the CLI fast)."""
    module = importlib.import_module(_MODULES[name])
    return module.ECOSYSTEM


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
