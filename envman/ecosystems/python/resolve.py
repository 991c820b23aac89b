"""Python resolution shared by all environments (pixi's solve-group rule).

Per platform: resolve the union of every environment's requirements (old pins as
preferences), then resolve each environment constrained to the union's pins, so a package
present in two environments always has one version.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from envman.ecosystems.base import ResolveRequest, Services
from envman.ecosystems.python.compiled import parse_compiled
from envman.ecosystems.python.compilers import CompileJob, compile_with_piptools, compile_with_uv, pylock_hashes_with_uv
from envman.ecosystems.python.direct import for_resolver, lock_direct_references, pin_of, pylock_with_uv
from envman.ecosystems.python.entry import PythonEntry
from envman.ecosystems.python.platforms import DEFAULT_PYTHON_VERSION, uv_platform

if TYPE_CHECKING:
    from envman.ecosystems.python.section import PythonSection

__all__ = ["resolve_python", "python_version_of"]


def python_version_of(section: PythonSection) -> str:
    return section.version or DEFAULT_PYTHON_VERSION


def _preferences(request: ResolveRequest, platform: str) -> list[str]:
    """Old pins of this platform from every environment; names being upgraded are dropped
    (direct references are pinned by their URL, not by a preference)."""
    direct = {name for name, entry in request.previous_entries(platform).items() if getattr(entry, "url", None)}
    return [f"{name}=={version}" for name, version in request.preferences(platform).items() if name not in direct]


def resolve_python(request: ResolveRequest, services: Services) -> dict[str, dict[str, list[PythonEntry]]]:
    section = request.section
    compile_fn: Callable[[CompileJob], str] = compile_with_piptools if section.resolver == "pip-tools" else compile_with_uv
    version = python_version_of(section)
    cache_dir, no_cache = _resolver_cache(services)
    environments = sorted(request.environments)
    result: dict[str, dict[str, list[PythonEntry]]] = {env: {} for env in environments}
    for platform in request.platforms:
        base = CompileJob(
            requirements=[],
            python_version=version,
            platform=uv_platform(platform) if section.resolver == "uv" else None,
            index_url=section.index_url,
            extra_index_urls=list(section.extra_index_urls),
            find_links=[_absolute_link(link, request.project_dir) for link in section.find_links],
            offline=request.offline,
            cache_dir=cache_dir,
            no_cache=no_cache and not request.offline,  # offline, the resolver says what it lacks
        )
        services.progress(f"python: resolving {platform}")
        union_requirements = [str(r) for r in request.union()]
        resolver_union, written = for_resolver(union_requirements, request.project_dir)  # direct references
        union_job = CompileJob(**{
            **base.__dict__,
            "requirements": resolver_union,
            "preferences": _preferences(request, platform),
            "upgrade": request.upgrade,
            "upgrade_packages": list(request.upgrade_packages),
        })
        union_entries = parse_compiled(compile_fn(union_job), section.index_url or "https://pypi.org/simple")
        union_entries = lock_direct_references(union_entries, functools.partial(pylock_with_uv, base), written, request.project_dir)
        if section.resolver == "uv" and union_entries:
            union_entries = _narrow_hashes(base, union_entries)
        by_name = {e.name: e for e in union_entries}
        union_pins = [pin_of(e, request.project_dir) for e in union_entries]
        index_pins = [pin for pin, e in zip(union_pins, union_entries, strict=True) if not e.url]
        for env in environments:
            requirements = [str(r) for r in request.environments[env]]
            if len(environments) == 1 or set(requirements) == set(union_requirements):
                result[env][platform] = union_entries
                continue
            services.progress(f"python: {env} on {platform}")
            env_requirements, _ = for_resolver(requirements, request.project_dir)
            env_job = CompileJob(**{
                **base.__dict__, "requirements": env_requirements, "constraints": union_pins, "preferences": index_pins,
            })
            env_entries = parse_compiled(compile_fn(env_job), section.index_url or "https://pypi.org/simple")
            # Same version as the union by construction; take the union's hashes and source.
            result[env][platform] = [_as_in_union(e, by_name[e.name]) if e.name in by_name else e for e in env_entries]
    return result


def _as_in_union(entry: PythonEntry, union: PythonEntry) -> PythonEntry:
    """An environment's entry with the union's hashes and source (and a direct reference's
    version, URL and commit, which the environment's compiled output does not repeat)."""
    update = {"hashes": union.hashes, "source": union.source}
    if union.url:
        update.update(version=union.version, url=union.url, commit=union.commit)
    return entry.model_copy(update=update)


def _resolver_cache(services: Services) -> tuple[str | None, bool]:
    """(cache folder for the resolver, whether to go without a cache).

    With ENVMAN_CACHE_DIR the resolver's cache lives inside envman's (`uv/`, under the
    private root); when that folder cannot be written (a read-only or full disk) the
    resolver runs without a cache instead of failing. Otherwise the resolver uses its own
    default cache, and compilers retries without it when it turns out unusable."""
    if not os.environ.get("ENVMAN_CACHE_DIR"):
        return None, False
    import tempfile

    from envman.atomic import make_private_dirs
    from envman.cache import ensure_private_root

    folder = os.path.join(str(services.cache.root), "uv")
    try:
        ensure_private_root(services.cache.root)
        make_private_dirs(Path(folder))
        fd, probe = tempfile.mkstemp(prefix=".envman-probe-", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        services.progress(f"python: the cache at {folder} cannot be written ({exc.strerror}); resolving without it")
        return folder, True
    return folder, False


def _narrow_hashes(base: CompileJob, entries: list[PythonEntry]) -> list[PythonEntry]:
    pins = [f"{e.name}=={e.version}" for e in entries if not e.marker and not e.url]
    narrowed = pylock_hashes_with_uv(base, pins)
    out = []
    for entry in entries:
        found = narrowed.get(entry.name)
        if found and found[0] == entry.version and found[1]:
            entry = entry.model_copy(update={"hashes": found[1]})
        out.append(entry)
    return out


def _absolute_link(link: str, project_dir: str) -> str:
    """find-links paths are relative to the manifest, like pip's requirement files."""
    if "://" in link or os.path.isabs(link):
        return link
    return os.path.normpath(os.path.join(project_dir, link))
