"""The project a check runs against: manifest + lock, now or as committed at a git revision."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envman.errors import BadInputError, EnvmanError, UnreachableError

__all__ = ["Project"]


@dataclass
class Project:
    manifest_path: Path
    _manifest: dict[str | None, Any] = field(default_factory=dict)
    _lock: dict[str | None, Any] = field(default_factory=dict)

    @property
    def lock_path(self) -> Path:
        return self.manifest_path.with_name("envman.lock")

    # -- now ---------------------------------------------------------------------------
    def lock(self, rev: str | None = None) -> Any:
        if rev not in self._lock:
            from envman.lock import parse_lock, read_lock

            if rev is None:
                self._lock[rev] = _read_lock_cached(self.lock_path, read_lock)
            else:
                text = self._git_show(rev, self.lock_path.name, f"lock:@{rev}")
                self._lock[rev] = parse_lock(text, f"{self.lock_path}@{rev}")
        return self._lock[rev]

    def manifest(self, rev: str | None = None) -> Any:
        """The manifest, or None when it is absent or unreadable (it only adds runtime versions)."""
        if rev not in self._manifest:
            from envman.manifest import load_manifest, parse_manifest

            try:
                if rev is None:
                    self._manifest[rev] = load_manifest(self.manifest_path) if self.manifest_path.is_file() else None
                else:
                    text = self._git_show(rev, self.manifest_path.name, f"lock:@{rev}")
                    self._manifest[rev] = parse_manifest(text, f"{self.manifest_path}@{rev}")
            except EnvmanError:
                self._manifest[rev] = None
        return self._manifest[rev]

    def manifest_data(self, rev: str | None = None) -> dict[str, Any] | None:
        """The manifest as plain data, unvalidated (for runtime versions and declared sections).

        check needs only `r.version`, `jvm.java` and which sections exist; a fast YAML read
        keeps ruamel and the manifest models out of its path. None when absent or unreadable.
        """
        key = ("data", rev)
        if key not in self._manifest:
            import yaml

            try:
                if rev is None:
                    text = self.manifest_path.read_text(encoding="utf-8") if self.manifest_path.is_file() else None
                else:
                    text = self._git_show(rev, self.manifest_path.name, f"lock:@{rev}")
                data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) if text else None
            except (EnvmanError, OSError, UnicodeDecodeError, yaml.YAMLError):
                data = None
            self._manifest[key] = data if isinstance(data, dict) else None
        return self._manifest[key]

    def environment(self, requested: str | None, rev: str | None = None) -> str:
        """--env, else the only environment, else `production` (the lock has the manifest's environments)."""
        if requested:
            return requested
        names = sorted(self.lock(rev).environments)
        if len(names) == 1:
            return names[0]
        if "production" in names:
            return "production"
        if not names:
            raise BadInputError(f"{self.lock_path}: the lock has no environments")
        raise BadInputError(f"{self.lock_path}: several environments ({', '.join(names)}) and none is `production`; pass --env")

    # -- git ---------------------------------------------------------------------------
    def _git_show(self, rev: str, name: str, what: str) -> str:
        """`git show REV:./NAME` run in the project folder: the file as committed, no checkout."""
        if rev.startswith("-"):
            raise BadInputError(f"{what}: {rev!r} is not a git revision")
        folder = self.manifest_path.parent.resolve()
        try:
            proc = subprocess.run(
                ["git", "-C", str(folder), "show", f"{rev}:./{name}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                timeout=60,
            )
        except FileNotFoundError:
            raise UnreachableError(f"{what}: git is not installed") from None
        except subprocess.TimeoutExpired:
            raise UnreachableError(f"{what}: git did not answer") from None
        if proc.returncode != 0:
            message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            raise UnreachableError(f"{what}: no {name} at git revision {rev!r} in {folder}: {message[-1] if message else 'git failed'}")
        return proc.stdout.decode("utf-8", "replace")


def _read_lock_cached(path: Path, read_lock: Any) -> Any:
    """The lock, from a JSON copy in the envman cache keyed by the lock's sha256 when there is one.

    YAML parsing dominates `check` on a big lock (about 55 ms for 1,000 entries, against 3 ms
    for JSON); the copy is written after a full, validated parse, so it holds only valid locks.
    """
    import hashlib
    import json

    from envman.lock import Lock, lock_to_data

    try:
        raw = path.read_bytes()
    except OSError:
        return read_lock(path)
    key = "envman-lock-json:" + hashlib.sha256(raw).hexdigest()
    try:
        from envman.cache import ArtifactCache

        cache = ArtifactCache()
        cached = cache.get_index(key)
    except Exception:
        cache, cached = None, None
    if cached is not None:
        try:
            return Lock.model_validate(json.loads(cached))
        except Exception:
            pass
    lock = read_lock(path)
    if cache is not None:
        try:
            cache.put_index(key, json.dumps(lock_to_data(lock), separators=(",", ":")).encode())
        except Exception:
            pass
    return lock
