"""Snapshots from the probe's JSON and from the lock (pure: data in, Snapshot out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from envman import ecosystems
from envman.errors import BadInputError, UnreachableError
from envman.snapshot import Snapshot, now_iso
from envman.targets.context import DEFAULT_PLATFORM, ProbeContext
from envman.targets.spec import TargetSpec

__all__ = ["snapshot_from_probe", "snapshot_from_lock"]


def snapshot_from_probe(
    target: str, names: Sequence[str], data: Mapping[str, Any], known: Mapping[str, tuple[str, str]] | None = None
) -> Snapshot:
    """Snapshot of a target from the probe script's JSON (pure).

    The JSON comes from inside the target (a container may be hostile): anything of the
    wrong shape is an error naming the target, never a traceback."""
    try:
        snap = Snapshot(target=target, ecosystems=sorted(names), created=now_iso(), problems=[str(p) for p in data.get("problems", [])])
        for eco in ecosystems.all_ecosystems():
            section = data.get(eco.name)
            if section is None:
                continue
            probed = eco.read_probe(section, known or {})
            snap.packages[eco.name] = probed.packages
            if probed.runtime and eco.runtime:
                snap.runtimes[eco.runtime] = str(probed.runtime)
            snap.environment.update(probed.environment)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UnreachableError(f"{target}: the probe returned data of an unexpected shape ({type(exc).__name__}: {exc})") from None
    for name in snap.ecosystems:
        snap.packages.setdefault(name, [])
    return snap


# -- lock -> snapshot ------------------------------------------------------------------


def snapshot_from_lock(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    if ctx.project is None:
        raise BadInputError(f"{spec.text}: no project (envman.yaml / envman.lock) to read the lock from")
    lock = ctx.project.lock(spec.rev)
    env = ctx.project.environment(spec.value or ctx.environment, spec.rev)
    platform = spec.platform or ctx.platform or DEFAULT_PLATFORM
    plock = lock.platform_lock(env, platform)
    manifest = ctx.project.manifest_data(spec.rev) or {}
    snap = Snapshot(target=spec.text, ecosystems=[], created=now_iso())
    for eco in ecosystems.all_ecosystems():
        entries = plock.entries(eco.name)
        section = manifest.get(eco.name)
        if not entries and not isinstance(section, dict):
            continue
        snap.ecosystems.append(eco.name)
        snap.packages[eco.name] = [eco.installed_from_entry(e) for e in entries]
        runtime = eco.expected_runtime(section if isinstance(section, dict) else None, plock)
        if eco.runtime and runtime:
            snap.runtimes[eco.runtime] = runtime
    snap.environment["lock"] = {"environment": env, "platform": platform, "rev": spec.rev}
    return snap
