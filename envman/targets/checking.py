"""`envman check`, `diff` and `snapshot` as one call each: probe the targets, pick the
lock's platform for each, compare. The CLI only parses and prints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from envman.errors import EnvmanError, UnreachableError
from envman.snapshot import Snapshot
from envman.targets.context import DEFAULT_PLATFORM, ProbeContext, known_artifacts, owner_of_kind, platform_of
from envman.targets.spec import TargetSpec

__all__ = ["run_check", "run_diff", "take_snapshot", "with_known_artifacts"]

# TARGET kinds whose files may need naming by the lock's hashes (jars without pom.properties)
_NAMED_BY_HASH = ("docker", "image", "local", "ssh")


def with_known_artifacts(ctx: ProbeContext, specs: list[TargetSpec]) -> ProbeContext:
    """The context with the lock's sha256 -> (name, version) when a target may need it."""
    needs = any(s.kind in _NAMED_BY_HASH or owner_of_kind(s.kind) is not None for s in specs)
    if ctx.project is None or not needs or not ctx.project.lock_path.is_file():
        return ctx
    lock = ctx.project.lock()
    return ctx._replace(known=known_artifacts([p for ps in lock.environments.values() for p in ps.values()]))


def take_snapshot(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    from envman.targets.probe import probe_target

    return probe_target(spec, with_known_artifacts(ctx, [spec]))


def _platform_for(snap: Snapshot, requested: str | None, locked: list[str]) -> str:
    """--platform, else the target's own platform when the lock has it, else linux-64 (or
    the lock's only platform)."""
    if requested is not None:
        return requested
    guess = platform_of(snap.environment.get("python-markers") or {})
    platform = guess if guess in locked else DEFAULT_PLATFORM
    if platform not in locked and len(locked) == 1:
        platform = locked[0]
    return platform


def run_check(
    specs: list[TargetSpec], ctx: ProbeContext, progress: Callable[[str], None] = lambda message: None
) -> tuple[Any, list[EnvmanError]]:
    """Probe every target (concurrently) and compare each with the lock: (CheckResult of the
    reachable targets, errors of the others). `progress` hears each target as it is checked."""
    from envman.drift import check
    from envman.drift.compare import covered, expected_names
    from envman.report import CheckResult, TargetResult
    from envman.targets.probe import probe_many, snapshot_from_lock

    project = ctx.project
    lock = project.lock()
    environment = project.environment(ctx.environment)
    if environment not in lock.environments:
        lock.platform_lock(environment, ctx.platform or DEFAULT_PLATFORM)  # raises, naming what the lock has
    ctx = ctx._replace(environment=environment, known=known_artifacts([p for ps in lock.environments.values() for p in ps.values()]))
    locked_platforms = sorted(lock.environments[environment])
    expected_by_platform: dict[str, Snapshot] = {}
    for platform in locked_platforms:
        lock_spec = TargetSpec(f"lock:{environment}@{platform}", "lock", environment, platform)
        expected_by_platform[platform] = snapshot_from_lock(lock_spec, ctx)
    # only what the lock covers is compared, so only that is probed (no Rscript or `java
    # -version` run on a host for a lock without R or Java)
    ctx = ctx._replace(ecosystems=frozenset(e for snap in expected_by_platform.values() for e in snap.ecosystems))
    results = []
    errors: list[EnvmanError] = []
    progress(f"probing {len(specs)} target(s)")
    answered = _counter(progress, len(specs))
    for spec, snap in zip(specs, probe_many(specs, ctx, keep_going=True, on_result=answered), strict=True):
        if isinstance(snap, EnvmanError):
            errors.append(snap)
            results.append(_unchecked(spec.text, environment, ctx.platform, snap))
            continue
        platform = _platform_for(snap, ctx.platform, locked_platforms)
        if platform not in expected_by_platform:
            lock_spec = TargetSpec(f"lock:{environment}@{platform}", "lock", environment, platform)
            expected_by_platform[platform] = snapshot_from_lock(lock_spec, ctx)
        expected = expected_by_platform[platform]
        try:
            findings = check(expected, snap, deep=ctx.deep)
            checked = {eco: expected_names(expected, snap, eco) for eco in covered(expected, snap)}
        except _COMPARE_ERRORS as exc:  # what a target reported breaks an ecosystem's rules
            errors.append(_incomparable(spec.text, exc))
            results.append(_unchecked(spec.text, environment, platform, errors[-1]))
            continue
        results.append(TargetResult(spec.text, environment, platform, findings, checked, list(snap.problems)))
    return CheckResult(results), errors


def _counter(progress: Callable[[str], None], total: int) -> Callable[[TargetSpec], None]:
    """on_result for probe_many: "probed docker:api-1 (2/5)" as each target answers."""
    done = [0]

    def answered(spec: TargetSpec) -> None:
        done[0] += 1
        progress(f"probed {spec.text} ({done[0]}/{total})")

    return answered


def _unchecked(target: str, environment: str, platform: str | None, error: EnvmanError) -> Any:
    """A target that could not be checked, in its place in the report (never in sync)."""
    from envman.redact import redact_text
    from envman.report import TargetResult

    return TargetResult(target, environment, platform or "unknown", [], None, (), error=redact_text(str(error)))


def run_diff(left: TargetSpec, right: TargetSpec, ctx: ProbeContext) -> Any:
    from envman.drift import diff
    from envman.report import DiffResult
    from envman.targets.probe import probe_many

    a, b = probe_many([left, right], with_known_artifacts(ctx, [left, right]))
    try:
        differences = diff(a, b)
    except _COMPARE_ERRORS as exc:
        raise _incomparable(f"{left.text} and {right.text}", exc) from None
    return DiffResult(left.text, right.text, differences)


# a version of thousands of digits, a digit int() does not take (`²`): a target's data that
# passes the snapshot's shape checks and still breaks an ecosystem's comparison rules
_COMPARE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, RecursionError, OverflowError)


def _incomparable(what: str, exc: Exception) -> UnreachableError:
    from envman.report.text import printable, shorten

    return UnreachableError(f"{what}: the packages reported cannot be compared ({type(exc).__name__}: {printable(shorten(str(exc), 200))})")
