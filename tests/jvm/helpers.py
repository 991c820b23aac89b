"""Run envman's JVM resolver the way `envman lock` does, and compare with Maven's sets."""

from __future__ import annotations

from pathlib import Path

from envman.cache import ArtifactCache
from envman.ecosystems.base import ResolveRequest, Services
from envman.ecosystems.jvm import ECOSYSTEM
from envman.ecosystems.jvm.section import JvmDependency, JvmSection
from envman.http import HttpClient

__all__ = ["envman_resolve", "to_manifest_item", "entry_set", "maven_set"]


def to_manifest_item(item):
    """Scenario items (strings or dicts) as manifest items (strings or JvmDependency)."""
    if isinstance(item, str):
        return item
    coords = f"{item['g']}:{item['a']}:{item['v']}"
    if item.get("classifier"):
        coords += f":{item['classifier']}"
    if item.get("type"):
        coords += f"@{item['type']}"
    return JvmDependency(artifact=coords, scope=item.get("scope", "compile"), exclusions=item.get("exclusions", []))


def envman_resolve(repo_url: str, environments: dict[str, list], cache_dir: Path, java: str = "17", **kw):
    section = JvmSection(java=java, repositories=[repo_url], dependencies=[])
    request = ResolveRequest(
        section=section,
        environments={env: [to_manifest_item(i) for i in items] for env, items in environments.items()},
        platforms=["linux-64"],
        **kw,
    )
    services = Services(http=HttpClient(retries=0), cache=ArtifactCache(cache_dir))
    return ECOSYSTEM.resolve(request, services)


def entry_set(entries) -> set[tuple[str, str, str, str, str]]:
    out = set()
    for e in entries:
        parts = e.name.split(":")
        out.add((parts[0], parts[1], parts[2] if len(parts) > 2 else "", e.version, e.scope))
    return out


def maven_set(found) -> set[tuple[str, str, str, str, str]]:
    return {(g, a, c, v, s) for (g, a, t, c, v, s) in found}


def envman_tree(repo_url: str, items: list, cache_dir: Path, depth_first: bool = False):
    """{(group, artifact, classifier): parent's triple or None}: where each winner hangs, like Maven's tree."""
    from envman.ecosystems.jvm.activation import ActivationContext
    from envman.ecosystems.jvm.descriptor import DescriptorReader
    from envman.ecosystems.jvm.graph import resolve_graph
    from envman.ecosystems.jvm.model import ModelBuilder
    from envman.ecosystems.jvm.repository import MavenRepositories, MissingArtifact
    from envman.ecosystems.jvm.resolve import union_roots

    repos = MavenRepositories([repo_url], HttpClient(retries=0), ArtifactCache(cache_dir))
    try:
        roots, _ = union_roots({"default": [to_manifest_item(i) for i in items]})
        reader = DescriptorReader(ModelBuilder(repos.raw_pom, ActivationContext()), missing=(MissingArtifact,))
        resolution = resolve_graph(roots, reader, lambda a, p: repos.versions(a.group, a.artifact), None, depth_first)
    finally:
        repos.close()

    def triple(key):
        if key is None:
            return None
        art = resolution.artifacts[key].artifact
        return (art.group, art.artifact, art.classifier)

    return {triple(k): triple(r.parent) for k, r in resolution.artifacts.items()}
