"""`envman init --from pyproject.toml`: PEP 621 and PEP 735 -> the python section.

- `[project].dependencies` -> python.packages
- `[project].optional-dependencies.GROUP` and `[dependency-groups].GROUP` (PEP 735, with
  `{include-group = …}`) -> environments.GROUP.python.packages (an environment adds to the
  top-level set, as an extra or a group adds to the project's dependencies)
- `requires-python` -> python.version: the lowest version it allows (as uv resolves for),
  said in a note
- the project itself is not added (a note says how: `NAME @ file:.`); a requirement on the
  project's own extras (`name[dev]`) is taken as that group's requirements.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from envman.ecosystems.imports import ImportContext, ImportResult, Note, Skipped
from envman.ecosystems.python.section import validate_python_spec

__all__ = ["import_pyproject", "lowest_python"]

_ENV_NAME = re.compile(r"[^A-Za-z0-9_.\-]+")
_LOWER = re.compile(r"(>=|~=|==|>)\s*3\.(\d+)(?:\.(\d+))?")


def lowest_python(requires: str) -> str | None:
    """The lowest Python 3.X(.Y) a `requires-python` allows, or None (`>3.9` -> 3.10)."""
    best: tuple[int, int] | None = None
    for op, minor, _patch in _LOWER.findall(requires):
        value = (int(minor) + (1 if op == ">" else 0), 0)
        best = value if best is None or value > best else best
    if best is None:
        return None
    return f"3.{best[0]}"


def import_pyproject(path: Path, text: str, context: ImportContext) -> ImportResult:
    result = ImportResult(files=[str(path)])
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        from envman.errors import LocatedError

        line = getattr(exc, "lineno", None)
        raise LocatedError(str(path), line, getattr(exc, "colno", None), f"invalid TOML: {str(exc).split(' (at')[0]}") from None
    found = data.get("project")
    project: dict[str, Any] = found if isinstance(found, dict) else {}
    own_name = str(project.get("name") or "")
    section: dict[str, Any] = {}
    requires = project.get("requires-python")
    if isinstance(requires, str):
        version = lowest_python(requires)
        if version and 8 <= int(version.split(".")[1]) <= 15:
            section["version"] = version
            result.notes.append(Note(str(path), None, f"requires-python {requires!r} -> python.version {version} (the lowest it allows)"))
        else:
            result.skipped.append(Skipped(str(path), None, f"requires-python = {requires!r}", "no lowest Python 3 version in it"))
    section["packages"] = _specs(result, path, "project.dependencies", project.get("dependencies"), own_name)
    groups: dict[str, list[str]] = {}
    optional = project.get("optional-dependencies")
    for group, items in (optional.items() if isinstance(optional, dict) else []):
        groups[str(group)] = _specs(result, path, f"project.optional-dependencies.{group}", items, own_name)
    dependency_groups = data.get("dependency-groups")
    if isinstance(dependency_groups, dict):
        for group in dependency_groups:
            expanded = _expand_group(result, path, dependency_groups, str(group), ())
            specs = _specs(result, path, f"dependency-groups.{group}", expanded, own_name)
            groups.setdefault(str(group), []).extend(s for s in specs if s not in groups.get(str(group), []))
    environments: dict[str, Any] = {}
    for group, specs in groups.items():
        name = _ENV_NAME.sub("-", group).strip("-") or "group"
        environments[name] = {"python": {"packages": specs}} if specs else {}
    if environments:
        environments = {"production": {}, **environments} if "production" not in environments else environments
    if own_name:
        result.notes.append(Note(str(path), None, f"the project {own_name} itself is not added; add `{own_name} @ file:.` to install it"))
    result.sections = {"python": section}
    if environments:
        result.sections["environments"] = environments
    return result


def _expand_group(result: ImportResult, path: Path, groups: dict[str, Any], group: str, stack: tuple[str, ...]) -> list[Any]:
    if group in stack:
        result.skipped.append(Skipped(str(path), None, f"dependency-groups.{group}", "include-group cycle"))
        return []
    items = groups.get(group)
    out: list[Any] = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("include-group"), str):
            out.extend(_expand_group(result, path, groups, item["include-group"], (*stack, group)))
        else:
            out.append(item)
    return out


def _specs(result: ImportResult, path: Path, where: str, items: Any, own_name: str) -> list[str]:
    from packaging.utils import canonicalize_name

    out: list[str] = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, str):
            result.skipped.append(Skipped(str(path), None, f"{where}: {item!r}", "not a requirement string"))
            continue
        try:
            validate_python_spec(item)
        except ValueError as exc:
            result.skipped.append(Skipped(str(path), None, f"{where}: {item}", str(exc)))
            continue
        name = re.split(r"[\s\[<>=!~;@(]", item.strip(), maxsplit=1)[0]
        if own_name and canonicalize_name(name) == canonicalize_name(own_name):
            result.notes.append(Note(str(path), None, f"{where}: {item} (the project's own extras) is left out; its groups are imported"))
            continue
        if item not in out:
            out.append(item)
    return out
