"""Dependency collection, as maven-resolver 1.6's DefaultDependencyCollector does it.

Every dependency of every reachable POM becomes a node (a range expands to one node per
available version); transitive `test`/`provided` (and, by envman's choice, `system`) and
transitive optional dependencies are skipped; exclusions (with `*`) accumulate down a path;
an artifact already on the path closes a cycle (the node shares its ancestor's children);
child lists are shared per (artifact, exclusions), like Maven's DataPool.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from envman.ecosystems.jvm.artifacts import Artifact, Dependency, Descriptor, GraphError
from envman.ecosystems.jvm.coordinates import InvalidCoordinate, check_part, check_version
from envman.ecosystems.jvm.versions import InvalidVersionSpec, Version, VersionConstraint, parse_constraint

__all__ = ["Node", "Collector"]


class Node:
    __slots__ = ("dep", "artifact", "constraint", "relocations", "children", "scope", "path")

    def __init__(self, dep: Dependency | None, artifact: Artifact | None, constraint: VersionConstraint | None,
                 relocations: tuple[Artifact, ...], path: tuple[str, ...]) -> None:
        self.dep = dep
        self.artifact = artifact
        self.constraint = constraint
        self.relocations = relocations
        self.children: list[Node] = []
        self.scope = dep.scope if dep else None
        self.path = path


def _excluded(artifact: Artifact, exclusions: frozenset[tuple[str, str]]) -> bool:
    return any((group == "*" or group == artifact.group) and (name == "*" or name == artifact.artifact) for group, name in exclusions)


def _check_coordinates(art: Artifact, path: tuple[str, ...], version: bool = True) -> None:
    """GraphError naming the artifact and its path when a part is outside the Maven grammar
    (`../../x`, `/`, NUL, control characters): nothing is fetched, locked or written for it."""
    try:
        check_part("groupId", art.group)
        check_part("artifactId", art.artifact)
        check_part("classifier", art.classifier, optional=True)
        check_part("type", art.type)
        check_part("extension", art.extension)
        if version:
            check_version(art.version)
    except InvalidCoordinate as exc:
        where = " -> ".join(path + (repr(str(art))[1:-1],))
        raise GraphError(f"dependency {repr(str(art))[1:-1]}: {exc} (path: {where})") from None


class Collector:
    def __init__(self, descriptor: Callable[[Artifact, tuple[str, ...]], Descriptor],
                 versions: Callable[[Artifact, tuple[str, ...]], list[str]],
                 prefer: Callable[[Artifact, list[str]], list[str]] | None) -> None:
        self.descriptor = descriptor
        self.versions = versions
        self.prefer = prefer
        self.descriptors: dict[Artifact, Descriptor] = {}
        self.pool: dict[tuple[Artifact, frozenset[tuple[str, str]]], list[Node]] = {}
        self.stack: list[Node] = []

    def _path(self) -> tuple[str, ...]:
        return tuple(str(n.artifact) for n in self.stack if n.artifact is not None)

    def _describe(self, artifact: Artifact) -> Descriptor:
        found = self.descriptors.get(artifact)
        if found is None:
            found = self.descriptor(artifact, self._path())
            self.descriptors[artifact] = found
        return found

    def process(self, deps: Iterable[Dependency], parent: Node, exclusions: frozenset[tuple[str, str]],
                transitive: bool) -> None:
        for dep in deps:
            self.dependency(dep, parent, exclusions, transitive, ())

    def dependency(self, dep: Dependency, parent: Node, exclusions: frozenset[tuple[str, str]],
                   transitive: bool, relocations: tuple[Artifact, ...]) -> None:
        if transitive and (dep.scope in ("test", "provided", "system") or dep.optional):
            # `system` is envman's choice: such files live outside any repository, so a lock
            # cannot pin or hash them (Maven would list them with scope system)
            return
        if _excluded(dep.artifact, exclusions):
            return
        art = dep.artifact
        path = self._path()
        if not art.version or "${" in art.version:
            where = " -> ".join(path + (f"{art.group}:{art.artifact}",)) or art.name
            what = "has no version" if not art.version else f"has an unresolved version {art.version}"
            raise GraphError(f"dependency {art.group}:{art.artifact} {what} (path: {where})")
        for label, value in (("groupId", art.group), ("artifactId", art.artifact), ("classifier", art.classifier), ("type", art.type)):
            if "${" in value or (label in ("groupId", "artifactId") and not value):
                where = " -> ".join(path + (str(art),))
                raise GraphError(f"dependency {art} has an unresolvable {label} {value!r} (path: {where})")
        _check_coordinates(art, path, version=False)
        try:
            constraint = parse_constraint(art.version)
        except InvalidVersionSpec as exc:
            raise GraphError(f"{art.group}:{art.artifact}: {exc} (path: {' -> '.join(path + (str(art),))})") from None
        if constraint.is_range:
            available = self.versions(art, path)
            chosen = [str(v) for v in constraint.select(Version(v) for v in available)]
            text_of = {Version(v): v for v in available}
            chosen = [text_of[Version(v)] for v in chosen]
            if self.prefer is not None:
                chosen = self.prefer(art, chosen)
            if not chosen:
                raise GraphError(
                    f"no version of {art.group}:{art.artifact} within {art.version} "
                    f"(available: {', '.join(available) or 'none'}; path: {' -> '.join(path + (str(art),))})"
                )
        else:
            chosen = [art.version]
        for version in chosen:
            original = art.with_version(version)
            _check_coordinates(original, path)  # a version from maven-metadata.xml, too
            desc = self._describe(original)
            current = desc.artifact
            if current is not original:
                _check_coordinates(current, path)  # where a relocation leads
            d = Dependency(current, dep.scope, dep.optional, dep.exclusions)
            node_path = path + (str(current),)
            cycle = self._find(current)
            if cycle is not None:
                child = Node(d, current, constraint, relocations, node_path)
                child.children = cycle.children
                parent.children.append(child)
                continue
            if desc.relocations:
                relocated = Dependency(current, dep.scope, dep.optional, dep.exclusions)
                self.dependency(relocated, parent, exclusions, transitive, desc.relocations)
                return
            child = Node(d, current, constraint, relocations, node_path)
            parent.children.append(child)
            if desc.dependencies:
                child_exclusions = exclusions | frozenset(dep.exclusions) if dep.exclusions else exclusions
                key = (current, child_exclusions)
                shared = self.pool.get(key)
                if shared is None:
                    self.pool[key] = child.children
                    self.stack.append(child)
                    self.process(desc.dependencies, child, child_exclusions, True)
                    self.stack.pop()
                else:
                    child.children = shared

    def _find(self, artifact: Artifact) -> Node | None:
        for node in reversed(self.stack):
            if node.artifact is None:
                break
            if node.artifact.key == artifact.key:
                return node
        return None
