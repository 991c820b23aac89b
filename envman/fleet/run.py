"""Check a fleet: every target against the lock, at most `jobs` at a time, each under its own
deadline, so one slow or unreachable host never hides the others' results."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, NamedTuple

from envman.errors import EXIT_DIFFERS, EXIT_OK, EnvmanError, UnreachableError
from envman.fleet.inventory import FleetTarget
from envman.targets.context import Places, ProbeContext

__all__ = ["FleetResult", "check_fleet", "default_jobs", "fleet_exit_code", "MAX_JOBS"]

MAX_JOBS = 256


def default_jobs() -> int:
    """--jobs default: 4 per CPU (probes mostly wait on ssh and engines), at most 32."""
    return max(1, min(32, 4 * (os.cpu_count() or 1)))


class FleetResult(NamedTuple):
    result: Any  # report.CheckResult, targets in fleet order
    errors: list[EnvmanError]  # one per target that could not be checked
    seconds: float


def _merge_places(base: Places, own: Places) -> Places:
    merged = dict(base.by_ecosystem)
    merged.update(own.by_ecosystem)
    return Places(merged)


def check_fleet(
    targets: Sequence[FleetTarget],
    ctx: ProbeContext,
    jobs: int,
    stop: threading.Event | None = None,
    on_result: Callable[[Any], None] | None = None,
    share: bool = True,
) -> FleetResult:
    """Check every target (its own environment and places over the command line's); the
    report lists every target in order, the unreachable ones with their error. `stop` (set
    by a signal) ends the wait early: targets not finished are reported unreachable.

    With `share`, containers of one image and configuration on one engine share a probe
    where nothing it read differs (envman.targets.replicas; --probe-each turns it off).
    Targets start interleaved across engines and SSH, so the first probe of each group of
    replicas and the SSH hosts run at once instead of one engine's replicas waiting in line."""
    from envman.report import CheckResult
    from envman.targets.checking import _unchecked, run_check

    started = time.monotonic()
    if share:
        from envman.targets.replicas import ReplicaPool

        engines: dict[str, int] = {}
        for target in targets:
            if target.spec.kind == "docker":
                engines[target.spec.engine or ""] = engines.get(target.spec.engine or "", 0) + 1
        ctx = ctx._replace(replicas=ReplicaPool(engines))
    project = ctx.project
    project.lock()  # read once, before the workers share it
    environments = {t.environment or ctx.environment for t in targets}
    resolved = {env: project.environment(env) for env in environments}

    def one(target: FleetTarget) -> tuple[Any, list[EnvmanError]]:
        own = ctx._replace(
            environment=resolved[target.environment or ctx.environment],
            places=_merge_places(ctx.places, target.places),
            timeout=target.timeout or ctx.timeout,
        )
        result, errors = run_check([target.spec], own)
        return result.targets[0], errors

    results: list[Any] = [None] * len(targets)
    errors: list[EnvmanError | None] = [None] * len(targets)
    pool = ThreadPoolExecutor(max_workers=max(1, min(jobs, MAX_JOBS)), thread_name_prefix="envman-fleet")
    try:
        submitted: dict[int, Future[tuple[Any, list[EnvmanError]]]] = {i: pool.submit(one, targets[i]) for i in _interleaved(targets)}
        futures = [submitted[i] for i in range(len(targets))]
        for index, future in enumerate(futures):
            while True:
                if stop is not None and stop.is_set():
                    break
                try:
                    row, errs = future.result(timeout=0.2)
                except TimeoutError:
                    continue
                except EnvmanError as exc:  # the lock has no such environment, …
                    row, errs = _unchecked(targets[index].spec.text, targets[index].environment or "", None, exc), [exc]
                results[index] = row
                errors[index] = errs[0] if errs else None
                if on_result is not None:
                    on_result(row)
                break
            if stop is not None and stop.is_set():
                break
    except BaseException:  # Ctrl-C: end the probes now (the pool's threads are joined at exit)
        from envman.targets.runners import _kill_live

        pool.shutdown(wait=False, cancel_futures=True)
        _kill_live()
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if stop is not None and stop.is_set():
        from envman.targets.runners import _kill_live

        _kill_live()
    for index, row in enumerate(results):
        if row is None:
            stopped = UnreachableError(f"{targets[index].spec.text}: not checked (envman was stopped)")
            results[index] = _unchecked(targets[index].spec.text, targets[index].environment or "", None, stopped)
            errors[index] = stopped
    return FleetResult(CheckResult(results), [e for e in errors if e is not None], time.monotonic() - started)


def _interleaved(targets: Sequence[FleetTarget]) -> list[int]:
    """Target indexes, round robin over (kind, engine) (pure)."""
    buckets: dict[tuple[str, str], list[int]] = {}
    for index, target in enumerate(targets):
        buckets.setdefault((target.spec.kind, target.spec.engine or ""), []).append(index)
    lanes = list(buckets.values())
    order: list[int] = []
    for step in range(max((len(lane) for lane in lanes), default=0)):
        order += [lane[step] for lane in lanes if step < len(lane)]
    return order


def fleet_exit_code(fleet: FleetResult) -> int:
    """1 when any target drifted; else 4 when any was unreachable (or the first error's
    code); else 0."""
    if any(row.findings for row in fleet.result.targets):
        return EXIT_DIFFERS
    if fleet.errors:
        return fleet.errors[0].exit_code
    return EXIT_OK
