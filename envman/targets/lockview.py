"""A read-only view of a lock for `check`/`diff`/`snapshot`, loaded without pydantic.

`check` reads the lock on every run; the YAML parse (~55 ms for 1,000 entries) and the
import of the lock models (~95 ms with pydantic) were most of its time. After one full,
validated parse (envman.lock.read_lock), the canonical data is kept as JSON in the envman
cache under the sha256 of the lock's bytes; later runs with the same bytes load the JSON
into these plain objects, with the attribute names of the models. Anything that changes
environments (sync) uses the full models.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable

from envman.errors import BadInputError

__all__ = ["LockView", "read_lock_fast"]

_DEFAULTS: dict[str, dict[str, Any]] = {
    "python": {"hashes": [], "requires": [], "source": None, "marker": None},
    "r": {"md5": None, "requires": [], "needs_compilation": None},
    "jvm": {"scope": "compile", "type": "jar", "requires": []},
    "conda": {"md5": None, "subdir": None, "channel": None, "requires": []},
}


def _names(data: dict[str, Any]) -> dict[str, Any]:
    return {key.replace("-", "_"): value for key, value in data.items()}


class PlatformView:
    def __init__(self, body: dict[str, Any]) -> None:
        self.python_version: str | None = body.get("python-version")
        image = body.get("image")
        self.image = SimpleNamespace(**{"digest": None, **_names(image)}) if isinstance(image, dict) else None
        self.apt: list[str] = list(body.get("apt", []))
        for eco, defaults in _DEFAULTS.items():
            setattr(self, eco, [SimpleNamespace(**{**defaults, **_names(entry)}) for entry in body.get(eco, [])])


class LockView:
    def __init__(self, data: dict[str, Any]) -> None:
        self.version = data["version"]
        self.manifest_hash = dict(data.get("manifest-hash", {}))
        self.environments = {
            env: {platform: PlatformView(body or {}) for platform, body in platforms.items()}
            for env, platforms in data.get("environments", {}).items()
        }

    def platform_lock(self, environment: str, platform: str) -> PlatformView:
        try:
            return self.environments[environment][platform]
        except KeyError:
            known = ", ".join(f"{e}@{p}" for e, ps in sorted(self.environments.items()) for p in sorted(ps))
            raise BadInputError(f"the lock has no environment {environment!r} for platform {platform!r} (it has: {known or 'none'})") from None


def read_lock_fast(path: Path, full_read: Callable[[Path], Any]) -> Any:
    """A LockView from the cached JSON of these exact bytes, else full_read(path) (and cache it)."""
    try:
        raw = path.read_bytes()
    except OSError:
        return full_read(path)
    key = "envman-lock-json:" + hashlib.sha256(raw).hexdigest()
    cache = None
    try:
        from envman.cache import ArtifactCache

        cache = ArtifactCache()
        cached = cache.get_index(key)
        if cached is not None:
            data = json.loads(cached)
            if isinstance(data, dict) and data.get("version") == 1:
                return LockView(data)
    except Exception:  # a damaged cache entry is ignored: the lock itself is read below
        pass
    lock = full_read(path)
    if cache is not None:
        try:
            from envman.lock import lock_to_data

            cache.put_index(key, json.dumps(lock_to_data(lock), separators=(",", ":")).encode())
        except Exception:
            pass
    return lock
