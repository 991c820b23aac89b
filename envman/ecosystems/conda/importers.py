"""`envman init --from environment.yml`: conda packages (and its pip list) -> sections."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from envman.errors import LocatedError

__all__ = ["read_environment_yml"]


def read_environment_yml(path: Path, text: str) -> dict[str, Any]:
    """environment.yml -> the conda (and python) sections. Hostile YAML (aliases, deep
    nesting) is refused before it is built; a file of another shape is exit 2 naming it."""
    import yaml

    from envman.yamlguard import check_yaml

    check_yaml(text, str(path), path.name)
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise LocatedError(str(path), None, None, f"invalid YAML: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise LocatedError(str(path), None, None, f"invalid YAML: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise LocatedError(str(path), 1, 1, "not a conda environment file (expected a mapping with `dependencies:`)")
    dependencies = data.get("dependencies") or []
    if not isinstance(dependencies, list):
        raise LocatedError(str(path), None, None, "`dependencies` is not a list")
    conda: list[str] = []
    pip: list[str] = []
    for dep in dependencies:
        if isinstance(dep, dict) and "pip" in dep:
            if not isinstance(dep["pip"], list):
                raise LocatedError(str(path), None, None, "`pip` under `dependencies` is not a list")
            pip.extend(str(x) for x in dep["pip"])
        elif isinstance(dep, str):
            conda.append(dep)
    result: dict[str, Any] = {}
    if conda:
        channels = data.get("channels", ["conda-forge"])
        if not isinstance(channels, list):
            raise LocatedError(str(path), None, None, "`channels` is not a list")
        result["conda"] = {"channels": [str(c) for c in channels], "packages": conda}
    if pip:
        result["python"] = {"packages": pip}
    return result
