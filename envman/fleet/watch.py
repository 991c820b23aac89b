"""`envman watch`: check the fleet on a schedule, notify on changes of state.

SIGHUP reloads (the inventory, the manifest and the lock are read again before the next
round, which starts at once); SIGTERM and SIGINT stop cleanly: the wait or the round in
progress ends, running probes are killed, the state of a round not finished is not kept,
and watch exits 0.
"""

from __future__ import annotations

import re
import signal
import threading
from collections.abc import Callable
from typing import Any

from envman.errors import BadInputError

__all__ = ["parse_every", "Watcher"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_every(text: str) -> float:
    """`30s`, `5m`, `1h30m`, `2d` or plain seconds; at least 1 s."""
    raw = text.strip().lower()
    if re.fullmatch(r"[0-9]+(\.[0-9]+)?", raw):
        seconds = float(raw)
    else:
        parts = re.findall(r"([0-9]+(?:\.[0-9]+)?)([smhd])", raw)
        if not parts or "".join(n + u for n, u in parts) != raw:
            raise BadInputError(f"--every {text!r}: expected a duration such as 30s, 5m, 1h or 1h30m")
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if seconds < 1:
        raise BadInputError(f"--every {text!r}: at least 1 second")
    return seconds


class Watcher:
    """Runs `round(stop_event)` every `every` seconds until stopped; `load()` (re)reads the
    configuration, first and after each SIGHUP. `rounds`: stop after that many (None: never)."""

    def __init__(
        self, load: Callable[[], Any], round: Callable[[Any, threading.Event], None], every: float, rounds: int | None = None
    ) -> None:
        self.load = load
        self.round = round
        self.every = every
        self.rounds = rounds
        self.stop = threading.Event()
        self.wake = threading.Event()
        self.reload = False

    def _on_term(self, signum: int, frame: Any) -> None:
        self.stop.set()
        self.wake.set()

    def _on_hup(self, signum: int, frame: Any) -> None:
        self.reload = True
        self.wake.set()

    def run(self, log: Callable[[str], None]) -> int:
        previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
        signal.signal(signal.SIGTERM, self._on_term)
        signal.signal(signal.SIGINT, self._on_term)
        signal.signal(signal.SIGHUP, self._on_hup)
        try:
            config = self.load()
            done = 0
            while not self.stop.is_set():
                if self.reload:
                    self.reload = False
                    try:
                        config = self.load()
                        log("envman watch: reloaded")
                    except BadInputError as exc:  # keep watching with what was loaded before
                        log(f"envman watch: reload failed, keeping the previous configuration: {exc}")
                self.round(config, self.stop)
                done += 1
                if self.rounds is not None and done >= self.rounds:
                    break
                self.wake.clear()
                if not self.reload:
                    self.wake.wait(self.every)
            if self.stop.is_set():
                from envman.targets.runners import _kill_live

                _kill_live()
                log("envman watch: stopped")
            return 0
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
