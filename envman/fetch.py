"""Shared by every ecosystem's sync: hash-verified artifacts from the cache, installers run
with their output kept for the error message."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from envman.errors import SyncError, UnreachableError

__all__ = ["fetch_verified", "run_installer"]


def fetch_verified(url: str, sha256: str, http: Any, cache: Any) -> Path:
    """The artifact from the content-addressed cache, else downloaded and verified; exit 5
    on a mismatch (nothing is installed from an artifact that is not the locked one)."""
    from envman.http import NotFound

    found: Path | None = cache.get_artifact(sha256)
    if found is not None and _digest(found) == sha256.removeprefix("sha256:"):
        return found  # checked again: a cached file is only used while it is still the locked one
    try:
        data = http.get(url)
    except NotFound:
        from envman.redact import redact_url

        raise UnreachableError(f"{redact_url(url)}: not found (404)") from None
    try:
        _, path = cache.put_artifact(data, sha256)
    except ValueError as exc:
        from envman.redact import redact_url

        raise SyncError(f"{redact_url(url)}: {exc}; refusing to install it") from None
    return Path(path)


def run_installer(argv: list[str], what: str, env: dict[str, str] | None = None) -> None:
    """Run an installer; exit 4 when it is missing, 5 when it fails (its last lines shown)."""
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=1800)
    except FileNotFoundError:
        raise UnreachableError(f"{what}: {argv[0]} not found") from None
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.decode("utf-8", "replace").strip().splitlines()[-12:])
        raise SyncError(f"{what} failed (exit {proc.returncode}):\n{tail}")


def _digest(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
