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
    """Attributes as on PlatformLock: image, each ecosystem's list and platform fields."""

    def __init__(self, body: dict[str, Any]) -> None:
        image = body.get("image")
        self.image = SimpleNamespace(**image) if isinstance(image, dict) else None
        self._entries: dict[str, list[SimpleNamespace]] = {}
        for key, value in body.items():
            if key == "image":
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


def _scalar(value: str) -> str | None:
    """A scalar as envman's lock writes it, as text; None for anything else (flow
    collections other than [], double quotes, anchors, tags)."""
    if value == "[]":
        return "[]"
    return _unquote(value)


def _entries_in_text(text: str) -> dict[tuple[str, str, str], list[dict[str, Any]]] | None:
    """(environment, platform, key) -> the entries (under key "": the platform's own scalar
    fields, as one entry) as text values, read from the lock's text by a line scan of
    envman's canonical layout; None when the text is not laid out that way."""
    found: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    env: str | None = None
    platform: str | None = None
    key: str | None = None
    entry: dict[str, Any] | None = None
    field: str | None = None
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
            env, platform, key, entry = body[:-1], None, None, None
        elif indent == 4 and body.endswith(":") and env is not None:
            platform, key, entry = body[:-1], None, None
            found[(env, platform, "")] = [{}]
        elif indent == 6 and not body.startswith("- ") and env is not None and platform is not None:
            name, sep, value = body.partition(":")
            if not sep:
                return None
            if value.strip():  # a platform field (python-version: '3.11') or an empty list
                found[(env, platform, "")][0][name] = _scalar(value.strip())
                key, entry = None, None
            else:
                key, entry = name, None
                found[(env, platform, key)] = []
        elif indent == 6 and body.startswith("- ") and env is not None and platform is not None and key is not None:
            name, sep, value = body[2:].partition(": ")
            if not sep:  # a list of scalars (apt)
                found[(env, platform, key)].append({"-": _scalar(body[2:])})
                entry, field = None, None
                continue
            entry, field = {name: _scalar(value)}, None
            found[(env, platform, key)].append(entry)
        elif indent == 8 and entry is not None:
            if body.startswith("- "):  # a list written at the key's own indent
                if field is None:
                    return None
                entry[field].append(_scalar(body[2:]))
                continue
            name, sep, value = body.partition(":")
            if not sep:
                return None
            if value.strip():
                entry[name], field = _scalar(value.strip()), None
            else:
                entry[name], field = [], name
        elif indent == 10 and body.startswith("- ") and entry is not None and field is not None:
            entry[field].append(_scalar(body[2:]))
        elif indent == 8 and key is not None and entry is None:
            continue  # inside a mapping such as image: (not read by check)
        else:
            return None
    return found


def _as_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_as_text(v) for v in value] if value else "[]"
    return None if value is None else str(value)


def _row_key(row: dict[str, Any]) -> tuple[str, str]:
    return (str(row.get("name")), str(row.get("version")))


def _same_row(written: dict[str, Any], cached: dict[str, Any]) -> bool:
    for field, value in cached.items():
        expected = _as_text(value)
        got = written.get(field.replace("_", "-"))
        if got is None and expected in (None, "[]"):
            continue  # the lock leaves out None and empty lists (requires: [] is written)
        if got != expected:
            return False
    return not (set(written) - {f.replace("_", "-") for f in cached})


def _matches(data: dict[str, Any], text: str) -> bool:
    """Every entry and every field of the cached view is what the lock's text says."""
    found = _entries_in_text(text)
    if found is None:
        return False
    covered: set[tuple[str, str, str]] = set()
    for env, platforms in data.get("environments", {}).items():
        for platform, body in platforms.items():
            own = found.get((env, platform, ""), [{}])[0]
            covered.add((env, platform, ""))
            for name, value in body.items():
                if name == "image":
                    covered.add((env, platform, name))
                    continue  # not read by check
                if isinstance(value, list):
                    rows = found.get((env, platform, name), [])
                    covered.add((env, platform, name))
                    if len(rows) != len(value):
                        return False
                    pairs = zip(sorted(rows, key=_row_key), sorted(value, key=_row_key), strict=True)
                    if not all(isinstance(c, dict) and _same_row(w, c) for w, c in pairs):
                        return False
                else:
                    expected, got = _as_text(value), own.get(name.replace("_", "-"))
                    if not (got == expected or (got is None and expected in (None, "[]"))):
                        return False
    return all(key in covered for key in found)


def read_lock_fast(path: Path, full_read: Callable[[Path], Any]) -> Any:
    """A LockView from the cached data of these exact bytes, else full_read(path) (and cache it).

    The cached copy is keyed by the sha256 of the lock's bytes and checked against them: every
    field of every entry it holds must be what the lock's text says, read off the text with a
    line scan of envman's canonical layout, so an edited cache file cannot change what
    `check` expects."""
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
            if isinstance(data, dict) and data.get("version") == 1 and _matches(data, raw.decode("utf-8")):
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
