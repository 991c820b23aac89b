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
    error: str | None = None  # the target could not be checked (unreachable, no interpreter, …)

    @property
    def in_sync(self) -> bool:
        """Never true for a target that was not checked: a dashboard must not show it green."""
        return not self.findings and self.error is None

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "target": self.target,
            "environment": self.environment,
            "platform": self.platform,
            "in_sync": self.in_sync,
            "findings": [f.to_data() for f in sorted(self.findings, key=lambda f: f.kind != "runtime")],
        }
        if self.error is not None:
            data["error"] = self.error
        return data


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
