"""Writing a report or a snapshot to the file given with `-o`."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from envman.errors import BadInputError

__all__ = ["write_output"]


def write_output(path: Path, text: str, what: str) -> None:
    """Write `text` to `path` atomically: a temp file beside it, then a rename, so a full or
    read-only disk leaves the old file (or none) and never half a report; the error is
    exit 2 in one line. A symlink is followed (its target is replaced); a path that is not a
    regular file (`/dev/stdout`, a FIFO) is written directly, never replaced."""
    from envman.atomic import atomic_write_text
    from envman.report.text import printable

    path = Path(path)
    try:
        try:
            mode = os.stat(path).st_mode
        except FileNotFoundError:
            mode = None
        if mode is not None and not stat.S_ISREG(mode):
            if stat.S_ISDIR(mode):
                raise IsADirectoryError(21, "Is a directory")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
            return
        atomic_write_text(Path(os.path.realpath(path)), text)
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise BadInputError(f"{printable(path)}: cannot write {what}: {reason}") from None
