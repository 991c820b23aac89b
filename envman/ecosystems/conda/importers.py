"""`envman init --from environment.yml`: conda packages (and its pip list) -> sections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from envman.errors import LocatedError

__all__ = ["read_environment_yml"]


def read_environment_yml(path: Path, text: str) -> dict[str, Any]:
    import yaml

    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise LocatedError(str(path), None, None, f"invalid YAML: {exc}") from None
    conda: list[str] = []
    pip: list[str] = []
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
