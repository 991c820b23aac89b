"""One content-addressed artifact cache and index cache, safe for concurrent runs.

Layout under the cache root (platformdirs user cache; XDG_CACHE_HOME honoured;
ENVMAN_CACHE_DIR overrides):
    artifacts/sha256/ab/abcdef…     files by the sha256 of their bytes
    index/<sha256 of url>           fetched index documents (PACKAGES, POMs, metadata)
Writes go to a temp file in the same folder, then an atomic rename, so readers never see
a partial file and two runs writing the same entry both succeed.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from envman.cachepaths import cache_root_text, index_file

__all__ = ["cache_root", "cache_root_text", "index_file", "ArtifactCache"]


def cache_root() -> Path:
    return Path(cache_root_text())


class ArtifactCache:
    def __init__(self, root: Path | None = None) -> None:
        self.root = root or cache_root()

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
        if not path.is_file():
            from envman.atomic import atomic_write_bytes

            atomic_write_bytes(path, data, fsync=False)
        return digest, path

    # -- index documents by URL -------------------------------------------------------
    def index_path(self, url: str) -> Path:
        return Path(index_file(str(self.root), url))

    def get_index(self, url: str) -> bytes | None:
        try:
            return self.index_path(url).read_bytes()
        except FileNotFoundError:
            return None

    def put_index(self, url: str, data: bytes) -> Path:
        from envman.atomic import atomic_write_bytes

        path = self.index_path(url)
        atomic_write_bytes(path, data, fsync=False)
        return path
