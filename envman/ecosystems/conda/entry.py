"""One locked conda package.

A lock is read back as untrusted input (it may have been edited): name, version and build
are held to conda's grammar (grammar.py), the digests to hex, before they can name a file
in a prefix or the cache.
"""

from __future__ import annotations

from pydantic import field_validator

from envman.ecosystems.conda.grammar import (
    build_problem,
    is_md5,
    is_sha256,
    name_problem,
    spec_text_problem,
    url_problem,
    version_problem,
)
from envman.lockfile.entry_base import LockModel

__all__ = ["CondaEntry"]


_SHA256_PROBLEM = "not a sha256 (64 lowercase hex digits)"
_MD5_PROBLEM = "not an MD5 digest (32 lowercase hex digits)"


def _checked(problem: str | None, value: str) -> str:
    if problem:
        raise ValueError(problem)
    return value


class CondaEntry(LockModel):
    """name, version, build and build number as published; the file's url, sha256 and md5;
    subdir and channel (as the manifest names it); `requires`: the names of the locked
    packages it depends on (for `why`, `tree`, the SBOM); `depends`: its dependencies as
    the channel lists them (match specs, virtual packages too: for conda-lock exports)."""

    name: str
    version: str
    build: str
    build_number: int | None = None
    url: str
    sha256: str
    md5: str | None = None
    subdir: str | None = None
    channel: str | None = None
    requires: list[str] = []
    depends: list[str] = []
    purls: list[str] = []  # package URLs its record publishes (`pkg:pypi/numpy`: its PyPI name)

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
        return _checked(None if is_sha256(value) else _SHA256_PROBLEM, value)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        return _checked(url_problem(value), value)

    @field_validator("depends", "requires", "purls")
    @classmethod
    def _specs(cls, value: list[str]) -> list[str]:
        for item in value:
            _checked(spec_text_problem(item), item)
        return value

    @field_validator("md5")
    @classmethod
    def _md5(cls, value: str | None) -> str | None:
        if value is not None and not is_md5(value):
            raise ValueError(_MD5_PROBLEM)
        return value

    @classmethod
    def checked(
        cls,
        *,
        name: str,
        version: str,
        build: str,
        build_number: int | None,
        url: str,
        sha256: str,
        md5: str | None,
        subdir: str | None,
        channel: str | None,
        requires: list[str],
        depends: list[str],
        purls: list[str] | None = None,
    ) -> CondaEntry:
        """An entry from a solver's record: the validators' checks run directly and the model
        is built without pydantic's per-field calls (a lock makes thousands; ValueError as
        validation would raise)."""
        problems = [
            name_problem(name),
            version_problem(version),
            build_problem(build),
            url_problem(url),
            None if is_sha256(sha256) else _SHA256_PROBLEM,
            None if md5 is None or is_md5(md5) else _MD5_PROBLEM,
            *(spec_text_problem(item) for item in depends),
            *(spec_text_problem(item) for item in requires),
            *(spec_text_problem(item) for item in purls or []),
        ]
        for problem in problems:
            if problem:
                raise ValueError(problem)
        return cls.model_construct(
            name=name, version=version, build=build, build_number=build_number, url=url, sha256=sha256, md5=md5,
            subdir=subdir, channel=channel, requires=requires, depends=depends, purls=list(purls or []),
        )
