"""The `python:` manifest section and its requirement grammar (PEP 508)."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator

from envman.sections import FindLink, Strict, Url, VersionText
from envman.specs import reject_shell_meta

__all__ = ["PythonSection", "PythonOverlay", "validate_python_spec"]


def validate_python_spec(spec: str) -> str:
    """PEP 508 requirement; URLs are allowed only as `name @ url`."""
    from packaging.requirements import InvalidRequirement, Requirement

    reject_shell_meta(spec)
    try:
        Requirement(spec)
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0]
        raise ValueError(f"not a valid PEP 508 requirement: {first}") from None
    return spec


PythonSpec = Annotated[str, AfterValidator(validate_python_spec)]
_PY_VERSION = re.compile(r"3\.([0-9]+)(?:\.([0-9]+))?")


def _validate_python_version(value: str) -> str:
    match = _PY_VERSION.fullmatch(value)
    if not match or not 8 <= int(match.group(1)) <= 15:
        raise ValueError(f"unknown Python version {value!r} (expected 3.8 to 3.15, as X.Y or X.Y.Z)")
    return value


class PythonSection(Strict):
    version: Annotated[str, VersionText, AfterValidator(_validate_python_version)] | None = None
    index_url: Url | None = None
    extra_index_urls: list[Url] = []
    find_links: list[FindLink] = []
    resolver: Literal["uv", "pip-tools"] = "uv"
    packages: list[PythonSpec] = []
    # Constraints (pip's -c): bound a package's version if something requires it, without
    # requiring it (they are not packages of the lock by themselves).
    constraints: list[PythonSpec] = []


class PythonOverlay(Strict):
    packages: list[PythonSpec] = []
