"""`envman export` and the environment/platform choice `export` and `why` share."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from envman import ecosystems
from envman.errors import BadInputError

__all__ = ["select", "select_lock", "export_text"]


def select(manifest_path: Path, env: str | None, platform: str | None, fresh: bool = False) -> tuple[Any, str, str, Any]:
    """(manifest, environment, platform, the lock's entries there): see select_lock."""
    manifest, env_name, platform_name, lock = select_lock(manifest_path, env, platform, fresh)
    return manifest, env_name, platform_name, lock.platform_lock(env_name, platform_name)


def select_lock(manifest_path: Path, env: str | None, platform: str | None, fresh: bool = False) -> tuple[Any, str, str, Any]:
    """(manifest, environment, platform, the lock). The environment is --env,
    else the only one, else `production` (an error otherwise: never a silent pick); the
    platform is --platform, else the manifest's first. With fresh, a lock that is stale or
    was edited by hand is refused (StaleLockError, exit 1)."""
    from envman.errors import StaleLockError
    from envman.lockfile import lock_path_for, manifest_hashes, stale_sections
    from envman.lockfile.canonical import edited_by_hand, parse_lock, read_lock_text
    from envman.manifest import read_manifest

    text, manifest = read_manifest(manifest_path)
    lock_path = lock_path_for(manifest_path)
    lock_text = read_lock_text(lock_path)
    lock = parse_lock(lock_text, str(lock_path))
    if fresh:
        if edited_by_hand(lock_text):
            raise StaleLockError(f"{lock_path} was edited by hand (its content no longer matches its digest); run `envman lock`")
        changes = stale_sections(lock.manifest_hash, manifest_hashes(text))
        if changes:
            raise StaleLockError(f"{lock_path} is stale ({'; '.join(changes)}); run `envman lock`")
    env_name = manifest.default_environment(env)
    platform_name = platform or manifest.platforms[0]
    return manifest, env_name, platform_name, lock


def export_text(manifest_path: Path, fmt: str, env: str | None, platform: str | None) -> str:
    """The lock of one environment and platform in another tool's format."""
    formats = ecosystems.export_formats()
    if fmt not in formats:
        raise BadInputError(f"unknown export format {fmt!r}; choose one of {', '.join(formats)}")
    manifest, env_name, platform_name, lock = select_lock(manifest_path, env, platform, fresh=True)
    plock = lock.platform_lock(env_name, platform_name)
    owner = formats[fmt]
    if owner == "*":
        from envman.sbom import cyclonedx_json

        return cyclonedx_json(manifest, plock, env_name, platform_name)
    if manifest.section(owner) is None:
        raise BadInputError(f"--format {fmt} exports the `{owner}` section, which the manifest does not declare")
    # every platform of the environment, for formats that hold several (conda-lock.yml):
    # they use them all unless --platform names one
    every = {p: lock.platform_lock(env_name, p).entries(owner) for p in manifest.platforms}
    context = {
        "manifest": manifest, "environment": env_name, "platform": platform_name,
        "platforms": every, "platform_given": platform is not None,
        "platform_lock": plock,  # the other ecosystems' entries there (an environment.yml's pip part)
        "platform_locks": {p: lock.platform_lock(env_name, p) for p in manifest.platforms},  # (conda-lock's pip part)
        "services": _services,  # called by a format that must look files up (conda-lock's pip URLs)
    }
    return ecosystems.get(owner).export(plock.entries(owner), fmt, context)


def _services() -> Any:
    from envman.cache import ArtifactCache
    from envman.ecosystems.base import Services
    from envman.http import HttpClient

    return Services(http=HttpClient(), cache=ArtifactCache())
