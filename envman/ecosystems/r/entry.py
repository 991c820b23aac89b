"""One locked R source package.

A lock is read back as untrusted input (it may have been edited): the name and version are
held to R's grammar (grammar.py), the digests to hex, before they can name a file in
`rlib:DIR`, a tarball or the cache.
"""

from __future__ import annotations

from pydantic import field_validator

from envman.ecosystems.r.grammar import is_md5, is_sha256, name_problem, version_problem
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
    commit: str | None = None  # a package from a git remote: the commit its tarball was made from

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        problem = name_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        problem = version_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("sha256")
    @classmethod
    def _sha256(cls, value: str) -> str:
        if not is_sha256(value):
            raise ValueError("not a sha256 (64 lowercase hex digits)")
        return value

    @field_validator("md5")
    @classmethod
    def _md5(cls, value: str | None) -> str | None:
        if value is not None and not is_md5(value):
            raise ValueError("not an MD5 digest (32 lowercase hex digits)")
        return value
