"""Artifact descriptors: an artifact's effective POM turned into graph dependencies.

Follows relocations (`distributionManagement/relocation`) the way Maven's descriptor reader
does; missing fields of a relocation keep the original's.
"""

from __future__ import annotations

from collections.abc import Callable

from envman.ecosystems.jvm.coordinates import InvalidCoordinate
from envman.ecosystems.jvm.graph import Artifact, Dependency, Descriptor, GraphError, type_to_artifact
from envman.ecosystems.jvm.model import ModelBuilder, ModelError
from envman.ecosystems.jvm.pom import PomError

__all__ = ["DescriptorReader"]


class DescriptorReader:
    """`reader(artifact, path) -> Descriptor`; errors name the artifact and its path."""

    def __init__(self, builder: ModelBuilder, missing: tuple[type[Exception], ...] = (),
                 warn: Callable[[str], None] | None = None,
                 prefetch: Callable[[list[tuple[str, str, str]]], None] | None = None) -> None:
        self.builder = builder
        self.prefetch = prefetch
        self.missing = missing
        self.warn = warn or (lambda message: None)
        self.without_pom: list[Artifact] = []

    def __call__(self, artifact: Artifact, path: tuple[str, ...]) -> Descriptor:
        try:
            return self._read(artifact)
        except (ModelError, PomError, InvalidCoordinate, *self.missing) as exc:  # type: ignore[misc]
            trail = " -> ".join(path + (str(artifact),))
            raise GraphError(f"{artifact}: {exc} (path: {trail})") from None

    def _read(self, artifact: Artifact) -> Descriptor:
        current = artifact
        relocations: list[Artifact] = []
        visited: list[str] = []
        while True:
            gav = (current.group, current.artifact, current.version)
            marker = ":".join(gav)
            if marker in visited:
                raise ModelError(f"relocations form a cycle: {' -> '.join(visited + [marker])}")
            visited.append(marker)
            try:
                model = self.builder.build(gav)
            except self.missing as exc:
                if getattr(exc, "gav", None) != gav:
                    raise
                # Maven's rule: an artifact without a POM has no dependencies (a warning);
                # its jar must still exist, or locking fails when it is downloaded.
                self.warn(f"jvm: the POM of {current} is missing, no dependency information available")
                self.without_pom.append(current)
                return Descriptor(current, tuple(relocations), ())
            if model.relocation is None:
                break
            group, name, version = model.relocation
            relocations.append(current)
            current = Artifact(group or current.group, name or current.artifact, version or current.version,
                               current.extension, current.classifier, current.type)
        deps = []
        for dep in model.dependencies:
            target = type_to_artifact(dep.group or "", dep.artifact or "", dep.version or "", dep.type, dep.classifier)
            deps.append(
                Dependency(
                    target,
                    scope=dep.scope or "compile",
                    optional=(dep.optional or "").strip() == "true",
                    exclusions=tuple(dep.exclusions),
                )
            )
        if self.prefetch is not None:
            self.prefetch([(d.artifact.group, d.artifact.artifact, d.artifact.version) for d in deps
                           if d.scope not in ("test", "provided", "system") and not d.optional])
        return Descriptor(current, tuple(relocations), tuple(deps))
