"""`envman init --from FILE`: read another tool's file into manifest sections (pure parsers)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from envman.errors import BadInputError

__all__ = ["import_file", "render_manifest"]


def import_file(path: Path) -> dict[str, Any]:
    """Manifest sections read from another tool's file, by the first ecosystem importer that
    claims its name (the fallback importer last)."""
    from envman import ecosystems
    from envman.limits import read_regular_text

    try:
        text = read_regular_text(path, "manifest_bytes", str(path))
    except UnicodeDecodeError:
        raise BadInputError(f"{path}: cannot read: not UTF-8 text") from None
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    name = path.name.lower()
    importers = [imp for eco in ecosystems.all_ecosystems() for imp in eco.importers()]
    for importer in sorted(importers, key=lambda imp: imp.fallback):
        if importer.matches(name):
            return importer.read(path, text)
    raise BadInputError(f"{path}: no importer reads this kind of file")


TEMPLATE_HEAD = """\
# yaml-language-server: $schema=.envman/envman.schema.json
# envman manifest: declare what this project needs; `envman lock` pins it in envman.lock.
version: 1
name: {name}
platforms: [linux-64]           # conda-style platform names
"""

DEFAULT_SECTIONS = """\
python:
  version: "3.11"               # the interpreter version the lock is resolved for
  index-url: https://pypi.org/simple
  packages: []                  # PEP 508 specs, e.g. "pandas>=2.1"
# r:
#   version: "4.3.3"
#   repositories: {CRAN: "https://packagemanager.posit.co/cran/2024-06-03"}
#   packages: ["data.table", "ggplot2 (>= 3.4)"]
# jvm:
#   java: "17"
#   dependencies: ["org.apache.commons:commons-lang3:3.14.0"]
# environments:                 # optional; each adds to the top-level sets
#   production: {}
#   design:
#     python: {packages: [jupyterlab]}
"""


def render_manifest(name: str, sections: dict[str, Any] | None) -> str:
    import yaml

    head = TEMPLATE_HEAD.format(name=name)
    if not sections:
        return head + DEFAULT_SECTIONS
    body = yaml.safe_dump(sections, sort_keys=False, default_flow_style=False, width=4096)
    return head + body
