"""`envman lock` for the `r:` section: requests in, REntry lists per environment out.

One resolution for the union of all environments; each environment is then the closure of
its own roots within that resolution, so a package has the same version everywhere.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from envman.ecosystems.base import ResolveRequest, Services
from envman.ecosystems.r.constants import DEFAULT_REPOSITORIES
from envman.ecosystems.r.entry import REntry
from envman.ecosystems.r.index import Candidate
from envman.ecosystems.r.repository import Artifact, RepositorySet
from envman.ecosystems.r.resolver import IndexSource, Resolution, Root, closure, resolve
from envman.ecosystems.r.section import parse_r_spec
from envman.ecosystems.r.versions import VersionError, parse_constraint, version_key
from envman.errors import BadInputError, ResolutionError
from envman.redact import redact_url

__all__ = ["resolve_request", "roots_from_specs", "repositories_of"]


def repositories_of(section: Any) -> dict[str, str]:
    """The section's repositories in priority order: a Bioconductor release's first (when
    `bioconductor` is set), then `repositories` (CRAN when none are given)."""
    from envman.ecosystems.r.bioconductor import with_bioconductor

    repos = dict(getattr(section, "repositories", None) or {}) or dict(DEFAULT_REPOSITORIES)
    return with_bioconductor(repos, getattr(section, "bioconductor", None), getattr(section, "bioconductor_mirror", None))


def roots_from_specs(spec_list: list[str], origin: str = "envman.yaml") -> list[Root]:
    roots = []
    for spec in spec_list:
        try:
            name, op, version = parse_r_spec(spec)
            constraints = (parse_constraint(op, version),) if op and version else ()
        except (ValueError, VersionError) as exc:
            raise BadInputError(f"{origin}: invalid R package spec {spec!r}: {exc}") from None
        roots.append(Root(name, constraints, f"{origin} (`{spec}`)"))
    return roots


def _field(entry: Any, key: str) -> Any:
    return entry.get(key) if isinstance(entry, dict) else getattr(entry, key, None)


REMOTES_REPOSITORY = "git-remotes"  # the CRAN-like folder remotes.py lays out, read first


def resolve_request(request: Any, services: Any) -> dict[str, dict[str, list[REntry]]]:
    """Packages from git remotes are made into tarballs in a temporary CRAN-like repository
    that is read before the section's own (remotes.py); the rest is one resolution."""
    from envman.ecosystems.r.remotes import materialize, parse_remote

    remotes: dict[tuple[str, str, str | None, str], Any] = {}
    for env in sorted(request.environments):
        for spec in request.environments[env]:
            try:
                remote = parse_remote(str(spec))
            except ValueError as exc:
                raise BadInputError(f"envman.yaml: invalid R package spec {str(spec)!r}: {exc}") from None
            if remote is not None:
                remotes.setdefault((remote.kind, remote.where, remote.ref, remote.name), remote)
    if not remotes:
        return _resolve_request(request, services, {}, {})
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory(prefix="envman-r-remotes-") as tmp:
        services.progress(f"r: {len(remotes)} package(s) from git remotes")
        tarballs = materialize(list(remotes.values()), Path(tmp), getattr(request.section, "github_url", None))
        for tarball in tarballs:  # sync and build on this machine read it from the cache
            try:
                services.cache.put_artifact((Path(tmp) / "src" / "contrib" / tarball.filename).read_bytes(), tarball.sha256)
            except (OSError, ValueError):
                pass  # the cache is an optimisation; sync makes the tarball again from the commit
        return _resolve_request(request, services, {REMOTES_REPOSITORY: (Path(tmp)).as_uri()}, {t.remote.name: t for t in tarballs})


def _resolve_request(request: Any, services: Any, first: dict[str, str], tarballs: dict[str, Any]) -> dict[str, dict[str, list[REntry]]]:
    section = request.section
    repositories = {**first, **repositories_of(section)}
    r_key = None
    if getattr(section, "version", None):
        try:
            r_key = version_key(section.version)
        except VersionError as exc:
            raise BadInputError(f"envman.yaml: r.version: {exc}") from None

    env_roots: dict[str, list[Root]] = {}
    union: list[Root] = []
    seen_specs: set[str] = set()
    env_names = sorted(request.environments)
    for env in env_names:
        spec_list = [str(s) for s in request.environments[env]]
        in_all = [s for s in spec_list if all(s in map(str, request.environments[e]) for e in env_names)]
        env_roots[env] = []
        for spec in spec_list:
            origin = "envman.yaml" if spec in in_all or len(env_names) == 1 else f"envman.yaml, environment {env}"
            root = roots_from_specs([spec], origin)[0]
            env_roots[env].append(root)
            if spec not in seen_specs:
                seen_specs.add(spec)
                union.append(root)

    previous = request.old_entries()
    preferences = request.preferences()

    repos = RepositorySet(repositories, services, offline=request.offline, refresh=bool(request.upgrade))
    repos, resolution = _resolve_with_refresh(repos, union, r_key, preferences, repositories, request, services)

    for name, why in sorted(resolution.skipped.items()):
        services.progress(f"r: {name}: {why}")
    artifacts = _artifacts(repos, resolution, previous)
    entries: dict[str, REntry] = {}
    for name, cand in resolution.chosen.items():
        artifact = artifacts[name]
        url = repos.by_name(cand.repository).tarball_url(cand.path)
        entries[name] = REntry(
            name=name,
            version=cand.version,
            sha256=artifact.sha256,
            repository=cand.repository,
            url=redact_url(url),
            md5=cand.md5 or artifact.md5,
            requires=resolution.edges.get(name, []),
            needs_compilation=cand.needs_compilation,
        )
        remote = tarballs.get(name) if cand.repository == REMOTES_REPOSITORY else None
        if remote is not None:  # named by its remote, not by the temporary folder it was read from
            entries[name] = entries[name].model_copy(update={"repository": remote.remote.kind, "url": remote.url, "commit": remote.commit})

    result: dict[str, dict[str, list[REntry]]] = {}
    for env in env_names:
        names = closure([r.name for r in env_roots[env]], resolution)
        chosen = [entries[n] for n in names]
        result[env] = {platform: [e.model_copy() for e in chosen] for platform in request.platforms}
    return result


def os_types_of(platforms: list[str]) -> frozenset[str]:
    """R's OS_type for conda-style platform names: win-* is windows, the rest unix."""
    return frozenset("windows" if p.startswith("win") else "unix" for p in platforms)


def _resolve_with_refresh(repos: RepositorySet, union: list[Root], r_key: tuple[int, ...] | None, preferences: dict[str, str],
                          repositories: dict[str, str], request: ResolveRequest, services: Services) -> tuple[RepositorySet, Resolution]:
    os_types = os_types_of(list(request.platforms))
    indexes = repos.load_indexes()
    try:
        return repos, resolve(union, IndexSource(indexes, archive=repos), r_version_key=r_key, preferences=preferences,
                              repositories=list(repositories), os_types=os_types)
    except ResolutionError:
        if request.offline or not repos.used_cached_index:
            raise
    # a cached index may predate a package just published: fetch the indexes and retry once
    repos = RepositorySet(repositories, services, offline=False, refresh=True)
    indexes = repos.load_indexes()
    return repos, resolve(union, IndexSource(indexes, archive=repos), r_version_key=r_key, preferences=preferences,
                          repositories=list(repositories), os_types=os_types)


def _artifacts(repos: RepositorySet, resolution: Resolution, previous: dict[str, Any]) -> dict[str, Artifact]:
    """sha256 (and md5) of every chosen tarball: from the previous lock when the url and the
    published MD5sum are unchanged, else from the cache, else downloaded (in parallel)."""
    result: dict[str, Artifact] = {}
    todo: list[tuple[str, Candidate, str]] = []
    for name, cand in sorted(resolution.chosen.items()):
        url = repos.by_name(cand.repository).tarball_url(cand.path)
        old = previous.get(name)
        if (
            old is not None
            and cand.md5
            and _field(old, "version") == cand.version
            and _field(old, "url") == redact_url(url)
            and (_field(old, "md5") or "").lower() == cand.md5
            and _field(old, "sha256")
        ):
            result[name] = Artifact(sha256=_field(old, "sha256"), md5=cand.md5, path=None)
            continue
        known = repos.known_artifact(url, cand.md5)
        if known is not None:
            result[name] = known
            continue
        todo.append((name, cand, url))
    if todo:
        from envman.errors import UnreachableError
        from envman.http import NotFound

        def fetch(item: tuple[str, Candidate, str]) -> tuple[str, Artifact]:
            name, cand, url = item
            try:
                artifact = repos.fetch_tarball(url, cand.md5)
                return name, Artifact(artifact.sha256, artifact.md5, artifact.path)  # the digests only, not the bytes
            except NotFound:
                raise UnreachableError(
                    f"{redact_url(url)} is listed in the {cand.repository} index but the server has no such file (404)"
                ) from None

        with ThreadPoolExecutor(max_workers=min(8, len(todo))) as pool:
            for name, artifact in pool.map(fetch, todo):
                result[name] = artifact
    return result
