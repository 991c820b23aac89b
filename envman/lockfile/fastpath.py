"""The lock's fast path: what `lock --check` and a no-op `lock` need, without heavy imports.

The lock's first line records the sha256 of the rest of the file. When it matches, the
file is exactly what envman wrote (not hand-edited), so its manifest-hash block can be read
with a line scan instead of a YAML parse plus model validation. Manifest hashes are taken
over the manifest's data as parsed by libyaml (not over the validated models), so they
need neither ruamel nor pydantic: a manifest whose data equals what was locked was valid
when it was locked. Anything unexpected returns None and the caller takes the full path.
"""

from __future__ import annotations

import hashlib

TYPE_CHECKING = False  # typing costs ~7 ms to import; annotations here are strings
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "hashed_sections",
    "content_digest",
    "trusted_manifest_hashes",
    "stale_sections",
    "manifest_data",
    "manifest_hashes_from_data",
    "manifest_hashes_cached",
]

_OTHER_SECTIONS = ("image",)


def hashed_sections() -> tuple[str, ...]:
    """Sections with their own hash: every registered ecosystem, then image."""
    from envman import ecosystems

    return (*ecosystems.names(), *_OTHER_SECTIONS)
# Plain string checks, no `re` or `json`: each costs more to import than this whole path.
_HEADER_START = "# envman.lock: "
_CONTENT = " content: sha256:"
_HEX = frozenset("0123456789abcdef")
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.@-")


def content_digest(body: str) -> str:
    return "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()


def trusted_manifest_hashes(text: str) -> dict[str, str] | None:
    """manifest-hash of a lock envman wrote and nobody edited since; else None."""
    first, newline, body = text.partition("\n")
    marker = first.rfind(_CONTENT)
    digest = first[marker + len(_CONTENT):] if marker >= 0 else ""
    if not (newline and first.startswith(_HEADER_START) and len(digest) == 64 and set(digest) <= _HEX):
        return None
    if content_digest(body) != "sha256:" + digest:
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
        key, sep, value = line[2:].partition(": ")
        if not (line.startswith("  ") and sep and key and set(key) <= _KEY_CHARS and value and " " not in value):
            break
        hashes[key] = value.strip("'")
    return hashes or None


def stale_sections(lock_hashes: dict[str, str], current: dict[str, str]) -> list[str]:
    """Human descriptions of what changed between the lock's hashes and the manifest's."""
    changes: list[str] = []
    for section in hashed_sections():
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


def _digest(data: Any) -> str:
    import json

    blob = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True, default=str)
    return "sha256:" + hashlib.sha256(blob.encode()).hexdigest()


def manifest_data(text: str) -> Any:
    """The manifest's data as libyaml parses it (the input of the hashes); None if it is not
    a plain YAML document (unparsable, or refused by envman.yamlguard: the full path, which
    validates the manifest, words the error)."""
    import yaml

    from envman.errors import EnvmanError
    from envman.yamlguard import check_yaml

    try:
        check_yaml(text, "envman.yaml")
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (yaml.YAMLError, EnvmanError, ValueError, RecursionError):
        return None


def manifest_hashes_from_data(data: dict[str, Any]) -> dict[str, str]:
    """Hash of the whole manifest, of each section, and of each environment's additions.

    A section's hash covers what its resolution depends on: the section, the platforms, the
    environment names and every environment's additions to it, so `lock --check` can name
    what changed and `lock` re-resolves only that section. Comments and formatting do not
    count; a changed value does, even one that only restates a default.
    """
    environments = data.get("environments") or {}
    env_names = sorted(environments) or ["default"]
    hashes = {"all": _digest(data)}
    for section in hashed_sections():
        top = data.get(section)
        if top is None:
            continue
        additions = {}
        for env in env_names:
            overlay = environments.get(env) if isinstance(environments, dict) else None
            added = overlay.get(section) if isinstance(overlay, dict) else None
            additions[env] = added
            if section != "image":
                hashes[f"{section}@{env}"] = _digest({"top": top, "add": added})
        hashes[section] = _digest({"top": top, "platforms": data.get("platforms"), "environments": additions})
    return hashes


_MEMO_KEY = "envman-manifest-hashes-v2:"


def manifest_hashes_cached(text: str) -> dict[str, str] | None:
    """The manifest's hashes, remembered in the envman cache under the sha256 of its text
    (so an unchanged manifest is not parsed again: no YAML import on the fast path); None
    when the text is not a YAML mapping."""
    from envman.cachepaths import read_index_bytes

    key = _MEMO_KEY + hashlib.sha256(text.encode("utf-8")).hexdigest()
    memo = read_index_bytes(key)  # regular files only: a FIFO in the cache must not block
    try:  # one "section sha256:…" per line
        found = dict(line.split(" ", 1) for line in (memo or b"").decode("utf-8").splitlines() if " " in line)
        if found and all(v.startswith("sha256:") for v in found.values()):
            return found
    except (UnicodeDecodeError, ValueError):
        pass
    data = manifest_data(text)
    if not isinstance(data, dict):
        return None
    hashes = manifest_hashes_from_data(data)
    try:
        from envman.cache import ArtifactCache

        ArtifactCache().put_index(key, "".join(f"{k} {v}\n" for k, v in sorted(hashes.items())).encode())
    except OSError:
        pass  # a read-only cache only costs the next run a parse
    return hashes
