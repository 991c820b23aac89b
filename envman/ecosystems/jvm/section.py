"""The `jvm:` manifest section and its requirement grammar (Maven coordinates)."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import AfterValidator, Field, field_validator

from envman.sections import Strict, Url
from envman.specs import reject_shell_meta

__all__ = [
    "JvmSection",
    "JvmOverlay",
    "JvmDependency",
    "JvmCoordinates",
    "parse_jvm_coordinates",
    "validate_jvm_coordinates",
    "validate_jvm_exclusion",
]

_MAVEN_PART = re.compile(r"^[A-Za-z0-9_.\-]+$")
_MAVEN_VERSION = re.compile(r"^[A-Za-z0-9_.\-+\[\](),]+$")
_MAVEN_EXCLUSION = re.compile(r"^(\*|[A-Za-z0-9_.\-]+):(\*|[A-Za-z0-9_.\-]+)$")


class JvmCoordinates(NamedTuple):
    """(group, artifact, version, classifier, type) parsed from `g:a:v[:classifier][@type]`."""

    group: str
    artifact: str
    version: str
    classifier: str
    type: str

    @property
    def key(self) -> str:
        """group:artifact[:classifier], the lock's name."""
        return f"{self.group}:{self.artifact}" + (f":{self.classifier}" if self.classifier else "")


def parse_jvm_coordinates(spec: str) -> JvmCoordinates:
    reject_shell_meta(spec)
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


def validate_jvm_exclusion(spec: str) -> str:
    if not _MAVEN_EXCLUSION.match(spec):
        raise ValueError("not a Maven exclusion (expected group:artifact, `*` allowed)")
    return spec


JvmCoordinate = Annotated[str, AfterValidator(validate_jvm_coordinates)]
JvmExclusion = Annotated[str, AfterValidator(validate_jvm_exclusion)]


class JvmDependency(Strict):
    artifact: JvmCoordinate
    scope: Literal["compile", "runtime"] = "compile"
    exclusions: list[JvmExclusion] = []


class JvmSection(Strict):
    java: Annotated[str, Field(pattern=r"^\d+$")] | None = None

    @field_validator("java", mode="before")
    @classmethod
    def _java_number(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    repositories: list[Url] = []
    dependencies: list[JvmCoordinate | JvmDependency] = []


class JvmOverlay(Strict):
    dependencies: list[JvmCoordinate | JvmDependency] = []
