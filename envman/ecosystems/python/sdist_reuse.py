"""Resolve several platforms building each sdist-only version's metadata once (sdist_metadata.py).

The order of the uv runs for a lock of several platforms:
- a requirement set resolved here before: the entries it pinned last time (the plan) go to
  every platform's run, and the runs go at once.
- a requirement set never resolved here before: what envman's cache holds for its names (and
  the old lock's) goes to every run. With several platforms and no old lock, the first
  platform resolves alone (it builds what it needs), its builds are read from uv's cache, and
  the other platforms then resolve at once with them, so none of them builds again. With an
  old lock (an edited manifest) the platforms resolve at once: what the old lock pinned was
  kept when it was made, and only what the edit adds may be built on each.
Afterwards, an entry that a platform pinned with exactly the entry's files is confirmed by
the index page uv read in this lock; any other entry given to uv is checked against the
index page (read afresh), and when the index no longer lists exactly its sdists for that
version it is dropped and every platform is resolved again without it. The builds uv made
are kept, and the entries pinned become the plan for the next lock of this requirement set.

Used only where it is exact: the uv resolver, online, with one index and no find-links and
no direct references (uv would apply a name's metadata to a direct reference of that name).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

from envman.ecosystems.python.entry import PythonEntry
from envman.ecosystems.python.sdist_metadata import MetadataStore, StaticMetadata, stale_entries, uv_toml

__all__ = ["SdistReuse", "eligible", "index_versions", "names_of"]

Resolved = dict[str, list[PythonEntry]]  # environment -> entries, for one platform
T = TypeVar("T")
Each = Callable[[Callable[[str], T], list[str]], list[T]]


def eligible(*, piptools: bool, offline: bool, extra_index_urls: list[str], find_links: list[str], requirements: list[str]) -> bool:
    from packaging.requirements import InvalidRequirement, Requirement

    if piptools or offline or extra_index_urls or find_links:
        return False
    for spec in requirements:
        try:
            if Requirement(spec).url:
                return False
        except InvalidRequirement:
            return False
    return True


def names_of(requirements: Iterable[str]) -> set[str]:
    """The normalized project names of PEP 508 requirement strings (unparsable ones left out)."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    names: set[str] = set()
    for spec in requirements:
        try:
            names.add(str(canonicalize_name(Requirement(spec).name)))
        except InvalidRequirement:
            continue
    return names


def index_versions(http: Any, cache: Any, index: str, names: list[str]) -> dict[str, dict[str, set[str]] | None]:
    """name -> version -> {"sha256:…"} of the version's files on the index now (its page read
    afresh; None when it cannot be read or a file has no sha256). One page after the other,
    over the client's one kept-alive connection."""
    from envman.ecosystems.python.simple_index import Lister, Location, filename_identity
    from envman.errors import EnvmanError

    lister = Lister(http, cache)
    location = Location(index, "index")

    def one(name: str) -> dict[str, set[str]] | None:
        try:
            files = lister.listing(location, name, set(), fresh=True)
        except (EnvmanError, OSError, ValueError):
            return None
        versions: dict[str, set[str]] = {}
        for file in files:
            identity = filename_identity(file.filename)
            if identity is None or identity[0] != name:
                continue
            if file.sha256 is None:
                return None
            versions.setdefault(identity[1], set()).add("sha256:" + file.sha256)
        return versions

    return {name: one(name) for name in names}


def _pins(resolved: Iterable[Resolved]) -> dict[tuple[str, str, frozenset[str]], None]:
    found: dict[tuple[str, str, frozenset[str]], None] = {}
    for by_env in resolved:
        for entries in by_env.values():
            for e in entries:
                if not e.url and e.hashes:
                    found[(e.name, e.version, frozenset(e.hashes))] = None
    return found


class SdistReuse:
    def __init__(self, *, store: MetadataStore, uv_cache: str | None, context: list[str], names: Iterable[str],
                 listings: Callable[[list[str]], dict[str, dict[str, set[str]] | None]], relock: bool = False) -> None:
        self.store, self.uv_cache, self.context = store, uv_cache, context
        self.names = set(names)
        self.relock = relock  # an old lock exists: its sdist-only pins were kept when it was made
        self.listings = listings  # names -> name -> version -> hashes of its files on the index now (None: unknown)
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._configs: dict[frozenset[StaticMetadata], str] = {}
        self._final: list[StaticMetadata] = []

    def _config(self, entries: Iterable[StaticMetadata]) -> str | None:
        key = frozenset(entries)
        if not key:
            return None
        if key not in self._configs:
            if self._folder is None:
                self._folder = tempfile.TemporaryDirectory(prefix="envman-uv-metadata-")
            path = Path(self._folder.name) / f"uv-{len(self._configs)}.toml"
            path.write_text(uv_toml(sorted(key, key=lambda e: (e.name, e.version, sorted(e.hashes)))), encoding="utf-8")
            self._configs[key] = str(path)
        return self._configs[key]

    def _harvest(self, results: Iterable[Resolved], have: Iterable[StaticMetadata]) -> list[StaticMetadata]:
        from envman.ecosystems.python.uv_cache import built_sdist_metadata

        covered = {(e.name, e.version, e.hashes) for e in have}
        wanted = [pin for pin in _pins(results) if pin not in covered]
        return built_sdist_metadata(self.uv_cache, wanted)

    def __enter__(self) -> SdistReuse:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._folder is not None:
            self._folder.cleanup()
            self._folder = None

    @property
    def final_config(self) -> str | None:
        """The uv.toml of every entry that stands after run() (for later uv runs of this lock)."""
        return self._config(self._final)

    def run(self, platforms: list[str], work: Callable[[str, str | None], Resolved], each: Each[Resolved]) -> dict[str, Resolved]:
        plan = self.store.plan(self.context)
        if plan is not None:  # what this requirement set pinned last time
            wanted = set(plan)
            known = [e for e in self.store.entries({name for name, _, _ in plan}) if (e.name, e.version, e.hashes) in wanted]
        else:
            known = self.store.entries(self.names)
        harvested: list[StaticMetadata] = []
        if plan is None and not self.relock and len(platforms) > 1:
            first = work(platforms[0], self._config(known))
            harvested = self._harvest([first], known)
            config = self._config(known + harvested)
            results = dict(zip(platforms, [first, *each(lambda p: work(p, config), platforms[1:])], strict=True))
        else:
            config = self._config(known)
            results = dict(zip(platforms, each(lambda p: work(p, config), platforms), strict=True))
        pins = _pins(results.values())
        # An entry pinned with the same files is confirmed by the index page uv just read; the
        # others (given to uv, maybe consulted, not pinned) are checked against the index now.
        unconfirmed = [e for e in known if (e.name, e.version, e.hashes) not in pins]
        stale = stale_entries(unconfirmed, self.listings(sorted({e.name for e in unconfirmed}))) if unconfirmed else []
        if stale:  # the index changed under an entry: resolve again without it (and forget it)
            self.store.update(drop=stale)
            known = [e for e in known if e not in stale]
            harvested = []
            config = self._config(known)
            results = dict(zip(platforms, each(lambda p: work(p, config), platforms), strict=True))
            pins = _pins(results.values())
        harvested += self._harvest(results.values(), known + harvested)
        self.store.update(add=harvested)
        self.store.remember_plan(self.context, [(e.name, e.version, e.hashes) for e in known + harvested
                                                if (e.name, e.version, e.hashes) in pins])
        self._final = known + harvested
        return results
