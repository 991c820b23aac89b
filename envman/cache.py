"""One content-addressed artifact cache and index cache, safe for concurrent runs.

Layout under the cache root (platformdirs user cache; XDG_CACHE_HOME honoured;
ENVMAN_CACHE_DIR overrides):
    artifacts/sha256/ab/abcdef…     files by the sha256 of their bytes
    index/<sha256 of url>           fetched index documents (PACKAGES, POMs, metadata)
Writes go to a temp file in the same folder, then an atomic rename, so readers never see
a partial file and two runs writing the same entry both succeed.

The cache is private: the root is 0700 (an existing root of ours that others can read is
tightened), every folder envman creates in it 0700 and every file 0600. What it holds is
data derived from public repositories and from the manifest; it must never hold a secret
(credentials stay in the manifest and in memory). A cache file is read only when it is a
regular file within the index_bytes limit; anything else counts as absent.
"""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

from envman.cachepaths import cache_root_text, index_file

__all__ = ["cache_root", "cache_root_text", "index_file", "ArtifactCache", "ensure_private_root"]

_prepared: set[str] = set()  # roots made private by this process


def cache_root() -> Path:
    return Path(cache_root_text())


def ensure_private_root(root: Path) -> None:
    """The cache root exists and is 0700. A root that exists with group or other access is
    tightened when this user owns it (and it is not a shared sticky folder such as /tmp)."""
    key = str(root)
    if key in _prepared:
        return
    from envman.atomic import PRIVATE_DIR_MODE, make_private_dirs

    make_private_dirs(root)
    info = os.stat(root)
    if info.st_mode & 0o077 and info.st_uid == os.geteuid() and not info.st_mode & stat.S_ISVTX:
        os.chmod(root, PRIVATE_DIR_MODE)
    _prepared.add(key)


class ArtifactCache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_root()

    def _write(self, path: Path, data: bytes) -> None:
        from envman.atomic import atomic_write_bytes

        ensure_private_root(self.root)
        atomic_write_bytes(path, data, fsync=False, private=True)

    # -- artifacts by content ---------------------------------------------------------
    def artifact_path(self, sha256: str) -> Path:
        digest = sha256.removeprefix("sha256:")
        return self.root / "artifacts" / "sha256" / digest[:2] / digest

    def get_artifact(self, sha256: str) -> Path | None:
        path = self.artifact_path(sha256)
        return path if path.is_file() else None

    def put_artifact(self, data: bytes, expected_sha256: str | None = None) -> tuple[str, Path]:
        """Store bytes; return (sha256 hex, path). Raises ValueError on a hash mismatch."""
        digest = hashlib.sha256(data).hexdigest()
        if expected_sha256 and digest != expected_sha256.removeprefix("sha256:"):
            raise ValueError(f"sha256 mismatch: expected {expected_sha256.removeprefix('sha256:')}, got {digest}")
        path = self.artifact_path(digest)
        if not path.is_file() or path.stat().st_size != len(data) or _file_digest(path) != digest:
            self._write(path, data)  # absent, or no longer the bytes its name says: replace it
        return digest, path

    # -- index documents by URL -------------------------------------------------------
    def index_path(self, url: str) -> Path:
        return Path(index_file(str(self.root), url))

    def get_index(self, url: str) -> bytes | None:
        """The cached document, or None when absent, not a regular file or over index_bytes."""
        from envman.errors import EnvmanError
        from envman.limits import read_regular_file

        try:
            return read_regular_file(self.index_path(url), "index_bytes")
        except (OSError, EnvmanError):
            return None

    def put_index(self, url: str, data: bytes) -> Path:
        path = self.index_path(url)
        self._write(path, data)
        return path


def _file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
