"""Conflict resolution over a collected graph, as maven-resolver 1.6's ConflictResolver does it.

Conflict ids (group:artifact:extension:classifier, joined across relocations) are resolved
in topological order: the nearest item wins, the first one on a tie (depth-first declaration
order), the highest among siblings of one range; range constraints are hard and force
backtracking; the scope is the widest over all paths (a direct dependency keeps its own);
losers are cut out with their subtrees.
"""

from __future__ import annotations

from collections.abc import Sequence

from envman.ecosystems.jvm.artifacts import ArtifactKey, GraphError
from envman.ecosystems.jvm.collect import Node
from envman.ecosystems.jvm.versions import Version, VersionConstraint

__all__ = ["conflict_ids", "sort_ids", "edges", "Mediator"]

# (parent node, child node, index of the child in the parent's declared list)
Edge = tuple[Node, Node, int]


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


def _effective_scope(items: list[_Item]) -> str:
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

    key: tuple[int, ...]  # depth-first declaration order (set by Mediator._gather_fast only)

    def __init__(self, parent: list[Node] | None, node: Node, scopes: set[str]) -> None:
        self.parent = parent
        self.node = node
        self.depth = 0
        self.scopes = scopes


class _Info:
    """What _gather knows of one child list: its minimal depth, the scopes it is reached
    with, and the items found in it."""

    __slots__ = ("depth", "scopes", "items")

    def __init__(self, depth: int, scopes: set[str | None], items: list[_Item]) -> None:
        self.depth = depth
        self.scopes = scopes
        self.items = items


def conflict_ids(root: Node) -> dict[int, ArtifactKey]:
    """Node id -> conflict key; groups joined when relocations make two keys one artifact."""
    parent: dict[ArtifactKey, ArtifactKey] = {}

    def find(key: ArtifactKey) -> ArtifactKey:
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    nodes: list[Node] = []
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


def sort_ids(
    root: Node, ids: dict[int, ArtifactKey]
) -> tuple[list[ArtifactKey], dict[ArtifactKey, set[ArtifactKey]], dict[ArtifactKey, set[ArtifactKey]]]:
    """Topological order of conflict ids (Kahn; cycles broken at the shallowest id); the ids
    of each cycle, keyed by the id where it was broken; the id graph (id -> ids it reaches)."""
    edges: dict[ArtifactKey, set[ArtifactKey]] = {}
    min_depth: dict[ArtifactKey, int] = {}
    indegree: dict[ArtifactKey, int] = {}
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
    order: list[ArtifactKey] = []
    ready = sorted((c for c, d in indegree.items() if d == 0), key=lambda c: min_depth[c])
    remaining = dict(indegree)
    cyclic: dict[ArtifactKey, set[ArtifactKey]] = {}
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
    return order, cyclic, edges


def _nearest(items: list[_Item], conflict: ArtifactKey) -> _Item:
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
                f"{it.node.artifact.version if not it.node.constraint.is_range else it.node.constraint.text}"  # type: ignore[union-attr]
                f" via {' -> '.join(it.node.path)}"
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


class Mediator:
    # state of run(), per conflict id
    current: ArtifactKey | None
    items: list[_Item]
    order_key: dict[int, tuple[int, ...]]  # id(winner node) -> its _Item.key (fast path)
    depth: dict[int, int]  # id(winner node) -> its depth (fast path)
    # state of _gather (depth-first path)
    infos: dict[int, _Info]  # id(child list) -> what is known of it
    on_stack: set[int]
    parents: list[tuple[Node, _Info | None]]  # (node, info or None)
    parent_scopes: list[str | None]
    reach: set[ArtifactKey] | None

    def __init__(self, root: Node, ids: dict[int, ArtifactKey]) -> None:
        self.root = root
        self.ids = ids
        self.resolved: dict[ArtifactKey, Node] = {}
        self.ancestors: set[ArtifactKey] = set()

    def run(self, order: list[ArtifactKey], cyclic: dict[ArtifactKey, set[ArtifactKey]],
            edges: dict[ArtifactKey, list[Edge]] | None = None,
            id_graph: dict[ArtifactKey, set[ArtifactKey]] | None = None) -> None:
        """Resolve every conflict id in order. Without cycles among conflict ids, the items of
        an id are exactly the edges from already resolved winners (`edges`, indexed once);
        with cycles, Maven's depth-first gathering is replayed."""
        fast_edges = edges if not cyclic else None  # None: the depth-first path
        parents_of: dict[ArtifactKey, set[ArtifactKey]] = {}
        for src, targets in (id_graph or {}).items():
            for target in targets:
                parents_of.setdefault(target, set()).add(src)
        self.order_key = {}
        self.depth = {}
        for cid in order:
            if cid in cyclic:
                self.ancestors |= cyclic[cid]
            self.current = cid
            if fast_edges is not None:
                self.items = self._gather_fast(fast_edges.get(cid, ()))
            else:
                self.items = []
                self.infos = {}
                self.on_stack = set()
                self.parents = []
                self.parent_scopes = []
                self.reach = _reaching(cid, parents_of) if id_graph is not None else None
                self._gather(self.root)
                for item in self.items:
                    info = self.infos[id(item.parent)] if item.parent is not None else None
                    item.depth = info.depth + 1 if info is not None else 1
            self.ancestors.add(cid)
            if not self.items:
                continue
            winner = _nearest(self.items, cid)
            winner.node.scope = _effective_scope(self.items)
            self.resolved[cid] = winner.node
            if fast_edges is not None:
                self.order_key[id(winner.node)] = winner.key
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

    def _gather_fast(self, edges: Sequence[Edge]) -> list[_Item]:
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
            item.key = key
            items.append(item)
        items.sort(key=lambda it: it.key)  # depth-first declaration order
        return items

    def _cleanup(self, node: Node, seen: set[int]) -> None:
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

    def _derive(self, node: Node, cid: ArtifactKey | None) -> str | None:
        if node.dep is None:
            return None
        if cid is not None and cid in self.resolved:
            return node.scope
        parent_scope = self.parent_scopes[-1] if self.parent_scopes else None
        return _derive_scope(parent_scope, node.dep.scope) if self.parents else node.dep.scope

    def _gather(self, node: Node) -> bool:
        cid = self.ids.get(id(node))
        if cid == self.current:
            parent_list = self.parents[-1][0].children if self.parents else None
            info = self.parents[-1][1] if self.parents else None
            if info is not None:
                scopes = {s for s in (self._child_scope(node, ps) for ps in info.scopes)}
                item = _Item(parent_list, node, scopes)
                info.items.append(item)
                self.items.append(item)
            return True
        if cid is not None:
            winner = self.resolved.get(cid)
            if winner is not None and winner is not node:
                return False
            if cid not in self.ancestors or (self.reach is not None and cid not in self.reach):
                return True  # (nothing below a node that cannot reach the current id matters)
        lst = node.children
        key = id(lst)
        if key in self.on_stack:
            return True
        depth = len(self.parents)
        scope = self._derive(node, cid)
        info = self.infos.get(key)
        if info is None:
            info = _Info(depth, {scope}, [])
            self.infos[key] = info
            push_info: _Info | None = info
        else:
            changed = False
            if depth < info.depth:
                info.depth = depth
            if scope not in info.scopes:
                info.scopes.add(scope)
                changed = True
                for item in info.items:
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
    def _child_scope(node: Node, parent_scope: str | None) -> str:
        return _derive_scope(parent_scope, node.dep.scope)  # type: ignore[union-attr]


def edges(root: Node, ids: dict[int, ArtifactKey], original: dict[int, tuple[Node, ...]]) -> dict[ArtifactKey, list[Edge]]:
    """conflict id -> [(parent node, child node, index in the parent's list)] over the whole graph."""
    edges: dict[ArtifactKey, list[Edge]] = {}
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


def _reaching(target: ArtifactKey, parents_of: dict[ArtifactKey, set[ArtifactKey]]) -> set[ArtifactKey]:
    """Conflict ids from which `target` can be reached in the id graph."""
    seen: set[ArtifactKey] = set()
    todo = [target]
    while todo:
        for parent in parents_of.get(todo.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                todo.append(parent)
    return seen
