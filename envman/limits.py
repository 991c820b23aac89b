"""Bounds on everything envman reads from outside, and confinement of what it writes.

Manifests from a pull request, repositories, packages, targets and caches are untrusted
(docs/security.md). Every read of such input goes through one of these helpers: only
regular files, never more than a documented size; decompression bounded in size and
ratio; writes confined to their destination folder, with no symlink leading out.

Each limit has a default and an environment variable that overrides it (a number of bytes,
seconds or levels); see LIMITS.
"""

from __future__ import annotations

import os
import stat

from envman.errors import BadInputError, EnvmanError

TYPE_CHECKING = False  # typing and pathlib cost ~10 ms to import; the fast path of `lock --check` reads through here
if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "LIMITS",
    "limit",
    "read_regular_file",
    "read_regular_text",
    "is_regular_file",
    "gunzip_bounded",
    "confined_path",
    "LimitError",
]

# name -> (environment variable, default, unit, what it bounds)
LIMITS: dict[str, tuple[str, int, str, str]] = {
    "manifest_bytes": ("ENVMAN_MAX_MANIFEST_BYTES", 1 << 20, "bytes", "envman.yaml (and any file `init --from` reads)"),
    "lock_bytes": ("ENVMAN_MAX_LOCK_BYTES", 256 << 20, "bytes", "envman.lock and snapshot files"),
    "index_bytes": ("ENVMAN_MAX_INDEX_BYTES", 512 << 20, "bytes", "one repository index after decompression"),
    "pom_bytes": ("ENVMAN_MAX_POM_BYTES", 16 << 20, "bytes", "one POM or maven-metadata.xml (XML parses take many times their size)"),
    "decompress_ratio": ("ENVMAN_MAX_DECOMPRESS_RATIO", 200, "x", "expansion of a compressed index"),
    "member_bytes": ("ENVMAN_MAX_MEMBER_BYTES", 1 << 20, "bytes", "one metadata file read inside an archive or a target"),
    "copied_file_bytes": ("ENVMAN_MAX_COPIED_FILE_BYTES", 256 << 20, "bytes", "one file copied out of a container without Python"),
    "probe_output_bytes": ("ENVMAN_MAX_PROBE_OUTPUT_BYTES", 256 << 20, "bytes", "what a target's probe may print"),
    "yaml_depth": ("ENVMAN_MAX_YAML_DEPTH", 64, "levels", "nesting of a manifest or lock"),
}


class LimitError(BadInputError):
    """Input over a documented limit (exit 2); the message names the limit's variable."""


def limit(name: str) -> int:
    """The limit's value: its environment variable when set to a positive integer, else the default."""
    variable, default, _unit, _what = LIMITS[name]
    raw = os.environ.get(variable, "").strip()
    if raw.isdigit() and int(raw) > 0:
        return int(raw)
    return default


def is_regular_file(path: str | Path) -> bool:
    """True for a regular file (following symlinks); False for FIFOs, devices, folders, absent paths."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def read_regular_file(path: str | Path, limit_name: str, what: str | None = None) -> bytes:
    """The bytes of a regular file no larger than the limit, opened without blocking.

    A FIFO, a device (/dev/zero), a folder or a file over the limit is an EnvmanError
    naming it (exit 2); a missing file raises FileNotFoundError for the caller to word."""
    where = what or str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)  # O_NONBLOCK: opening a FIFO must not wait for a writer
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise BadInputError(f"{where}: not a regular file (a FIFO, device or folder); refusing to read it")
        maximum = limit(limit_name)
        if info.st_size > maximum:
            raise LimitError(_too_big(where, limit_name, info.st_size))
        chunks: list[bytes] = []
        total = 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            total += len(chunk)
            if total > maximum:  # the file grew while being read
                raise LimitError(_too_big(where, limit_name, total))
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_regular_text(path: str | Path, limit_name: str, what: str | None = None) -> str:
    """read_regular_file decoded as UTF-8 (UnicodeDecodeError for the caller to word)."""
    return read_regular_file(path, limit_name, what).decode("utf-8")


def _too_big(where: str, limit_name: str, size: int) -> str:
    variable, _default, unit, _what = LIMITS[limit_name]
    return f"{where}: {size:,} bytes is over the limit of {limit(limit_name):,} {unit} (set {variable} to raise it)"


def gunzip_bounded(data: bytes, what: str) -> bytes:
    """gzip data decompressed (every member), refusing more than index_bytes or
    decompress_ratio x its size, and truncated data."""
    import zlib

    maximum = min(limit("index_bytes"), max(len(data), 1 << 16) * limit("decompress_ratio"))
    out: list[bytes] = []
    total = 0
    rest = data
    try:
        while True:
            inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
            chunk = inflater.decompress(rest, maximum + 1 - total)
            while True:
                total += len(chunk)
                if total > maximum:
                    raise LimitError(
                        f"{what}: expands to more than {maximum:,} bytes (a decompression bomb?); "
                        f"set {LIMITS['index_bytes'][0]} or {LIMITS['decompress_ratio'][0]} to raise the limit"
                    )
                out.append(chunk)
                if not inflater.unconsumed_tail:
                    break
                chunk = inflater.decompress(inflater.unconsumed_tail, maximum + 1 - total)
            tail = inflater.flush()
            total += len(tail)
            if total > maximum:
                raise LimitError(f"{what}: expands to more than {maximum:,} bytes (a decompression bomb?)")
            out.append(tail)
            if not inflater.eof:
                raise EnvmanError(f"{what}: truncated gzip data")
            rest = inflater.unused_data.lstrip(b"\x00")  # concatenated members (and trailing padding)
            if not rest:
                break
    except zlib.error as exc:
        raise EnvmanError(f"{what}: not valid gzip data ({exc})") from None
    return b"".join(out)


def confined_path(root: str | Path, relative: str, what: str) -> Path:
    """root/relative, refusing anything that would land outside root: absolute paths, `..`,
    NUL, and symlinks (already there) that lead out. The caller creates parents inside it."""
    if not relative or "\x00" in relative or os.path.isabs(relative) or relative.startswith(("/", "\\")):
        raise BadInputError(f"{what}: refusing the path {relative!r} (absolute, empty or with NUL)")
    from pathlib import Path

    parts = Path(relative).parts
    if any(part in ("..", "") for part in parts):
        raise BadInputError(f"{what}: refusing the path {relative!r} (it leaves its folder)")
    base = Path(root).resolve()
    target = (base / relative).resolve()
    if target != base and base not in target.parents:
        raise BadInputError(f"{what}: refusing the path {relative!r} (it leads outside {base} through a symlink)")
    return base / relative
