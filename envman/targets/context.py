"""What every probe is given: where to look (Places), the project, the lock's known
artifacts; and which ecosystem owns a TARGET kind."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, NamedTuple

from envman import ecosystems
from envman.ecosystems.base import Ecosystem

__all__ = [
    "Places",
    "ProbeContext",
    "platform_of",
    "known_artifacts",
    "owner_of_kind",
    "interpreter_ecosystem",
    "DEFAULT_PLATFORM",
    "DEFAULT_PROBE_TIMEOUT",
    "TIMEOUT_VARIABLE",
    "probe_timeout",
    "remaining",
    "timed_out",
]

DEFAULT_PLATFORM = "linux-64"
DEFAULT_PROBE_TIMEOUT = 60.0  # seconds a target has to answer (--timeout, ENVMAN_PROBE_TIMEOUT)
TIMEOUT_VARIABLE = "ENVMAN_PROBE_TIMEOUT"


def platform_of(markers: Mapping[str, Any]) -> str | None:
    """The conda-style platform of a probed interpreter, from its PEP 508 marker environment."""
    system, machine = markers.get("sys_platform"), str(markers.get("platform_machine", "")).lower()
    arm = machine in ("aarch64", "arm64")
    if system == "linux":
        return "linux-aarch64" if arm else "linux-64" if machine in ("x86_64", "amd64") else None
    if system == "darwin":
        return "osx-arm64" if arm else "osx-64"
    if system == "win32":
        return "win-64"
    return None


class Places(NamedTuple):
    """Where to look inside docker:/image:/local targets, per ecosystem (overrides labels
    and defaults). Built from the command line's place options (Ecosystem.place_flag)."""

    by_ecosystem: Mapping[str, tuple[str, ...]] = MappingProxyType({})

    @classmethod
    def from_flags(cls, flags: Mapping[str, str | Sequence[str] | None]) -> Places:
        """flags: option name (`--python`, `--rlib`, …) -> its value(s)."""
        found: dict[str, tuple[str, ...]] = {}
        for eco in ecosystems.all_ecosystems():
            value = flags.get(eco.place_flag or "")
            if value:
                found[eco.name] = (value,) if isinstance(value, str) else tuple(value)
        return cls(found)

    def of(self, ecosystem: str) -> tuple[str, ...]:
        return tuple(self.by_ecosystem.get(ecosystem, ()))


class ProbeContext(NamedTuple):
    """What every probe is given (immutable: derive a changed one with `_replace`)."""

    deep: bool = False
    places: Places = Places()
    project: Any = None  # targets.project.Project, for lock: targets
    platform: str | None = None  # None: linux-64, or (check) the target's own platform
    environment: str | None = None
    known: Mapping[str, tuple[str, str]] = MappingProxyType({})  # sha256 -> (name, version) of locked artifacts
    timeout: float = DEFAULT_PROBE_TIMEOUT  # seconds each target has to answer
    deadline: float | None = None  # time.monotonic() by which this target must have answered (set per target)
    replicas: Any = None  # targets.replicas.ReplicaPool of the run: containers of one image share a probe
    ecosystems: frozenset[str] | None = None  # check: only these are probed (what the lock covers); None: all

    def probes(self, eco: Any) -> bool:
        """Whether the probe asks for this ecosystem (the interpreter's always: it names the platform)."""
        return bool(eco.probe_interpreter) or self.ecosystems is None or eco.name in self.ecosystems

    def probed_names(self) -> list[str]:
        from envman import ecosystems

        return [eco.name for eco in ecosystems.all_ecosystems() if self.probes(eco)]


def probe_timeout(value: float | None = None) -> float:
    """--timeout, else $ENVMAN_PROBE_TIMEOUT, else 60 s; anything but a positive number is bad input."""
    import math
    import os

    from envman.errors import BadInputError

    where = "--timeout"
    if value is None:
        raw = os.environ.get(TIMEOUT_VARIABLE, "").strip()
        if not raw:
            return DEFAULT_PROBE_TIMEOUT
        where = f"${TIMEOUT_VARIABLE}"
        try:
            value = float(raw)
        except ValueError:
            raise BadInputError(f"{where}: {raw[:40]!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise BadInputError(f"{where}: the probe timeout must be a positive number of seconds, not {value!r}")
    return float(value)


def remaining(ctx: ProbeContext) -> float:
    """Seconds left before this target's deadline (its whole timeout when none is set yet)."""
    import time

    if ctx.deadline is None:
        return ctx.timeout
    return max(0.0, ctx.deadline - time.monotonic())


def timed_out(what: str, timeout: float, stopped: str = "") -> str:
    """The one message for a target past its deadline (`stopped`: what was stopped)."""
    note = f"; {stopped} was stopped" if stopped else ""
    return f"{what}: did not answer within {timeout:g} s{note} (set --timeout or {TIMEOUT_VARIABLE} to wait longer)"


def known_artifacts(platform_locks: Sequence[Any]) -> dict[str, tuple[str, str]]:
    """sha256 -> (name, version) of every locked artifact with a sha256 (names files whose
    own metadata does not, such as jars without pom.properties)."""
    known: dict[str, tuple[str, str]] = {}
    for plock in platform_locks:
        for eco in ecosystems.all_ecosystems():
            for entry in plock.entries(eco.name):
                sha = getattr(entry, "sha256", None)
                if sha:
                    known[str(sha).removeprefix("sha256:")] = (entry.name, entry.version)
    return known


def owner_of_kind(kind: str) -> Ecosystem | None:
    """The ecosystem a single-ecosystem TARGET kind (rlib, jars, …) belongs to."""
    return next((eco for eco in ecosystems.all_ecosystems() if kind in eco.target_kinds), None)


def interpreter_ecosystem() -> Ecosystem | None:
    """The ecosystem whose interpreter runs the probe script in a target."""
    return next((eco for eco in ecosystems.all_ecosystems() if eco.probe_interpreter), None)
