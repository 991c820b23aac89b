"""The lock's fast path: what `lock --check` and a no-op `lock` need, without heavy imports.

The lock's first line records the sha256 of the rest of the file. When it matches, the
file is exactly what envman wrote (not hand-edited), so its manifest-hash block can be read
with a line scan instead of a YAML parse plus model validation. Manifest hashes are
memoized by the manifest's bytes (and envman's version) in the cache, so an unchanged
manifest needs no YAML parse or pydantic either. Anything unexpected returns None and the
caller takes the full path.
"""

from __future__ import annotations

import hashlib
import json
import os
import re

__all__ = [
    "HASHED_SECTIONS",
    "content_digest",
    "trusted_manifest_hashes",
    "stale_sections",
    "memo_path",
    "read_memo",
    "write_memo",
]

HASHED_SECTIONS = ("python", "r", "jvm", "conda", "system", "image")
_HEADER = re.compile(r"^# envman\.lock: .* content: (sha256:[0-9a-f]{64})\n")
_HASH_LINE = re.compile(r"^  ([A-Za-z0-9_.@\-]+): (sha256:[0-9a-f]{64}|'[^']*'|\S+)$")


def content_digest(body: str) -> str:
    return "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()


def trusted_manifest_hashes(text: str) -> dict[str, str] | None:
    """manifest-hash of a lock envman wrote and nobody edited since; else None."""
    header = _HEADER.match(text)
    if header is None:
        return None
    body = text[header.end():]
    if content_digest(body) != header.group(1):
        return None
    lines = body.split("\n")
    try:
        start = lines.index("manifest-hash:")
    except ValueError:
        return None
    if "version: 1" not in lines[:start]:
        return None
    hashes: dict[str, str] = {}
    for line in lines[start + 1:]:
        match = _HASH_LINE.match(line)
        if match is None:
            break
        hashes[match.group(1)] = match.group(2).strip("'")
    return hashes or None


def stale_sections(lock_hashes: dict[str, str], current: dict[str, str]) -> list[str]:
    """Human descriptions of what changed between the lock's hashes and the manifest's."""
    changes: list[str] = []
    for section in HASHED_SECTIONS:
        old, new = lock_hashes.get(section), current.get(section)
        if old == new:
            continue
        if old is None:
            changes.append(f"section `{section}` was added to the manifest")
            continue
        if new is None:
            changes.append(f"section `{section}` was removed from the manifest")
            continue
        envs = sorted(
            key.split("@", 1)[1]
            for key in set(lock_hashes) | set(current)
            if key.startswith(section + "@") and lock_hashes.get(key) != current.get(key)
        )
        if envs:
            changes.append(f"section `{section}` changed in environment(s) {', '.join(envs)}")
        else:
            changes.append(f"section `{section}` changed (platforms or environments)")
    if not changes and lock_hashes.get("all") != current.get("all"):
        changes.append("manifest metadata changed (name, platforms or environments)")
    return changes


def memo_path(manifest_bytes: bytes) -> str:
    from envman import __version__

    root = os.environ.get("ENVMAN_CACHE_DIR")
    if not root:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        root = os.path.join(base, "envman")
    key = hashlib.sha256(__version__.encode() + b"\0" + manifest_bytes).hexdigest()
    return os.path.join(root, "manifest-memo", key[:2], key + ".json")


def read_memo(manifest_bytes: bytes) -> dict[str, str] | None:
    try:
        with open(memo_path(manifest_bytes), encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and all(isinstance(v, str) for v in data.values()) else None


def write_memo(manifest_bytes: bytes, hashes: dict[str, str]) -> None:
    """Best effort: a read-only cache must not fail the command."""
    path = memo_path(manifest_bytes)
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(hashes, handle, sort_keys=True)
        os.replace(tmp, path)
    except OSError:
        pass
