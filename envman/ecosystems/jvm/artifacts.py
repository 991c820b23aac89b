"""The data that crosses the resolver: coordinates, dependencies, descriptors, results."""

from __future__ import annotations

from dataclasses import dataclass, field

from envman.errors import ResolutionError

__all__ = [
    "ARTIFACT_TYPES",
    "Artifact",
    "ArtifactKey",
    "Dependency",
    "Descriptor",
    "GraphError",
    "Resolved",
    "Resolution",
    "type_to_artifact",
]


# group, artifact, extension, classifier: an artifact without its version (also a conflict id)
ArtifactKey = tuple[str, str, str, str]


class GraphError(ResolutionError, ValueError):  # envman's hierarchy (exit 3); ValueError for the catch sites
    """Resolution failed; the message names the artifact and the path that led to it."""


ARTIFACT_TYPES: dict[str, tuple[str, str]] = {
    # type -> (extension, implied classifier), Maven 3's default ArtifactTypeRegistry
    "pom": ("pom", ""),
    "maven-plugin": ("jar", ""),
    "jar": ("jar", ""),
    "ejb": ("jar", ""),
    "ejb-client": ("jar", "client"),
    "test-jar": ("jar", "tests"),
    "javadoc": ("jar", "javadoc"),
    "java-source": ("jar", "sources"),
    "war": ("war", ""),
    "ear": ("ear", ""),
    "rar": ("rar", ""),
    "par": ("par", ""),
}


@dataclass(frozen=True)
class Artifact:
    group: str
    artifact: str
    version: str
    extension: str = "jar"
    classifier: str = ""
    type: str = "jar"

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.group, self.artifact, self.extension, self.classifier)

    @property
    def name(self) -> str:
        return f"{self.group}:{self.artifact}" + (f":{self.classifier}" if self.classifier else "")

    def with_version(self, version: str) -> Artifact:
        return Artifact(self.group, self.artifact, version, self.extension, self.classifier, self.type)

    def __str__(self) -> str:
        cls = f":{self.classifier}" if self.classifier else ""
        ext = "" if self.extension == "jar" else f"@{self.extension}"
        return f"{self.group}:{self.artifact}:{self.version}{cls}{ext}"


def type_to_artifact(group: str, artifact: str, version: str, type_: str | None, classifier: str | None) -> Artifact:
    type_ = type_ or "jar"
    extension, implied = ARTIFACT_TYPES.get(type_, (type_, ""))
    return Artifact(group, artifact, version, extension, classifier or implied, type_)


@dataclass(frozen=True)
class Dependency:
    artifact: Artifact  # version holds the constraint text (`1.2` or `[1,2)`)
    scope: str = "compile"
    optional: bool = False
    exclusions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Descriptor:
    artifact: Artifact  # after following relocations
    relocations: tuple[Artifact, ...] = ()
    dependencies: tuple[Dependency, ...] = ()


@dataclass
class Resolved:
    artifact: Artifact
    scope: str
    depth: int
    requires: list[tuple[str, str, str, str]] = field(default_factory=list)
    relocated_from: tuple[Artifact, ...] = ()
    path: tuple[str, ...] = ()
    parent: tuple[str, str, str, str] | None = None  # where Maven's tree shows it


@dataclass
class Resolution:
    """Winners by conflict key, in resolution order; roots: per root dependency, its key."""

    artifacts: dict[tuple[str, str, str, str], Resolved]
    roots: list[tuple[str, str, str, str] | None]
