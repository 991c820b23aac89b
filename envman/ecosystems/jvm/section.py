"""The `jvm:` manifest section and its requirement grammar (Maven coordinates)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, NamedTuple

from pydantic import AfterValidator, Field, field_validator

from envman.ecosystems.jvm.coordinates import InvalidCoordinate, check_part, check_version, is_exclusion
from envman.sections import PackageSpec, Strict, Url
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
    try:  # the grammar every coordinate part envman reads is held to (coordinates.py)
        check_part("group", group)
        check_part("artifact", artifact)
        check_version(version, allow_range=True)
        check_part("classifier", classifier, optional=True)
        check_part("type", type_, optional=True)
    except InvalidCoordinate as exc:
        raise ValueError(str(exc)) from None
    return JvmCoordinates(group, artifact, version, classifier, type_ or "jar")


def validate_jvm_coordinates(spec: str) -> str:
    parse_jvm_coordinates(spec)
    return spec


def validate_jvm_exclusion(spec: str) -> str:
    if not is_exclusion(spec):
        raise ValueError("not a Maven exclusion (expected group:artifact, `*` allowed)")
    return spec


JvmCoordinate = Annotated[str, AfterValidator(validate_jvm_coordinates)]
JvmExclusion = Annotated[PackageSpec, AfterValidator(validate_jvm_exclusion)]


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
