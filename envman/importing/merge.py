"""Merge the manifest sections of several imported files (pure).

Lists of requirements are united in order; two files that pin one package differently keep
the first and report the second. Settings (python.version, an index URL) that differ keep
the first and report the second. Repositories (mappings) are united. An ecosystem's
requirement list is known by its `items_key` and its names by `root_names` (no ecosystem is
named here)."""

from __future__ import annotations

import copy
from typing import Any

from envman.ecosystems.base import Skipped

__all__ = ["merge_sections"]


def _names(ecosystem: str | None, item: Any) -> set[str]:
    from envman import ecosystems

    if ecosystem is None or ecosystem not in ecosystems.names():
        return set()
    try:
        return ecosystems.get(ecosystem).root_names([item])
    except (ValueError, TypeError, AttributeError, IndexError):
        return set()


def _shown(item: Any) -> str:
    return item if isinstance(item, str) else str(item)


def _merge_list(old: list[Any], new: list[Any], ecosystem: str | None, where: str, source: str, conflicts: list[Skipped]) -> list[Any]:
    out = list(old)
    by_name: dict[str, Any] = {}
    for item in old:
        for name in _names(ecosystem, item):
            by_name.setdefault(name, item)
    for item in new:
        if item in out:
            continue
        clash = next((by_name[n] for n in _names(ecosystem, item) if n in by_name), None)
        if clash is not None:
            conflicts.append(Skipped(source, None, _shown(item), f"{where}: conflicts with {_shown(clash)!r}, read earlier (kept)"))
            continue
        out.append(item)
        for name in _names(ecosystem, item):
            by_name.setdefault(name, item)
    return out


def _merge(old: Any, new: Any, path: tuple[str, ...], source: str, conflicts: list[Skipped]) -> Any:
    from envman import ecosystems

    where = ".".join(path)
    if isinstance(old, dict) and isinstance(new, dict):
        out = dict(old)
        for key, value in new.items():
            if key in out:
                out[key] = _merge(out[key], value, (*path, key), source, conflicts)
            elif isinstance(value, (list, dict)):  # through the merge, so duplicates inside one file are caught too
                out[key] = _merge(type(value)(), value, (*path, key), source, conflicts)
            else:
                out[key] = copy.deepcopy(value)
        return out
    if isinstance(old, list) and isinstance(new, list):
        # the ecosystem is the section's name: `python.packages` or `environments.E.python.packages`
        ecosystem = next((p for p in reversed(path[:-1]) if p in ecosystems.names()), None)
        return _merge_list(old, new, ecosystem, where, source, conflicts)
    if old != new:
        conflicts.append(Skipped(source, None, f"{where}: {new}", f"differs from {old!r}, read earlier (kept)"))
    return old


def merge_sections(base: dict[str, Any], new: dict[str, Any], source: str) -> tuple[dict[str, Any], list[Skipped]]:
    """(base with new merged in, what of new was not carried over and why)."""
    conflicts: list[Skipped] = []
    merged = _merge(base, new, (), source, conflicts)
    return merged, conflicts
