"""The `system:` manifest section: `apt:`, a list of Debian relations for `image.base`.

One spec is one relation as Debian writes it in a Depends field: `name`, `name:arch`,
`name (op version)` with op one of `<< <= = >= >>`, and the older `name=version`. `|`
alternatives are not accepted (`|` is a shell metacharacter envman refuses in every field;
list the package you mean). Names follow Debian policy §5.6.1, versions §5.6.12.
"""

from __future__ import annotations

import re
from typing import Annotated, NamedTuple

from pydantic import AfterValidator

from envman.sections import Strict
from envman.specs import reject_shell_meta

__all__ = ["SystemSection", "SystemOverlay", "AptSpec", "parse_apt_spec", "validate_apt_spec", "DEB_NAME", "DEB_VERSION", "DEB_ARCH"]

DEB_NAME = re.compile(r"^[a-z0-9][a-z0-9+.\-]+$")
DEB_VERSION = re.compile(r"^(?:[0-9]+:)?[0-9][A-Za-z0-9.+~\-]*$")
DEB_ARCH = re.compile(r"^[a-z0-9][a-z0-9\-]*$")
_SPEC = re.compile(
    r"^(?P<name>[a-z0-9][a-z0-9+.\-]+)(?::(?P<arch>[a-z0-9][a-z0-9\-]*))?"
    r"(?:\s*\(\s*(?P<op><<|<=|=|>=|>>)\s*(?P<version>[^\s()]+)\s*\)|=(?P<pin>[^\s()]+))?$"
)


class AptSpec(NamedTuple):
    name: str
    arch: str | None
    op: str | None
    version: str | None

    def relation(self) -> str:
        """The relation as apt-get satisfy reads it."""
        name = f"{self.name}:{self.arch}" if self.arch else self.name
        return f"{name} ({self.op} {self.version})" if self.op else name


def parse_apt_spec(spec: str) -> AptSpec:
    """`libgdal32 (>= 3.6)` -> AptSpec("libgdal32", None, ">=", "3.6"); ValueError when not a relation."""
    reject_shell_meta(spec)
    match = _SPEC.match(spec)
    if not match:
        raise ValueError("not a Debian package relation (expected `name`, `name:arch`, `name (>= version)` or `name=version`)")
    version = match.group("version") or match.group("pin")
    if version is not None and not DEB_VERSION.match(version):
        raise ValueError("not a valid Debian version")
    op = match.group("op") or ("=" if match.group("pin") else None)
    return AptSpec(match.group("name"), match.group("arch"), op, version)


def validate_apt_spec(spec: str) -> str:
    parse_apt_spec(spec)
    return spec


AptRelation = Annotated[str, AfterValidator(validate_apt_spec)]


class SystemSection(Strict):
    apt: list[AptRelation] = []


class SystemOverlay(Strict):
    apt: list[AptRelation] = []
