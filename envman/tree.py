"""`envman tree`: the dependency tree of one environment across ecosystems, from the
manifest's roots down (or, inverted, from one package up to the roots that bring it), as
`uv tree` and `pixi tree` draw it; a subtree already shown is marked `(*)` (pure)."""

from __future__ import annotations

from typing import Any

from envman import ecosystems

__all__ = ["tree_lines", "tree_data", "matching_names"]


def matching_names(eco: Any, names: set[str], query: str) -> list[str]:
    """Entries `query` names: the normalized name, else (Maven coordinates) the artifact
    part after the last `:` (`jackson-core` finds `com.fasterxml.jackson.core:jackson-core`)."""
    target = eco.normalize_name(query)
    if target in names:
        return [target]
    return sorted(n for n in names if ":" in n and ":" not in query and n.split(":")[1] == query)


def tree_data(manifest: Any, plock: Any, environment: str, invert: str | None = None) -> list[dict[str, Any]]:
    """[{ecosystem, roots: [node]}] with node = {name, version, children|dependents, seen}; a
    node of another ecosystem's entry that installs its parent also has `ecosystem`."""
    out = []
    for eco in ecosystems.all_ecosystems():
        entries = {e.name: e for e in plock.entries(eco.name)}
        if not entries:
            continue
        if invert is None:
            edges = {name: sorted(c for c in e.requires if c in entries) for name, e in entries.items()}
            roots = sorted(n for n in eco.root_names(manifest.requirements(eco.name, environment)) if n in entries)
        else:
            edges = {}
            for name, entry in entries.items():
                for child in entry.requires:
                    edges.setdefault(child, []).append(name)
            edges = {k: sorted(v) for k, v in edges.items()}
            roots = matching_names(eco, set(entries), invert)
            if not roots:
                continue
        seen: set[str] = set()
        nodes = [_node(r, entries, edges, seen, ()) for r in roots]
        if invert is None:
            _add_links(eco, nodes, entries, plock)
        else:
            _add_linked_dependents(eco.name, nodes, plock)
        out.append({"ecosystem": eco.name, "roots": nodes})
    return out


def _add_linked_dependents(eco_name: str, nodes: list[dict[str, Any]], plock: Any) -> None:
    """Inverted: where another ecosystem's entry is installed by this node's entry (a Python
    package conda installs), that entry and its own dependents are drawn under the node as
    `ecosystem:name`, so `--invert` climbs from conda up to the Python roots too."""
    installs: dict[str, list[tuple[Any, str]]] = {}
    for other in ecosystems.all_ecosystems():
        for entry in plock.entries(other.name):
            for linked_eco, linked_name in other.links(entry):
                if linked_eco == eco_name:
                    installs.setdefault(linked_name, []).append((other, entry.name))
    if not installs:
        return
    stack = list(nodes)
    while stack:
        node = stack.pop()
        stack.extend(node["children"])
        for other, name in installs.get(node["name"], []):
            entries = {e.name: e for e in plock.entries(other.name)}
            dependents: dict[str, list[str]] = {}
            for entry in entries.values():
                for child in entry.requires:
                    dependents.setdefault(child, []).append(entry.name)
            subtree = _node(name, entries, {k: sorted(v) for k, v in dependents.items()}, set(), ())
            node["children"].append(_qualified(subtree, other.name))


def _qualified(node: dict[str, Any], ecosystem: str) -> dict[str, Any]:
    return {**node, "name": f"{ecosystem}:{node['name']}", "ecosystem": ecosystem,
            "children": [_qualified(child, ecosystem) for child in node["children"]]}


def _add_links(eco: Any, nodes: list[dict[str, Any]], entries: dict[str, Any], plock: Any, done: set[int] | None = None) -> None:
    """Where an entry is installed by another ecosystem's entry (Ecosystem.links: a Python
    package conda installs), that entry is drawn under it as a leaf `ecosystem:name`."""
    done = set() if done is None else done
    for node in nodes:
        if id(node) in done or node.get("ecosystem"):
            continue
        done.add(id(node))
        _add_links(eco, node["children"], entries, plock, done)
        for other, name in eco.links(entries[node["name"]]):
            found = next((e for e in plock.entries(other) if e.name == name), None)
            if found is not None:
                node["children"].append(
                    {"name": f"{other}:{name}", "version": found.version, "children": [], "seen": False, "ecosystem": other}
                )


def _node(name: str, entries: dict[str, Any], edges: dict[str, list[str]], seen: set[str], path: tuple[str, ...]) -> dict[str, Any]:
    node: dict[str, Any] = {"name": name, "version": entries[name].version, "children": [], "seen": False}
    if name in seen or name in path:
        node["seen"] = bool(edges.get(name))
        return node
    seen.add(name)
    node["children"] = [_node(child, entries, edges, seen, (*path, name)) for child in edges.get(name, [])]
    return node


def tree_lines(data: list[dict[str, Any]]) -> list[str]:
    lines: list[str] = []
    for block in data:
        lines.append(block["ecosystem"])
        roots = block["roots"]
        for index, root in enumerate(roots):
            _draw(root, "", index == len(roots) - 1, lines)
    return lines


def _draw(node: dict[str, Any], prefix: str, last: bool, lines: list[str]) -> None:
    mark = " (*)" if node["seen"] else ""
    lines.append(f"{prefix}{'└── ' if last else '├── '}{node['name']} v{node['version']}{mark}")
    children = node["children"]
    for index, child in enumerate(children):
        _draw(child, prefix + ("    " if last else "│   "), index == len(children) - 1, lines)
