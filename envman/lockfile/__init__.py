"""envman.lock: models, canonical (byte-stable) text, the fast path and the read-only view.

Modules: entry_base (strict base of entry models), models (Lock and PlatformLock, built
from the registry's entry models), canonical (read, parse, dump, atomic write), fastpath
(stdlib only: `lock --check` and a no-op `lock`), view (pydantic-free read-only lock for
`check`), paths (where the lock is, which environment is the default). Orchestration of
`envman lock` is envman.locking.

Names are loaded on first use, so `import envman.lockfile.fastpath` stays light.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing costs ~7 ms to import; annotations here are strings
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "Lock",
    "PlatformLock",
    "ImagePin",
    "lock_model",
    "read_lock",
    "parse_lock",
    "dump_lock",
    "lock_to_data",
    "write_lock_atomic",
    "manifest_hashes",
    "stale_sections",
    "lock_path_for",
    "default_environment",
]

_WHERE = {
    "Lock": "models",
    "PlatformLock": "models",
    "ImagePin": "models",
    "lock_model": "models",
    "read_lock": "canonical",
    "parse_lock": "canonical",
    "dump_lock": "canonical",
    "lock_to_data": "canonical",
    "write_lock_atomic": "canonical",
    "manifest_hashes": "canonical",
    "stale_sections": "fastpath",
    "lock_path_for": "paths",
    "default_environment": "paths",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'envman.lockfile' has no attribute {name!r}")
    return getattr(importlib.import_module(f"envman.lockfile.{module}"), name)
