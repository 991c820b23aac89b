"""One locked Debian package: what apt chose for `image.base`, as its Packages index says.

Read back from an untrusted lock into a build context and a Dockerfile: the name, version
and architecture are held to Debian's grammar, the filename to a relative pool path, the
digest to hex, the URL to http(s).
"""

from __future__ import annotations

import re

from pydantic import field_validator, model_validator

from envman.ecosystems.system.section import DEB_ARCH, DEB_NAME, DEB_VERSION
from envman.lockfile.entry_base import LockModel

__all__ = ["SystemEntry", "deb_filename"]

_SHA256 = re.compile(r"^[0-9a-f]{64}$")
_POOL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9+.~_%\-]*(?:/[A-Za-z0-9+.~_%\-]+)*\.deb$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


class SystemEntry(LockModel):
    name: str
    version: str
    architecture: str
    filename: str | None = None  # the Packages index's Filename: the pool path below the archive root
    size: int | None = None
    sha256: str | None = None
    url: str | None = None
    base: bool | None = None  # true: the base image has it (recorded for the runtime it provides; not installed)
    release_date: str | None = None  # the Date of the Release file the package was found in (UTC)
    requires: list[str] = []  # the locked packages it depends on (Depends, Pre-Depends)
    runtime: str | None = None  # "python 3.11.2": the runtime this package provides

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not DEB_NAME.match(value):
            raise ValueError("not a Debian package name")
        return value

    @field_validator("version")
    @classmethod
    def _version(cls, value: str) -> str:
        if not DEB_VERSION.match(value):
            raise ValueError("not a Debian version")
        return value

    @field_validator("architecture")
    @classmethod
    def _arch(cls, value: str) -> str:
        if not DEB_ARCH.match(value):
            raise ValueError("not a Debian architecture")
        return value

    @model_validator(mode="after")
    def _artifact(self) -> SystemEntry:
        if not self.base and None in (self.filename, self.size, self.sha256, self.url):
            raise ValueError("a package envman installs needs filename, size, sha256 and url")
        return self

    @field_validator("filename")
    @classmethod
    def _filename(cls, value: str | None) -> str | None:
        if value is None:
            return value
        if not _POOL.match(value) or ".." in value.split("/"):
            raise ValueError("not a relative .deb path")
        return value

    @field_validator("size")
    @classmethod
    def _size(cls, value: int | None) -> int | None:
        if value is not None and value <= 0:
            raise ValueError("not a file size")
        return value

    @field_validator("sha256")
    @classmethod
    def _sha256(cls, value: str | None) -> str | None:
        if value is not None and not _SHA256.match(value):
            raise ValueError("not a sha256 (64 lowercase hex digits)")
        return value

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        from envman.specs import validate_url

        if value is None:
            return value
        validate_url(value)
        if not value.startswith(("http://", "https://")) or not value.endswith(".deb"):
            raise ValueError("not an http(s) URL of a .deb")
        return value

    @field_validator("release_date")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        if value is not None and not _DATE.match(value):
            raise ValueError("not a UTC time (YYYY-MM-DDTHH:MM:SSZ)")
        return value

    @field_validator("requires")
    @classmethod
    def _requires(cls, value: list[str]) -> list[str]:
        for name in value:
            if not DEB_NAME.match(name):
                raise ValueError("not a Debian package name")
        return sorted(set(value))


def deb_filename(entry: SystemEntry) -> str:
    """The file name of the .deb in a build context: name_version_arch.deb (epoch's `:` as %3a, as apt names it)."""
    return f"{entry.name}_{entry.version.replace(':', '%3a')}_{entry.architecture}.deb"
