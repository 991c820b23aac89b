"""One locked conda package.

A lock is read back as untrusted input (it may have been edited): name, version and build
are held to conda's grammar (grammar.py), the digests to hex, before they can name a file
in a prefix or the cache.
"""

from __future__ import annotations

from pydantic import field_validator

from envman.ecosystems.conda.grammar import build_problem, is_md5, is_sha256, name_problem, version_problem
from envman.lockfile.entry_base import LockModel

__all__ = ["CondaEntry"]


def _checked(problem: str | None, value: str) -> str:
    if problem:
        raise ValueError(problem)
    return value


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

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        return _checked(name_problem(value), value)

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        return _checked(version_problem(value), value)

    @field_validator("build")
    @classmethod
    def _build(cls, value: str) -> str:
        return _checked(build_problem(value), value)

    @field_validator("sha256")
    @classmethod
    def _sha256(cls, value: str) -> str:
        return _checked(None if is_sha256(value) else "not a sha256 (64 lowercase hex digits)", value)

    @field_validator("md5")
    @classmethod
    def _md5(cls, value: str | None) -> str | None:
        if value is not None and not is_md5(value):
            raise ValueError("not an MD5 digest (32 lowercase hex digits)")
        return value
