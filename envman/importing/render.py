"""The commented envman.yaml that `envman init` writes (with imported sections, or the default)."""

from __future__ import annotations

from typing import Any

__all__ = ["render_manifest"]


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
