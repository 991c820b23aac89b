"""R package versions and version constraints, with R's own semantics.

R compares `package_version`s component-wise as integers after splitting on `.` and `-`
(`1.0-12` is 1.0.12; `1.10` > `1.9`; `1.0` < `1.0.0`). Constraints are R's operators
`>=`, `>`, `<=`, `<`, `==`, `!=`; several constraints on one package all have to hold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from envman.ecosystems.r.grammar import R_NAME
from envman.errors import ResolutionError

__all__ = [
    "VersionError",
    "version_key",
    "Constraint",
    "Dependency",
    "parse_constraint",
    "parse_dependencies",
    "satisfies",
    "format_constraints",
]

_VERSION = re.compile(r"[0-9]+(?:[.\-][0-9]+)*")
_SPLIT = re.compile(r"[.\-]")
_OPS = (">=", "<=", "==", "!=", ">", "<")
_DEP = re.compile(r"^([A-Za-z][A-Za-z0-9._]*)\s*(?:\((.*)\))?$", re.S)
_CONSTRAINT = re.compile(r"^\s*(>=|<=|==|!=|>|<|=)\s*([^\s()]+)\s*$")


class VersionError(ResolutionError, ValueError):  # envman's hierarchy (exit 3); ValueError for the catch sites
    pass


@lru_cache(maxsize=65536)
def version_key(version: str) -> tuple[int, ...]:
    """Sort key of an R version string; raises VersionError when R would refuse it."""
    version = version.strip()
    if len(version) > 200 or not _VERSION.fullmatch(version):  # ASCII digits: int() of 4,300+ digits fails
        raise VersionError(f"invalid R version {version[:80]!r}")
    return tuple(int(part) for part in _SPLIT.split(version))


@dataclass(frozen=True, slots=True)
class Constraint:
    op: str
    version: str
    key: tuple[int, ...]

    def allows(self, key: tuple[int, ...]) -> bool:
        op = self.op
        if op == ">=":
            return key >= self.key
        if op == ">":
            return key > self.key
        if op == "<=":
            return key <= self.key
        if op == "<":
            return key < self.key
        if op == "==":
            return key == self.key
        return key != self.key

    def __str__(self) -> str:
        return f"{self.op} {self.version}"


@dataclass(frozen=True, slots=True)
class Dependency:
    """One entry of Depends/Imports/LinkingTo: a name and zero or more constraints."""

    name: str
    constraints: tuple[Constraint, ...] = ()
    field: str = "Imports"

    def __str__(self) -> str:
        if not self.constraints:
            return self.name
        return f"{self.name} ({format_constraints(self.constraints)})"


def parse_constraint(op: str, version: str) -> Constraint:
    if op == "=":
        op = "=="
    if op not in _OPS:
        raise VersionError(f"unknown version operator {op!r}")
    return Constraint(op, version.strip(), version_key(version))


def parse_dependencies(value: str, field: str = "Imports") -> list[Dependency]:
    """`R (>= 3.5.0), rlang (>= 1.0.0),\\n utils` -> Dependencies; raises VersionError."""
    deps: list[Dependency] = []
    for raw in value.split(","):
        item = " ".join(raw.split())
        if not item:
            continue
        match = _DEP.match(item)
        if match is None:
            raise VersionError(f"cannot read dependency {item[:80]!r} in {field}")
        name, spec = match.group(1), match.group(2)
        if not R_NAME.fullmatch(name):  # dependency names reach Archive/ URLs
            raise VersionError(f"cannot read dependency {item[:80]!r} in {field}: not a valid R package name")
        constraints: tuple[Constraint, ...] = ()
        if spec is not None and spec.strip():
            found = _CONSTRAINT.match(spec)
            if found is None:
                raise VersionError(f"cannot read version constraint {spec[:80]!r} of {name} in {field}")
            constraints = (parse_constraint(found.group(1), found.group(2)),)
        deps.append(Dependency(name, constraints, field))
    return deps


def satisfies(key: tuple[int, ...], constraints: tuple[Constraint, ...] | list[Constraint]) -> bool:
    return all(c.allows(key) for c in constraints)


def format_constraints(constraints: tuple[Constraint, ...] | list[Constraint]) -> str:
    return ", ".join(str(c) for c in constraints) if constraints else "any version"
