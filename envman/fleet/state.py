"""The last known state of each target, kept between runs (cron, CI, `watch` restarts), and
the changes of state worth a notification (pure apart from the file).

State folder: $ENVMAN_STATE_DIR, else platformdirs' user state dir (XDG_STATE_HOME/envman,
~/.local/state/envman). One JSON file per project lock (`fleet-<sha256 of its path>.json`),
read and replaced under a file lock so overlapping runs do not lose each other's updates.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["state_dir", "state_file", "TargetState", "Change", "state_of", "changes", "StateStore", "STATE_VARIABLE"]

STATE_VARIABLE = "ENVMAN_STATE_DIR"
_VERSION = 1


def state_dir() -> Path:
    override = os.environ.get(STATE_VARIABLE, "").strip()
    if override:
        return Path(override)
    from platformdirs import user_state_dir

    return Path(user_state_dir("envman", appauthor=False))


def state_file(lock_path: Path) -> Path:
    key = hashlib.sha256(str(lock_path.resolve()).encode("utf-8")).hexdigest()[:16]
    return state_dir() / f"fleet-{key}.json"


class TargetState(NamedTuple):
    """status: in_sync | drift | unreachable; digest: what drifted (same findings, same digest)."""

    status: str
    environment: str
    digest: str = ""
    summary: str = ""
    last_success: float | None = None  # time.time() of the last run that reached the target

    def to_data(self) -> dict[str, Any]:
        return dict(self._asdict())


class Change(NamedTuple):
    """A change worth telling: kind is appeared | changed | cleared | unreachable | back."""

    target: str
    kind: str
    before: TargetState | None
    after: TargetState


def _summary(row: Any) -> str:
    shown = []
    for finding in row.findings[:20]:
        expected = finding.expected if finding.expected is not None else "-"
        actual = finding.actual if finding.actual is not None else "-"
        shown.append(f"{finding.ecosystem} {finding.name}: {finding.kind} ({expected} -> {actual})")
    more = len(row.findings) - len(shown)
    return "; ".join(shown) + (f"; and {more} more" if more > 0 else "")


def state_of(row: Any, now: float, before: TargetState | None) -> TargetState:
    """A TargetResult as a state (last success carried over from `before` when unreachable)."""
    if row.error is not None:
        return TargetState("unreachable", row.environment, "", row.error[:500], before.last_success if before else None)
    if not row.findings:
        return TargetState("in_sync", row.environment, "", "", now)
    items = sorted(json.dumps(f.to_data(), sort_keys=True) for f in row.findings)
    digest = hashlib.sha256("\n".join(items).encode("utf-8")).hexdigest()[:16]
    return TargetState("drift", row.environment, digest, _summary(row), now)


def changes(before: Mapping[str, TargetState], after: Mapping[str, TargetState]) -> list[Change]:
    """What changed since the last run. A target seen for the first time is a change only
    when something is wrong with it (a first run tells only of problems)."""
    found = []
    for target, now in after.items():
        old = before.get(target)
        if old is None:
            if now.status == "drift":
                found.append(Change(target, "appeared", None, now))
            elif now.status == "unreachable":
                found.append(Change(target, "unreachable", None, now))
            continue
        if now.status == old.status and now.digest == old.digest and now.environment == old.environment:
            continue
        if now.status == "unreachable":
            kind = "unreachable"
        elif old.status == "unreachable":
            kind = "back" if now.status == "in_sync" else "appeared"
        elif now.status == "in_sync":
            kind = "cleared"
        elif old.status == "in_sync":
            kind = "appeared"
        else:
            kind = "changed"
        found.append(Change(target, kind, old, now))
    return found


class StateStore:
    """The state file of one project: load() and save() under an exclusive file lock."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextmanager
    def locked(self) -> Iterator[dict[str, TargetState]]:
        """The states, locked until the block ends; what the block leaves in the dict is saved."""
        import fcntl

        from envman.atomic import atomic_write_text, make_private_dirs

        make_private_dirs(self.path.parent)
        with open(self.path.with_suffix(".lock"), "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                states = self._read()
                yield states
                data = {"version": _VERSION, "targets": {k: v.to_data() for k, v in sorted(states.items())}}
                atomic_write_text(self.path, json.dumps(data, indent=1, sort_keys=True) + "\n", private=True)
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _read(self) -> dict[str, TargetState]:
        """The saved states; a missing, unreadable or damaged file is an empty state (the next
        run then tells only of what is wrong, as a first run does)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if data.get("version") != _VERSION:
                return {}
            return {str(k): TargetState(**v) for k, v in data["targets"].items()}
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return {}
