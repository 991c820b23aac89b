"""--metrics FILE: Prometheus text format for node exporter's textfile collector (written
atomically by prometheus_client, as the collector requires)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from envman.errors import BadInputError
from envman.fleet.state import TargetState

__all__ = ["write_metrics"]


def write_metrics(path: Path, result: Any, states: Mapping[str, TargetState], seconds: float) -> None:
    """Per target: in sync (0/1), reachable (0/1), findings by kind, last success time; the run's duration."""
    from prometheus_client import CollectorRegistry, Gauge, write_to_textfile

    registry = CollectorRegistry()
    labels = ["target", "environment"]
    in_sync = Gauge("envman_target_in_sync", "1 when the target matches the lock", labels, registry=registry)
    reachable = Gauge("envman_target_reachable", "1 when the target could be checked", labels, registry=registry)
    findings = Gauge("envman_target_findings", "Drift findings of the target, by kind", [*labels, "kind"], registry=registry)
    success = Gauge(
        "envman_target_last_success_timestamp_seconds", "When the target was last checked (reached), Unix time", labels, registry=registry
    )
    duration = Gauge("envman_check_duration_seconds", "Wall time of the last fleet check", registry=registry)
    for row in result.targets:
        key = (row.target, row.environment)
        in_sync.labels(*key).set(1 if row.in_sync else 0)
        reachable.labels(*key).set(0 if row.error is not None else 1)
        counts: dict[str, int] = {kind: 0 for kind in ("missing", "extra", "changed", "modified", "runtime")}
        for finding in row.findings:
            counts[finding.kind] = counts.get(finding.kind, 0) + 1
        for kind, count in counts.items():
            findings.labels(*key, kind).set(count)
        state = states.get(row.target)
        if state is not None and state.last_success is not None:
            success.labels(*key).set(state.last_success)
    duration.set(seconds)
    try:
        write_to_textfile(str(path), registry)
    except OSError as exc:
        raise BadInputError(f"--metrics {path}: cannot write it: {exc.strerror or exc}") from None
