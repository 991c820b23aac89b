"""Maven's dependency collection and conflict resolution, pure (I/O is passed in).

Follows maven-resolver 1.6 (Maven 3.8), the ground truth envman is tested against:
- collection: every dependency of every reachable POM is a node (ranges expand to one node
  per available version); transitive `test`/`provided` and transitive `optional`
  dependencies are skipped; exclusions (with `*`) accumulate down a path; an artifact already
  on the path closes a cycle; child lists are shared per (artifact, exclusions) like
  Maven's DataPool;
- conflict resolution per conflict id (group:artifact:extension:classifier, merged across
  relocations), in topological order: the nearest item wins, the first one on a tie
  (depth-first declaration order), the highest among range siblings; range constraints are
  hard and force backtracking; the scope is the widest scope over all paths (a direct
  dependency's own scope wins); losers are cut out with their subtrees.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from envman.ecosystems.jvm.versions import InvalidVersionSpec, Version, VersionConstraint, parse_constraint

__all__ = [
    "Artifact",
    "Dependency",
    "Descriptor",
    "GraphError",
    "Resolved",
    "Resolution",
    "resolve_graph",
    "type_to_artifact",
]


class GraphError(ValueError):
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

    def with_version(self, version: str) -> "Artifact":
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


class _Node:
    __slots__ = ("dep", "artifact", "constraint", "relocations", "children", "scope", "path")

    def __init__(self, dep: Dependency | None, artifact: Artifact | None, constraint: VersionConstraint | None,
                 relocations: tuple[Artifact, ...], path: tuple[str, ...]) -> None:
        self.dep = dep
        self.artifact = artifact
        self.constraint = constraint
        self.relocations = relocations
        self.children: list[_Node] = []
        self.scope = dep.scope if dep else None
        self.path = path


def _excluded(artifact: Artifact, exclusions: frozenset[tuple[str, str]]) -> bool:
    for group, name in exclusions:
        if (group == "*" or group == artifact.group) and (name == "*" or name == artifact.artifact):
            return True
    return False


def _derive_scope(parent: str | None, child: str) -> str:
    if child in ("system", "test"):
        return child
    if not parent or parent == "compile":
        return child
    if parent in ("test", "runtime"):
        return parent
    if parent in ("system", "provided"):
        return "provided"
    return "runtime"


def _effective_scope(items: list["_Item"]) -> str:
    scopes: set[str] = set()
    for item in items:
        if item.depth <= 1:
            return item.node.dep.scope  # type: ignore[union-attr]
        scopes |= item.scopes
    if len(scopes) > 1:
        scopes.discard("system")
    if len(scopes) == 1:
        return next(iter(scopes))
    for scope in ("compile", "runtime", "provided", "test"):
        if scope in scopes:
            return scope
    return ""


class _Item:
    __slots__ = ("parent", "node", "depth", "scopes", "key")

    def __init__(self, parent: list[_Node] | None, node: _Node, scopes: set[str]) -> None:
        self.parent = parent
        self.node = node
        self.depth = 0
        self.scopes = scopes


class _Collector:
    def __init__(self, descriptor: Callable[[Artifact, tuple[str, ...]], Descriptor],
                 versions: Callable[[Artifact, tuple[str, ...]], list[str]],
                 prefer: Callable[[Artifact, list[str]], list[str]] | None) -> None:
        self.descriptor = descriptor
        self.versions = versions
        self.prefer = prefer
        self.descriptors: dict[Artifact, Descriptor] = {}
        self.pool: dict[tuple[Artifact, frozenset[tuple[str, str]]], list[_Node]] = {}
        self.stack: list[_Node] = []

    def _path(self) -> tuple[str, ...]:
        return tuple(str(n.artifact) for n in self.stack if n.artifact is not None)

    def _describe(self, artifact: Artifact) -> Descriptor:
        found = self.descriptors.get(artifact)
        if found is None:
            found = self.descriptor(artifact, self._path())
            self.descriptors[artifact] = found
        return found

    def process(self, deps: Iterable[Dependency], parent: _Node, exclusions: frozenset[tuple[str, str]],
                transitive: bool) -> None:
        for dep in deps:
            self.dependency(dep, parent, exclusions, transitive, ())

    def dependency(self, dep: Dependency, parent: _Node, exclusions: frozenset[tuple[str, str]],
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
            desc = self._describe(original)
            current = desc.artifact
            d = Dependency(current, dep.scope, dep.optional, dep.exclusions)
            node_path = path + (str(current),)
            cycle = self._find(current)
            if cycle is not None:
                child = _Node(d, current, constraint, relocations, node_path)
                child.children = cycle.children
                parent.children.append(child)
                continue
            if desc.relocations:
                relocated = Dependency(current, dep.scope, dep.optional, dep.exclusions)
                self.dependency(relocated, parent, exclusions, transitive, desc.relocations)
                return
            child = _Node(d, current, constraint, relocations, node_path)
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

    def _find(self, artifact: Artifact) -> _Node | None:
        for node in reversed(self.stack):
            if node.artifact is None:
                break
            if node.artifact.key == artifact.key:
                return node
        return None


def _conflict_ids(root: _Node) -> dict[int, tuple[str, str, str, str]]:
    """Node id -> conflict key; groups joined when relocations make two keys one artifact."""
    parent: dict[tuple[str, str, str, str], tuple[str, str, str, str]] = {}

    def find(key: tuple[str, str, str, str]) -> tuple[str, str, str, str]:
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    nodes: list[_Node] = []
    seen_lists: set[int] = set()
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node.children) in seen_lists:
            continue
        seen_lists.add(id(node.children))
        for child in node.children:
            nodes.append(child)
            first = find(child.artifact.key)  # type: ignore[union-attr]
            for rel in child.relocations:
                other = find(rel.key)
                if other != first:
                    parent[other] = first
            todo.append(child)
    return {id(n): find(n.artifact.key) for n in nodes}  # type: ignore[union-attr]


def _sort_ids(root: _Node, ids: dict[int, tuple[str, str, str, str]]) -> tuple[list[tuple[str, str, str, str]], dict]:
    """Topological order of conflict ids (Kahn; cycles broken at the shallowest id)."""
    edges: dict[tuple, set] = {}
    min_depth: dict[tuple, int] = {}
    indegree: dict[tuple, int] = {}
    seen: set[int] = set()
    frontier = [(root, 0)]
    while frontier:
        nxt = []
        for node, depth in frontier:
            if id(node.children) in seen:
                continue
            seen.add(id(node.children))
            src = ids.get(id(node))
            for child in node.children:
                cid = ids[id(child)]
                if cid not in min_depth:
                    min_depth[cid] = depth + 1
                    indegree.setdefault(cid, 0)
                if src is not None and src != cid:
                    targets = edges.setdefault(src, set())
                    if cid not in targets:
                        targets.add(cid)
                        indegree[cid] = indegree.get(cid, 0) + 1
                nxt.append((child, depth + 1))
        frontier = nxt
    order: list[tuple] = []
    ready = sorted((c for c, d in indegree.items() if d == 0), key=lambda c: min_depth[c])
    remaining = dict(indegree)
    cyclic: dict[tuple, set] = {}
    while len(order) < len(remaining):
        while ready:
            current = ready.pop(0)
            order.append(current)
            remaining[current] = -1
            for target in sorted(edges.get(current, ()), key=lambda c: min_depth[c]):
                if remaining[target] > 0:
                    remaining[target] -= 1
                    if remaining[target] == 0:
                        ready.append(target)
        if len(order) < len(remaining):
            stuck = [c for c, d in remaining.items() if d > 0]
            nearest = min(stuck, key=lambda c: (min_depth[c], remaining[c]))
            cyclic[nearest] = set(stuck)
            remaining[nearest] = 0
            ready.append(nearest)
    return order, cyclic


def _nearest(items: list[_Item], conflict: tuple) -> _Item:
    constraints: list[VersionConstraint] = []
    candidates: list[_Item] = []
    winner: _Item | None = None

    def version(item: _Item) -> Version:
        return Version(item.node.artifact.version)  # type: ignore[union-attr]

    def acceptable(v: Version) -> bool:
        return all(c.contains(v) for c in constraints)

    def nearer(a: _Item, b: _Item) -> bool:
        if a.parent is b.parent:
            return version(a) > version(b)
        return a.depth < b.depth

    def backtrack() -> _Item:
        best: _Item | None = None
        for candidate in list(candidates):
            if not acceptable(version(candidate)):
                candidates.remove(candidate)
            elif best is None or nearer(candidate, best):
                best = candidate
        if best is None:
            details = "; ".join(
                f"{it.node.artifact.version if not it.node.constraint.is_range else it.node.constraint.text} via {' -> '.join(it.node.path)}"  # type: ignore[union-attr]
                for it in items
            )
            raise GraphError(f"no version of {conflict[0]}:{conflict[1]} satisfies every range: {details}")
        return best

    for item in items:
        c = item.node.constraint
        do_backtrack = False
        if c is not None and c.is_range and c not in constraints:
            constraints.append(c)
            if winner is not None and not c.contains(version(winner)):
                do_backtrack = True
        if acceptable(version(item)):
            candidates.append(item)
            if do_backtrack:
                winner = backtrack()
            elif winner is None or nearer(item, winner):
                winner = item
        elif do_backtrack:
            winner = backtrack()
    if winner is None:
        winner = backtrack()
    return winner


class _Resolver:
    def __init__(self, root: _Node, ids: dict[int, tuple]) -> None:
        self.root = root
        self.ids = ids
        self.resolved: dict[tuple, _Node] = {}
        self.ancestors: set[tuple] = set()

    def run(self, order: list[tuple], cyclic: dict[tuple, set], edges: dict[tuple, list] | None = None) -> None:
        """Resolve every conflict id in order. Without cycles among conflict ids, the items of
        an id are exactly the edges from already resolved winners (`edges`, indexed once);
        with cycles, Maven's depth-first gathering is replayed."""
        fast = edges is not None and not cyclic
        self.order_key: dict[int, tuple[int, ...]] = {}
        self.depth: dict[int, int] = {}
        for cid in order:
            if cid in cyclic:
                self.ancestors |= cyclic[cid]
            self.current = cid
            if fast:
                self.items = self._gather_fast(edges.get(cid, ()))  # type: ignore[union-attr]
            else:
                self.items: list[_Item] = []
                self.infos: dict[int, list] = {}  # id(child list) -> [min_depth, scopes, items]
                self.on_stack: set[int] = set()
                self.parents: list[tuple[_Node, list | None]] = []  # (node, info or None)
                self.parent_scopes: list[str | None] = []
                self._gather(self.root)
                for item in self.items:
                    info = self.infos[id(item.parent)] if item.parent is not None else None
                    item.depth = info[0] + 1 if info else 1
            self.ancestors.add(cid)
            if not self.items:
                continue
            winner = _nearest(self.items, cid)
            winner.node.scope = _effective_scope(self.items)
            self.resolved[cid] = winner.node
            if fast:
                self.order_key[id(winner.node)] = winner.key  # type: ignore[attr-defined]
                self.depth[id(winner.node)] = winner.depth
            for item in self.items:
                if item is winner:
                    continue
                siblings = item.parent
                for i, child in enumerate(siblings):  # type: ignore[arg-type]
                    if child is item.node:
                        del siblings[i]  # type: ignore[union-attr]
                        break
        # cut leftovers of cycles
        self.current = None
        self._cleanup(self.root, set())

    def _gather_fast(self, edges: list[tuple[_Node, _Node, int]]) -> list["_Item"]:
        items = []
        for parent, child, index in edges:
            if parent is self.root:
                key: tuple[int, ...] = (index,)
                depth = 1
                scope = child.dep.scope  # type: ignore[union-attr]
            else:
                if self.resolved.get(self.ids[id(parent)]) is not parent:
                    continue
                key = self.order_key[id(parent)] + (index,)
                depth = self.depth[id(parent)] + 1
                scope = _derive_scope(parent.scope, child.dep.scope)  # type: ignore[union-attr]
            item = _Item(parent.children, child, {scope})
            item.depth = depth
            item.key = key  # type: ignore[attr-defined]
            items.append(item)
        items.sort(key=lambda it: it.key)  # type: ignore[attr-defined]  # depth-first declaration order
        return items

    def _cleanup(self, node: _Node, seen: set[int]) -> None:
        if id(node.children) in seen:
            return
        seen.add(id(node.children))
        kept = []
        for child in node.children:
            winner = self.resolved.get(self.ids[id(child)])
            if winner is not None and winner is not child:
                continue
            kept.append(child)
            self._cleanup(child, seen)
        node.children[:] = kept

    def _derive(self, node: _Node, cid: tuple | None) -> str | None:
        if node.dep is None:
            return None
        if cid is not None and cid in self.resolved:
            return node.scope
        parent_scope = self.parent_scopes[-1] if self.parent_scopes else None
        return _derive_scope(parent_scope, node.dep.scope) if self.parents else node.dep.scope

    def _gather(self, node: _Node) -> bool:
        cid = self.ids.get(id(node))
        if cid == self.current:
            parent_list = self.parents[-1][0].children if self.parents else None
            info = self.parents[-1][1] if self.parents else None
            if info is not None:
                scopes = {s for s in (self._child_scope(node, ps) for ps in info[1])}
                item = _Item(parent_list, node, scopes)
                info[2].append(item)
                self.items.append(item)
            return True
        if cid is not None:
            winner = self.resolved.get(cid)
            if winner is not None and winner is not node:
                return False
            if cid not in self.ancestors:
                return True
        lst = node.children
        key = id(lst)
        if key in self.on_stack:
            return True
        depth = len(self.parents)
        scope = self._derive(node, cid)
        info = self.infos.get(key)
        if info is None:
            info = [depth, {scope}, []]
            self.infos[key] = info
            push_info: list | None = info
        else:
            changed = False
            if depth < info[0]:
                info[0] = depth
            if scope not in info[1]:
                info[1].add(scope)
                changed = True
                for item in info[2]:
                    item.scopes.add(self._child_scope(item.node, scope))
            if not changed:
                return True
            push_info = None
        self.on_stack.add(key)
        self.parents.append((node, push_info))
        self.parent_scopes.append(scope)
        i = 0
        while i < len(lst):
            child = lst[i]
            if not self._gather(child):
                del lst[i]
                continue
            i += 1
        self.parents.pop()
        self.parent_scopes.pop()
        self.on_stack.discard(key)
        return True

    @staticmethod
    def _child_scope(node: _Node, parent_scope: str | None) -> str:
        return _derive_scope(parent_scope, node.dep.scope)  # type: ignore[union-attr]


def _edges(root: _Node, ids: dict[int, tuple], original: dict[int, tuple[_Node, ...]]) -> dict[tuple, list]:
    """conflict id -> [(parent node, child node, index in the parent's list)] over the whole graph."""
    edges: dict[tuple, list] = {}
    seen: set[int] = {id(root)}
    todo = [root]
    while todo:
        node = todo.pop()
        for index, child in enumerate(original.get(id(node.children), ())):
            edges.setdefault(ids[id(child)], []).append((node, child, index))
            if id(child) not in seen:
                seen.add(id(child))
                todo.append(child)
    return edges


def resolve_graph(
    roots: list[Dependency],
    descriptor: Callable[[Artifact, tuple[str, ...]], Descriptor],
    versions: Callable[[Artifact, tuple[str, ...]], list[str]],
    prefer: Callable[[Artifact, list[str]], list[str]] | None = None,
    depth_first: bool = False,
) -> Resolution:
    """Resolve `roots` as the direct dependencies of one project, like Maven 3.8."""
    root = _Node(None, None, None, (), ())
    collector = _Collector(descriptor, versions, prefer)
    root_keys: list[list[int]] = []
    for dep in roots:
        before = len(root.children)
        collector.dependency(dep, root, frozenset(), False, ())
        root_keys.append([id(n) for n in root.children[before:]])
    original: dict[int, tuple[_Node, ...]] = {}
    todo = [root]
    while todo:
        node = todo.pop()
        if id(node.children) in original:
            continue
        original[id(node.children)] = tuple(node.children)
        todo.extend(node.children)
    ids = _conflict_ids(root)
    order, cyclic = _sort_ids(root, ids)
    resolver = _Resolver(root, ids)
    resolver.run(order, cyclic, None if (cyclic or depth_first) else _edges(root, ids, original))
    # walk the final graph: depth of each winner, requires from its declared children
    artifacts: dict[tuple, Resolved] = {}
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
    roots_out: list[tuple | None] = []
    for node_ids in root_keys:
        cid = None
        for nid in node_ids:
            if nid in ids and ids[nid] in artifacts:
                cid = ids[nid]
                break
        roots_out.append(cid)
    return Resolution(artifacts, roots_out)
