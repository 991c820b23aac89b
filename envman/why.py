"""`envman why`: the chains of requirements from the manifest's roots to a package (pure)."""

from __future__ import annotations

from collections import deque
from typing import Any

__all__ = ["explain", "root_names"]


def _norm(ecosystem: str, name: str) -> str:
    if ecosystem == "python":
        from packaging.utils import canonicalize_name

        return str(canonicalize_name(name))
    return name


def root_names(manifest: Any, ecosystem: str, environment: str) -> set[str]:
    names: set[str] = set()
    for item in manifest.requirements(ecosystem, environment):
        if ecosystem == "python":
            from packaging.requirements import Requirement

            names.add(_norm("python", Requirement(item).name))
        elif ecosystem == "r":
            from envman.specs import parse_r_spec

            names.add(parse_r_spec(item)[0])
        elif ecosystem == "jvm":
            from envman.specs import parse_jvm_coordinates

            coords = parse_jvm_coordinates(item if isinstance(item, str) else item.artifact)
            names.add(f"{coords.group}:{coords.artifact}" + (f":{coords.classifier}" if coords.classifier else ""))
        else:
            names.add(str(item).split()[0].split("=")[0].split("<")[0].split(">")[0])
    return names


def explain(manifest: Any, plock: Any, environment: str, name: str, limit: int = 5) -> list[dict[str, Any]]:
    """For each ecosystem holding `name`: its version and up to `limit` shortest chains."""
    found = []
    for ecosystem in ("python", "r", "jvm", "conda"):
        entries = {e.name: e for e in getattr(plock, ecosystem)}
        target = _norm(ecosystem, name)
        if target not in entries:
            continue
        parents: dict[str, list[str]] = {}
        for entry in entries.values():
            for child in entry.requires:
                parents.setdefault(child, []).append(entry.name)
        roots = root_names(manifest, ecosystem, environment)
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
        found.append({"ecosystem": ecosystem, "name": target, "version": entries[target].version, "chains": chains})
    return found
