"""Metadata of sdist-only versions, built once and given to every platform's resolution.

A version published only as an sdist has no metadata file on the index: uv builds it (a
PEP 517 build environment, seconds of CPU each) on the machine running it, for every
`--python-platform` alike. Behind a proxy that strips HTTP caching headers uv also counts
its cached build as stale, so each run (each platform) builds it again. envman keeps what
uv built, keyed by (name, version, the sdist's sha256), and hands it to later uv runs as
uv's static `[[dependency-metadata]]` (a uv.toml given with `--config-file`), so none of
them builds. That is the metadata those runs would have built: the same sdist, built on the
same machine with the same interpreter (what uv itself does for a `--universal` resolution:
one host-built metadata for every platform).

Only sdist-only versions are kept (the pin lists exactly the sdist's hashes: uv lists the
hash of every file of the version, wheels for any platform included), so no platform has a
wheel whose metadata this would replace. What is stored is checked again before it counts
(untrusted cache files), and an entry stands only while the index still lists exactly those
files for that version (sdist_reuse.py: confirmed by the pins of the lock, else by the
index page read afresh; a stale entry is dropped and the lock resolved again without it).

Store (the ArtifactCache index cache): per project, its entries; per requirement set, the
sdist-only (name, version, hashes) it pinned the last time it was resolved (so a lock
without a previous lock knows them up front).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

__all__ = ["StaticMetadata", "Pin", "checked", "uv_toml", "MetadataStore", "stale_entries"]

Pin = tuple[str, str, frozenset[str]]  # (normalized name, version, {"sha256:…"})

_NAME_KEY = "envman-python-sdist-metadata-v1 "
_PLAN_KEY = "envman-python-sdist-plan-v1 "
_SHA256 = re.compile(r"sha256:[0-9a-f]{64}")
_MAX_ENTRIES = 64  # per project: versions x sdist variants kept
_MAX_ITEMS = 2000  # requirements of one entry


@dataclass(frozen=True)
class StaticMetadata:
    name: str  # normalized
    version: str
    hashes: frozenset[str]  # "sha256:<hex>" of every file of the version (its sdists)
    requires_dist: tuple[str, ...]
    requires_python: str | None
    provides_extra: tuple[str, ...]

    def data(self) -> dict[str, Any]:
        return {
            "name": self.name, "version": self.version, "hashes": sorted(self.hashes),
            "requires_dist": list(self.requires_dist), "requires_python": self.requires_python,
            "provides_extra": list(self.provides_extra),
        }


def _printable(value: object) -> bool:
    return isinstance(value, str) and value.isprintable() and len(value) < 4096


def checked(data: object) -> StaticMetadata | None:
    """A StaticMetadata from untrusted data (a cache file), or None unless every field is valid:
    a normalized name, a PEP 440 version, sha256 hashes, PEP 508 requirements, a PEP 440
    specifier set, PEP 685 extra names."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import InvalidSpecifier, SpecifierSet
    from packaging.utils import canonicalize_name
    from packaging.version import InvalidVersion, Version

    if not isinstance(data, dict):
        return None
    name, version, hashes = data.get("name"), data.get("version"), data.get("hashes")
    requires, python, extras = data.get("requires_dist"), data.get("requires_python"), data.get("provides_extra", [])
    if not _printable(name) or not _printable(version) or not isinstance(hashes, list) or not hashes:
        return None
    if not isinstance(requires, list) or not isinstance(extras, list) or len(requires) > _MAX_ITEMS or len(extras) > _MAX_ITEMS:
        return None
    if python is not None and not _printable(python):
        return None
    try:
        Version(str(version))
        for item in requires:
            if not _printable(item):
                return None
            Requirement(item)
        if python is not None:
            SpecifierSet(python)
    except (InvalidVersion, InvalidRequirement, InvalidSpecifier):
        return None
    if not all(isinstance(h, str) and _SHA256.fullmatch(h) for h in hashes):
        return None
    if not all(_printable(e) and canonicalize_name(e) == e for e in extras):
        return None
    assert isinstance(name, str) and isinstance(version, str)
    return StaticMetadata(
        name=str(canonicalize_name(name)), version=str(version), hashes=frozenset(hashes),
        requires_dist=tuple(requires), requires_python=python, provides_extra=tuple(extras),
    )


def uv_toml(entries: Iterable[StaticMetadata]) -> str:
    """A uv.toml with one [[dependency-metadata]] table per entry (JSON strings are TOML basic strings)."""
    lines: list[str] = []
    for entry in entries:
        lines += [
            "[[dependency-metadata]]",
            f"name = {json.dumps(entry.name)}",
            f"version = {json.dumps(entry.version)}",
            f"requires-dist = {json.dumps(list(entry.requires_dist))}",
        ]
        if entry.requires_python is not None:
            lines.append(f"requires-python = {json.dumps(entry.requires_python)}")
        lines += [f"provides-extras = {json.dumps(list(entry.provides_extra))}", ""]
    return "\n".join(lines)


def stale_entries(entries: Iterable[StaticMetadata], listed: dict[str, dict[str, set[str]] | None]) -> list[StaticMetadata]:
    """The entries the index no longer backs. listed: name -> version -> {"sha256:…"} of the
    version's files on the index now (None: the page could not be read, so nothing of that
    name is trusted). An entry stands while its version's files are exactly its sdists."""
    from packaging.version import InvalidVersion, Version

    def same_version(a: str, b: str) -> bool:
        try:
            return Version(a) == Version(b)
        except InvalidVersion:
            return a == b

    bad: list[StaticMetadata] = []
    for entry in entries:
        versions = listed.get(entry.name)
        files = next((found for version, found in (versions or {}).items() if same_version(version, entry.version)), None)
        if files != set(entry.hashes):
            bad.append(entry)
    return bad


class MetadataStore:
    """Entries in envman's cache (cache: an ArtifactCache, or None for no store)."""

    def __init__(self, cache: Any) -> None:
        self.cache = cache

    def _load(self, key: str) -> Any:
        raw = self.cache.get_index(key) if self.cache is not None else None
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            return None

    def _save(self, key: str, value: Any) -> None:
        if self.cache is None:
            return
        try:
            self.cache.put_index(key, json.dumps(value, sort_keys=True).encode())
        except OSError:  # a cache that cannot be written only costs speed
            pass

    def entries(self, names: Iterable[str]) -> list[StaticMetadata]:
        found: list[StaticMetadata] = []
        for name in sorted(set(names)):
            data = self._load(_NAME_KEY + name)
            items = data.get("entries") if isinstance(data, dict) else None
            for item in items[:_MAX_ENTRIES] if isinstance(items, list) else []:
                entry = checked(item)
                if entry is not None and entry.name == name:
                    found.append(entry)
        return found

    def update(self, add: Iterable[StaticMetadata] = (), drop: Iterable[StaticMetadata] = ()) -> None:
        """Add entries (replacing one of the same version and hashes) and drop others, per project."""
        adding, dropping = list(add), set(drop)
        for name in sorted({e.name for e in adding} | {e.name for e in dropping}):
            old = self.entries([name])
            new = [e for e in adding if e.name == name]
            keys = {(e.version, e.hashes) for e in new}
            kept = [e for e in old if e not in dropping and (e.version, e.hashes) not in keys]
            if kept + new != old:
                self._save(_NAME_KEY + name, {"entries": [e.data() for e in (new + kept)[:_MAX_ENTRIES]]})

    @staticmethod
    def _plan_key(context: list[str]) -> str:
        return _PLAN_KEY + hashlib.sha256("\n".join(context).encode()).hexdigest()

    def plan(self, context: list[str]) -> list[Pin] | None:
        """The sdist-only (name, version, hashes) pinned when this requirement set (context) was
        last resolved; None: never (or unreadable)."""
        data = self._load(self._plan_key(context))
        items = data.get("pinned") if isinstance(data, dict) else None
        if not isinstance(items, list) or len(items) > _MAX_ITEMS:
            return None
        pins: list[Pin] = []
        for item in items:
            if not (isinstance(item, list) and len(item) == 3 and _printable(item[0]) and _printable(item[1])
                    and isinstance(item[2], list) and all(isinstance(h, str) and _SHA256.fullmatch(h) for h in item[2])):
                return None
            pins.append((item[0], item[1], frozenset(item[2])))
        return pins

    def remember_plan(self, context: list[str], pins: Iterable[Pin]) -> None:
        value = sorted((name, version, sorted(hashes)) for name, version, hashes in set(pins))
        old = self.plan(context)
        if old is None or sorted((n, v, sorted(h)) for n, v, h in old) != value:
            self._save(self._plan_key(context), {"pinned": [list(p) for p in value]})
