"""`envman lock` for the `conda:` section: py-rattler solves, CondaEntry lists come out.

Per platform of the manifest (from any host: the platform's virtual packages are assumed,
platforms.py), one solve of the union of every environment's specs over the channels'
`<platform>` and `noarch` subdirs; each environment is then the closure of its own roots
within that solution (the packages its roots need, following `depends`), so a package in two
environments is the same build in both, and each environment is exactly what a solve of
its own specs constrained to the union's pins gives. The platforms are solved concurrently.

Old pins are preferences: the old lock's records of a platform (without `--upgrade`, minus
the `--upgrade-package` names) are found again in the channels by sha256 and handed to the
solver as `locked_packages`, which it keeps unless a spec forbids them. Repodata goes through
rattler's gateway with its cache under envman's (`conda-repodata/`): HTTP-validated when
online, the cache alone with `--offline`.

Errors: no solution is ResolutionError (exit 3) with rattler's explanation of the conflict;
a channel that cannot be read (or is not cached, offline) is UnreachableError (exit 4)
naming it. Only this module imports rattler for a lock; `asyncio.run` is the boundary.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from envman.ecosystems.conda.channels import (
    ChannelRef,
    auth_headers,
    channel_of_url,
    channels_of,
    named_channel,
    public_text,
    public_url,
)
from envman.ecosystems.conda.entry import CondaEntry
from envman.ecosystems.conda.platforms import VirtualPackage, virtual_packages
from envman.ecosystems.conda.platforms import shown as shown_virtual
from envman.ecosystems.conda.pypi import depends_on_python
from envman.errors import BadInputError, EnvmanError, ResolutionError, UnreachableError

if TYPE_CHECKING:
    from envman.ecosystems.base import ResolveRequest, Services

__all__ = ["resolve_request", "SolveInput", "solve_platforms", "solver_specs", "closure", "cache_folder"]

T = TypeVar("T")
Outcome = list[CondaEntry] | EnvmanError  # one platform's lock entries, or why there are none


class SolveInput:
    """What one lock solves: channels, the union's specs, per-platform virtual packages and
    preferences (name -> old entry), the channel priority and whether to stay offline."""

    def __init__(
        self,
        channels: list[ChannelRef],
        specs: list[str],
        platforms: list[str],
        virtual: dict[str, list[VirtualPackage]],
        preferences: dict[str, dict[str, Any]],
        priority: str = "strict",
        offline: bool = False,
        cache_dir: Path | None = None,
    ) -> None:
        self.channels, self.specs, self.platforms = channels, specs, platforms
        self.virtual, self.preferences, self.priority = virtual, preferences, priority
        self.offline, self.cache_dir = offline, cache_dir


def resolve_request(request: ResolveRequest, services: Services) -> dict[str, dict[str, list[CondaEntry]]]:
    from envman.ecosystems.conda.section import spec_name

    section = request.section
    environments = sorted(request.environments)
    union = [str(spec) for spec in request.union()]
    try:
        roots = {env: [spec_name(str(spec)) for spec in request.environments[env]] for env in environments}
    except ValueError as exc:
        raise BadInputError(f"envman.yaml: conda.packages: {exc}") from None
    platforms = list(request.platforms)
    channels = channels_of(section)
    solve_input = SolveInput(
        channels=channels,
        specs=solver_specs(union, channels),
        platforms=platforms,
        virtual={p: virtual_packages(p, getattr(section, "virtual_packages", None)) for p in platforms},
        preferences={p: request.previous_entries(p) for p in platforms},
        priority=str(getattr(section, "channel_priority", "strict")),
        offline=request.offline,
        cache_dir=cache_folder(services),
    )
    for platform in platforms:
        services.progress(f"conda: solving {platform}")
    solved = solve_platforms(solve_input, services)
    result: dict[str, dict[str, list[CondaEntry]]] = {env: {} for env in environments}
    for platform, entries in solved.items():
        by_name = {e.name.lower(): e for e in entries}
        for env in environments:
            if len(environments) == 1 or sorted(map(str, request.environments[env])) == sorted(union):
                result[env][platform] = list(entries)
            else:
                result[env][platform] = [by_name[n] for n in closure(roots[env], by_name)]
    return result


def solver_specs(specs: list[str], channels: list[ChannelRef]) -> list[str]:
    """specs as the solver takes them: a spec naming its channel (`channel::name …`,
    `name[channel=…]`) names it by its URL (a name would be read with py-rattler's default
    alias, not `channel-alias`). A channel the section does not list is bad input (the
    manifest check refuses it at `validate` already): the solve reads only the listed channels."""
    from envman.ecosystems.conda.section import spec_channel

    out = []
    for spec in specs:
        channel, rest = spec_channel(spec)
        if channel is None:
            out.append(spec)
            continue
        found = named_channel(channel, channels)
        if found is None:
            listed = ", ".join(ref.label for ref in channels)
            raise BadInputError(f"envman.yaml: conda: {spec!r} names channel {channel!r}; conda.channels lists {listed}")
        out.append(f"{found.url.rstrip('/')}::{rest}")
    return out


def closure(roots: list[str], by_name: dict[str, CondaEntry]) -> list[str]:
    """The (lower-cased) names of the packages roots need within one solution, sorted."""
    seen: set[str] = set()
    todo = [name.lower() for name in roots]
    while todo:
        name = todo.pop()
        if name in seen or name not in by_name:
            continue
        seen.add(name)
        todo.extend(child.lower() for child in by_name[name].requires)
    return sorted(seen)


def cache_folder(services: Services) -> Path | None:
    """rattler's repodata cache inside envman's cache (private folders); None when it
    cannot be made (the lock then goes on with a temporary one)."""
    from envman.atomic import make_private_dirs
    from envman.cache import ensure_private_root

    root = getattr(services.cache, "root", None)
    if root is None:
        return None
    folder = Path(root) / "conda-repodata"
    try:
        ensure_private_root(Path(root))
        make_private_dirs(folder)
    except OSError as exc:
        services.progress(f"conda: the cache at {folder} cannot be written ({exc.strerror}); solving without it")
        return None
    return folder


# -- the rattler boundary ---------------------------------------------------------------------


def solve_platforms(solve_input: SolveInput, services: Services | None = None) -> dict[str, list[CondaEntry]]:
    """platform -> the union's locked entries (sorted by name), every platform solved
    concurrently over one gateway. The first platform's error (in the manifest's order) is
    raised once every solve has ended."""
    import gc
    import tempfile

    if solve_input.cache_dir is None and not solve_input.offline:
        with tempfile.TemporaryDirectory(prefix="envman-conda-") as tmp:
            solved = _run(lambda: _solve_all(solve_input, Path(tmp), services))
    else:
        solved = _run(lambda: _solve_all(solve_input, solve_input.cache_dir, services))
    errors = [outcome for outcome in solved.values() if isinstance(outcome, EnvmanError)]
    if errors:
        gc.collect()  # rattler objects held in cycles by their exceptions go now, while the interpreter is whole
        raise errors[0]
    return {platform: entries for platform, entries in solved.items() if isinstance(entries, list)}


def _run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """asyncio.run, also when the caller already runs an event loop (then in a thread).

    py-rattler completes a Python future from one of its own (tokio) threads, which wakes
    the event loop through a socket write made without the GIL and then takes the GIL back
    to finish. If the interpreter began to shut down in between, that thread aborts the
    process ("PyGILState_Release: thread state … must be current"). A short sleep after the
    loop (the GIL released) lets such a thread finish first."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        try:
            return asyncio.run(make())
        finally:
            _settle()
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["value"] = asyncio.run(make())
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    thread = threading.Thread(target=target, name="envman-conda-solve")
    thread.start()
    thread.join()
    _settle()
    if "error" in box:
        raise box["error"]
    value: T = box["value"]
    return value


def _client(channels: list[ChannelRef]) -> Any:
    """py-rattler's default client, plus Basic credentials for the channels that have them."""
    headers = auth_headers(channels)
    if headers is None:
        return None
    from rattler.networking import AddHeadersMiddleware, AuthenticationMiddleware, Client, RetryMiddleware

    return Client([RetryMiddleware(3), AuthenticationMiddleware(), AddHeadersMiddleware(headers)])


def _settle(seconds: float = 0.02) -> None:
    import time

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        time.sleep(0.002)


async def _solve_all(solve_input: SolveInput, cache_dir: Path | None, services: Services | None) -> dict[str, Outcome]:
    """platform -> its lock entries, or the error to raise. Every solve runs to its end before
    this returns, and no rattler exception outlives it: a rattler future still running, or
    a gateway freed while Python shuts down, can bring the interpreter down (SIGABRT)."""
    from rattler import Gateway, SourceConfig

    config = SourceConfig(cache_action="force-cache-only" if solve_input.offline else "cache-or-fetch")
    problem: str | None = None
    try:
        gateway = Gateway(cache_dir=cache_dir, default_config=config, show_progress=False, client=_client(solve_input.channels))
    except Exception as exc:
        problem = _first_lines(exc)
    if problem is not None:
        return {p: UnreachableError(f"conda: cannot use the repodata cache at {cache_dir}: {problem}") for p in solve_input.platforms}
    jobs: list[Awaitable[tuple[str, Outcome]]] = [
        _solve_one(gateway, solve_input, platform, services) for platform in solve_input.platforms
    ]
    return dict(await asyncio.gather(*jobs))


async def _solve_one(gateway: Any, solve_input: SolveInput, platform: str, services: Services | None) -> tuple[str, Outcome]:
    """One platform's solve, and its records as lock entries: converted here, in the event
    loop's thread, while the other platforms still solve in rattler's threads."""
    import rattler
    from rattler import BuildString, ChannelPriority, GenericVirtualPackage, MatchSpec, PackageName, Subdir, Version

    sources = [ref.url for ref in solve_input.channels]
    subdirs = [Subdir(platform), Subdir("noarch")]
    priority = {"strict": ChannelPriority.Strict, "flexible": ChannelPriority.Flexible, "disabled": ChannelPriority.Disabled}
    virtual = [
        GenericVirtualPackage(PackageName(vp.name), Version(vp.version), BuildString(vp.build)) for vp in solve_input.virtual[platform]
    ]
    error: EnvmanError | None = None
    try:
        specs = [MatchSpec(spec, strict=False) for spec in solve_input.specs]
        locked = await _locked_records(gateway, sources, subdirs, solve_input.preferences.get(platform) or {})
        records = await rattler.solve(
            sources,
            specs,
            gateway=gateway,
            platforms=subdirs,
            locked_packages=locked,
            virtual_packages=virtual,
            channel_priority=priority[solve_input.priority],
            channel_relations="disabled",
        )
    except Exception as exc:
        error = _converted(exc, solve_input, platform)  # text only: the rattler exception dies here
    if error is not None:
        return platform, error
    try:
        return platform, _entries(records, solve_input, services)
    except EnvmanError as exc:
        return platform, exc


async def _locked_records(gateway: Any, sources: list[str], subdirs: list[Any], previous: dict[str, Any]) -> list[Any]:
    """The channels' records of the old pins (matched by sha256, else by URL): the solver
    prefers them. Pins no channel serves any more are dropped."""
    if not previous:
        return []
    wanted_sha = {str(getattr(e, "sha256", "") or "").removeprefix("sha256:"): name for name, e in previous.items()}
    wanted_url = {str(getattr(e, "url", "") or ""): name for name, e in previous.items()}
    found: dict[str, Any] = {}
    result = await gateway.query(sources, subdirs, sorted(previous), recursive=False, channel_relations="disabled")
    for per_source in result:
        for record in per_source:
            digest = bytes(record.sha256).hex() if record.sha256 else None
            name = wanted_sha.get(digest or "") or wanted_url.get(public_url(record.url))
            if name is not None and name.lower() == record.name.normalized and name not in found:
                found[name] = record
    return [found[name] for name in sorted(found)]


def _converted(exc: Exception, solve_input: SolveInput, platform: str) -> EnvmanError:
    """A rattler exception as the envman error a user reads (never a traceback)."""
    from rattler import exceptions as rx

    if isinstance(exc, EnvmanError):
        return exc
    text = public_text(_first_lines(exc, 40))
    if isinstance(exc, rx.SolverError):
        assumed = shown_virtual(solve_input.virtual[platform])
        return ResolutionError(f"conda: the packages cannot be installed together on {platform} (assuming {assumed}):\n{text}")
    if isinstance(exc, (rx.InvalidMatchSpecError, rx.InvalidChannelError, rx.InvalidUrlError, rx.InvalidPackageNameError)):
        return BadInputError(f"envman.yaml: conda: {text}")
    if isinstance(exc, (rx.GatewayError, rx.FetchRepoDataError, rx.IoError, rx.CacheDirError, OSError)):
        named = _named(_channel_in(text, solve_input.channels), solve_input.channels)
        if solve_input.offline:
            return UnreachableError(f"conda: {named}: not in the cache for {platform} (--offline reads only the cache): {text}")
        return UnreachableError(f"conda: {named} cannot be read for {platform}: {text}")
    return ResolutionError(f"conda: solving {platform} failed: {type(exc).__name__}: {text}")


def _named(channel: ChannelRef | None, channels: list[ChannelRef]) -> str:
    """`channel conda-forge (https://conda.anaconda.org/conda-forge/)`, or every channel."""
    if channel is None:
        return "the channels " + ", ".join(ref.label for ref in channels)
    url = public_url(channel.url)
    return f"channel {channel.label}" if url.rstrip("/") == channel.label else f"channel {channel.label} ({url})"


def _channel_in(text: str, channels: list[ChannelRef]) -> ChannelRef | None:
    import re

    for url in re.findall(r"[a-z][a-z0-9+.\-]*://[^\s'\")]+", text):
        found = channel_of_url(url, channels)
        if found is not None:
            return found
    return channels[0] if len(channels) == 1 else None


def _first_lines(exc: BaseException, lines: int = 3) -> str:
    text = str(exc).strip() or type(exc).__name__
    kept = text.splitlines()[:lines]
    return "\n".join(kept)[:4000]


# -- records -> lock entries ---------------------------------------------------------------------


_DEP_NAME = re.compile(r"\s*([A-Za-z0-9_][A-Za-z0-9_.\-]*)")


def _entries(records: list[Any], solve_input: SolveInput, services: Services | None) -> list[CondaEntry]:
    """Lock entries of one solution; `requires` are the names (as published) of the solved
    packages each record's dependencies name (a dependency starts with the package name)."""
    names = {record.name.normalized: record.name.source for record in records}
    entries = []
    for record in records:
        depends = [str(dep) for dep in record.depends]
        requires = set()
        for dep in depends:
            match = _DEP_NAME.match(dep)
            if match and match.group(1).lower() in names:
                requires.add(names[match.group(1).lower()])
        channel = channel_of_url(record.url, solve_input.channels)
        sha256 = bytes(record.sha256).hex() if record.sha256 else _download_sha256(record, channel, services)
        try:
            entries.append(
                CondaEntry.checked(
                    name=record.name.source,
                    version=str(record.version),
                    build=str(record.build),
                    build_number=int(record.build_number),
                    url=public_url(record.url),
                    sha256=sha256,
                    md5=bytes(record.md5).hex() if record.md5 else None,
                    subdir=str(record.subdir),
                    channel=channel.label if channel else public_url(str(record.channel)),
                    requires=sorted(requires),
                    depends=depends,
                    purls=_purls(record) if depends_on_python(depends) else [],
                )
            )
        except ValueError as exc:
            where = channel.label if channel else public_url(str(record.channel))
            raise ResolutionError(f"conda: channel {where} lists a package envman cannot lock ({public_url(record.url)}): {exc}") from None
    return sorted(entries, key=lambda e: e.name.lower())


def _purls(record: Any) -> list[str]:
    """The package URLs a record publishes (py-rattler exposes them through its JSON only)."""
    import json

    try:
        published = json.loads(record.to_json()).get("purls") or []
    except (ValueError, AttributeError):
        return []
    return sorted(str(p) for p in published if isinstance(p, str))


def _download_sha256(record: Any, channel: ChannelRef | None, services: Services | None) -> str:
    """A channel that publishes no sha256 (old repodata): the file is fetched once into the
    cache and hashed there (its md5, when published, checked), with the channel's
    credentials when it has some."""
    import hashlib
    from urllib.parse import quote, urlsplit, urlunsplit

    url = public_url(record.url)
    if services is None:
        raise ResolutionError(f"conda: {url} has no sha256 in its channel's repodata")
    fetch = str(record.url)
    if channel is not None and channel.auth is not None:
        parts = urlsplit(fetch)
        user, password = (quote(part, safe="") for part in channel.auth)
        fetch = urlunsplit(parts._replace(netloc=f"{user}:{password}@{parts.netloc}"))
    data = services.http.get(fetch, limit_name="copied_file_bytes")
    if record.md5 and hashlib.md5(data).hexdigest() != bytes(record.md5).hex():
        raise ResolutionError(f"conda: {url} does not match the md5 its channel publishes")
    digest, _path = services.cache.put_artifact(data)
    return str(digest).removeprefix("sha256:")
