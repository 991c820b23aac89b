"""Artifact descriptors: an artifact's effective POM turned into graph dependencies.

Follows relocations (`distributionManagement/relocation`) the way Maven's descriptor reader
does; missing fields of a relocation keep the original's.
"""

from __future__ import annotations

from envman.ecosystems.jvm.graph import Artifact, Dependency, Descriptor, GraphError, type_to_artifact
from envman.ecosystems.jvm.model import ModelBuilder, ModelError
from envman.ecosystems.jvm.pom import PomError

__all__ = ["DescriptorReader"]


class DescriptorReader:
    """`reader(artifact, path) -> Descriptor`; errors name the artifact and its path."""

    def __init__(self, builder: ModelBuilder, missing: tuple[type[Exception], ...] = ()) -> None:
        self.builder = builder
        self.missing = missing

    def __call__(self, artifact: Artifact, path: tuple[str, ...]) -> Descriptor:
        try:
            return self._read(artifact)
        except (ModelError, PomError, *self.missing) as exc:  # type: ignore[misc]
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
            model = self.builder.build(gav)
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
        return Descriptor(current, tuple(relocations), tuple(deps))
