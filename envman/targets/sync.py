"""`envman sync`: make a venv, an R library, a jar folder or a conda prefix match the lock (I/O).

check (deep) -> plan (drift.plan, pure) -> the owning ecosystem installs, upgrades and
removes with hash-verified artifacts -> check again. Installer tooling the lock does not
name is never touched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TextIO

from envman import ecosystems
from envman.ecosystems.base import Ecosystem, Services, SyncRequest
from envman.errors import BadInputError
from envman.targets.context import DEFAULT_PLATFORM, ProbeContext, known_artifacts
from envman.targets.spec import TargetSpec

__all__ = ["sync_target", "syncable_forms"]


def syncable_forms() -> list[str]:
    return [
        form
        for eco in ecosystems.all_ecosystems()
        for form in eco.target_forms
        if form.split(":", 1)[0] in eco.syncable_kinds
    ]


def _owner(spec: TargetSpec) -> Ecosystem:
    for eco in ecosystems.all_ecosystems():
        if spec.kind in eco.syncable_kinds:
            return eco
    raise BadInputError(f"{spec.text}: sync works on {', '.join(syncable_forms())}")


def sync_target(
    spec: TargetSpec,
    ctx: ProbeContext,
    dry_run: bool,
    out: TextIO,
    progress: Callable[[str], None] = lambda message: None,
    rev: str | None = None,
) -> bool:
    """Sync one target; returns True when drift remains (then exit 1). `progress` hears
    each step (fetching each artifact, with bytes for large ones; installing). `rev`: the
    lock of that git revision (sync --at REV)."""
    from envman.cache import ArtifactCache
    from envman.drift import check
    from envman.drift.plan import format_plan, plan_sync
    from envman.http import HttpClient
    from envman.report.text import printable, printable_lines
    from envman.targets.probe import probe_target, snapshot_from_lock

    eco = _owner(spec)
    project = ctx.project
    lock = project.lock(rev, full=True)
    environment = project.environment(ctx.environment, rev)
    platform = ctx.platform or DEFAULT_PLATFORM
    plock = lock.platform_lock(environment, platform)
    ctx = ctx._replace(environment=environment, platform=platform, deep=True, known=known_artifacts([plock]))
    created = eco.create_target(spec.kind, spec.value, (project.manifest_data(rev) or {}).get(eco.name), dry_run)
    if created:
        out.write(printable(f"{spec.text}: {'would ' if dry_run else ''}{created}") + "\n")
        if dry_run:
            return True
    expected = snapshot_from_lock(TargetSpec(f"lock:{environment}", "lock", environment, platform, rev), ctx)
    installed = probe_target(spec, ctx)
    location = eco.sync_location(spec.kind, spec.value, installed.environment)
    actions = plan_sync(check(expected, installed, deep=True))
    out.write(printable_lines(format_plan(spec.text, actions, dry_run)))
    fixable = [a for a in actions if a.op != "none"]
    if dry_run or not fixable:
        return bool(actions)
    manifest: Any = project.manifest(rev)
    eco.sync(
        SyncRequest(
            target=spec.text,
            location=location,
            actions=fixable,
            entries=plock.entries(eco.name),
            installed=installed.of(eco.name),
            section=manifest.section(eco.name) if manifest is not None else None,
            services=Services(http=HttpClient(progress=progress), cache=ArtifactCache(), progress=progress),
        )
    )
    after = check(expected, probe_target(spec, ctx), deep=True)
    if after:
        out.write(f"{printable(spec.text)}: {len(after)} finding(s) remain after sync:\n")
        out.writelines(
            printable(f"  [{f.ecosystem}] {f.kind} {f.name} (expected {f.expected}, installed {f.actual})") + "\n" for f in after
        )
        return True
    out.write(f"{printable(spec.text)}: in sync\n")
    return False
