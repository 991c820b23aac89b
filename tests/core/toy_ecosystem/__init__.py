"""A toy ecosystem, registered by tests/core/test_toy_ecosystem.py only.

It proves the claim of envman/ecosystems/base.py: adding an ecosystem takes a package that
implements the protocol plus one registry entry, and nothing else in envman changes. Its
"repository" is a dict (CATALOG), its installs are files `NAME-VERSION.toy` in a folder
(the `toys:DIR` target), its export is a plain list.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel

from envman.ecosystems.base import Ecosystem, LockedEntries, ProbedSection, ResolveRequest, Services
from envman.errors import ResolutionError, UnreachableError
from envman.lockfile.entry_base import LockModel
from envman.sections import Strict

# name -> version -> requires (the newest version that satisfies wins)
CATALOG: dict[str, dict[str, list[str]]] = {
    "alpha": {"1.0": [], "1.1": ["gamma"]},
    "beta": {"2.0": ["gamma"], "3.0": ["gamma", "delta"]},
    "gamma": {"0.5": []},
    "delta": {"4.2": []},
}
_SPEC = re.compile(r"^([a-z]+)(?:==([0-9.]+))?$")


def _valid(spec: str) -> str:
    if not _SPEC.match(spec):
        raise ValueError("not a toy spec (expected `name` or `name==version`)")
    return spec


ToySpec = Annotated[str, AfterValidator(_valid)]


class ToySection(Strict):
    packages: list[ToySpec] = []


class ToyOverlay(Strict):
    packages: list[ToySpec] = []


class ToyEntry(LockModel):
    name: str
    version: str
    sha256: str
    requires: list[str] = []


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split("."))


def _resolve(roots: list[str], prefer: Mapping[str, str]) -> dict[str, ToyEntry]:
    chosen: dict[str, ToyEntry] = {}
    todo = list(roots)
    while todo:
        spec = todo.pop(0)
        name, pinned = _SPEC.match(spec).groups()  # type: ignore[union-attr]
        versions = CATALOG.get(name)
        if not versions or (pinned and pinned not in versions):
            raise ResolutionError(f"toy: no version of {spec!r}")
        if name in chosen:
            if pinned and chosen[name].version != pinned:
                raise ResolutionError(f"toy: {name} is needed as {pinned} and as {chosen[name].version}")
            continue
        version = pinned or (prefer[name] if prefer.get(name) in versions else max(versions, key=_version_key))
        requires = versions[version]
        chosen[name] = ToyEntry(name=name, version=version, sha256=f"{len(name) * 7:064x}", requires=requires)
        todo.extend(requires)
    return chosen


class ToyEcosystem(Ecosystem):
    name = "toy"
    title = "toy"
    export_formats = ("toy-list",)
    target_forms = ("toys:DIR",)
    target_kinds = ("toys",)
    syncable_kinds = ()
    place_flag = "--toys"
    place_help = "Folder of *.toy files to probe (repeatable)."
    image_labels = ("org.envman.toys",)
    probe_module = "probe_target.py"
    probe_function = "toy_section"

    def section_model(self) -> type[BaseModel]:
        return ToySection

    def overlay_model(self) -> type[BaseModel]:
        return ToyOverlay

    def entry_model(self) -> type[BaseModel]:
        return ToyEntry

    def root_names(self, requirements: Sequence[Any]) -> set[str]:
        return {str(item).split("==")[0] for item in requirements}

    def resolve(self, request: ResolveRequest, services: Services) -> LockedEntries:
        union = _resolve([str(r) for r in request.union()], request.preferences())
        result: LockedEntries = {}
        for env, requirements in request.environments.items():
            keep = _resolve([str(r) for r in requirements], {n: e.version for n, e in union.items()})
            result[env] = {platform: [union[n] for n in sorted(keep)] for platform in request.platforms}
        return result

    def export(self, entries: list[Any], fmt: str, context: dict[str, Any]) -> str:
        if fmt != "toy-list":
            return super().export(entries, fmt, context)
        return "".join(f"{e.name} {e.version}\n" for e in sorted(entries, key=lambda e: e.name))

    def purl(self, entry: Any) -> str:
        return f"pkg:generic/{entry.name}@{entry.version}"

    def probe_options(self, places: tuple[str, ...], label: str | None, where: str) -> dict[str, Any] | None:
        dirs = list(places) or ([label] if label else [])
        return {"dirs": dirs} if dirs else None

    def target_options(self, kind: str, value: str, what: str) -> dict[str, Any]:
        if not os.path.isdir(value):
            raise UnreachableError(f"{what}: no such folder {value}")
        return {"dirs": [value]}

    def read_probe(self, section: Mapping[str, Any], known: Mapping[str, tuple[str, str]]) -> ProbedSection:
        from envman.ecosystems.base import InstalledPackage

        return ProbedSection([InstalledPackage(self.name, row["name"], row["version"], row["location"]) for row in section["packages"]])


ECOSYSTEM = ToyEcosystem()
