"""`envman why`: the chains of requirements from the manifest's roots to a package (pure)."""

from __future__ import annotations

from collections import deque
from typing import Any

from envman import ecosystems

__all__ = ["explain"]


def explain(manifest: Any, plock: Any, environment: str, name: str, limit: int = 5) -> list[dict[str, Any]]:
    """For each ecosystem holding `name`: its version and up to `limit` shortest chains."""
    from envman.tree import matching_names

    found = []
    for eco in ecosystems.all_ecosystems():
        entries = {e.name: e for e in plock.entries(eco.name)}
        for target in matching_names(eco, set(entries), name):
            found.append(_chains(eco, manifest, entries, environment, target, limit))
    return found


def _chains(eco: Any, manifest: Any, entries: dict[str, Any], environment: str, target: str, limit: int) -> dict[str, Any]:
    """Up to `limit` shortest chains from the manifest's roots to `target`."""
    parents: dict[str, list[str]] = {}
    for entry in entries.values():
        for child in entry.requires:
            parents.setdefault(child, []).append(entry.name)
    roots = eco.root_names(manifest.requirements(eco.name, environment))
    chains: list[list[str]] = []
    queue: deque[list[str]] = deque([[target]])
    budget = 100_000  # paths explored; bounds the search on dense graphs
    while queue and len(chains) < limit and budget:
        budget -= 1
        path = queue.popleft()
        head = path[0]
        if head in roots:
            chains.append(path)
            continue
        for parent in sorted(parents.get(head, [])):
            if parent not in path:
                queue.append([parent, *path])
    return {"ecosystem": eco.name, "name": target, "version": entries[target].version, "chains": chains}
