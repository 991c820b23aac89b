"""`envman init --from FILE`: read another tool's file into manifest sections (pure parsers)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from envman import specs
from envman.errors import BadInputError, LocatedError

__all__ = ["import_file", "render_manifest"]


def _from_requirements(path: Path, text: str) -> dict[str, Any]:
    packages: list[str] = []
    index_url = None
    logical: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        if pending is not None:
            pending = (pending[0], pending[1] + " " + raw.strip())
        else:
            pending = (number, raw)
        if pending[1].rstrip().endswith("\\"):
            pending = (pending[0], pending[1].rstrip()[:-1])
            continue
        logical.append(pending)
        pending = None
    if pending is not None:
        logical.append(pending)
    for number, raw in logical:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("--index-url", "-i ")):
            index_url = line.split(None, 1)[1].strip() if " " in line else line.split("=", 1)[1]
            continue
        if line.startswith("-"):
            raise LocatedError(str(path), number, 1, f"option {line.split()[0]!r} cannot be imported; add it to envman.yaml by hand")
        line = re.sub(r"\s+--hash=\S+", "", line).rstrip(" \\")
        try:
            specs.validate_python_spec(line)
        except ValueError as exc:
            raise LocatedError(str(path), number, 1, str(exc)) from None
        packages.append(line)
    section: dict[str, Any] = {"packages": packages}
    if index_url:
        section["index-url"] = index_url
    return {"python": section}


def _from_environment_yml(path: Path, text: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise LocatedError(str(path), None, None, f"invalid YAML: {exc}") from None
    conda, pip = [], []
    for dep in data.get("dependencies", []):
        if isinstance(dep, dict) and "pip" in dep:
            pip.extend(str(x) for x in dep["pip"])
        elif isinstance(dep, str):
            conda.append(dep)
    result: dict[str, Any] = {}
    if conda:
        result["conda"] = {"channels": list(data.get("channels", ["conda-forge"])), "packages": conda}
    if pip:
        result["python"] = {"packages": pip}
    return result


def _from_renv_lock(path: Path, text: str) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LocatedError(str(path), exc.lineno, exc.colno, f"invalid JSON: {exc.msg}") from None
    r = data.get("R", {})
    repos = {repo["Name"]: repo["URL"] for repo in r.get("Repositories", []) if "Name" in repo and "URL" in repo}
    packages = [f"{name} (== {info['Version']})" for name, info in sorted(data.get("Packages", {}).items()) if "Version" in info]
    section: dict[str, Any] = {"packages": packages}
    if r.get("Version"):
        section["version"] = r["Version"]
    if repos:
        section["repositories"] = repos
    return {"r": section}


def _from_description(path: Path, text: str) -> dict[str, Any]:
    fields: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if line[:1].isspace() and key:
            fields[key] += " " + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            fields[key.strip()] = value.strip()
    packages = []
    for field_name in ("Depends", "Imports", "LinkingTo"):
        for item in filter(None, (p.strip() for p in fields.get(field_name, "").split(","))):
            if item.split("(")[0].strip() == "R":
                continue
            packages.append(re.sub(r"\s+", " ", item))
    return {"r": {"packages": packages}}


def _from_pom(path: Path, text: str) -> dict[str, Any]:
    """Compile/runtime dependencies, with properties, local parents and management applied."""
    from envman.ecosystems.jvm.project import dependencies_from_pom

    return dependencies_from_pom(path)


def import_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read: {exc.strerror}") from None
    name = path.name.lower()
    if name == "renv.lock":
        return _from_renv_lock(path, text)
    if name == "description":
        return _from_description(path, text)
    if name.endswith((".yml", ".yaml")):
        return _from_environment_yml(path, text)
    if name.endswith(".xml"):
        return _from_pom(path, text)
    return _from_requirements(path, text)


TEMPLATE_HEAD = """\
# yaml-language-server: $schema=https://raw.githubusercontent.com/envman/envman/main/schemas/envman.schema.json
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
