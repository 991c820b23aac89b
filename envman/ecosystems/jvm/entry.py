"""One locked Maven artifact."""

from __future__ import annotations

from typing import Literal

from envman.lockfile.entry_base import LockModel

__all__ = ["JvmEntry"]


class JvmEntry(LockModel):
    name: str
    version: str
    sha256: str
    url: str
    scope: Literal["compile", "runtime"] = "compile"
    type: str = "jar"
    requires: list[str] = []
