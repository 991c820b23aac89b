"""`envman lock`: resolve the sections that changed, keep the rest, build one Lock."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from envman.ecosystems import ORDER, get_ecosystem
from envman.ecosystems.base import ResolveRequest, Services
from envman.errors import BadInputError
from envman.lock import ImagePin, Lock, PlatformLock
from envman.manifest import Manifest

__all__ = ["LockOptions", "LockOutcome", "lock_project", "is_fresh"]


@dataclass(frozen=True)
class LockOptions:
    upgrade: bool = False
    upgrade_packages: frozenset[str] = frozenset()
    offline: bool = False


@dataclass
class LockOutcome:
    lock: Lock
    resolved: list[str] = field(default_factory=list)   # sections resolved this run
    kept: list[str] = field(default_factory=list)       # sections copied from the old lock


def is_fresh(hashes: dict[str, str], lock: Lock) -> bool:
    return lock.manifest_hash == hashes


def _previous_entries(previous: Lock | None, ecosystem: str) -> dict[str, dict[str, list]]:
    if previous is None:
        return {}
    return {
        env: {platform: list(getattr(plock, ecosystem)) for platform, plock in platforms.items()}
        for env, platforms in previous.environments.items()
    }


def lock_project(
    manifest: Manifest,
    hashes: dict[str, str],
    project_dir: Path,
    previous: Lock | None,
    options: LockOptions,
    services: Services,
    progress: Callable[[str], None] = lambda message: None,
) -> LockOutcome:
    environments = manifest.environment_names()
    platforms = list(manifest.platforms)
    per_eco: dict[str, dict[str, dict[str, list]]] = {}
    resolved: list[str] = []
    kept: list[str] = []
    upgrading = options.upgrade or bool(options.upgrade_packages)
    for ecosystem in ORDER:
        section = getattr(manifest, ecosystem)
        if section is None:
            continue
        old = _previous_entries(previous, ecosystem)
        unchanged = previous is not None and previous.manifest_hash.get(ecosystem) == hashes.get(ecosystem)
        if unchanged and not upgrading and _covers(old, environments, platforms):
            per_eco[ecosystem] = old
            kept.append(ecosystem)
            continue
        try:
            implementation = get_ecosystem(ecosystem)
        except (ModuleNotFoundError, NotImplementedError):
            raise BadInputError(f"the `{ecosystem}` section is not supported by this envman yet") from None
        progress(f"resolving {ecosystem}")
        request = ResolveRequest(
            section=section,
            environments={env: manifest.requirements(ecosystem, env) for env in environments},
            platforms=platforms,
            previous=old,
            upgrade=options.upgrade,
            upgrade_packages=options.upgrade_packages,
            offline=options.offline,
            project_dir=str(project_dir),
        )
        per_eco[ecosystem] = implementation.resolve(request, services)
        resolved.append(ecosystem)

    python_version = None
    if manifest.python is not None:
        from envman.ecosystems.python.platforms import DEFAULT_PYTHON_VERSION

        python_version = manifest.python.version or DEFAULT_PYTHON_VERSION
    image = _image_pin(manifest, previous, hashes)
    lock_envs: dict[str, dict[str, PlatformLock]] = {}
    for env in environments:
        lock_envs[env] = {}
        for platform in platforms:
            body = {eco: per_eco.get(eco, {}).get(env, {}).get(platform, []) for eco in ("python", "r", "jvm", "conda")}
            env_apt = manifest.requirements_apt(env)
            lock_envs[env][platform] = PlatformLock(image=image, python_version=python_version, apt=env_apt, **body)
    lock = Lock(version=1, manifest_hash=hashes, environments=lock_envs)
    return LockOutcome(lock=lock, resolved=resolved, kept=kept)


def _covers(old: dict[str, dict[str, list]], environments: list[str], platforms: list[str]) -> bool:
    return all(env in old and all(p in old[env] for p in platforms) for env in environments)


def _image_pin(manifest: Manifest, previous: Lock | None, hashes: dict[str, str]) -> ImagePin | None:
    """The base image tag; its digest is kept from the old lock while the section is unchanged
    (pinning a digest needs the engine, which `envman build` does)."""
    if manifest.image is None:
        return None
    if previous is not None and previous.manifest_hash.get("image") == hashes.get("image"):
        for platforms in previous.environments.values():
            for plock in platforms.values():
                if plock.image is not None:
                    return plock.image
    return ImagePin(base=manifest.image.base)
