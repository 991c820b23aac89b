"""A read-only view of a lock for `check`/`diff`/`snapshot`, loaded without pydantic.

`check` reads the lock on every run; the YAML parse (~55 ms for 1,000 entries) and the
import of the lock models (~95 ms with pydantic) were most of its time. After one full,
validated parse (envman.lockfile.read_lock), the lock's data with every field (defaults
included, under the models' attribute names) is kept in the envman cache under the sha256
of the lock's bytes, in `marshal` format (the format of .pyc files: 10x faster to load than
JSON, and the cache is the user's own, as trusted as their .pyc files); later runs with the
same bytes load it into these plain objects. Anything that changes environments (sync)
uses the full models.
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from envman.lockfile.paths import no_such_platform

__all__ = ["LockView", "read_lock_fast"]


class PlatformView:
    """Attributes as on PlatformLock: image, apt, each ecosystem's list and platform fields."""

    def __init__(self, body: dict[str, Any]) -> None:
        image = body.get("image")
        self.image = SimpleNamespace(**image) if isinstance(image, dict) else None
        self.apt: list[str] = list(body.get("apt") or [])
        self._entries: dict[str, list[SimpleNamespace]] = {}
        for key, value in body.items():
            if key in ("image", "apt"):
                continue
            if isinstance(value, list):
                self._entries[key] = [SimpleNamespace(**entry) for entry in value]
            else:
                setattr(self, key, value)

    def entries(self, ecosystem: str) -> list[Any]:
        return list(self._entries.get(ecosystem, []))

    def __getattr__(self, name: str) -> Any:  # plock.<ecosystem>, as on the models
        entries = self.__dict__.get("_entries", {})
        if name in entries:
            return entries[name]
        raise AttributeError(name)


class LockView:
    def __init__(self, data: dict[str, Any]) -> None:
        self.version = data["version"]
        self.manifest_hash = dict(data.get("manifest_hash", {}))
        self.environments = {
            env: {platform: PlatformView(body or {}) for platform, body in platforms.items()}
            for env, platforms in data.get("environments", {}).items()
        }

    def platform_lock(self, environment: str, platform: str) -> PlatformView:
        try:
            return self.environments[environment][platform]
        except KeyError:
            raise no_such_platform(self.environments, environment, platform) from None


def _unquote(value: str) -> str | None:
    """A scalar as PyYAML writes it: plain, or single-quoted ('' inside); None otherwise."""
    if value.startswith("'") and value.endswith("'") and len(value) >= 2:
        return value[1:-1].replace("''", "'")
    if value[:1] in ('"', "&", "*", "!", "|", ">", "{", "["):
        return None
    return value


def _pins_in_text(text: str) -> set[tuple[str, ...]] | None:
    """(environment, platform, ecosystem, name, version) of every entry, read from the lock's
    text with a line scan of envman's canonical layout; None when the text is not laid out
    that way (then the cached view is not used)."""
    pins: set[tuple[str, ...]] = set()
    env = platform = eco = name = None
    inside = False
    for line in text.split("\n"):
        if line == "environments:":
            inside = True
            continue
        if not inside or not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        body = line.strip()
        if indent == 2 and body.endswith(":"):
            env, platform, eco = body[:-1], None, None
        elif indent == 4 and body.endswith(":"):
            platform, eco = body[:-1], None
        elif indent == 6 and body.endswith(":"):
            eco = body[:-1]
        elif indent == 6 and body.startswith("- name: "):
            name = _unquote(body[len("- name: "):])
        elif indent == 8 and body.startswith("version: ") and name is not None:
            version = _unquote(body[len("version: "):])
            if None in (env, platform, eco, version):
                return None
            pins.add((str(env), str(platform), str(eco), name, str(version)))
            name = None
        elif indent == 0:
            return None
    return pins


def _pins_in_view(data: dict[str, Any]) -> set[tuple[str, ...]]:
    pins: set[tuple[str, ...]] = set()
    for env, platforms in data.get("environments", {}).items():
        for platform, body in platforms.items():
            for eco, value in body.items():
                if isinstance(value, list):
                    pins.update((env, platform, eco, str(e["name"]), str(e["version"])) for e in value if isinstance(e, dict))
    return pins


def read_lock_fast(path: Path, full_read: Callable[[Path], Any]) -> Any:
    """A LockView from the cached data of these exact bytes, else full_read(path) (and cache it).

    The cached copy is keyed by the sha256 of the lock's bytes and checked against them: every
    (environment, platform, ecosystem, name, version) it holds must be the lock's, read off
    the text (~2 ms for 1,000 entries), so an edited cache file cannot change what `check`
    expects."""
    try:
        raw = path.read_bytes() if path.is_file() else None
    except OSError:
        raw = None
    if raw is None:
        return full_read(path)
    key = "envman-lock-view-v2:" + hashlib.sha256(raw).hexdigest()
    cache = None
    try:
        from envman.cache import ArtifactCache

        cache = ArtifactCache()
        cached = cache.get_index(key)
        if cached is not None:
            data = marshal.loads(cached)
            if isinstance(data, dict) and data.get("version") == 1:
                pins = _pins_in_text(raw.decode("utf-8"))
                if pins is not None and pins == _pins_in_view(data):
                    return LockView(data)
    except Exception:  # a damaged or edited cache entry is ignored: the lock itself is read below
        pass
    lock = full_read(path)
    if cache is not None:
        try:
            from envman.lockfile.canonical import full_data

            cache.put_index(key, marshal.dumps(full_data(lock)))
        except Exception:
            pass
    return lock
