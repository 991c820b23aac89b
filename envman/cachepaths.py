"""Where the cache is, with nothing but the standard library's os (the fast path of
`lock --check` reads the cache before anything heavy is imported)."""

from __future__ import annotations

import hashlib
import os
import sys

__all__ = ["cache_root_text", "index_file", "read_index_bytes"]


def cache_root_text() -> str:
    """ENVMAN_CACHE_DIR, else the user cache folder (platformdirs; on Linux its XDG rule,
    `$XDG_CACHE_HOME/envman` or `~/.cache/envman`, without importing it: the fast path of
    `lock --check` reads the cache and platformdirs costs more than the whole check)."""
    override = os.environ.get("ENVMAN_CACHE_DIR")
    if override:
        return override
    if sys.platform.startswith("linux"):
        base = os.environ.get("XDG_CACHE_HOME", "").strip() or os.path.expanduser("~/.cache")
        return os.path.join(base, "envman")
    else:  # (an else block: mypy skips it as another platform's code instead of calling it unreachable)
        from platformdirs import user_cache_dir

        return str(user_cache_dir("envman", appauthor=False))


def index_file(root: str, key: str) -> str:
    """Where the index document of `key` (a URL or any name) lives under a cache root."""
    digest = hashlib.sha256(key.encode()).hexdigest()
    return os.path.join(root, "index", digest[:2], digest)


def read_index_bytes(key: str, max_bytes: int = 1 << 20) -> bytes | None:
    """The cached document of `key` under the cache root, or None when it is absent, not a
    regular file (a FIFO would block open(); a link to /dev/zero never ends), over max_bytes,
    or unreadable. Standard library only, for the fast path."""
    import stat

    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(index_file(cache_root_text(), key), flags)
    except OSError:
        return None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
            return None
        data = os.read(fd, max_bytes + 1)
        return data if len(data) <= max_bytes else None
    except OSError:
        return None
    finally:
        os.close(fd)
