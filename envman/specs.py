"""Validation of package specs per ecosystem, before any spec can reach a shell or a file.

Each validator returns the spec unchanged or raises ValueError with a short reason; the
manifest loader turns that into a FILE:LINE:COL error.
"""

from __future__ import annotations

import re

__all__ = [
    "validate_python_spec",
    "validate_r_spec",
    "parse_r_spec",
    "validate_jvm_coordinates",
    "parse_jvm_coordinates",
    "validate_conda_spec",
    "validate_apt_name",
    "validate_url",
    "JvmCoordinates",
]

# Characters a shell gives meaning to and that no ecosystem's spec grammar needs.
_SHELL_META = re.compile(r"[`$\\|&\x00-\x1f\x7f]")


def _reject_shell_meta(spec: str) -> None:
    found = _SHELL_META.search(spec)
    if found:
        raise ValueError(f"character {found.group()!r} is not allowed in a package spec")


def validate_python_spec(spec: str) -> str:
    """PEP 508 requirement; URLs are allowed only as `name @ url`."""
    from packaging.requirements import InvalidRequirement, Requirement

    _reject_shell_meta(spec)
    try:
        Requirement(spec)
    except InvalidRequirement as exc:
        first = str(exc).splitlines()[0]
        raise ValueError(f"not a valid PEP 508 requirement: {first}") from None
    return spec


# CRAN package names: letters, digits and dots, start with a letter, not end with a dot.
R_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9]$|^[A-Za-z]$")
_R_SPEC = re.compile(
    r"^\s*(?P<name>[A-Za-z][A-Za-z0-9.]*)\s*(?:\(\s*(?P<op>>=|<=|==|>|<|=)\s*(?P<version>[0-9][0-9.\-]*)\s*\))?\s*$"
)


def parse_r_spec(spec: str) -> tuple[str, str | None, str | None]:
    """`name` or `name (op version)` -> (name, op, version)."""
    _reject_shell_meta(spec)
    match = _R_SPEC.match(spec)
    if not match or not R_NAME.match(match.group("name")):
        raise ValueError("not a valid R package spec (expected `name` or `name (>= 1.2.3)`)")
    op = match.group("op")
    if op == "=":
        op = "=="
    return match.group("name"), op, match.group("version")


def validate_r_spec(spec: str) -> str:
    parse_r_spec(spec)
    return spec


_MAVEN_PART = re.compile(r"^[A-Za-z0-9_.\-]+$")
_MAVEN_VERSION = re.compile(r"^[A-Za-z0-9_.\-+\[\](),]+$")


class JvmCoordinates(tuple):
    """(group, artifact, version, classifier, type) parsed from `g:a:v[:classifier][@type]`."""

    __slots__ = ()

    def __new__(cls, group: str, artifact: str, version: str, classifier: str, type_: str):
        return super().__new__(cls, (group, artifact, version, classifier, type_))

    group = property(lambda self: self[0])
    artifact = property(lambda self: self[1])
    version = property(lambda self: self[2])
    classifier = property(lambda self: self[3])
    type = property(lambda self: self[4])


def parse_jvm_coordinates(spec: str) -> JvmCoordinates:
    _reject_shell_meta(spec)
    body, _, type_ = spec.partition("@")
    parts = body.split(":")
    if len(parts) not in (3, 4):
        raise ValueError("not a Maven coordinate (expected group:artifact:version[:classifier][@type])")
    group, artifact, version = parts[0], parts[1], parts[2]
    classifier = parts[3] if len(parts) == 4 else ""
    for label, value in (("group", group), ("artifact", artifact)):
        if not _MAVEN_PART.match(value):
            raise ValueError(f"invalid Maven {label} {value!r}")
    if not version or not _MAVEN_VERSION.match(version):
        raise ValueError(f"invalid Maven version {version!r}")
    if classifier and not _MAVEN_PART.match(classifier):
        raise ValueError(f"invalid Maven classifier {classifier!r}")
    if type_ and not _MAVEN_PART.match(type_):
        raise ValueError(f"invalid Maven type {type_!r}")
    return JvmCoordinates(group, artifact, version, classifier, type_ or "jar")


def validate_jvm_coordinates(spec: str) -> str:
    parse_jvm_coordinates(spec)
    return spec


_MAVEN_EXCLUSION = re.compile(r"^(\*|[A-Za-z0-9_.\-]+):(\*|[A-Za-z0-9_.\-]+)$")


def validate_jvm_exclusion(spec: str) -> str:
    if not _MAVEN_EXCLUSION.match(spec):
        raise ValueError("not a Maven exclusion (expected group:artifact, `*` allowed)")
    return spec


# conda MatchSpec, the common subset: [channel::]name[ version[ build]] or name[=|==|>=...]
_CONDA_SPEC = re.compile(
    r"^(?:[A-Za-z0-9_.\-/:]+::)?[A-Za-z0-9_][A-Za-z0-9_.\-]*(?:\s*[<>=!~]{0,2}\s*[A-Za-z0-9_.*+,<>=!|\- ]*)?(?:\[[A-Za-z0-9_=.,*'\" \-]*\])?$"
)


def validate_conda_spec(spec: str) -> str:
    _reject_shell_meta(spec)
    if not _CONDA_SPEC.match(spec.strip()):
        raise ValueError("not a valid conda match spec")
    return spec


_APT_NAME = re.compile(r"^[a-z0-9][a-z0-9+.\-]+(?:=[A-Za-z0-9.+~:\-]+)?$")


def validate_apt_name(name: str) -> str:
    if not _APT_NAME.match(name):
        raise ValueError("not a valid Debian package name")
    return name


_URL = re.compile(r"^(https?|file)://[^\s`$\\|&'\"<>]+$")


def validate_url(url: str) -> str:
    if not _URL.match(url):
        raise ValueError("not an http(s):// or file:// URL")
    return url
