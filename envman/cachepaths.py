"""Where the cache is, with nothing but the standard library's os (the fast path of
`lock --check` reads the cache before anything heavy is imported)."""

from __future__ import annotations

import hashlib
import os
import sys

__all__ = ["cache_root_text", "index_file"]


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
