"""Probe a target into a Snapshot (I/O): local paths, containers, images, locks, snapshot files.

Every ecosystem the registry lists takes part the same way: it says which options its part
of the probe script needs in each kind of target (Ecosystem.probe_options, target_options)
and reads its part of the result (read_probe). The script runs with the target's Python
when there is one (the ecosystem with probe_interpreter owns that interpreter), else the
same modules run here over local (or copied) files.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Callable
from typing import Any

from envman import ecosystems
from envman.errors import BadInputError, EnvmanError, UnreachableError
from envman.report.text import printable
from envman.snapshot import Snapshot, load_snapshot
from envman.targets.context import Places, ProbeContext, known_artifacts, owner_of_kind, platform_of, remaining, timed_out
from envman.targets.probe_runner import in_process, run_probe
from envman.targets.reading import snapshot_from_lock, snapshot_from_probe
from envman.targets.spec import TargetSpec

__all__ = [
    "Places",
    "ProbeContext",
    "probe_target",
    "probe_many",
    "snapshot_from_probe",
    "snapshot_from_lock",
    "platform_of",
    "known_artifacts",
]


# -- probing each kind -----------------------------------------------------------------


def _probe_single(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    """python:PATH, rlib:DIR, jars:DIR, …: one ecosystem, in one place on this machine."""
    from envman.targets.runners import LocalRunner

    eco = owner_of_kind(spec.kind)
    if eco is None:
        raise BadInputError(f"{spec.text}: no ecosystem reads `{spec.kind}:` targets")
    options = eco.target_options(spec.kind, spec.value, spec.text)
    if eco.probe_interpreter:
        data = run_probe(LocalRunner(), options["interpreter"], {"deep": ctx.deep, eco.name: {}}, spec.text, remaining(ctx), ctx.timeout)
    else:
        data = in_process({"deep": ctx.deep, eco.name: options})
    eco.check_probe(spec.kind, options, data, spec.text)
    return snapshot_from_probe(spec.text, [eco.name], data, ctx.known)


def _probe_local(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    """This machine: python3 (or --python), and each ecosystem where its options say
    (Rscript on PATH, jars under $ENVMAN_JARS, $CONDA_PREFIX, or the place options)."""
    from envman.targets.runners import LocalRunner

    names: list[str] = []
    data: dict[str, Any] = {"problems": []}
    options: dict[str, Any] = {"deep": ctx.deep}
    for eco in ecosystems.all_ecosystems():
        places = ctx.places.of(eco.name)
        if eco.probe_interpreter:
            interpreter = places[0] if places else shutil.which("python3")
            if interpreter:
                names.append(eco.name)
                data = run_probe(LocalRunner(), interpreter, {"deep": ctx.deep, eco.name: {}}, spec.text, remaining(ctx), ctx.timeout)
            continue
        wanted = eco.probe_options(places, None, "local")
        if wanted is not None:
            names.append(eco.name)
            options[eco.name] = wanted
    rest = in_process(options)
    rest["problems"] = list(data.get("problems", [])) + list(rest.get("problems", []))
    data.update(rest)
    return snapshot_from_probe(spec.text, names, data, ctx.known)


# after the deadline, the probe's own clean-up (killing a process, removing a probe container
# or a temporary copy) gets this long before the target is given up without it
_GRACE = 10.0
# targets probed at once (each waits for a slot before its deadline starts)
_SLOTS = threading.BoundedSemaphore(32)


class _Probe:
    """One target probed in a daemon thread: its deadline starts when the work does; the
    caller waits at most until the deadline plus _GRACE. A daemon thread never holds up
    envman's exit (Ctrl-C, or work stuck where nothing can kill it)."""

    def __init__(self, spec: TargetSpec, ctx: ProbeContext) -> None:
        self.spec = spec
        self.ctx = ctx
        self.started = threading.Event()
        self.deadline = 0.0
        self.outcome: list[Any] = []
        self.thread = threading.Thread(target=self._work, daemon=True, name=f"envman-probe {spec.text[:40]}")
        self.thread.start()

    def _work(self) -> None:
        with _SLOTS:
            ctx = self.ctx
            if ctx.deadline is None:
                ctx = ctx._replace(deadline=time.monotonic() + ctx.timeout)
            self.deadline = float(ctx.deadline or 0.0)
            self.started.set()
            try:
                self.outcome.append(_probe_now(self.spec, ctx))
            except BaseException as exc:  # handed to the caller's thread
                self.outcome.append(exc)

    def result(self) -> Snapshot:
        self.started.wait()
        self.thread.join(max(0.0, self.deadline - time.monotonic()) + _GRACE)
        if not self.outcome:
            raise UnreachableError(timed_out(printable(self.spec.text), self.ctx.timeout))
        result = self.outcome[0]
        if isinstance(result, BaseException):
            raise result
        return result  # type: ignore[no-any-return]


def probe_target(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    """Snapshot of one target; errors name it (exit 4 when it cannot be reached).

    Every probe has a deadline (ctx.timeout seconds from its start): interpreters and
    container execs past it are killed and reported as not answering. Work that cannot be
    killed (a scan of local folders stuck on a special file) runs in a daemon thread that is
    given up at the deadline plus a short grace, so the other targets are still reported
    and envman still exits."""
    if spec.kind in ("snapshot", "lock"):
        return _probe_now(spec, ctx)
    return _Probe(spec, ctx).result()


def _probe_now(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    if spec.kind == "snapshot":
        return load_snapshot(spec.value)
    if spec.kind == "lock":
        return snapshot_from_lock(spec, ctx)
    if spec.kind == "local":
        return _probe_local(spec, ctx)
    if spec.kind in ("docker", "image"):
        from envman.targets.containers import probe_container, probe_image

        return probe_container(spec, ctx) if spec.kind == "docker" else probe_image(spec, ctx)
    if spec.kind == "ssh":
        from envman.targets.ssh import probe_ssh

        return probe_ssh(spec, ctx)
    return _probe_single(spec, ctx)


def probe_many(
    specs: list[TargetSpec], ctx: ProbeContext, keep_going: bool = False, on_result: Callable[[TargetSpec], None] | None = None
) -> list[Any]:
    """Probe targets concurrently (threads: the work is in subprocesses and the engine).

    Without keep_going the first error (in target order) is raised; with it, a failed
    target's place in the list holds its EnvmanError, so the others can still be reported.
    `on_result` hears each target once its answer (or error) is in, in target order.
    """
    if len(specs) == 1 and not keep_going:
        return [probe_target(specs[0], ctx)]
    running = [None if spec.kind in ("snapshot", "lock") else _Probe(spec, ctx) for spec in specs]
    results: list[Any] = []
    for spec, probe in zip(specs, running, strict=True):
        try:
            results.append(probe.result() if probe is not None else _probe_now(spec, ctx))
        except EnvmanError as exc:
            if not keep_going:
                raise
            results.append(exc)
        if on_result is not None:
            on_result(spec)
    return results
