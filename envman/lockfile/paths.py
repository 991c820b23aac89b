"""The two rules every command shares: where the lock is, and which environment is meant."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from envman.errors import BadInputError

__all__ = ["LOCK_NAME", "DEFAULT_ENVIRONMENT", "lock_path_for", "default_environment", "no_such_platform"]

LOCK_NAME = "envman.lock"
DEFAULT_ENVIRONMENT = "default"  # the one environment of a manifest without `environments:`


def lock_path_for(manifest_path: str | Path) -> Path:
    """The lock is `envman.lock` beside the manifest."""
    return Path(manifest_path).with_name(LOCK_NAME)


def default_environment(names: Iterable[str], requested: str | None = None, where: str = "the lock") -> str:
    """--env when given; else the only environment; else `production`; else an error
    naming them (never a silent pick)."""
    if requested:
        return requested
    ordered = sorted(names)
    if len(ordered) == 1:
        return ordered[0]
    if "production" in ordered:
        return "production"
    if not ordered:
        raise BadInputError(f"{where} has no environments")
    raise BadInputError(f"{where}: several environments ({', '.join(ordered)}) and none is `production`; pass --env")


def no_such_platform(environments: Mapping[str, Mapping[str, object]], environment: str, platform: str) -> BadInputError:
    """The error for an environment/platform the lock does not have, naming what it has."""
    known = ", ".join(f"{e}@{p}" for e, ps in sorted(environments.items()) for p in sorted(ps))
    return BadInputError(f"the lock has no environment {environment!r} for platform {platform!r} (it has: {known or 'none'})")
