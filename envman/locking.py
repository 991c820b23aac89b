"""`envman lock`: resolve the sections that changed, keep the rest, build one Lock.

The policy every ecosystem shares is here and in ResolveRequest: a section whose manifest
hash is unchanged keeps its pins (no resolution at all); a changed one is re-resolved with
the old pins as preferences; `--upgrade` drops them and `--upgrade-package NAME` drops one
(the name normalized by its ecosystem). Each ecosystem resolves the union of every
environment's requirements first and constrains each environment to the union's pins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envman import ecosystems
from envman.ecosystems.base import LockedEntries, LockedProvided, ResolveRequest, Services
from envman.errors import BadInputError, LocatedError
from envman.lockfile.models import ImagePin, LockBase, lock_model
from envman.manifest import Manifest

__all__ = [
    "LockOptions", "LockOutcome", "lock_project", "check_nothing_vanished", "is_fresh", "stale_changes", "update_lock", "lock_summary",
]


@dataclass(frozen=True)
class LockOptions:
    upgrade: bool = False
    upgrade_packages: frozenset[str] = frozenset()
    offline: bool = False
    dry_run: bool = False  # resolve and report, write nothing


@dataclass
class LockOutcome:
    lock: LockBase
    resolved: list[str] = field(default_factory=list)  # sections resolved this run
    kept: list[str] = field(default_factory=list)  # sections copied from the old lock
    previous: LockBase | None = None  # the lock before this run (None: there was none)


def is_fresh(hashes: dict[str, str], lock: LockBase) -> bool:
    return bool(lock.manifest_hash == hashes)


def _previous_entries(previous: LockBase | None, ecosystem: str) -> LockedEntries:
    if previous is None:
        return {}
    return {
        env: {platform: plock.entries(ecosystem) for platform, plock in platforms.items()}
        for env, platforms in previous.environments.items()
    }


def lock_project(
    manifest: Manifest,
    hashes: dict[str, str],
    project_dir: Path,
    previous: LockBase | None,
    options: LockOptions,
    services: Services,
    progress: Callable[[str], None] = lambda message: None,
) -> LockOutcome:
    environments = manifest.environment_names()
    platforms = list(manifest.platforms)
    per_eco: dict[str, LockedEntries] = {}
    resolved: list[str] = []
    kept: list[str] = []
    packages = frozenset(options.upgrade_packages) - {IMAGE_PIN}
    upgrading = options.upgrade or bool(packages)
    provided: LockedProvided = {}  # what the providers resolved so far give the others
    old_provided: LockedProvided = {}  # the same from the previous lock
    image = _image_pin(manifest, previous, hashes, options, progress)
    for ecosystem in _providers_first():
        section = manifest.section(ecosystem.name)
        if section is None:
            continue
        old = _previous_entries(previous, ecosystem.name)
        unchanged = previous is not None and previous.manifest_hash.get(ecosystem.name) == hashes.get(ecosystem.name)
        if ecosystem.needs_image:  # resolved for image.base: again when its pin moves
            unchanged = unchanged and _same_pin(image, previous)
        same_ground = _provided_for(provided, ecosystem.name) == _provided_for(old_provided, ecosystem.name)
        if unchanged and same_ground and not upgrading and _covers(old, environments, platforms):
            per_eco[ecosystem.name] = old
            kept.append(ecosystem.name)
            _add_provided(ecosystem, old, provided)
            _add_provided(ecosystem, old, old_provided)
            continue
        if not ecosystem.lockable:
            raise BadInputError(f"the `{ecosystem.name}` section is not supported by this envman yet")
        progress(f"resolving {ecosystem.name}")
        request = ResolveRequest(
            section=section,
            environments={env: manifest.requirements(ecosystem.name, env) for env in environments},
            platforms=platforms,
            previous=old,
            upgrade=options.upgrade,
            upgrade_packages=frozenset(ecosystem.normalize_name(n) for n in packages),
            offline=options.offline,
            project_dir=str(project_dir),
            image=image,
            provided=_provided_for(provided, ecosystem.name),
        )
        per_eco[ecosystem.name] = ecosystem.resolve(request, services)
        check_nothing_vanished(ecosystem, request, per_eco[ecosystem.name])
        resolved.append(ecosystem.name)
        _add_provided(ecosystem, per_eco[ecosystem.name], provided)
        _add_provided(ecosystem, old, old_provided)

    platform_values: dict[str, Any] = {}
    for ecosystem in ecosystems.all_ecosystems():
        section = manifest.section(ecosystem.name)
        if section is not None:
            platform_values.update(ecosystem.platform_values(section))
    lock_cls, platform_cls = lock_model()
    lock_envs: dict[str, dict[str, Any]] = {}
    for env in environments:
        lock_envs[env] = {}
        for platform in platforms:
            body = {eco: per_eco[eco].get(env, {}).get(platform, []) for eco in per_eco}
            values = dict(platform_values)
            for ecosystem in ecosystems.all_ecosystems():  # an interpreter another solution has
                section = manifest.section(ecosystem.name)
                given = _provided_for(provided, ecosystem.name).get(env, {}).get(platform, [])
                if section is not None and given:
                    values.update(ecosystem.provided_platform_values(section, given))
            lock_envs[env][platform] = platform_cls(image=image, **values, **body)
    lock = lock_cls(version=1, manifest_hash=hashes, environments=lock_envs)
    return LockOutcome(lock=lock, resolved=resolved, kept=kept)


def check_nothing_vanished(ecosystem: Any, request: ResolveRequest, result: LockedEntries) -> None:
    """Every requirement of the manifest is in the lock, by name, in every environment (and
    platform) that asks for it; otherwise the resolution is refused naming what is missing
    (never a lock that silently drops a requirement)."""
    from envman.errors import ResolutionError

    missing: dict[str, list[str]] = {}
    for env, requirements in sorted(request.environments.items()):
        for platform in request.platforms:
            wanted = ecosystem.required_names(requirements, platform, request.section)
            have = {str(getattr(entry, "name", "")) for entry in result.get(env, {}).get(platform, [])}
            have |= set(request.provided_packages(ecosystem.name, platform, env))  # another solution's
            for name in sorted(wanted - have):
                missing.setdefault(name, []).append(f"{env}@{platform}")
    if missing:
        listed = "; ".join(f"{name} (in {', '.join(places)})" for name, places in sorted(missing.items()))
        raise ResolutionError(
            f"{ecosystem.name}: the resolution left out requirement(s) of the manifest: {listed}; "
            "envman refuses to write a lock without them"
        )


def _providers_first() -> list[Any]:
    """The registry's ecosystems, those whose solutions provide for others first (stable)."""
    return sorted(ecosystems.all_ecosystems(), key=lambda eco: not eco.provider)


def _add_provided(ecosystem: Any, entries: LockedEntries, into: LockedProvided) -> None:
    """Record what a provider's entries give the ecosystems resolved after it."""
    if not ecosystem.provider:
        return
    for env, platforms in entries.items():
        for platform, listed in platforms.items():
            given = ecosystem.provides(listed)
            if given is not None:
                into.setdefault(env, {}).setdefault(platform, []).append(given)


def _provided_for(provided: LockedProvided, name: str) -> LockedProvided:
    """What others provide to ecosystem `name` (never its own provisions)."""
    return {
        env: {platform: [p for p in given if p.by != name] for platform, given in platforms.items()}
        for env, platforms in provided.items()
    }


def _same_pin(image: ImagePin | None, previous: LockBase | None) -> bool:
    old = [plock.image for platforms in (previous.environments.values() if previous else []) for plock in platforms.values()]
    return bool(old) and all(pin == image for pin in old)


def _covers(old: LockedEntries, environments: list[str], platforms: list[str]) -> bool:
    return all(env in old and all(p in old[env] for p in platforms) for env in environments)


def _image_pin(
    manifest: Manifest, previous: LockBase | None, hashes: dict[str, str], options: LockOptions, progress: Callable[[str], None]
) -> ImagePin | None:
    """The base image with its digest (or, for a base only the local engine has, its image ID):
    kept from the old lock while the section is unchanged, else asked of the registry/engine;
    `--upgrade` and `--upgrade-package image` ask again."""
    image = manifest.section("image")
    if image is None:
        return None
    again = options.upgrade or IMAGE_PIN in options.upgrade_packages
    if previous is not None and previous.manifest_hash.get("image") == hashes.get("image") and not again:
        for platforms in previous.environments.values():
            for plock in platforms.values():
                if plock.image is not None and (plock.image.digest or plock.image.id or options.offline):
                    return ImagePin.model_validate(plock.image.model_dump())
    if options.offline:
        return ImagePin(base=image.base)
    from envman.build.pin import pin_base

    progress(f"pinning {image.base}")
    pin = pin_base(image.base)
    if pin.note:
        progress(pin.note)
    return ImagePin(base=image.base, digest=pin.digest, id=pin.image_id)


IMAGE_PIN = "image"  # `--upgrade-package image` pins image.base again (its tag may point elsewhere now)
EDITED_BY_HAND = "the lock was edited by hand: its content no longer matches the digest on its first line"


def stale_changes(manifest_path: Path) -> tuple[Path, list[str] | None]:
    """(lock path, what changed since it was written); None when there is no lock yet.
    The manifest is validated first (a broken manifest is exit 2, not a stale lock), then the
    lock (exit 2 when it does not validate); a lock edited by hand is stale."""
    from envman.lockfile import lock_path_for, manifest_hashes, stale_sections
    from envman.lockfile.canonical import edited_by_hand, parse_lock, read_lock_text
    from envman.manifest import read_manifest

    text, _manifest = read_manifest(manifest_path)
    lock_path = lock_path_for(manifest_path)
    if not lock_path.exists():
        return lock_path, None
    lock_text = read_lock_text(lock_path)
    lock = parse_lock(lock_text, str(lock_path))
    changes = [EDITED_BY_HAND] if edited_by_hand(lock_text) else []
    return lock_path, changes + stale_sections(lock.manifest_hash, manifest_hashes(text))


def update_lock(
    manifest_path: Path,
    options: LockOptions,
    progress: Callable[[str], None] = lambda message: None,
    warn: Callable[[str], None] = lambda message: None,
) -> tuple[Path, bool, LockOutcome]:
    """Resolve what changed and write the lock atomically: (lock path, written?, outcome).

    The manifest is read once: the lock written is the lock of exactly the bytes that were
    validated and hashed, even when the file is edited meanwhile. A lock edited by hand is
    neither trusted as fresh nor as preferences: everything is resolved again."""
    from envman.cache import ArtifactCache
    from envman.http import HttpClient
    from envman.lockfile import dump_lock, lock_path_for, manifest_hashes, write_lock_atomic
    from envman.lockfile.canonical import edited_by_hand, parse_lock, read_lock_text
    from envman.manifest import read_manifest

    text, manifest = read_manifest(manifest_path)
    lock_path = lock_path_for(manifest_path)
    hashes = manifest_hashes(text)
    previous = None
    if lock_path.exists():
        lock_text = read_lock_text(lock_path)
        try:
            previous = parse_lock(lock_text, str(lock_path))
        except LocatedError as exc:  # not a lock envman can read: lock from scratch, say why
            warn(f"envman: warning: {exc.message}; resolving everything again")
        else:
            if edited_by_hand(lock_text):
                warn(f"envman: warning: {lock_path}: {EDITED_BY_HAND}; resolving everything again")
                previous = None
    upgrading = options.upgrade or bool(options.upgrade_packages)
    if previous is not None and not upgrading and is_fresh(hashes, previous):
        return lock_path, False, LockOutcome(lock=previous, kept=manifest.declared_ecosystems(), previous=previous)
    services = Services(http=HttpClient(progress=progress), cache=ArtifactCache(), progress=progress)
    outcome = lock_project(manifest, hashes, manifest_path.parent.resolve(), previous, options, services, progress)
    outcome.previous = previous
    if options.dry_run:
        old_text = read_lock_text(lock_path) if lock_path.exists() else None
        return lock_path, dump_lock(outcome.lock) != old_text, outcome
    try:
        changed = write_lock_atomic(lock_path, dump_lock(outcome.lock))
    except OSError as exc:
        raise BadInputError(f"{lock_path}: cannot write the lock: {exc.strerror or exc}") from None
    return lock_path, changed, outcome


def lock_summary(lock: LockBase) -> str:
    """`production@linux-64 (120 python, 14 r); …`"""
    parts = []
    for env, platforms in sorted(lock.environments.items()):
        for platform, plock in sorted(platforms.items()):
            counts = ", ".join(f"{len(plock.entries(e))} {e}" for e in ecosystems.names() if plock.entries(e))
            parts.append(f"{env}@{platform} ({counts or 'empty'})")
    return "; ".join(parts)
