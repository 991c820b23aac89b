"""One locked Python distribution."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from envman.lockfile.entry_base import LockModel

__all__ = ["PythonEntry"]


class PythonEntry(LockModel):
    name: str
    version: str
    hashes: list[str] = []
    requires: list[str] = []
    source: str | None = None
    marker: str | None = None
    # A direct reference (PEP 440/508 `name @ URL`) instead of an index: the URL as locked
    # (a VCS URL ends in `@<full commit>`; archives are pinned by `hashes`; paths relative to
    # the manifest stay relative), and for VCS the commit.
    url: str | None = None
    commit: str | None = None
    # Another ecosystem's solution installs it (conda and PyPI together): `manager: conda` and
    # the conda package that does, `provider`; uv never installs it. `manager: pypi` marks the
    # entries uv installs, once some are provided (see provided.py).
    manager: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]*$", max_length=40)] | None = None
    provider: Annotated[str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_.-]*$", max_length=200)] | None = None
