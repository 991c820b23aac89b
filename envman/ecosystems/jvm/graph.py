"""Resolve root dependencies like one Maven 3.8 project, pure (I/O is passed in).

`collect` builds the dependency graph (maven-resolver's collector), `mediate` resolves its
conflicts (nearest wins, ranges, scopes), and this module walks the result: one winner per
conflict id, with its scope, depth, parent in Maven's tree and the artifacts it requires.
"""

from __future__ import annotations

from collections.abc import Callable

from envman.ecosystems.jvm.artifacts import (
    ARTIFACT_TYPES,
    Artifact,
    ArtifactKey,
    Dependency,
    Descriptor,
    GraphError,
    Resolution,
    Resolved,
    type_to_artifact,
)
from envman.ecosystems.jvm.collect import Collector, Node
from envman.ecosystems.jvm.mediate import Mediator, conflict_ids, edges, sort_ids

__all__ = [
    "ARTIFACT_TYPES",
    "Artifact",
    "Dependency",
    "Descriptor",
    "GraphError",
    "Resolved",
    "Resolution",
    "resolve_graph",
    "type_to_artifact",
]


def resolve_graph(
    roots: list[Dependency],
    descriptor: Callable[[Artifact, tuple[str, ...]], Descriptor],
    versions: Callable[[Artifact, tuple[str, ...]], list[str]],
    prefer: Callable[[Artifact, list[str]], list[str]] | None = None,
    depth_first: bool = False,
) -> Resolution:
    """Resolve `roots` as the direct dependencies of one project, like Maven 3.8."""
    root = Node(None, None, None, (), ())
    collector = Collector(descriptor, versions, prefer)
    root_keys: list[list[int]] = []
    for dep in roots:
        before = len(root.children)
        collector.dependency(dep, root, frozenset(), False, ())
        root_keys.append([id(n) for n in root.children[before:]])
    original: dict[int, tuple[Node, ...]] = {}
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node.children) in original:
            continue
        original[id(node.children)] = tuple(node.children)
        todo.extend(node.children)
    ids = conflict_ids(root)
    order, cyclic, id_graph = sort_ids(root, ids)
    resolver = Mediator(root, ids)
    resolver.run(order, cyclic, None if (cyclic or depth_first) else edges(root, ids, original), id_graph)
    # walk the final graph: depth of each winner, requires from its declared children
    artifacts: dict[ArtifactKey, Resolved] = {}
    frontier = [(root, 0)]
    seen: set[int] = set()
    while frontier:
        nxt = []
        for node, depth in frontier:
            for child in node.children:
                cid = ids[id(child)]
                if cid in artifacts or id(child) in seen:
                    continue
                seen.add(id(child))
                requires = []
                for grandchild in original.get(id(child.children), ()):
                    gid = ids[id(grandchild)]
                    winner = resolver.resolved.get(gid)
                    if winner is not None and gid != cid and winner.artifact.key not in requires:  # type: ignore[union-attr]
                        requires.append(winner.artifact.key)  # type: ignore[union-attr]
                artifacts[cid] = Resolved(child.artifact, child.scope or "compile", depth + 1, requires,  # type: ignore[arg-type]
                                          child.relocations, child.path, ids.get(id(node)))
                nxt.append((child, depth + 1))
        frontier = nxt
    # requires name winners by their own key; winners are stored by conflict id
    by_key = {r.artifact.key: cid for cid, r in artifacts.items()}
    for resolved in artifacts.values():
        resolved.requires = [by_key[k] for k in resolved.requires if k in by_key]
    roots_out: list[ArtifactKey | None] = []
    for node_ids in root_keys:
        root_id: ArtifactKey | None = None
        for nid in node_ids:
            if nid in ids and ids[nid] in artifacts:
                root_id = ids[nid]
                break
        roots_out.append(root_id)
    return Resolution(artifacts, roots_out)
