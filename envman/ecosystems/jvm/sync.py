"""`envman sync jars:DIR`: place the locked, sha256-verified jars, remove the others.

Every write and removal stays inside DIR (envman.limits.confined_path): names and versions
come from the lock and are held to the Maven grammar first, the file name is one path
component, no symlink may lead out, and a temporary file is created exclusively without
following links.
"""

from __future__ import annotations

import os
from pathlib import Path

from envman.ecosystems.base import SyncRequest
from envman.ecosystems.jvm.coordinates import InvalidCoordinate, check_name, check_version
from envman.errors import BadInputError, SyncError
from envman.fetch import fetch_verified
from envman.limits import confined_path

__all__ = ["sync_jars", "jar_filename"]


def jar_filename(name: str, version: str) -> str:
    """`artifact-version[-classifier].jar` of a lock entry; BadInputError (exit 2) for a name
    or version outside the Maven grammar (a tampered lock)."""
    try:
        check_name(name)
        check_version(version)
    except InvalidCoordinate as exc:
        raise BadInputError(f"lock entry {name!r} {version!r}: {exc}; refusing to write it (run `envman lock`)") from None
    parts = name.split(":")
    artifact = parts[1]
    classifier = parts[2] if len(parts) > 2 else None
    return f"{artifact}-{version}" + (f"-{classifier}" if classifier else "") + ".jar"


def _inside(folder: Path, path: str, what: str) -> Path:
    """path (absolute, as the probe reported it) confined to folder."""
    relative = os.path.relpath(os.path.abspath(path), os.path.abspath(folder))
    return confined_path(folder, relative, what)


def _copy(source: Path, tmp: Path, target: Path) -> None:
    try:
        if os.path.lexists(tmp):
            os.unlink(tmp)  # a leftover (or a planted link): removed, never followed
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        fd = os.open(tmp, flags, 0o644)
        with os.fdopen(fd, "wb") as out, open(source, "rb") as src:
            while True:
                chunk = src.read(1 << 20)
                if not chunk:
                    break
                out.write(chunk)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise SyncError(f"cannot write {target}: {exc.strerror or exc}") from None


def sync_jars(request: SyncRequest) -> None:
    folder = Path(request.location)
    files: dict[str, list[str]] = {}
    for pkg in request.installed:
        if pkg.location:
            files.setdefault(pkg.name, []).append(pkg.location)
    by_name = {e.name: e for e in request.entries}
    wanted = [a for a in request.actions if a.op in ("install", "change", "reinstall")]
    targets = {  # every name checked and confined before anything is fetched or changed
        a.name: confined_path(folder, jar_filename(by_name[a.name].name, by_name[a.name].version), request.target)
        for a in wanted
    }
    removals = {
        a.name: [_inside(folder, path, request.target) for path in files.get(a.name, [])]
        for a in request.actions
    }
    http, cache = request.services.http, request.services.cache
    sources = {}  # every artifact verified before anything changes
    for number, action in enumerate(wanted, 1):
        entry = by_name[action.name]
        request.services.progress(f"jvm: fetching {entry.name} {entry.version} ({number}/{len(wanted)})")
        sources[action.name] = fetch_verified(entry.url, entry.sha256, http, cache)
    for action in request.actions:
        if action.op == "remove":
            for path in removals[action.name]:
                path.unlink(missing_ok=True)
    for action in wanted:
        target = targets[action.name]
        tmp = confined_path(folder, f".{target.name}.envman-tmp", request.target)
        _copy(sources[action.name], tmp, target)
        for path in removals[action.name]:
            if path.resolve() != target.resolve():
                path.unlink(missing_ok=True)
