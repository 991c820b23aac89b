"""Everything an image of one environment is made of, as data: the pinned base, each
ecosystem's Fragment in layer order (the system packages' first), environment variables and labels, and
the fixed time (SOURCE_DATE_EPOCH) that makes two builds of the same lock identical."""

from __future__ import annotations

import hashlib
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envman import ecosystems
from envman.errors import BadInputError

__all__ = ["ImagePlan", "plan_image", "lock_epoch", "rfc3339"]

ZIP_EPOCH = 315532800  # 1980-01-01: the time of a lock that git does not know (yet)


@dataclass(frozen=True)
class ImagePlan:
    manifest_path: Path
    lock_path: Path
    lock_sha256: str
    environment: str
    platform: str
    base: str  # what FROM names: tag@digest when pinned by digest
    base_tag: str
    base_id: str | None  # pinned by image ID (a base only the local engine has)
    builder: str | None
    fragments: list[Any]  # Fragment, ordered by rank
    epoch: int
    revision: str | None
    env: list[tuple[str, str]]
    labels: list[tuple[str, str]]
    templates: Path | None
    notes: list[str] = field(default_factory=list)


def plan_image(
    manifest_path: Path, env: str | None, platform: str | None, services: Any, epoch: int | None = None, revision: str | None = None
) -> ImagePlan:
    """The plan for `render`/`build`; the lock must be fresh (exit 1 otherwise). `revision`
    (with `epoch`): the lock's commit when it is not read from git here (build --at)."""
    from envman.ecosystems.base import FragmentContext
    from envman.exporting import select
    from envman.lockfile.paths import lock_path_for

    manifest, env_name, platform_name, plock = select(manifest_path, env, platform, fresh=True)
    image = manifest.section("image")
    if image is None:
        raise BadInputError(f"{manifest_path}: an image needs `image: {{base: …}}` in the manifest (the base that provides the runtimes)")
    lock_path = lock_path_for(manifest_path)
    lock_bytes = lock_path.read_bytes()
    fragments = []
    for eco in ecosystems.all_ecosystems():
        entries = plock.entries(eco.name)
        if not entries:
            continue
        context = FragmentContext(env_name, platform_name, plock, manifest.section(eco.name), services, manifest_path.parent)
        fragment = eco.fragment(entries, context)
        if not fragment.template:
            raise BadInputError(f"the lock has {eco.title} packages, which envman cannot install into an image yet")
        fragments.append(fragment)
    fragments.sort(key=lambda f: (f.rank, f.ecosystem))
    if revision is None:
        revision, git_epoch = _lock_revision(lock_path)
    else:  # build --at REV: the lock of an earlier commit, put outside git
        git_epoch = epoch
    fixed = epoch if epoch is not None else (git_epoch if git_epoch is not None else ZIP_EPOCH)
    pin = plock.image
    base_tag = image.base
    digest = pin.digest if pin is not None and pin.base == base_tag else None
    base_id = getattr(pin, "id", None) if pin is not None and pin.base == base_tag else None
    notes = []
    if digest is None and base_id is None:
        notes.append(f"the base {base_tag} is not pinned in the lock (run `envman lock` with the image available)")
    elif base_id is not None:
        notes.append(f"the base {base_tag} exists only in the local engine: pinned by image ID {base_id[:19]}")
    templates = Path(image.templates) if getattr(image, "templates", None) else None
    if templates is not None and not templates.is_absolute():
        templates = manifest_path.parent / templates
    env_pairs: dict[str, str] = {}
    labels: dict[str, str] = {
        "org.opencontainers.image.created": rfc3339(fixed),
        "org.envman.lock-sha256": hashlib.sha256(lock_bytes).hexdigest(),
        "org.envman.environment": env_name,
        "org.envman.platform": platform_name,
        "org.opencontainers.image.base.name": base_tag,
    }
    if digest:
        labels["org.opencontainers.image.base.digest"] = digest
    if revision:
        labels["org.opencontainers.image.revision"] = revision
    if manifest.name:
        labels["org.opencontainers.image.title"] = manifest.name
    for fragment in fragments:
        for name, value in fragment.env.items():
            # a later layer's `X=…:$X` goes before an earlier layer's value (PATH: the
            # venv's bin, then conda's, then the base's), instead of replacing it
            earlier = env_pairs.get(name)
            env_pairs[name] = value.replace(f"${name}", earlier) if earlier is not None and f"${name}" in value else value
        labels.update(fragment.labels)
    return ImagePlan(
        manifest_path=manifest_path,
        lock_path=lock_path,
        lock_sha256=labels["org.envman.lock-sha256"],
        environment=env_name,
        platform=platform_name,
        base=f"{base_tag}@{digest}" if digest else base_tag,
        base_tag=base_tag,
        base_id=base_id,
        builder=getattr(image, "builder", None),
        fragments=fragments,
        epoch=fixed,
        revision=revision,
        env=sorted(env_pairs.items()),
        labels=sorted(labels.items()),
        templates=templates,
        notes=notes,
    )


def rfc3339(epoch: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def lock_epoch(lock_path: Path) -> int:
    return _lock_revision(lock_path)[1] or ZIP_EPOCH


def _lock_revision(lock_path: Path) -> tuple[str | None, int | None]:
    """(commit, committer time) of the last commit that changed the lock, when the lock on
    disk is that commit's (else the lock is not in history yet: (None, None))."""
    folder = str(lock_path.parent)
    try:
        log = subprocess.run(
            ["git", "-C", folder, "log", "-1", "--format=%H %ct", "--", lock_path.name],
            capture_output=True, text=True, timeout=30, check=False,
        )
        if log.returncode != 0 or not log.stdout.strip():
            return None, None
        commit, stamp = log.stdout.split()
        dirty = subprocess.run(
            ["git", "-C", folder, "status", "--porcelain", "--", lock_path.name],
            capture_output=True, text=True, timeout=30, check=False,
        )
    except (OSError, subprocess.SubprocessError, ValueError):
        return None, None
    if dirty.returncode != 0 or dirty.stdout.strip():
        return None, None
    return commit, int(stamp)
