"""One locked R source package."""

from __future__ import annotations

from envman.lockfile.entry_base import LockModel

__all__ = ["REntry"]


class REntry(LockModel):
    name: str
    version: str
    sha256: str
    repository: str
    url: str
    md5: str | None = None
    requires: list[str] = []
    needs_compilation: bool | None = None
