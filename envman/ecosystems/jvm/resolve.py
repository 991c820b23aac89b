"""`envman lock` for the jvm section: manifest items -> one resolution -> lock entries."""

from __future__ import annotations

import gc
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from envman.ecosystems.base import ResolveRequest, Services
from envman.ecosystems.jvm.activation import ActivationContext
from envman.ecosystems.jvm.artifacts import ArtifactKey
from envman.ecosystems.jvm.coordinates import InvalidCoordinate
from envman.ecosystems.jvm.descriptor import DescriptorReader
from envman.ecosystems.jvm.entry import JvmEntry
from envman.ecosystems.jvm.graph import Artifact, Dependency, GraphError, Resolution, resolve_graph, type_to_artifact
from envman.ecosystems.jvm.model import ModelBuilder
from envman.ecosystems.jvm.pom import PomError
from envman.ecosystems.jvm.repository import DEFAULT_REPOSITORY, MavenRepositories, MissingArtifact
from envman.ecosystems.jvm.section import parse_jvm_coordinates
from envman.errors import BadInputError, ResolutionError

__all__ = ["root_dependency", "resolve_request", "union_roots"]


def root_dependency(item: Any) -> Dependency:
    """A manifest item (coordinate string or JvmDependency) as a root dependency."""
    exclusions: tuple[tuple[str, str], ...]
    if isinstance(item, str):
        text, scope, exclusions = item, "compile", ()
    else:
        text = item.artifact
        scope = item.scope
        # each is `group:artifact` (validated by the section model)
        exclusions = tuple((group, name) for group, name in (e.split(":", 1) for e in item.exclusions))
    try:
        coords = parse_jvm_coordinates(text)
    except ValueError as exc:
        raise BadInputError(f"jvm dependency {text!r}: {exc}") from None
    artifact = type_to_artifact(coords.group, coords.artifact, coords.version, coords.type, coords.classifier)
    return Dependency(artifact, scope=scope, exclusions=exclusions)


def union_roots(environments: dict[str, list[Any]]) -> tuple[list[Dependency], dict[str, list[int]]]:
    """All environments' roots as one project's dependencies; env -> indexes into that list.

    The same artifact in two environments must name the same version; its scope is the
    wider one and only exclusions every environment declares are kept.
    """
    roots: list[Dependency] = []
    index: dict[tuple[str, str, str, str], int] = {}
    per_env: dict[str, list[int]] = {}
    for env in sorted(environments):
        positions: list[int] = []
        for item in environments[env]:
            dep = root_dependency(item)
            key = dep.artifact.key
            if key in index:
                i = index[key]
                old = roots[i]
                if old.artifact.version != dep.artifact.version:
                    raise ResolutionError(
                        f"jvm: {dep.artifact.name} is declared as {old.artifact.version} and as "
                        f"{dep.artifact.version}; environments share one resolution, so use one version"
                    )
                scope = "compile" if "compile" in (old.scope, dep.scope) else old.scope
                exclusions = tuple(e for e in old.exclusions if e in dep.exclusions)
                roots[i] = Dependency(old.artifact, scope, False, exclusions)
            else:
                index[key] = len(roots)
                roots.append(dep)
            if index[key] not in positions:
                positions.append(index[key])
        per_env[env] = positions
    return roots, per_env


def resolve_request(request: ResolveRequest, services: Services) -> dict[str, dict[str, list[JvmEntry]]]:
    section = request.section
    urls = list(getattr(section, "repositories", None) or []) or [DEFAULT_REPOSITORY]
    java = getattr(section, "java", None) or "17"
    repos = MavenRepositories(urls, services.http, services.cache, offline=request.offline, progress=services.progress)
    builder = ModelBuilder(repos.raw_pom, ActivationContext(java=java))
    reader = DescriptorReader(builder, missing=(MissingArtifact,), warn=services.progress, prefetch=repos.prefetch)
    pins = request.preferences()

    def prefer(artifact: Artifact, chosen: list[str]) -> list[str]:
        pinned = pins.get(artifact.name)
        return [pinned] if pinned in chosen else chosen

    def versions(artifact: Artifact, path: tuple[str, ...]) -> list[str]:
        try:
            return repos.versions(artifact.group, artifact.artifact)
        except (PomError, InvalidCoordinate) as exc:
            raise GraphError(f"{exc} (path: {' -> '.join(path + (str(artifact),))})") from None

    roots, per_env = union_roots(request.environments)
    services.progress(f"jvm: resolving {len(roots)} dependencies")
    collecting = gc.isenabled()
    gc.disable()  # hundreds of thousands of short-lived objects, no cycles worth a pass
    try:
        repos.prefetch([(d.artifact.group, d.artifact.artifact, d.artifact.version) for d in roots])
        resolution = resolve_graph(roots, reader, versions, prefer)
    except GraphError as exc:
        raise ResolutionError(f"jvm: {exc}") from None
    except RecursionError:
        raise ResolutionError("jvm: the dependency graph is too deep to resolve (hundreds of levels)") from None
    finally:
        repos.close()
        if collecting:
            gc.enable()
    files = fetch_files(resolution, repos)
    return entries_by_environment(resolution, files, per_env, request.platforms)


def fetch_files(resolution: Resolution, repos: MavenRepositories) -> dict[ArtifactKey, tuple[str, str]]:
    found: dict[ArtifactKey, tuple[str, str]] = {}
    keys: list[ArtifactKey] = []
    for key, resolved in resolution.artifacts.items():
        cached = repos.cached_artifact(resolved.artifact)
        if cached is None:
            keys.append(key)
        else:
            found[key] = cached
    if not keys:
        return found

    def one(key: ArtifactKey) -> tuple[str, str]:
        art = resolution.artifacts[key].artifact
        try:
            return repos.fetch_artifact(art)
        except (MissingArtifact, InvalidCoordinate) as exc:
            trail = " -> ".join(resolution.artifacts[key].path)
            raise ResolutionError(f"jvm: {exc} (path: {trail})") from None

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, keys))
    found.update(zip(keys, results, strict=True))
    return found


def entries_by_environment(resolution: Resolution, files: dict[ArtifactKey, tuple[str, str]], per_env: dict[str, list[int]],
                           platforms: list[str]) -> dict[str, dict[str, list[JvmEntry]]]:
    arts = resolution.artifacts
    entries: dict[ArtifactKey, JvmEntry] = {}
    for key, resolved in arts.items():
        url, sha256 = files[key]
        scope = resolved.scope if resolved.scope in ("compile", "runtime") else "compile"
        entries[key] = JvmEntry(
            name=resolved.artifact.name,
            version=resolved.artifact.version,
            sha256=sha256,
            url=url,
            scope=scope,
            type=resolved.artifact.type,
            requires=[arts[r].artifact.name for r in resolved.requires],
        )
    result: dict[str, dict[str, list[JvmEntry]]] = {}
    for env, positions in per_env.items():
        todo = [key for key in (resolution.roots[i] for i in positions) if key is not None]
        seen: set[ArtifactKey] = set()
        while todo:
            key = todo.pop()
            if key in seen:
                continue
            seen.add(key)
            todo.extend(arts[key].requires)
        chosen = sorted((entries[k] for k in seen), key=lambda e: (e.name, e.type))
        result[env] = {platform: list(chosen) for platform in (platforms or ["linux-64"])}
    return result
