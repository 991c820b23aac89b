"""After a fleet check: compare with the last state, notify the changes, write the metrics,
keep the new state."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from envman.errors import EnvmanError
from envman.fleet.notify import Notifier
from envman.fleet.run import FleetResult
from envman.fleet.state import Change, StateStore, changes, state_file, state_of

__all__ = ["record"]


def record(lock_path: Path, fleet: FleetResult, notifier: Notifier | None, metrics: Path | None) -> list[Change]:
    """The changes since the last run (notified when a notifier is given). A notification that
    could not be delivered leaves those targets' old state, so the next run tells again."""
    try:
        return _record(lock_path, fleet, notifier, metrics)
    except OSError as exc:  # the state folder cannot be written
        from envman.errors import BadInputError
        from envman.fleet.state import STATE_VARIABLE, state_dir

        raise BadInputError(
            f"cannot keep the fleet's state in {state_dir()}: {exc.strerror or exc} (set {STATE_VARIABLE} to a writable folder)"
        ) from None


def _record(lock_path: Path, fleet: FleetResult, notifier: Notifier | None, metrics: Path | None) -> list[Change]:
    from envman.report import render_check

    now = time.time()
    with StateStore(state_file(lock_path)).locked() as states:
        before = dict(states)
        after = {row.target: state_of(row, now, before.get(row.target)) for row in fleet.result.targets}
        found = changes(before, after)
        states.update(after)
        if notifier is not None and found:
            changed = {c.target for c in found}
            rows = [row for row in fleet.result.targets if row.target in changed]
            report = render_check(type(fleet.result)(rows), "markdown", color=False)
            try:
                notifier.send(found, report)
            except EnvmanError as exc:
                sys.stderr.write(f"envman: error: {exc}\n")
                for target in changed:  # told next time
                    if target in before:
                        states[target] = before[target]
                    else:
                        states.pop(target, None)
        if metrics is not None:
            from envman.fleet.metrics import write_metrics

            write_metrics(metrics, fleet.result, states, fleet.seconds)
    return found
