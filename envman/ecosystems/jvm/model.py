"""Effective POM models, as Maven 3's model builder makes them for dependencies.

Order (DefaultModelBuilder): per POM of the lineage, inject active profiles and merge
duplicate dependencies; assemble inheritance (child wins); interpolate `${…}`; import BOMs
(`<scope>import</scope>`, first import wins, explicit entries win over imports); inject
dependencyManagement into dependencies (version, scope, exclusions when none); default scope
compile. Relocation is read from the effective model and is not inherited.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from envman.ecosystems.jvm.activation import ActivationContext, active_profiles
from envman.ecosystems.jvm.pom import RawDependency, RawPom
from envman.errors import ResolutionError

__all__ = [
    "ModelError",
    "EffectiveModel",
    "ModelBuilder",
    "Gav",
    "MAX_INTERPOLATION_DEPTH",
    "MAX_INTERPOLATED_CHARS",
    "MAX_MODEL_INTERPOLATED_CHARS",
]

Gav = tuple[str, str, str]
_EXPR = re.compile(r"\$\{([^}]*)\}")

# Bounds of `${…}` interpolation (docs/security.md): nesting of references, length of one
# interpolated value, and all the interpolated values of one effective model together.
MAX_INTERPOLATION_DEPTH = 32
MAX_INTERPOLATED_CHARS = 64 * 1024
MAX_MODEL_INTERPOLATED_CHARS = 4 * 1024 * 1024


def _short(text: str) -> str:
    return text if len(text) <= 60 else text[:57] + "..."


class ModelError(ResolutionError, ValueError):  # envman's hierarchy (exit 3); ValueError for the catch sites
    """The effective model cannot be built; the message names the chain of POMs."""


@dataclass
class EffectiveModel:
    group: str
    artifact: str
    version: str
    packaging: str
    dependencies: list[RawDependency]
    managed: list[RawDependency]
    relocation: tuple[str, str, str] | None
    properties: dict[str, str]


def _gav(gav: Gav) -> str:
    return ":".join(gav)


def _merge_dependencies(dominant: list[RawDependency], recessive: list[RawDependency]) -> list[RawDependency]:
    """Maven's MergingList, target dominant: dominant entries, then recessive ones with new keys."""
    keys = {d.management_key() for d in dominant}
    return list(dominant) + [d for d in recessive if d.management_key() not in keys]


def _overlay_dependencies(base: list[RawDependency], overlay: list[RawDependency]) -> list[RawDependency]:
    """Source-dominant merge (profiles): same key replaced in place, new keys appended."""
    result = list(base)
    index = {d.management_key(): i for i, d in enumerate(result)}
    for dep in overlay:
        key = dep.management_key()
        if key in index:
            result[index[key]] = dep
        else:
            index[key] = len(result)
            result.append(dep)
    return result


def _dedupe(deps: list[RawDependency]) -> list[RawDependency]:
    """ModelNormalizer.mergeDuplicates: the last declaration of a key, at its first position."""
    merged: dict[tuple[str, str, str, str], RawDependency] = {}
    for dep in deps:
        merged[dep.management_key()] = dep
    return list(merged.values())


class _Interpolator:
    """`${…}` expansion over one effective model, bounded: references nest at most
    MAX_INTERPOLATION_DEPTH levels, no value grows past MAX_INTERPOLATED_CHARS, and all the
    values of one model together stay under MAX_MODEL_INTERPOLATED_CHARS (a 2 KB POM of
    nested references must not expand to gigabytes). Past a bound: ModelError naming the POM."""

    def __init__(self, model: dict[str, str | None], properties: dict[str, str], system: dict[str, str], where: str):
        self.model = model
        self.properties = properties
        self.system = system
        self.where = where
        self.memo: dict[str, str | None] = {}
        self.total = 0

    def _lookup(self, expr: str, stack: tuple[str, ...]) -> str | None:
        if expr in self.memo:
            return self.memo[expr]
        if expr in stack:
            raise ModelError(f"expression cycle in {self.where}: ${{{expr}}} refers to itself ({' -> '.join(stack + (expr,))})")
        if len(stack) >= MAX_INTERPOLATION_DEPTH:
            raise ModelError(
                f"{self.where}: property references nest deeper than {MAX_INTERPOLATION_DEPTH} levels "
                f"(${{{_short(stack[0])}}} -> … -> ${{{_short(expr)}}})"
            )
        raw: str | None = None
        for prefix in ("project.", "pom."):
            if expr.startswith(prefix):
                raw = self.model.get(expr[len(prefix):])
                break
        else:
            if expr in self.properties:
                raw = self.properties[expr]
            elif expr in self.system:
                raw = self.system[expr]
            elif expr in self.model:  # unprefixed `${version}`, `${parent.version}` (deprecated, still honoured)
                raw = self.model.get(expr)
        value = None if raw is None else self.interpolate(raw, stack + (expr,))
        self.memo[expr] = value
        return value

    def interpolate(self, text: str | None, stack: tuple[str, ...] = ()) -> str | None:
        if text is None or "${" not in text:
            return text
        pieces: list[str] = []
        size = 0
        end = 0
        for match in _EXPR.finditer(text):
            value = self._lookup(match.group(1), stack)
            for piece in (text[end:match.start()], match.group(0) if value is None else value):
                size += len(piece)
                if size > MAX_INTERPOLATED_CHARS:
                    what = f"${{{_short(stack[0])}}}" if stack else repr(_short(text))
                    raise ModelError(
                        f"{self.where}: {what} expands to more than {MAX_INTERPOLATED_CHARS:,} characters "
                        "(nested property references?)"
                    )
                pieces.append(piece)
            end = match.end()
        pieces.append(text[end:])
        size += len(text) - end
        if size > MAX_INTERPOLATED_CHARS:
            raise ModelError(f"{self.where}: {_short(text)!r} expands to more than {MAX_INTERPOLATED_CHARS:,} characters")
        self.total += size
        if self.total > MAX_MODEL_INTERPOLATED_CHARS:
            raise ModelError(
                f"{self.where}: its interpolated values exceed {MAX_MODEL_INTERPOLATED_CHARS:,} characters in all "
                "(nested property references?)"
            )
        return "".join(pieces)

    def dependency(self, dep: RawDependency) -> RawDependency:
        f = self.interpolate
        return RawDependency(
            f(dep.group), f(dep.artifact), f(dep.version), f(dep.type), f(dep.classifier), f(dep.scope),
            f(dep.optional), f(dep.system_path),
            [(f(g) or "", f(a) or "") for g, a in dep.exclusions],
        )


class ModelBuilder:
    """Builds (and memoizes) effective models; `fetch(gav)` returns the RawPom or raises."""

    def __init__(self, fetch: Callable[[Gav], RawPom], activation: ActivationContext | None = None) -> None:
        self.fetch = fetch
        self.activation = activation or ActivationContext()
        self._system = self.activation.system_properties()
        self._models: dict[Gav, EffectiveModel] = {}
        self._raw: dict[Gav, RawPom] = {}

    # -- lineage -----------------------------------------------------------------------
    def _raw_with_profiles(self, gav: Gav) -> RawPom:
        cached = self._raw.get(gav)
        if cached is not None:
            return cached
        raw = self.fetch(gav)
        profiles = active_profiles(raw.profiles, self.activation) if raw.profiles else []
        properties = dict(raw.properties)
        dependencies = list(raw.dependencies)
        managed = list(raw.managed)
        for profile in profiles:
            properties.update(profile.properties)
            dependencies = _overlay_dependencies(dependencies, profile.dependencies)
            managed = _overlay_dependencies(managed, profile.managed)
        result = RawPom(
            group=raw.group, artifact=raw.artifact, version=raw.version, packaging=raw.packaging,
            parent=raw.parent, properties=properties, dependencies=_dedupe(dependencies),
            managed=_dedupe(managed), relocation=raw.relocation, profiles=[],
        )
        self._raw[gav] = result
        return result

    def _lineage(self, gav: Gav) -> list[RawPom]:
        lineage: list[RawPom] = []
        seen: list[Gav] = []
        current = gav
        while True:
            if current in seen:
                chain = " -> ".join(_gav(g) for g in seen + [current])
                raise ModelError(f"cyclic parents: {chain}")
            seen.append(current)
            try:
                raw = self._raw_with_profiles(current)
            except ValueError as exc:  # ModelError, PomError, a missing POM
                if current == gav:
                    raise
                raise ModelError(f"parent {_gav(current)} of {_gav(seen[-2])}: {exc}") from None
            lineage.append(raw)
            if raw.parent is None:
                return lineage
            pg, pa, pv = raw.parent
            if not (pg and pa and pv):
                raise ModelError(f"POM of {_gav(current)} has an incomplete <parent> ({pg}:{pa}:{pv})")
            if "${" in pv or pv[:1] in "[(":
                raise ModelError(f"POM of {_gav(current)} has a parent version envman cannot use: {pv}")
            current = (pg, pa, pv)

    # -- building ----------------------------------------------------------------------
    def build(self, gav: Gav, importing: tuple[Gav, ...] = ()) -> EffectiveModel:
        cached = self._models.get(gav)
        if cached is not None:
            return cached
        lineage = self._lineage(gav)
        top = lineage[-1]
        group = top.group or (top.parent[0] if top.parent else None)
        version = top.version or (top.parent[2] if top.parent else None)
        properties = dict(top.properties)
        dependencies = list(top.dependencies)
        managed = list(top.managed)
        packaging = top.packaging
        artifact = top.artifact
        parent_coords: tuple[str, str, str] | None = top.parent
        for child in reversed(lineage[:-1]):
            group = child.group or (child.parent[0] if child.parent else group)
            version = child.version or (child.parent[2] if child.parent else version)
            artifact = child.artifact
            packaging = child.packaging
            parent_coords = child.parent
            merged_props = dict(properties)
            merged_props.update(child.properties)
            properties = merged_props
            dependencies = _merge_dependencies(child.dependencies, dependencies)
            managed = _merge_dependencies(child.managed, managed)
        own = lineage[0]
        packaging = own.packaging or "jar"
        model_fields: dict[str, str | None] = {
            "groupId": group, "artifactId": own.artifact, "version": version, "packaging": packaging,
            "parent.groupId": parent_coords[0] if parent_coords else None,
            "parent.artifactId": parent_coords[1] if parent_coords else None,
            "parent.version": parent_coords[2] if parent_coords else None,
        }
        interp = _Interpolator(model_fields, properties, self._system, f"the POM of {_gav(gav)}")
        dependencies = [interp.dependency(d) for d in dependencies]
        managed = [interp.dependency(d) for d in managed]
        relocation = None
        if own.relocation is not None:
            r = own.relocation
            relocation = (
                interp.interpolate(r.get("group")) or "",
                interp.interpolate(r.get("artifact")) or "",
                interp.interpolate(r.get("version")) or "",
            )
        managed = self._import_boms(gav, managed, importing)
        by_key = {m.management_key(): m for m in managed}
        effective_deps: list[RawDependency] = []
        for dep in dependencies:
            managed_dep = by_key.get(dep.management_key())
            if managed_dep is not None:
                dep = dep.copy()
                if not dep.version:
                    dep.version = managed_dep.version
                if not dep.scope:
                    dep.scope = managed_dep.scope
                if not dep.system_path:
                    dep.system_path = managed_dep.system_path
                if not dep.exclusions:
                    dep.exclusions = list(managed_dep.exclusions)
            if not dep.scope:
                dep.scope = "compile"  # interpolation made fresh objects
            effective_deps.append(dep)
        model = EffectiveModel(
            group=interp.interpolate(group) or "",
            artifact=interp.interpolate(artifact) or "",
            version=interp.interpolate(version) or "",
            packaging=packaging,
            dependencies=effective_deps,
            managed=managed,
            relocation=relocation,
            properties=properties,
        )
        self._models[gav] = model
        return model

    def _import_boms(self, gav: Gav, managed: list[RawDependency], importing: tuple[Gav, ...]) -> list[RawDependency]:
        imports = [m for m in managed if (m.type or "jar") == "pom" and m.scope == "import"]
        if not imports:
            return managed
        result = [m for m in managed if not ((m.type or "jar") == "pom" and m.scope == "import")]
        keys = {m.management_key() for m in result}
        for bom in imports:
            bom_gav = (bom.group or "", bom.artifact or "", bom.version or "")
            if not all(bom_gav) or "${" in "".join(bom_gav):
                raise ModelError(
                    f"POM of {_gav(gav)} imports a BOM with unresolved coordinates {bom.group}:{bom.artifact}:{bom.version}"
                )
            chain = importing + (gav,)
            if bom_gav in chain:
                raise ModelError(f"cyclic BOM imports: {' -> '.join(_gav(g) for g in chain + (bom_gav,))}")
            try:
                bom_model = self.build(bom_gav, chain)
            except ValueError as exc:  # ModelError, PomError, a missing POM
                raise ModelError(f"BOM {_gav(bom_gav)} imported by {_gav(gav)}: {exc}") from None
            for entry in bom_model.managed:
                key = entry.management_key()
                if key not in keys:
                    keys.add(key)
                    result.append(entry)
        return result
