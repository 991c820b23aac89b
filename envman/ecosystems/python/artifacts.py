"""The files behind locked Python entries, for one target platform and interpreter, fetched
on the host so that an image installs offline with hashes enforced.

A lock entry records name, version, the sha256 of every file an install may use, and its
index (`source`), but no file names or URLs. select_files lists each entry's index page
(envman.ecosystems.python.simple_index: PEP 691 / PEP 503, find-links, the listing cache),
keeps the files whose sha256 is locked, and of those every wheel CPython `python_version`
on `platform` can install (packaging.tags), else the sdist. fetch_files puts them in the
content-addressed cache, verified. build_requirements reads an sdist's
[build-system].requires (without extracting it), for locking the build dependencies of
sdist-only packages.

Errors: an entry with no file carrying a locked hash, or with no file for the platform and
no sdist, and a download that does not match its locked sha256: ResolutionError (exit 3),
naming the package, version and platform. An index that cannot be reached: exit 4.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence, Set
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from envman.ecosystems.python.sdist import DEFAULT_BUILD_REQUIRES, build_requirements
from envman.ecosystems.python.simple_index import IndexFile, Lister, Location, filename_identity, find_location, locations
from envman.errors import BadInputError, ResolutionError, SyncError

if TYPE_CHECKING:
    from packaging.tags import Tag

    from envman.ecosystems.python.entry import PythonEntry

__all__ = [
    "PythonFile",
    "select_files",
    "fetch_files",
    "build_requirements",
    "supported_tags",
    "marker_environment",
    "applies_on",
    "most_portable",
    "CONCURRENCY",
    "DEFAULT_BUILD_REQUIRES",
]

CONCURRENCY = 8  # listings and downloads at once
_GLIBC_MINORS = range(60, 4, -1)  # manylinux_2_60 .. manylinux_2_5: "any glibc level"
_MACOS_NEWEST = 40  # macOS 40 .. 10.4: "any macOS level"
_PY_VERSION = re.compile(r"3\.([0-9]+)(?:\.([0-9]+))?")
T = TypeVar("T")


def _markers(sys_platform: str, system: str, os_name: str, machine: str) -> dict[str, str]:
    return {"sys_platform": sys_platform, "platform_system": system, "os_name": os_name, "platform_machine": machine}


# conda-style platform -> (wheel platform family, architecture, PEP 508 marker values)
_PLATFORMS: dict[str, tuple[str, str, dict[str, str]]] = {
    "linux-64": ("linux", "x86_64", _markers("linux", "Linux", "posix", "x86_64")),
    "linux-aarch64": ("linux", "aarch64", _markers("linux", "Linux", "posix", "aarch64")),
    "osx-64": ("macos", "x86_64", _markers("darwin", "Darwin", "posix", "x86_64")),
    "osx-arm64": ("macos", "arm64", _markers("darwin", "Darwin", "posix", "arm64")),
    "win-64": ("windows", "amd64", _markers("win32", "Windows", "nt", "AMD64")),
}


@dataclass(frozen=True)
class PythonFile:
    name: str  # normalized project name
    version: str
    filename: str  # one path component, checked: safe to write into a build context
    url: str  # without credentials: safe to show
    sha256: str  # hex, no prefix
    sdist: bool
    yanked: str | None = None  # information only: the reason ("" when none given) when the index marks it yanked
    download_url: str = field(default="", repr=False, compare=False)  # url with the index's credentials, when it has some


# -- the target: tags and markers ----------------------------------------------------------
def _python(python_version: str) -> tuple[int, int, str]:
    match = _PY_VERSION.fullmatch(python_version)
    if not match:
        raise BadInputError(f"unknown Python version {python_version!r} (expected 3.X or 3.X.Y)")
    minor = int(match.group(1))
    return 3, minor, python_version if match.group(2) else f"3.{minor}.0"


def _platform(platform: str) -> tuple[str, str, dict[str, str]]:
    try:
        return _PLATFORMS[platform]
    except KeyError:
        raise BadInputError(f"platform {platform!r} has no Python wheels; known: {', '.join(_PLATFORMS)}") from None


@functools.lru_cache(maxsize=32)
def supported_tags(python_version: str, platform: str) -> frozenset[Tag]:
    """Every wheel tag CPython python_version installs on platform, at any manylinux or macOS level
    (plain linux_* wheels are not portable and are left out)."""
    from packaging import tags

    major, minor, _ = _python(python_version)
    family, arch, _ = _platform(platform)
    if family == "linux":
        legacy = {"manylinux2014": 17, "manylinux2010": 12, "manylinux1": 5}
        platforms = [f"manylinux_2_{m}_{arch}" for m in _GLIBC_MINORS] + [f"{tag}_{arch}" for tag in legacy]
    elif family == "macos":
        platforms = list(tags.mac_platforms((_MACOS_NEWEST, 0), arch))
    else:
        platforms = [f"win_{arch}"]
    interpreter = f"cp{major}{minor}"
    return frozenset([
        *tags.cpython_tags((major, minor), abis=[interpreter], platforms=platforms),
        *tags.compatible_tags((major, minor), interpreter, platforms),
    ])


def marker_environment(python_version: str, platform: str) -> dict[str, str]:
    """The PEP 508 marker environment of CPython python_version on platform (X.Y means X.Y.0)."""
    major, minor, full = _python(python_version)
    _, _, values = _platform(platform)
    return {
        **values,
        "python_version": f"{major}.{minor}",
        "python_full_version": full,
        "implementation_name": "cpython",
        "implementation_version": full,
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_version": "",
        "extra": "",
    }


def applies_on(marker: str | None, python_version: str, platform: str) -> bool:
    """Whether an entry with this marker is installed by CPython python_version on platform."""
    return _applies(marker, marker_environment(python_version, platform))


def _applies(marker: str | None, environment: dict[str, str]) -> bool:
    if not marker:
        return True
    from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName

    try:
        return bool(Marker(marker).evaluate(environment))
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return True  # as drift does: an unreadable marker does not hide a package


# -- selection ------------------------------------------------------------------------------
def select_files(
    entries: Sequence[PythonEntry],
    *,
    python_version: str,
    platform: str,
    index_urls: Sequence[str],
    find_links: Sequence[str],
    http: Any,
    cache: Any | None = None,
    offline: bool = False,
) -> list[PythonFile]:
    """The files to fetch for entries on platform with CPython python_version, in entry order.

    index_urls: the section's index-url then its extra-index-urls (PyPI when empty);
    find_links: absolute paths or URLs. Entries whose marker excludes the target are left
    out. Without network (offline) only cached listings are read."""
    supported = supported_tags(python_version, platform)
    environment = marker_environment(python_version, platform)
    chosen = [e for e in entries if _applies(e.marker, environment)]
    unhashed = [f"{e.name} {e.version}" for e in chosen if not e.hashes]
    if unhashed:
        raise ResolutionError(f"the lock has no hashes for {', '.join(unhashed)}; refusing to fetch unverified files")
    configured = locations(index_urls, find_links)
    lister = Lister(http, cache, offline)
    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        gathered = _Gatherer(chosen, configured, lister, pool, supported)
        gathered.run()
    problems: list[str] = []
    selected: list[PythonFile] = []
    for entry, found, looked_in in zip(chosen, gathered.found, gathered.looked, strict=True):
        picked, problem = _pick(entry, found, supported)
        if problem:
            looked = ", ".join(dict.fromkeys(loc.shown for loc in looked_in))
            problems.append(f"{entry.name} {entry.version}: {problem} (looked in {looked})")
        selected.extend(picked)
    if problems:
        raise ResolutionError(f"python files for {platform}, CPython {python_version}:\n  " + "\n  ".join(problems))
    return selected


class _Gatherer:
    """Per entry, the listed files with its name and version: its own index (and find-links
    folders) first; every other configured location only for entries that found no locked hash."""

    def __init__(self, entries: list[PythonEntry], configured: list[Location], lister: Lister, pool: ThreadPoolExecutor,
                 supported: frozenset[Tag]) -> None:
        self.entries, self.configured, self.lister, self.pool, self.supported = entries, configured, lister, pool, supported
        self.found: list[list[tuple[IndexFile, Location]]] = [[] for _ in entries]
        self.looked: list[list[Location]] = [[] for _ in entries]
        self.identity = [(e.name, _normal_version(e.version)) for e in entries]
        self.hashes = [{h.removeprefix("sha256:") for h in e.hashes} for e in entries]
        self._listed: dict[tuple[Location, str], list[IndexFile]] = {}

    def run(self) -> None:
        first_index = next(loc for loc in self.configured if loc.kind == "index")
        folders = [loc for loc in self.configured if loc.kind == "folder"]
        where: dict[int, list[Location]] = {}
        for i, entry in enumerate(self.entries):
            own = find_location(entry.source, self.configured) or first_index
            where[i] = [own] + [f for f in folders if f != own]
        self._list_round(where)
        missing = [i for i in range(len(self.entries)) if not any(f.sha256 in self.hashes[i] for f, _ in self.found[i])]
        if missing:  # cached pages asked afresh, then every other configured location
            stale = {self._key(loc, i) for i in missing for loc in self.looked[i]} & self.lister.from_cache
            for key in stale:
                del self._listed[key]
            self.found = [[] if i in missing else found for i, found in enumerate(self.found)]
            self._list_round({i: list(dict.fromkeys(self.looked[i] + self.configured)) for i in missing}, refresh=stale)

    def _key(self, loc: Location, i: int) -> tuple[Location, str]:
        return loc, self.entries[i].name if loc.kind == "index" else ""

    def _list_round(self, where: dict[int, list[Location]], refresh: Set[tuple[Location, str]] = frozenset()) -> None:
        wanted: dict[tuple[Location, str], set[str]] = {}
        for i, locs in where.items():
            for loc in locs:
                wanted.setdefault(self._key(loc, i), set()).update(self.hashes[i])
        pairs = set(self.identity)
        calls: dict[tuple[Location, str], Callable[[], list[IndexFile]]] = {}
        for key, hashes in wanted.items():
            if key in self._listed:
                continue
            loc, name = key
            if loc.kind == "folder":
                calls[key] = functools.partial(self.lister.folder, loc, pairs)
            else:
                calls[key] = functools.partial(self.lister.listing, loc, name, hashes, key in refresh)
        self._listed.update(_all(self.pool, calls))
        unknown: dict[tuple[Location, IndexFile], Callable[[], IndexFile]] = {}
        pages: dict[tuple[Location, IndexFile], tuple[Location, str]] = {}
        for i, locs in where.items():
            self.looked[i] = list(dict.fromkeys(self.looked[i] + locs))
            for loc in locs:
                for file in self._listed[self._key(loc, i)]:
                    if file.sha256 is not None and file.sha256 not in self.hashes[i]:
                        continue  # (most of a big project's page: parse only what may be used)
                    identity = filename_identity(file.filename)
                    if identity is None or identity[:2] != self.identity[i]:
                        continue
                    self.found[i].append((file, loc))
                    if file.sha256 is None and (identity[2] is None or identity[2] & self.supported):
                        unknown[(loc, file)] = functools.partial(self.lister.hash_of, loc, file)
                        pages[(loc, file)] = self._key(loc, i)
        if unknown:  # pages without hashes: download the candidates once to learn them
            hashed = _all(self.pool, unknown)
            self.found = [[(hashed.get((loc, f), f), loc) for f, loc in found] for found in self.found]
            by_page: dict[tuple[Location, str], dict[str, str]] = {}
            for key, known in hashed.items():
                by_page.setdefault(pages[key], {})[key[1].url] = str(known.sha256)
            for (loc, name), learned in by_page.items():
                self.lister.learned(loc, name, learned)


def _all(pool: ThreadPoolExecutor, calls: dict[Any, Callable[[], T]]) -> dict[Any, T]:
    """Run the calls in the pool; the first failure (in call order) is raised once the rest are cancelled."""
    futures: dict[Any, Future[T]] = {key: pool.submit(call) for key, call in calls.items()}
    try:
        return {key: future.result() for key, future in futures.items()}
    except BaseException:
        for future in futures.values():
            future.cancel()
        raise


def _normal_version(version: str) -> str:
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def _pick(entry: PythonEntry, found: list[tuple[IndexFile, Location]], supported: frozenset[Tag]) -> tuple[list[PythonFile], str]:
    hashes = {h.removeprefix("sha256:") for h in entry.hashes}
    matched: dict[str, tuple[IndexFile, Location]] = {}
    for file, loc in found:
        if file.sha256 in hashes:
            matched.setdefault(file.sha256, (file, loc))
    if not matched:
        return [], "the index has no file with a locked hash"
    wheels, sdists = [], []
    for file, loc in matched.values():
        identity = filename_identity(file.filename)
        tags = identity[2] if identity else None
        if tags is None:
            sdists.append((file, loc))
        elif tags & supported:
            wheels.append((file, loc))
    if wheels:
        chosen, sdist = sorted(wheels, key=lambda item: item[0].filename), False
    elif sdists:
        chosen, sdist = sorted(sdists, key=lambda item: (not item[0].filename.endswith(".tar.gz"), item[0].filename))[:1], True
    else:
        names = ", ".join(sorted(file.filename for file, _ in matched.values()))
        return [], f"no locked file installs on this platform and interpreter, and there is no sdist (locked files: {names})"
    return [
        PythonFile(entry.name, entry.version, file.filename, file.url, str(file.sha256), sdist, file.yanked, loc.download_url(file.url))
        for file, loc in chosen
    ], ""


def most_portable(files: list[PythonFile]) -> dict[str, PythonFile]:
    """Per package, the one file that installs on the oldest machine of the platform: the
    wheel of the lowest manylinux/macOS level (a platform wheel before a pure one, the
    interpreter's own ABI before abi3 before py3-none), else the sdist."""
    best: dict[str, tuple[tuple[int, float, int, str], PythonFile]] = {}
    for file in files:
        key = _portability(file)
        if file.name not in best or key < best[file.name][0]:
            best[file.name] = (key, file)
    return {name: file for name, (_, file) in best.items()}


def _portability(file: PythonFile) -> tuple[int, float, int, str]:
    identity = filename_identity(file.filename)
    tags = identity[2] if identity else None
    if not tags:
        return (2, 0.0, 0, file.filename)  # an sdist: only when no wheel installs
    levels = [level for level in (_platform_level(t.platform) for t in tags) if level is not None]
    abi = min(0 if t.abi.startswith("cp") else 1 if t.abi == "abi3" else 2 for t in tags)
    return (0 if levels else 1, min(levels) if levels else 0.0, abi, file.filename)


_LEVELED = re.compile(r"^(?:manylinux|macosx)_(\d+)_(\d+)_")
_LEGACY_MANYLINUX = {"manylinux1_": 2.005, "manylinux2010_": 2.012, "manylinux2014_": 2.017}


def _platform_level(platform: str) -> float | None:
    """glibc or macOS version a wheel platform needs (2.017, 11.000), 0 for windows, None for any."""
    match = _LEVELED.match(platform)
    if match:
        return int(match.group(1)) + int(match.group(2)) / 1000
    for prefix, level in _LEGACY_MANYLINUX.items():
        if platform.startswith(prefix):
            return level
    return None if platform == "any" else 0.0


# -- fetching ---------------------------------------------------------------------------------
def fetch_files(files: Iterable[PythonFile], http: Any, cache: Any) -> list[tuple[PythonFile, Path]]:
    """Each file's verified path in the content-addressed cache (downloaded when absent), in order."""
    from envman.fetch import fetch_verified

    files = list(files)

    def fetch(file: PythonFile) -> Path:
        try:
            return fetch_verified(file.download_url or file.url, file.sha256, http, cache)
        except SyncError:
            raise ResolutionError(
                f"{file.name} {file.version} ({file.filename}): downloaded file does not match the locked sha256 "
                f"{file.sha256}; refusing to use it"
            ) from None

    unique = {file.sha256: file for file in files}
    if not unique:
        return []
    with ThreadPoolExecutor(max_workers=min(CONCURRENCY, len(unique))) as pool:
        paths = _all(pool, {sha: functools.partial(fetch, file) for sha, file in unique.items()})
    return [(file, paths[file.sha256]) for file in files]
