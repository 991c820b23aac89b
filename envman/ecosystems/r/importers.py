"""`envman init --from renv.lock|DESCRIPTION` -> the r section."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from envman.errors import LocatedError

__all__ = ["read_renv_lock", "read_description"]


def read_renv_lock(path: Path, text: str) -> dict[str, Any]:
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
