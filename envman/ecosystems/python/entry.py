"""One locked Python distribution."""

from __future__ import annotations

from envman.lockfile.entry_base import LockModel

__all__ = ["PythonEntry"]


class PythonEntry(LockModel):
    name: str
    version: str
    hashes: list[str] = []
    requires: list[str] = []
    source: str | None = None
    marker: str | None = None
