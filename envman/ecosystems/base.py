"""The one protocol every ecosystem implements, and the data that crosses it.

An ecosystem (python, r, jvm, conda, …) is one package under envman/ecosystems/ whose
`ECOSYSTEM` object subclasses `Ecosystem` below. Everything envman knows about that
ecosystem is reached through this class: its manifest section and spec grammar, names and
versions, resolution, lock entries, exports, importers for `init --from`, the image
fragment, the probe inside a target, sync, SBOM purls, `why`, and how drift compares its
packages. Code outside envman/ecosystems/ never names an ecosystem: it asks the registry
(envman.ecosystems) for the list and calls these methods.

Ecosystems compose (the registry orders them); none subclasses another. Each takes its
inputs as values and gets I/O (HTTP, cache, subprocess runner) passed in. The class
modules stay light (standard library only at import): heavy imports happen inside methods,
so a command pays only for the ecosystems and the work it uses.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, NamedTuple, Protocol

if TYPE_CHECKING:  # annotations only: keeps pydantic, pathlib and dataclasses off `envman check`'s path
    from pathlib import Path

    from pydantic import BaseModel

    from envman.ecosystems.imports import ImportContext, ImportResult, Note, Skipped
    from envman.ecosystems.requests import (
        Artifact,
        Fragment,
        FragmentContext,
        Importer,
        LockedEntries,
        LockedProvided,
        Provided,
        ProvidedPackage,
        ResolveRequest,
        Services,
        SyncRequest,
    )

__all__ = [
    "ImportContext",
    "ImportResult",
    "Note",
    "Skipped",
    "ResolveRequest",
    "Services",
    "InstalledPackage",
    "ProbedSection",
    "Importer",
    "SyncRequest",
    "Runner",
    "RunResult",
    "Artifact",
    "FragmentContext",
    "Fragment",
    "Ecosystem",
    "LockedEntries",
    "Provided",
    "ProvidedPackage",
    "LockedProvided",
]

_NOTHING: Mapping[str, Any] = MappingProxyType({})
_IMPORT_TYPES = ("ImportContext", "ImportResult", "Note", "Skipped")
_REQUEST_TYPES = (
    "ResolveRequest", "Services", "Importer", "SyncRequest", "Artifact", "FragmentContext", "Fragment", "LockedEntries",
    "Provided", "ProvidedPackage", "LockedProvided",
)


class InstalledPackage(NamedTuple):
    """One package found in a live environment (or expected there, from a lock)."""

    ecosystem: str
    name: str
    version: str
    location: str | None = None
    sha256: str | None = None
    extra: Mapping[str, Any] = _NOTHING  # read-only: build a new dict to add to it


class ProbedSection(NamedTuple):
    """An ecosystem's part of a snapshot, read from the probe's JSON."""

    packages: list[InstalledPackage]
    runtime: str | None = None  # the runtime's version (Python, R, Java) when the probe saw one
    environment: Mapping[str, Any] = _NOTHING  # facts for snapshot.environment


class RunResult(NamedTuple):
    returncode: int
    stdout: bytes
    stderr: bytes


class Runner(Protocol):
    """Runs commands and reads files where a target lives (this machine, a container)."""

    def run(self, argv: Sequence[str], input: bytes | None = None, timeout: float = 120) -> RunResult: ...

    def read_file(self, path: str) -> bytes: ...


def _natural_key(version: str) -> list[tuple[int, int, str]]:
    """Digits compare as numbers and sort after text at the same position (1.0rc1 < 1.0.1)."""
    return [(1, int(part), "") if part.isdigit() else (0, 0, part) for part in _VERSION_TOKENS.findall(version)]


def __getattr__(name: str) -> Any:
    """The request types live in envman.ecosystems.requests, imported when first used."""
    if name in _REQUEST_TYPES:
        from envman.ecosystems import requests

        return getattr(requests, name)
    if name in _IMPORT_TYPES:  # what `init --from` importers give back (envman.ecosystems.imports)
        from envman.ecosystems import imports

        return getattr(imports, name)
    raise AttributeError(f"module 'envman.ecosystems.base' has no attribute {name!r}")


_VERSION_PARTS = re.compile(r"[._+\-]")
_VERSION_TOKENS = re.compile(r"\d+|[A-Za-z]+")


class Ecosystem(ABC):
    """One ecosystem, everything about it. Subclasses set the class attributes and implement
    the abstract methods; the others have defaults that fit most ecosystems."""

    # -- identity and manifest -----------------------------------------------------------
    name: ClassVar[str]  # manifest section, lock key, snapshot key, finding's `ecosystem`
    title: ClassVar[str]  # for messages: "Python", "R", "JVM", "conda"
    items_key: ClassVar[str] = "packages"  # the section's (and overlays') list of requirements
    add_default: ClassVar[bool] = False  # `envman add SPEC` with no other clue goes here (Python)
    export_formats: ClassVar[tuple[str, ...]] = ()
    lockable: ClassVar[bool] = True  # False: the section is validated but `lock` refuses it
    # True: its solution can hold other ecosystems' runtimes and packages (conda's python and
    # numpy): `lock` resolves it before the others and hands them provides() of its entries
    provider: ClassVar[bool] = False
    # True: resolved for `image.base` (ResolveRequest.image); `lock` resolves it again when the
    # base's pin moves (Debian packages)
    needs_image: ClassVar[bool] = False

    # -- runtime (interpreter / R / Java) ----------------------------------------------
    runtime: ClassVar[str | None] = None  # key in snapshot runtimes: "python", "r", "java"
    runtime_label: ClassVar[str | None] = None  # how findings name it: "python", "R", "java"

    # -- targets ----------------------------------------------------------------------------
    target_forms: ClassVar[tuple[str, ...]] = ()  # TARGET forms that inspect only this ecosystem ("rlib:DIR")
    target_kinds: ClassVar[tuple[str, ...]] = ()  # their prefixes ("rlib")
    syncable_kinds: ClassVar[tuple[str, ...]] = ()  # those `envman sync` can change
    place_flag: ClassVar[str | None] = None  # the check/diff/snapshot option naming where it lives
    place_help: ClassVar[str] = ""  # that option's help text
    place_repeatable: ClassVar[bool] = True  # several places (folders) or one (an interpreter)
    image_labels: ClassVar[tuple[str, ...]] = ()  # labels saying where it lives (first is written)
    probe_module: ClassVar[str | None] = None  # stdlib module beside the class, part of the probe script
    probe_function: ClassVar[str | None] = None  # its function (options, deep, problems) -> section
    probe_interpreter: ClassVar[bool] = False  # its targets are the interpreter the probe script runs with

    # -- models: "module:Class" inside the ecosystem's package, imported on first use -------
    section_class: ClassVar[str] = ""  # the manifest section (validates every spec)
    overlay_class: ClassVar[str] = ""  # what an environment adds (`environments.E.<name>`)
    entry_class: ClassVar[str] = ""  # one lock entry

    def section_model(self) -> type[BaseModel]:
        return self._model(self.section_class)

    def overlay_model(self) -> type[BaseModel]:
        return self._model(self.overlay_class)

    def entry_model(self) -> type[BaseModel]:
        return self._model(self.entry_class)

    def _model(self, where: str) -> type[BaseModel]:
        import importlib

        module, _, name = where.partition(":")
        if not module or not name:
            raise NotImplementedError(f"{type(self).__name__}: set section_class, overlay_class and entry_class, or override *_model()")
        model: type[BaseModel] = getattr(importlib.import_module(f"{type(self).__module__}.{module}"), name)
        return model

    def manifest_problems(self, manifest: Any) -> list[tuple[tuple[Any, ...], str]]:
        """Checks across the fields of a manifest whose models validated (a spec naming a
        channel the section does not list, say): (location, message) for each problem, the
        location as pydantic writes one (`("conda", "packages", 2)`). Reported as
        FILE:LINE:COL at `validate` and by every command that reads the manifest (exit 2)."""
        return []

    def platform_fields(self) -> dict[str, Any]:
        """Extra per-platform lock fields this ecosystem owns: name -> (type, default)."""
        return {}

    def platform_values(self, section: Any) -> dict[str, Any]:
        """Values of platform_fields() for a declared section."""
        return {}

    def root_names(self, requirements: Sequence[Any]) -> set[str]:
        """Normalized names of the manifest's requirements (the roots for `why`)."""
        return {self.normalize_name(str(item).split()[0]) for item in requirements}

    def required_names(self, requirements: Sequence[Any], platform: str, section: Any) -> set[str]:
        """Names (as the lock's entries spell them) that a lock of `requirements` for
        `platform` must hold: `lock` fails naming any that the resolution left out, so a
        requirement never vanishes. An ecosystem whose requirements can legitimately not
        apply to a platform (a Python marker) leaves those out here."""
        return self.root_names(requirements)

    # -- names and versions ------------------------------------------------------------------
    def normalize_name(self, name: str) -> str:
        return name

    def same_version(self, a: InstalledPackage, b: InstalledPackage) -> bool:
        return a.version == b.version

    def shown(self, pkg: InstalledPackage) -> str:
        """The version as reports show it."""
        return pkg.version

    def claims_spec(self, spec: str) -> bool:
        """True when a requirement's own form says it is this ecosystem's (`envman add`
        infers the section from it: a Maven coordinate, an R `(>= …)`, a conda `ch::name`)."""
        return False

    def compare_versions(self, a: str, b: str) -> int:
        """-1, 0 or 1 as version a is older, equal or newer than b (`lock` says "upgraded" or
        "downgraded" by it). Natural order: numbers as numbers, text as text."""
        left, right = _natural_key(a), _natural_key(b)
        return (left > right) - (left < right)

    def runtime_matches(self, expected: str, actual: str) -> bool:
        """`3.11` matches `3.11.2`: the expected parts are a prefix of the actual ones."""
        want = [p for p in _VERSION_PARTS.split(expected.strip()) if p]
        have = [p for p in _VERSION_PARTS.split(actual.strip()) if p]
        n = min(len(want), len(have))
        return n > 0 and want[:n] == have[:n]

    # -- resolution ---------------------------------------------------------------------------
    @abstractmethod
    def resolve(self, request: ResolveRequest, services: Services) -> LockedEntries:
        """environment -> platform -> locked entries. One resolution shared by all environments."""

    def provides(self, entries: list[Any]) -> Provided | None:
        """With `provider`: what these locked entries (one environment and platform) give the
        ecosystems resolved after this one (ResolveRequest.provided), or None."""
        return None

    def provided_platform_values(self, section: Any, provided: list[Provided]) -> dict[str, Any]:
        """platform_values() that what is provided overrides for one environment and platform
        (the interpreter's version when another ecosystem's solution has the interpreter)."""
        return {}

    def links(self, entry: Any) -> list[tuple[str, str]]:
        """(ecosystem, entry name) of other ecosystems' entries this entry is installed by or
        needs (a Python package that conda installs): `why` and `tree` cross over them."""
        installer = self.installed_by(entry)
        return [installer] if installer else []

    def installed_by(self, entry: Any) -> tuple[str, str] | None:
        """(ecosystem, entry name) of the other ecosystem's entry that installs this one (a
        Python package conda provides): the same software, listed once in an SBOM."""
        return None

    def expected_runtime(self, section: Mapping[str, Any] | None, platform_lock: Any) -> str | None:
        """The runtime version a target must have, from the manifest section's data and the lock."""
        return None

    # -- export, import, SBOM, image -----------------------------------------------------
    def export(self, entries: list[Any], fmt: str, context: dict[str, Any]) -> str:
        from envman.errors import BadInputError

        raise BadInputError(f"the {self.title} ecosystem exports {', '.join(self.export_formats) or 'nothing'}, not {fmt!r}")

    def importers(self) -> list[Importer]:
        return []

    @abstractmethod
    def purl(self, entry: Any) -> str:
        """Package URL of a lock entry (CycloneDX)."""

    def sbom_hashes(self, entry: Any) -> list[str]:
        """sha256 hex digests of the entry's artifacts."""
        return [str(entry.sha256).removeprefix("sha256:")]

    def fragment(self, entries: list[Any], context: FragmentContext) -> Fragment:
        """Data for this ecosystem's image layer: artifacts to fetch on the host, generated
        files, template values, env and labels (never Dockerfile text). The default, an
        empty fragment, means the ecosystem cannot be installed into an image yet."""
        from envman.ecosystems.requests import Fragment

        return Fragment(ecosystem=self.name)

    # -- probing targets ----------------------------------------------------------------
    def probe_options(self, places: tuple[str, ...], label: str | None, where: str) -> dict[str, Any] | None:
        """Options for this ecosystem's part of the probe script in a target.

        where: "container" (docker:/image:, labels and defaults apply) or "local" (this
        machine). None: do not look for this ecosystem there."""
        return None

    def target_options(self, kind: str, value: str, what: str) -> dict[str, Any]:
        """Options for a TARGET of one of target_kinds (validate the path: exit 4 when absent).
        With probe_interpreter, {"interpreter": PATH}: the script runs with it."""
        raise NotImplementedError(kind)

    def check_probe(self, kind: str, options: Mapping[str, Any], data: Mapping[str, Any], what: str) -> None:
        """Raise UnreachableError when a single-ecosystem target could not be read at all."""
        return None

    def file_folders(self, places: tuple[str, ...], label: str | None, env: Sequence[str]) -> list[str]:
        """Folders to copy out of a target without Python, to read its files here."""
        return []

    def wanted_file(self, folder: str, rel_parts: Sequence[str], deep: bool) -> bool:
        """Which files inside a copied folder (rel_parts: the path below it) the scan needs."""
        return False

    def files_options(self, folders: list[str], copied_root: Path) -> dict[str, Any] | None:
        """Probe options for the folders that were copied (target paths; their copies are
        under copied_root)."""
        return None

    def empty_section(self) -> dict[str, Any] | None:
        """The probe section of a target where this ecosystem was looked for and not found."""
        return None

    @abstractmethod
    def read_probe(self, section: Mapping[str, Any], known: Mapping[str, tuple[str, str]]) -> ProbedSection:
        """This ecosystem's part of the probe's JSON (untrusted: a wrong shape raises
        KeyError/TypeError/ValueError). known: sha256 -> (name, version) of locked artifacts."""

    def installed_from_entry(self, entry: Any) -> InstalledPackage:
        """A lock entry as the package it expects to find installed."""
        return InstalledPackage(self.name, entry.name, entry.version, None, getattr(entry, "sha256", None), {})

    # -- drift -------------------------------------------------------------------------------
    def ignorable_extra(self, pkg: InstalledPackage) -> bool:
        """Installed but not locked, and still not drift (installer tooling, base packages)."""
        return False

    def primary(self, rows: list[InstalledPackage], want: InstalledPackage | None) -> InstalledPackage:
        """Of several copies of one package, the one in effect (first not shadowed)."""
        for row in rows:
            if "shadowed-by" not in row.extra:
                return row
        return rows[0]

    def modified_detail(self, expected: InstalledPackage, actual: InstalledPackage) -> str | None:
        """Why `actual` differs from the artifact the lock names (deep checks)."""
        files = actual.extra.get("modified")
        if files:
            count = int(actual.extra.get("modified-count", len(files)))
            listed = ", ".join(files[:5]) + (", …" if count > 5 else "")
            return f"{count} installed file(s) differ from the recorded hashes: {listed}"
        return None

    def extra_detail(self, pkg: InstalledPackage) -> str | None:
        """A note for an installed package the lock does not name."""
        return None

    # -- sync -------------------------------------------------------------------------------
    def sync(self, request: SyncRequest) -> None:
        """Install, change and remove packages in the target (hash-verified artifacts)."""
        from envman.errors import BadInputError

        raise BadInputError(f"{request.target}: envman cannot sync {self.title} targets")

    def sync_location(self, kind: str, value: str, environment: Mapping[str, Any]) -> str:
        """The location to change for a syncable TARGET (after probing it)."""
        return value

    def local_target(self, project_dir: Path) -> str | None:
        """The TARGET `envman run` keeps in sync for this ecosystem in a project folder
        (`python:.venv/bin/python`, …), or None when it has none."""
        return None

    def runtime_targets(self, location: str) -> dict[str, str]:
        """Runtime -> TARGET of runtimes that live inside this ecosystem's synced location (a
        conda prefix holds `python`): `envman run` syncs the ecosystem of that runtime there
        instead of into its own local target, as pixi installs PyPI packages into its env."""
        return {}

    def run_environment(self, location: str, entries: list[Any]) -> dict[str, str]:
        """Environment variables that make `location` the one a command sees (`{"PATH":
        "/x/bin:$PATH"}`: `$NAME` is replaced by the current value, or dropped with its
        separator when that is unset)."""
        return {}

    def create_target(self, kind: str, value: str, section: Mapping[str, Any] | None, dry_run: bool) -> str | None:
        """Make a missing syncable TARGET (an empty venv, library or folder) so sync can fill
        it, as `uv sync` creates `.venv`; returns what was (or, dry, would be) done, or None
        when the target exists or cannot be made here."""
        return None
