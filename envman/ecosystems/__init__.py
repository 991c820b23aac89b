"""The registry of ecosystems: the one list of them, in manifest, lock and report order.

Adding an ecosystem is a package under envman/ecosystems/ plus one line in BUILTIN.
Everything else that needs the list (manifest and lock models, drift, reports, probes,
exports) derives it from here. `register` adds one at run time (tests, plugins).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from envman.ecosystems.base import Ecosystem

__all__ = ["BUILTIN", "names", "get", "all_ecosystems", "register", "unregister", "signature", "export_formats"]

# name -> module holding ECOSYSTEM (an envman.ecosystems.base.Ecosystem); the order is the
# order of the manifest's sections, of the lock's lists and of reports.
BUILTIN: dict[str, str] = {
    "python": "envman.ecosystems.python",
    "r": "envman.ecosystems.r",
    "jvm": "envman.ecosystems.jvm",
    "conda": "envman.ecosystems.conda",
    "system": "envman.ecosystems.system",
}

_modules: dict[str, str] = dict(BUILTIN)
_registered: dict[str, Ecosystem] = {}


def names() -> tuple[str, ...]:
    """Every ecosystem's name, in order (no import of any ecosystem)."""
    return tuple(_modules)


def get(name: str) -> Ecosystem:
    """The ecosystem object (its class module is light: importing it is cheap)."""
    found = _registered.get(name)
    if found is None:
        module = importlib.import_module(_modules[name])
        found = _registered[name] = module.ECOSYSTEM
    return found


def all_ecosystems() -> list[Ecosystem]:
    return [get(name) for name in _modules]


def register(ecosystem: Ecosystem) -> None:
    """Add (or replace) an ecosystem at run time; models derived from the registry are rebuilt."""
    _modules[ecosystem.name] = type(ecosystem).__module__
    _registered[ecosystem.name] = ecosystem


def unregister(name: str) -> None:
    _registered.pop(name, None)
    if name in BUILTIN:
        _modules[name] = BUILTIN[name]
    else:
        _modules.pop(name, None)


def signature() -> tuple[tuple[str, int], ...]:
    """Which ecosystem objects are registered, in order: models derived from the registry are
    cached under it, so the same registry always gives the same model classes (also after a
    test registers an ecosystem and removes it again)."""
    return tuple((eco.name, id(eco)) for eco in all_ecosystems())


def export_formats() -> dict[str, str]:
    """format name -> ecosystem name; "*" for formats over every ecosystem (the SBOM)."""
    formats = {fmt: eco.name for eco in all_ecosystems() for fmt in eco.export_formats}
    formats["cyclonedx"] = "*"
    return formats
