"""What the writers render: results of check (per target) and of diff."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from envman.drift.compare import Difference, Finding

__all__ = ["TargetResult", "CheckResult", "DiffResult"]


class TargetResult(NamedTuple):
    target: str
    environment: str
    platform: str
    findings: list[Finding]
    checked: dict[str, list[str]] | None = None  # ecosystem -> expected names (for junit)
    problems: Sequence[str] = ()

    @property
    def in_sync(self) -> bool:
        return not self.findings

    def to_data(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "environment": self.environment,
            "platform": self.platform,
            "in_sync": self.in_sync,
            "findings": [f.to_data() for f in self.findings],
        }


class CheckResult(NamedTuple):
    targets: list[TargetResult]

    @property
    def in_sync(self) -> bool:
        return all(t.in_sync for t in self.targets)

    def to_data(self) -> dict[str, Any]:
        return {"in_sync": self.in_sync, "targets": [t.to_data() for t in self.targets]}


class DiffResult(NamedTuple):
    left: str
    right: str
    differences: list[Difference]

    @property
    def identical(self) -> bool:
        return not self.differences

    def to_data(self) -> dict[str, Any]:
        return {
            "left": self.left,
            "right": self.right,
            "identical": self.identical,
            "differences": [d.to_data() for d in self.differences],
        }
