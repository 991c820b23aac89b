"""The data passed to an ecosystem to resolve, sync and import, and returned for images.

Kept apart from envman.ecosystems.base so that `envman check` does not pay for them (they are
reachable as envman.ecosystems.base.<Name> too).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envman.ecosystems.base import InstalledPackage

__all__ = [
    "LockedEntries",
    "Services",
    "ProvidedPackage",
    "Provided",
    "LockedProvided",
    "ResolveRequest",
    "Importer",
    "SyncRequest",
    "Artifact",
    "FragmentContext",
    "Fragment",
]

# environment -> platform -> lock entries (pydantic models of the ecosystem's entry_model())
LockedEntries = dict[str, dict[str, list[Any]]]


@dataclass(frozen=True)
class ProvidedPackage:
    """A package of another ecosystem that a provider's solution installs (conda's numpy is
    PyPI's numpy): its name and version as that ecosystem spells them, and the provider's
    own entry that installs it."""

    name: str
    version: str
    provider: str  # the name of the providing ecosystem's entry


@dataclass(frozen=True)
class Provided:
    """What one ecosystem's locked solution gives the ecosystems resolved after it, for one
    environment and platform (Ecosystem.provides): runtimes (runtime key -> full version,
    `{"python": "3.11.9"}`) and packages of other ecosystems (ecosystem -> normalized name
    -> package). A consumer resolves on top of them and does not install them again."""

    by: str  # the providing ecosystem's name
    runtimes: dict[str, str] = field(default_factory=dict)
    packages: dict[str, dict[str, ProvidedPackage]] = field(default_factory=dict)


# environment -> platform -> what the providers resolved before this ecosystem give it
LockedProvided = dict[str, dict[str, list[Provided]]]


@dataclass(frozen=True)
class Services:
    """I/O handed to ecosystems: one HTTP client, one cache, a progress callback."""

    http: Any
    cache: Any
    progress: Callable[[str], None] = lambda message: None


@dataclass(frozen=True)
class ResolveRequest:
    """What to resolve for one ecosystem, with the policy every ecosystem shares.

    environments: environment name -> its requirements (top-level set plus its additions),
    as written in the manifest (strings or the section's requirement models).
    previous: environment -> platform -> entries of the old lock, used as preferences
    (keep these pins unless a requirement forbids them or an upgrade is asked for).
    upgrade_packages: names already normalized by the ecosystem (see Ecosystem.normalize_name).
    provided: environment -> platform -> what ecosystems resolved earlier provide (a conda
    solution's Python interpreter and Python packages); empty when nothing does.
    """

    section: Any
    environments: dict[str, list[Any]]
    platforms: list[str]
    previous: LockedEntries = field(default_factory=dict)
    upgrade: bool = False
    upgrade_packages: frozenset[str] = frozenset()
    offline: bool = False
    project_dir: str = "."
    image: Any = None  # the lock's pin of image.base (ImagePin), for ecosystems resolved for the base
    provided: LockedProvided = field(default_factory=dict)

    def provided_runtime(self, runtime: str, platform: str) -> tuple[str, str] | None:
        """(full version, providing ecosystem) of a runtime another ecosystem's solution has
        on platform (the same in every environment: one solution), or None."""
        for platforms in self.provided.values():
            for provided in platforms.get(platform, []):
                if runtime in provided.runtimes:
                    return provided.runtimes[runtime], provided.by
        return None

    def provided_packages(self, ecosystem: str, platform: str, environment: str | None = None) -> dict[str, tuple[str, ProvidedPackage]]:
        """normalized name -> (providing ecosystem, package) of this ecosystem's packages that
        other ecosystems install on platform: in one environment, or (None) in any."""
        found: dict[str, tuple[str, ProvidedPackage]] = {}
        for env in sorted(self.provided):
            if environment is not None and env != environment:
                continue
            for provided in self.provided[env].get(platform, []):
                for name, package in sorted(provided.packages.get(ecosystem, {}).items()):
                    found.setdefault(name, (provided.by, package))
        return found

    def union(self) -> list[Any]:
        """Every environment's requirements, once each, in first-seen order (the union that
        is resolved first; each environment is then constrained to the union's pins)."""
        seen: dict[str, Any] = {}
        for env in sorted(self.environments):
            for item in self.environments[env]:
                key = item if isinstance(item, str) else repr(item)
                seen.setdefault(key, item)
        return list(seen.values())

    def old_entries(self, platform: str | None = None) -> dict[str, Any]:
        """name -> the old lock's entry (first seen over environments), of one platform or
        all; every entry, also those being upgraded (to reuse what is still valid, such as
        an artifact's hash)."""
        found: dict[str, Any] = {}
        for platforms in self.previous.values():
            for name_of_platform, entries in sorted(platforms.items()):
                if platform is not None and name_of_platform != platform:
                    continue
                for entry in entries:
                    name = getattr(entry, "name", None)
                    if name:
                        found.setdefault(name, entry)
        return found

    def previous_entries(self, platform: str | None = None) -> dict[str, Any]:
        """The old entries the resolver should keep: without --upgrade, and without the
        names given to --upgrade-package."""
        if self.upgrade:
            return {}
        return {name: entry for name, entry in self.old_entries(platform).items() if name not in self.upgrade_packages}

    def preferences(self, platform: str | None = None) -> dict[str, str]:
        """name -> version to keep (the old pins, minus what is being upgraded)."""
        return {name: str(entry.version) for name, entry in sorted(self.previous_entries(platform).items())}


@dataclass(frozen=True)
class Importer:
    """`envman init --from FILE` support: `read(path, text)` -> manifest sections (data)."""

    description: str
    matches: Callable[[str], bool]  # lower-cased file name -> handled here
    read: Callable[[Path, str], dict[str, Any]]
    fallback: bool = False  # tried only when no other importer matches
    # The fuller form, used instead of `read` when set: (path, text, ImportContext) ->
    # ImportResult (sections, plus each line not carried over and why; envman.ecosystems.imports).
    read_in: Callable[[Path, str, Any], Any] | None = None


@dataclass(frozen=True)
class SyncRequest:
    """What `envman sync` asks an ecosystem to change in one target (see drift.plan)."""

    target: str  # the TARGET text, for messages
    location: str  # the folder, prefix or interpreter
    actions: list[Any]  # drift.plan.Action, op in install | change | reinstall | remove
    entries: list[Any]  # the lock's entries of this ecosystem for the environment/platform
    installed: list[InstalledPackage]  # what the probe found there (this ecosystem)
    section: Any  # the manifest section (may be None)
    services: Services


@dataclass(frozen=True)
class Artifact:
    """A locked file the image needs: fetched on the host into the cache (sha256-verified)
    and laid into the build context at `path` (relative to the context root)."""

    url: str
    sha256: str  # hex, no prefix
    path: str


@dataclass(frozen=True)
class FragmentContext:
    """What an ecosystem may consult to describe its image layer."""

    environment: str
    platform: str
    platform_lock: Any  # the lock's PlatformLock for (environment, platform)
    section: Any  # the manifest section of this ecosystem (may be None)
    services: Services
    project_dir: Path | None = None  # the manifest's folder (paths in the lock are relative to it)


@dataclass(frozen=True)
class Fragment:
    """Data an ecosystem contributes to an image (never Dockerfile text: templates/ turns it
    into Dockerfile lines; `template` names the ecosystem's partial there).

    `rank` orders the layers from least to most often changed; `install_dir` is the one
    folder the layer adds to the final image; `build_apt` are Debian packages a builder
    stage needs (compilers, headers) when no `image.builder` is given."""

    ecosystem: str
    template: str = ""  # templates/ecosystems/<template>.j2; "" = nothing to install
    rank: int = 50
    install_dir: str = ""
    artifacts: list[Artifact] = field(default_factory=list)
    files: dict[str, bytes | Path] = field(default_factory=dict)  # generated bytes, or a host file (a tool)
    data: dict[str, Any] = field(default_factory=dict)
    build_apt: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
