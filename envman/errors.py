"""The one error hierarchy of envman; each class carries the exit code the CLI returns.

    EnvmanError
    ├── StaleLockError (1)       the lock does not match the manifest, or was edited by hand
    ├── BadInputError (2)        manifest, lock, snapshot or arguments are invalid
    │   └── LocatedError (2)     ... at FILE:LINE:COL
    ├── ResolutionError (3)      requirements cannot be satisfied together
    ├── UnreachableError (4)     repository, engine, interpreter or target not available
    ├── BuildError (5)           image build failed
    └── SyncError (5)            installing into a target (`envman sync`) failed

Exit code 1 (differs) is mostly a result that commands return (drift, a stale lock for
`lock --check`); StaleLockError carries it where a command cannot go on (`export` of a
stale lock).
"""

from __future__ import annotations

__all__ = [
    "EXIT_OK",
    "EXIT_DIFFERS",
    "EnvmanError",
    "StaleLockError",
    "BadInputError",
    "LocatedError",
    "ResolutionError",
    "UnreachableError",
    "BuildError",
    "SyncError",
]

EXIT_OK = 0
EXIT_DIFFERS = 1


class EnvmanError(Exception):
    """Base of every error envman reports to a user."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BadInputError(EnvmanError):
    exit_code = 2


class LocatedError(BadInputError):
    """Bad input at a known place in a file; printed as FILE:LINE:COL: message."""

    def __init__(self, file: str, line: int | None, col: int | None, message: str) -> None:
        self.file, self.line, self.col = file, line, col
        place = file
        if line is not None:
            place += f":{line}"
            if col is not None:
                place += f":{col}"
        super().__init__(f"{place}: {message}")
        self.detail = message


class ResolutionError(EnvmanError):
    exit_code = 3


class UnreachableError(EnvmanError):
    exit_code = 4


class BuildError(EnvmanError):
    exit_code = 5


class SyncError(EnvmanError):
    """An install into a target failed, or an artifact did not match its locked hash."""

    exit_code = 5


class StaleLockError(EnvmanError):
    """The lock is stale or was edited by hand, and the command needs a fresh one."""

    exit_code = 1
