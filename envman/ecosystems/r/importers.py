"""`envman init --from renv.lock|DESCRIPTION` -> the r section."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from envman.ecosystems.r.grammar import name_problem, version_problem
from envman.errors import LocatedError

__all__ = ["read_renv_lock", "read_description"]


def _of(value: Any, kind: type, default: Any) -> Any:
    return value if isinstance(value, kind) else default


def read_renv_lock(path: Path, text: str) -> dict[str, Any]:
    """renv.lock -> the r section. Names and versions are held to R's grammar; a file of
    another shape is exit 2 naming it (never a traceback)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LocatedError(str(path), exc.lineno, exc.colno, f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise LocatedError(str(path), None, None, "invalid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise LocatedError(str(path), 1, 1, "not a renv.lock (expected a JSON object)")
    r = _of(data.get("R"), dict, {})
    repo_list = _of(r.get("Repositories"), list, [])
    repos = {
        str(repo["Name"]): str(repo["URL"])
        for repo in repo_list
        if isinstance(repo, dict) and isinstance(repo.get("Name"), str) and isinstance(repo.get("URL"), str)
    }
    records = _of(data.get("Packages"), dict, {})
    packages = []
    for name, info in sorted(records.items()):
        if not isinstance(info, dict) or "Version" not in info:
            continue
        version = str(info["Version"])
        problem = name_problem(str(name)) or version_problem(version)
        if problem:
            raise LocatedError(str(path), None, None, f"Packages: {problem}")
        packages.append(f"{name} (== {version})")
    section: dict[str, Any] = {"packages": packages}
    if r.get("Version"):
        section["version"] = str(r["Version"])
    if repos:
        section["repositories"] = repos
    return {"r": section}


def read_description(path: Path, text: str) -> dict[str, Any]:
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
