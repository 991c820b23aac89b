"""Atomic file writes: temp file in the same folder, fsync, rename.

Readers never see a partial file, a killed writer leaves the old file whole, and two
concurrent writers of the same content both succeed.

Two modes. User files (envman.lock, exports, reports) keep an existing file's mode, and a
new one gets 0666 minus the umask, as open() would. Private files (the cache:
`private=True`) are always 0600, and the folders created for them 0700.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write_bytes", "atomic_write_text", "make_private_dirs", "PRIVATE_FILE_MODE", "PRIVATE_DIR_MODE"]

PRIVATE_FILE_MODE = 0o600
PRIVATE_DIR_MODE = 0o700


def atomic_write_bytes(path: Path, data: bytes, fsync: bool = True, private: bool = False) -> None:
    path = Path(path)
    if private:
        make_private_dirs(path.parent)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=str(path.parent))  # 0600 from the start
    try:
        os.fchmod(fd, PRIVATE_FILE_MODE if private else _mode_for(path))
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            if fsync:
                handle.flush()
                os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def make_private_dirs(folder: Path) -> None:
    """Create folder and its missing parents with mode 0700 (mkdir(parents=True) gives the
    parents the default mode). Existing folders are left as they are."""
    folder = Path(folder)
    missing: list[Path] = []
    current = folder
    while not current.is_dir():
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for part in reversed(missing):
        try:
            os.mkdir(part, PRIVATE_DIR_MODE)
        except FileExistsError:  # another run made it meanwhile (or it is a file: mkstemp says so)
            pass


def _mode_for(path: Path) -> int:
    """Keep an existing file's mode; a new file gets 0666 minus the umask, like open() would
    (mkstemp's 0600 would make a committed lock unreadable to the rest of the team)."""
    try:
        return path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write_text(path: Path, text: str, private: bool = False) -> None:
    atomic_write_bytes(path, text.encode("utf-8"), private=private)
