"""Snapshots from the probe's JSON and from the lock (pure: data in, Snapshot out)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from envman import ecosystems
from envman.errors import BadInputError, UnreachableError
from envman.snapshot import MAX_NAME_CHARS, Snapshot, environment_problem, now_iso, package_problem
from envman.targets.context import DEFAULT_PLATFORM, ProbeContext
from envman.targets.spec import TargetSpec

__all__ = ["snapshot_from_probe", "snapshot_from_lock", "snapshot_from_platform_lock"]


def snapshot_from_probe(
    target: str, names: Sequence[str], data: Mapping[str, Any], known: Mapping[str, tuple[str, str]] | None = None
) -> Snapshot:
    """Snapshot of a target from the probe script's JSON (pure).

    The JSON comes from inside the target (a container may be hostile): anything of the
    wrong shape (a section that is not an object, rows that are not objects, names that are
    not strings or are absurdly long, nested values where the snapshot keeps plain ones) is
    an UnreachableError naming the target in one line, never a traceback."""
    from envman.report.text import printable, shorten

    def refuse(reason: str) -> UnreachableError:
        return UnreachableError(f"{target}: the probe returned data of an unexpected shape ({printable(shorten(reason, 300))})")

    if not isinstance(data, Mapping):
        raise refuse(f"a {type(data).__name__}, not an object")
    problems = data.get("problems", [])
    if not isinstance(problems, list) or not all(isinstance(p, str) for p in problems):
        raise refuse("`problems` must be a list of strings")
    try:
        snap = Snapshot(target=target, ecosystems=sorted(names), created=now_iso(), problems=list(problems))
        for eco in ecosystems.all_ecosystems():
            section = data.get(eco.name)
            if section is None:
                continue
            if not isinstance(section, Mapping):
                raise refuse(f"`{eco.name}` must be an object, not {type(section).__name__}")
            problem = _rows_problem(section.get("packages", []))
            if problem is not None:
                raise refuse(f"`{eco.name}.packages`: {problem}")
            probed = eco.read_probe(section, known or {})
            for pkg in probed.packages:
                problem = package_problem(pkg)
                if problem is not None:
                    raise refuse(f"{eco.name} package {pkg.name!r:.80}: {problem}")
            snap.packages[eco.name] = probed.packages
            if probed.runtime and eco.runtime:
                runtime: Any = probed.runtime
                if isinstance(runtime, bool) or not isinstance(runtime, (str, int, float)) or len(str(runtime)) > MAX_NAME_CHARS:
                    raise refuse(f"the {eco.runtime} version must be a short string")
                snap.runtimes[eco.runtime] = str(runtime)
            snap.environment.update(probed.environment)
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError, OverflowError) as exc:
        raise refuse(f"{type(exc).__name__}: {exc}") from None
    problem = environment_problem(snap.environment)
    if problem is not None:
        raise refuse(problem)
    for name in snap.ecosystems:
        snap.packages.setdefault(name, [])
    return snap


# fields of a probe's package rows that readers turn into names, versions and places: text
# only (str() of an object would make a package of its repr)
_TEXT_FIELDS = ("name", "version", "location", "sha256", "file")


def _rows_problem(rows: Any) -> str | None:
    """What is wrong with a section's `packages` as the probe sent it (None: a list of objects
    with text where text belongs)."""
    if not isinstance(rows, list):
        return f"a {type(rows).__name__}, not a list"
    for i, row in enumerate(rows):
        if not isinstance(row, Mapping):
            return f"item {i} is a {type(row).__name__}, not an object"
        for field in _TEXT_FIELDS:
            value = row.get(field)
            if value is not None and not isinstance(value, str):
                return f"item {i}: `{field}` is a {type(value).__name__}, not a string"
    return None


# -- lock -> snapshot ------------------------------------------------------------------


def snapshot_from_lock(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    if ctx.project is None:
        raise BadInputError(f"{spec.text}: no project (envman.yaml / envman.lock) to read the lock from")
    lock = ctx.project.lock(spec.rev)
    env = ctx.project.environment(spec.value or ctx.environment, spec.rev)
    platform = spec.platform or ctx.platform or DEFAULT_PLATFORM
    plock = lock.platform_lock(env, platform)
    return snapshot_from_platform_lock(spec.text, plock, env, platform, ctx.project.manifest_data(spec.rev) or {}, spec.rev)


def snapshot_from_platform_lock(
    target: str, plock: Any, env: str, platform: str, manifest: Mapping[str, Any], rev: str | None = None
) -> Snapshot:
    """What one environment and platform of a lock expects installed (pure): any object with
    `entries(ecosystem)` and the platform fields (the lock models, a LockView, history's)."""
    snap = Snapshot(target=target, ecosystems=[], created=now_iso())
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
    snap.environment["lock"] = {"environment": env, "platform": platform, "rev": rev}
    return snap
