"""The project a check runs against: manifest + lock, now or as committed at a git revision."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from envman.errors import BadInputError, EnvmanError, UnreachableError

__all__ = ["Project"]


class Project:
    """envman.yaml and its lock, read once each (per git revision) and kept."""

    def __init__(self, manifest_path: Path) -> None:
        self.manifest_path = manifest_path
        self._manifest: dict[str | None, Any] = {}  # rev -> Manifest or None
        self._manifest_data: dict[str | None, dict[str, Any] | None] = {}  # rev -> plain data or None
        self._lock: dict[tuple[str | None, bool], Any] = {}

    @property
    def lock_path(self) -> Path:
        from envman.lockfile.paths import lock_path_for

        return lock_path_for(self.manifest_path)

    # -- now ---------------------------------------------------------------------------
    def lock(self, rev: str | None = None, full: bool = False) -> Any:
        """The lock (at a git revision). Read-only users get a LockView from the cache when the
        same bytes were parsed before; full=True always gives the validated models."""
        key = (rev, full)
        if key not in self._lock:
            if rev is None and not full:
                from envman.lockfile.view import read_lock_fast

                def read(path: Path) -> Any:
                    from envman.lockfile.canonical import read_lock

                    return read_lock(path)

                self._lock[key] = read_lock_fast(self.lock_path, read)
            elif rev is None:
                from envman.lockfile.canonical import read_lock

                self._lock[key] = read_lock(self.lock_path)
            else:
                from envman.lockfile.canonical import parse_lock

                text = self._git_show(rev, self.lock_path.name, f"lock at {rev}")
                self._lock[key] = parse_lock(text, f"{self.lock_path}@{rev}")
        return self._lock[key]

    def manifest(self, rev: str | None = None) -> Any:
        """The manifest, or None when it is absent or unreadable (it only adds runtime versions)."""
        if rev not in self._manifest:
            from envman.manifest import load_manifest, parse_manifest

            try:
                if rev is None:
                    self._manifest[rev] = load_manifest(self.manifest_path) if self.manifest_path.is_file() else None
                else:
                    text = self._git_show(rev, self.manifest_path.name, f"manifest at {rev}")
                    self._manifest[rev] = parse_manifest(text, f"{self.manifest_path}@{rev}")
            except EnvmanError:
                self._manifest[rev] = None
        return self._manifest[rev]

    def manifest_data(self, rev: str | None = None) -> dict[str, Any] | None:
        """The manifest as plain data, unvalidated (for runtime versions and declared sections).

        check needs only `r.version`, `jvm.java` and which sections exist; a fast YAML read
        keeps ruamel and the manifest models out of its path. None when absent or unreadable.
        """
        if rev not in self._manifest_data:
            from envman.limits import is_regular_file, read_regular_text

            path = self.manifest_path
            if rev is None and path.exists() and not is_regular_file(path):  # a FIFO, a device: say so, never read it
                raise BadInputError(f"{path}: not a regular file (a FIFO, device or folder); refusing to read it")
            try:
                if rev is None:
                    text = read_regular_text(path, "manifest_bytes") if is_regular_file(path) else None
                else:
                    text = self._git_show(rev, self.manifest_path.name, f"manifest at {rev}")
                data = _yaml_data_cached(text, str(self.manifest_path)) if text else None
            except (EnvmanError, OSError, UnicodeDecodeError, ValueError, RecursionError):
                data = None
            self._manifest_data[rev] = data if isinstance(data, dict) else None
        return self._manifest_data[rev]

    def environment(self, requested: str | None, rev: str | None = None) -> str:
        """--env, else the only environment, else `production` (the lock has the manifest's
        environments); see envman.lockfile.paths.default_environment."""
        from envman.lockfile.paths import default_environment

        if requested:
            return requested
        return default_environment(self.lock(rev).environments, None, where=str(self.lock_path))

    # -- git ---------------------------------------------------------------------------
    def _git_show(self, rev: str, name: str, what: str) -> str:
        """`git show REV:./NAME` run in the project folder: the file as committed, no checkout."""
        if rev.startswith("-"):
            raise BadInputError(f"{what}: {rev!r} is not a git revision")
        folder = self.manifest_path.parent.resolve()
        try:
            proc = subprocess.run(
                ["git", "-C", str(folder), "show", f"{rev}:./{name}"],
                capture_output=True,
                timeout=60,
            )
        except FileNotFoundError:
            raise UnreachableError(f"{what}: git is not installed") from None
        except subprocess.TimeoutExpired:
            raise UnreachableError(f"{what}: git did not answer") from None
        if proc.returncode != 0:
            message = proc.stderr.decode("utf-8", "replace").strip().splitlines()
            # an unknown revision or one without the file is bad input (exit 2), as for `history`
            raise BadInputError(f"{what}: no {name} at git revision {rev!r} in {folder}: {message[-1] if message else 'git failed'}")
        return proc.stdout.decode("utf-8", "replace")



def _runtime_facts(data: Any) -> Any:
    """What check reads from the manifest: which sections exist and their plain settings
    (`r.version`, `jvm.java`). Lists (requirements) and nested settings are left out, and
    so is every URL, which may carry credentials: nothing secret is cached."""
    if not isinstance(data, dict):
        return None
    facts: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            facts[str(key)] = {
                str(k): v for k, v in value.items() if isinstance(v, (str, int, float, bool)) and not (isinstance(v, str) and "://" in v)
            }
        elif isinstance(value, (str, int, float, bool)) or value is None:
            facts[str(key)] = value
    return facts


def _yaml_data_cached(text: str, filename: str = "envman.yaml") -> Any:
    """The manifest's runtime facts (see _runtime_facts), through a JSON copy in the envman
    cache keyed by the text's sha256. Hostile YAML (aliases, deep nesting) is refused before
    it is built (envman.yamlguard) and the copy is small whatever the manifest holds."""
    import hashlib
    import json

    key = "envman-yaml-facts-v1:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    cache = None
    try:
        from envman.cache import ArtifactCache

        cache = ArtifactCache()
        cached = cache.get_index(key)
        if cached is not None:
            return json.loads(cached)
    except Exception:
        pass
    import yaml

    from envman.yamlguard import check_yaml

    check_yaml(text, filename)
    try:
        data = _runtime_facts(yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)))
    except yaml.YAMLError as exc:
        raise ValueError(str(exc)) from None
    if cache is not None:
        try:
            cache.put_index(key, json.dumps(data, default=str).encode())
        except Exception:
            pass
    return data
