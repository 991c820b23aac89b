"""Probe a TARGET the way the CLI does (parse_target -> probe_target), for tests."""

from __future__ import annotations

from typing import Any

from envman.snapshot import Snapshot
from envman.targets import ProbeContext, parse_target, probe_target


def probe(target: str, **context: Any) -> Snapshot:
    return probe_target(parse_target(target), ProbeContext(**context))


def packages(target: str, ecosystem: str, **context: Any) -> list[Any]:
    """The target's packages of one ecosystem, sorted by name, version, location."""
    return sorted(probe(target, **context).of(ecosystem), key=lambda p: (p.name, p.version, p.location or ""))
