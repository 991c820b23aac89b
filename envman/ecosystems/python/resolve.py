"""Python resolution shared by all environments (pixi's solve-group rule).

Per platform: resolve the union of every environment's requirements (old pins as
preferences), then resolve each environment constrained to the union's pins, so a package
present in two environments always has one version. The platforms are resolved at the same
time (one uv process each, over one shared uv cache), and an sdist-only version's metadata is
built once and given to every platform's run (sdist_reuse.py). Then one hash pass for all platforms:
uv lists, from the pages the resolutions just cached, every file of every pinned version, and
each platform keeps the hashes of the files its machines may install (hashes.py).

pip-tools resolves for the running interpreter and machine only, so with it a lock may have
one platform, the host's; anything else is refused (exit 2) instead of writing the host's
resolution under another platform's name.
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from envman.ecosystems.base import ResolveRequest, Services
from envman.ecosystems.python.compiled import parse_compiled
from envman.ecosystems.python.compilers import CompileJob, compile_with_piptools, compile_with_uv, pylock_files_with_uv, uv_cache_dir
from envman.ecosystems.python.direct import for_resolver, lock_direct_references, pin_of, pylock_with_uv
from envman.ecosystems.python.entry import PythonEntry
from envman.ecosystems.python.hashes import narrow_entries, normal_version, pin_layers
from envman.ecosystems.python.platforms import DEFAULT_PYTHON_VERSION, host_platform, uv_platform
from envman.ecosystems.python.sdist_reuse import SdistReuse, eligible, index_versions, names_of
from envman.errors import BadInputError, ResolutionError
from envman.redact import redact_url

if TYPE_CHECKING:
    from envman.ecosystems.python.section import PythonSection

__all__ = ["resolve_python", "python_version_of", "check_piptools_platforms"]

Resolved = dict[str, list[PythonEntry]]  # environment -> entries, for one platform


def python_version_of(section: PythonSection) -> str:
    return section.version or DEFAULT_PYTHON_VERSION


def _preferences(request: ResolveRequest, platform: str) -> list[str]:
    """Old pins of this platform from every environment; names being upgraded are dropped
    (direct references are pinned by their URL, not by a preference)."""
    direct = {name for name, entry in request.previous_entries(platform).items() if getattr(entry, "url", None)}
    return [f"{name}=={version}" for name, version in request.preferences(platform).items() if name not in direct]


def check_piptools_platforms(platforms: list[str], host: str | None) -> None:
    """pip-compile resolves for the machine it runs on: refuse platforms other than that one."""
    others = [p for p in platforms if p != host]
    if not others and len(platforms) <= 1:
        return
    where = f"this machine is {host}" if host else "this machine is none of envman's platforms"
    raise BadInputError(
        f"python.resolver pip-tools resolves only for the machine running envman ({where}), "
        f"so it cannot lock for {', '.join(others or platforms)}; use `resolver: uv` (it resolves for every platform) "
        f"or set platforms: [{host or '…'}]"
    )


def resolve_python(request: ResolveRequest, services: Services) -> dict[str, dict[str, list[PythonEntry]]]:
    section = request.section
    piptools = section.resolver == "pip-tools"
    platforms = list(request.platforms)
    if piptools:
        check_piptools_platforms(platforms, host_platform())
    compile_fn: Callable[[CompileJob], str] = compile_with_piptools if piptools else compile_with_uv
    version = python_version_of(section)
    cache_dir, no_cache = _resolver_cache(services)
    environments = sorted(request.environments)
    index = section.index_url or "https://pypi.org/simple"
    base = CompileJob(
        requirements=[],
        python_version=version,
        index_url=section.index_url,
        extra_index_urls=list(section.extra_index_urls),
        find_links=[_absolute_link(link, request.project_dir) for link in section.find_links],
        constraints=for_resolver([str(c) for c in getattr(section, "constraints", [])], request.project_dir)[0],  # python.constraints
        offline=request.offline,
        cache_dir=cache_dir,
        no_cache=no_cache and not request.offline,  # offline, the resolver says what it lacks
        interpreter=_build_interpreter(version),
    )
    union_requirements = [str(r) for r in request.union()]
    resolver_union, written = for_resolver(union_requirements, request.project_dir)  # direct references

    def one_platform(platform: str, config_file: str | None = None) -> Resolved:
        job = CompileJob(**{**base.__dict__, "platform": None if piptools else uv_platform(platform), "config_file": config_file})
        union_job = CompileJob(**{
            **job.__dict__,
            "requirements": resolver_union,
            "preferences": _preferences(request, platform),
            "upgrade": request.upgrade,
            "upgrade_packages": list(request.upgrade_packages),
        })
        union_entries = parse_compiled(compile_fn(union_job), index)
        union_entries = lock_direct_references(union_entries, functools.partial(pylock_with_uv, job), written, request.project_dir)
        by_name = {e.name: e for e in union_entries}
        union_pins = [pin_of(e, request.project_dir) for e in union_entries]
        index_pins = [pin for pin, e in zip(union_pins, union_entries, strict=True) if not e.url]
        resolved: Resolved = {}
        for env in environments:
            requirements = [str(r) for r in request.environments[env]]
            if len(environments) == 1 or set(requirements) == set(union_requirements):
                resolved[env] = union_entries
                continue
            services.progress(f"python: {env} on {platform}")
            env_requirements, _ = for_resolver(requirements, request.project_dir)
            env_job = CompileJob(**{
                **job.__dict__, "requirements": env_requirements, "constraints": union_pins, "preferences": index_pins,
            })
            env_entries = parse_compiled(compile_fn(env_job), index)
            # Same version as the union by construction; take the union's hashes and source.
            resolved[env] = [_as_in_union(e, by_name[e.name]) if e.name in by_name else e for e in env_entries]
        return resolved

    services.progress(f"python: resolving {', '.join(platforms)}")
    reuse_ok = eligible(piptools=piptools, offline=request.offline, extra_index_urls=base.extra_index_urls,
                        find_links=base.find_links, requirements=union_requirements)
    with _sdist_reuse(request, services, base, union_requirements, index, reuse_ok) as reuse:
        if reuse is not None:
            by_platform = reuse.run(platforms, one_platform, _each)
            base = replace(base, config_file=reuse.final_config)
        else:
            by_platform = dict(zip(platforms, _each(one_platform, platforms), strict=True))
        services.progress("python: hashes of each platform's files")
        try:
            files = _file_names(base, [e for resolved in by_platform.values() for entries in resolved.values() for e in entries])
        except ResolutionError as exc:  # the pins stand; only the narrowing is lost (every file's hash stays)
            first = str(exc).splitlines()[0]
            services.progress(f"python: could not list the pinned versions' files ({first}); keeping the hash of every file")
            files = {}
    result: dict[str, dict[str, list[PythonEntry]]] = {env: {} for env in environments}
    for platform, resolved in by_platform.items():
        narrowed: dict[int, list[PythonEntry]] = {}  # environments sharing the union's list share the result
        for env in environments:
            entries = resolved[env]
            if id(entries) not in narrowed:
                narrowed[id(entries)] = narrow_entries(entries, files, version, platform)
            result[env][platform] = narrowed[id(entries)]
    return result


def _sdist_reuse(request: ResolveRequest, services: Services, base: CompileJob, union: list[str], index: str,
                 ok: bool) -> contextlib.AbstractContextManager[SdistReuse | None]:
    """Reuse of sdist-only metadata across this lock's uv runs (sdist_reuse.py), or None where it is not exact."""
    if not ok:
        return contextlib.nullcontext(None)
    from envman.ecosystems.python.sdist_metadata import MetadataStore

    old = request.old_entries()
    names = names_of(union) | set(old)
    context = [*sorted(union), f"python {base.python_version}", f"index {redact_url(index)}", *sorted(base.constraints)]
    return SdistReuse(store=MetadataStore(services.cache), uv_cache=uv_cache_dir(base), context=context, names=names,
                      listings=functools.partial(index_versions, services.http, services.cache, index), relock=bool(old))


def _as_in_union(entry: PythonEntry, union: PythonEntry) -> PythonEntry:
    """An environment's entry with the union's hashes and source (and a direct reference's
    version, URL and commit, which the environment's compiled output does not repeat)."""
    update = {"hashes": union.hashes, "source": union.source}
    if union.url:
        update.update(version=union.version, url=union.url, commit=union.commit)
    return entry.model_copy(update=update)


def _each(work: Callable[[str], Resolved], platforms: list[str]) -> list[Resolved]:
    """work(platform) for every platform at once (one resolver process each); the failure of
    the first platform, in the manifest's order, is raised once all have finished."""
    if len(platforms) <= 1:
        return [work(p) for p in platforms]
    with ThreadPoolExecutor(max_workers=len(platforms), thread_name_prefix="envman-python") as pool:
        futures: list[Future[Resolved]] = [pool.submit(work, p) for p in platforms]
        for future in futures:
            future.exception()  # wait for every one, so no resolver is left running
        return [future.result() for future in futures]


def _build_interpreter(python_version: str) -> str | None:
    """The interpreter running envman, for uv's sdist metadata builds, when it is the X.Y being
    resolved for: uv would otherwise search PATH for X.Y.Z and then X.Y on every run (seconds
    where PATH holds pyenv shims) and pick an X.Y just like it. None: uv searches."""
    import sys

    wanted = python_version.split(".")[:2]
    return sys.executable if wanted == [str(sys.version_info.major), str(sys.version_info.minor)] else None


def _file_names(base: CompileJob, entries: list[PythonEntry]) -> dict[tuple[str, str], dict[str, str]]:
    """(name, version) -> {sha256: file name} for every locked version that came from an index."""
    indexed = [e for e in entries if not getattr(e, "url", None)]  # direct references keep their own hashes
    layers = pin_layers(indexed)
    found: dict[tuple[str, str], dict[str, str]] = {}
    if not layers:
        return found
    with ThreadPoolExecutor(max_workers=len(layers), thread_name_prefix="envman-python-files") as pool:
        for listed in pool.map(lambda pins: pylock_files_with_uv(base, pins), layers):
            for (name, version), names in listed.items():
                found.setdefault((name, normal_version(version)), {}).update(names)
    return found


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


def _absolute_link(link: str, project_dir: str) -> str:
    """find-links paths are relative to the manifest, like pip's requirement files."""
    if "://" in link or os.path.isabs(link):
        return link
    return os.path.normpath(os.path.join(project_dir, link))
