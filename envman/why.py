"""`envman why`: the chains of requirements from the manifest's roots to a package (pure)."""

from __future__ import annotations

from collections import deque
from typing import Any

from envman import ecosystems

__all__ = ["explain"]


def explain(manifest: Any, plock: Any, environment: str, name: str, limit: int = 5) -> list[dict[str, Any]]:
    """For each ecosystem holding `name`: its version and up to `limit` shortest chains.

    The chains cross ecosystems where an entry links to another's (Ecosystem.links: a Python
    package that conda installs leads to that conda package); a step in another ecosystem
    than the package's own is shown as `ecosystem:name`."""
    from envman.tree import matching_names

    graph = _Graph(manifest, plock, environment)
    found = []
    for eco in ecosystems.all_ecosystems():
        entries = graph.entries[eco.name]
        for target in matching_names(eco, set(entries), name):
            chains = [[n if e == eco.name else f"{e}:{n}" for e, n in chain] for chain in graph.chains((eco.name, target), limit)]
            found.append({"ecosystem": eco.name, "name": target, "version": entries[target].version, "chains": chains})
    return found


Node = tuple[str, str]  # (ecosystem, entry name)


class _Graph:
    """Every ecosystem's entries of one environment and platform, with the edges `requires`
    draws within an ecosystem and `links` across them, and the manifest's roots."""

    def __init__(self, manifest: Any, plock: Any, environment: str) -> None:
        self.entries: dict[str, dict[str, Any]] = {}
        self.parents: dict[Node, list[Node]] = {}
        self.roots: set[Node] = set()
        for eco in ecosystems.all_ecosystems():
            entries = {e.name: e for e in plock.entries(eco.name)}
            self.entries[eco.name] = entries
            for entry in entries.values():
                for child in entry.requires:
                    self.parents.setdefault((eco.name, child), []).append((eco.name, entry.name))
                for link in eco.links(entry) if entries else []:
                    self.parents.setdefault(link, []).append((eco.name, entry.name))
            if entries:
                self.roots |= {(eco.name, root) for root in eco.root_names(manifest.requirements(eco.name, environment))}

    def chains(self, target: Node, limit: int) -> list[list[Node]]:
        """Up to `limit` shortest chains from the manifest's roots to `target`."""
        chains: list[list[Node]] = []
        queue: deque[list[Node]] = deque([[target]])
        budget = 100_000  # paths explored; bounds the search on dense graphs
        while queue and len(chains) < limit and budget:
            budget -= 1
            path = queue.popleft()
            head = path[0]
            if head in self.roots:
                chains.append(path)
                continue
            for parent in sorted(self.parents.get(head, [])):
                if parent not in path:
                    queue.append([parent, *path])
        return chains
