"""One locked conda package."""

from __future__ import annotations

from envman.lockfile.entry_base import LockModel

__all__ = ["CondaEntry"]


class CondaEntry(LockModel):
    name: str
    version: str
    build: str
    url: str
    sha256: str
    md5: str | None = None
    subdir: str | None = None
    channel: str | None = None
    requires: list[str] = []
