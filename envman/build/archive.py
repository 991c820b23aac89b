"""Deterministic tar writing and the path rules of image layers.

`TarWriter` frames a tar stream the same way every time: each header is what
`TarInfo.tobuf(PAX_FORMAT)` makes of it (plain ustar, plus a pax header only where ustar cannot
say it: long or non-ASCII names, large sizes, xattrs), data padded to 512 bytes, and two zero
blocks at the end with no record padding (as Go's archive/tar, hence the engine, ends a
stream). It hashes what it writes, so a layer's diff_id costs no second read.
"""

from __future__ import annotations

import hashlib
import tarfile
from typing import BinaryIO, Protocol

__all__ = [
    "TarWriter",
    "Readable",
    "clean_path",
    "join_path",
    "sort_key",
    "ENCODING",
    "ERRORS",
    "COPY_CHUNK",
]

ENCODING = "utf-8"
# Names that are not UTF-8 survive a read and a write byte for byte.
ERRORS = "surrogateescape"
COPY_CHUNK = 1 << 20
_BLOCK = tarfile.BLOCKSIZE
_END = b"\0" * (2 * _BLOCK)


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class TarWriter:
    """A tar stream written to `out`; `close()` ends it and returns "sha256:<hex>" of all bytes."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._sha = hashlib.sha256()
        self.size = 0

    def _write(self, data: bytes | memoryview) -> None:
        self._out.write(data)
        self._sha.update(data)
        self.size += len(data)

    def add(self, info: tarfile.TarInfo, data: Readable | None = None) -> None:
        """Write one member; `data` supplies exactly `info.size` bytes (regular files only)."""
        self._write(info.tobuf(tarfile.PAX_FORMAT, ENCODING, ERRORS))
        remaining = info.size
        if remaining and data is None:
            raise ValueError(f"tar member {info.name!r}: {remaining} bytes announced, no data given")
        while remaining > 0:
            assert data is not None
            chunk = data.read(min(COPY_CHUNK, remaining))
            if not chunk:
                raise ValueError(f"tar member {info.name!r}: data ended {remaining} bytes early")
            self._write(chunk)
            remaining -= len(chunk)
        padding = -info.size % _BLOCK
        if padding:
            self._write(b"\0" * padding)

    def add_bytes(self, name: str, data: bytes, mode: int = 0o644) -> None:
        info = tarfile.TarInfo(name)
        info.mode, info.size = mode, len(data)
        self.add(info, _BytesReader(data))

    def add_dir(self, name: str, mode: int = 0o755) -> None:
        info = tarfile.TarInfo(name)
        info.type, info.mode = tarfile.DIRTYPE, mode
        self.add(info)

    def close(self) -> str:
        self._write(_END)
        return "sha256:" + self._sha.hexdigest()


class _BytesReader:
    """The `read` side of BytesIO without copying the buffer."""

    def __init__(self, data: bytes) -> None:
        self._view = memoryview(data)
        self._pos = 0

    def read(self, size: int = -1, /) -> bytes:
        end = len(self._view) if size < 0 else self._pos + size
        chunk = bytes(self._view[self._pos : end])
        self._pos += len(chunk)
        return chunk


def clean_path(name: str) -> str:
    """A layer member's path relative to the root, without "./", "/" or a trailing slash
    ("" is the root itself). A path that climbs out of the root is refused."""
    parts = [part for part in name.split("/") if part and part != "."]
    if ".." in parts:
        raise ValueError(f"layer entry {name!r} points outside the image root")
    return "/".join(parts)


def join_path(parent: str, name: str) -> str:
    return f"{parent}/{name}" if parent else name


def sort_key(path: str) -> tuple[str, ...]:
    """Order of members in a written layer: by path component, so a directory comes right
    before its contents ("a", "a/b", "a-b"), and extraction always finds the parent first."""
    return tuple(path.split("/")) if path else ()
