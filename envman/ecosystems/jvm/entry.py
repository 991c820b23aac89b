"""One locked Maven artifact.

A lock is read back as untrusted input (it may have been edited): the name, version and type
are held to the Maven coordinate grammar (coordinates.py) and the sha256 to 64 hex digits,
before any of them can name a file in `jars:DIR`, `lib/…` or the cache.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator

from envman.ecosystems.jvm.coordinates import check_name, check_part, check_version
from envman.lockfile.entry_base import LockModel

__all__ = ["JvmEntry"]

_SHA256 = re.compile(r"[0-9a-f]{64}")


class JvmEntry(LockModel):
    name: str
    version: str
    sha256: str
    url: str
    scope: Literal["compile", "runtime"] = "compile"
    type: str = "jar"
    requires: list[str] = []

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return check_name(value)

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        return check_version(value)

    @field_validator("type")
    @classmethod
    def _type(cls, value: str) -> str:
        return check_part("type", value)

    @field_validator("sha256")
    @classmethod
    def _sha256(cls, value: str) -> str:
        if not _SHA256.fullmatch(value):
            raise ValueError("not a sha256 (64 lowercase hex digits)")
        return value

    @field_validator("requires")
    @classmethod
    def _requires(cls, value: list[str]) -> list[str]:
        for name in value:
            check_name(name)
        return value
