"""`envman sync rlib:DIR`: R CMD INSTALL of the locked, sha256-verified source tarballs.

Every write is confined to DIR: names and versions are held to R's grammar (a lock naming
`../x` is refused, exit 2), lib/<name> must not lead out of DIR through a symlink, and a
package folder that is a symlink is removed as a link, never followed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from envman.ecosystems.base import SyncRequest
from envman.ecosystems.r.grammar import name_problem, version_problem
from envman.ecosystems.r.remotes import ensure_cached
from envman.errors import BadInputError, SyncError, UnreachableError
from envman.fetch import fetch_verified, run_installer
from envman.limits import confined_path

__all__ = ["sync_rlib", "install_order"]


def install_order(entries: list[Any]) -> list[Any]:
    """Dependencies first, among the entries to install (others are already there)."""
    names = {e.name: e for e in entries}
    ordered: list[Any] = []
    state: dict[str, int] = {}

    def visit(name: str) -> None:
        if state.get(name) in (1, 2):
            return  # done, or a cycle (R allows none among Imports/Depends): keep going
        state[name] = 1
        for dep in names[name].requires:
            dep_name = dep.split("(")[0].split()[0].strip() if dep.strip() else ""
            if dep_name in names:
                visit(dep_name)
        state[name] = 2
        ordered.append(names[name])

    for name in sorted(names):
        visit(name)
    return ordered


def _checked(names: list[tuple[str, str | None]], target: str) -> None:
    """Names (and versions) from the lock or the plan, held to R's grammar before any of
    them names a file: a tampered lock naming `../x` is refused here (exit 2)."""
    for name, version in names:
        problem = name_problem(name) or (version_problem(version) if version is not None else None)
        if problem:
            raise BadInputError(f"{target}: refusing to sync: {problem} (was envman.lock edited by hand?)")


def _remove(lib: Path, name: str, target: str) -> None:
    """Remove lib/name; a symlink is removed itself, never followed out of the library."""
    path = lib / name
    try:
        if path.is_symlink():
            path.unlink()
        elif path.exists():
            shutil.rmtree(confined_path(lib, name, f"{target}: removing {name}"))
    except OSError as exc:
        raise SyncError(f"{target}: cannot remove {path}: {exc.strerror or exc}") from None


def sync_rlib(request: SyncRequest) -> None:
    lib = Path(request.location)
    by_name = {e.name: e for e in request.entries}
    entries = [by_name[a.name] for a in request.actions if a.op in ("install", "change", "reinstall")]
    removals = [a.name for a in request.actions if a.op == "remove"]
    _checked([(e.name, e.version) for e in entries] + [(name, None) for name in removals], request.target)
    for entry in entries:  # what R CMD INSTALL writes, lib/<name>, stays in the library
        confined_path(lib, entry.name, f"{request.target}: installing {entry.name}")
    r_bin = shutil.which("R")
    if entries and r_bin is None:
        raise UnreachableError(f"{request.target}: R is not installed (R CMD INSTALL is needed to install packages)")
    http, cache = request.services.http, request.services.cache
    with tempfile.TemporaryDirectory(prefix="envman-sync-") as tmp:
        tarballs = []
        ordered = install_order(entries)
        for number, entry in enumerate(ordered, 1):  # every artifact verified before anything changes
            request.services.progress(f"r: fetching {entry.name} {entry.version} ({number}/{len(ordered)})")
            ensure_cached(entry, cache)  # a package from a git remote: its tarball made from the locked commit
            cached = fetch_verified(entry.url, entry.sha256, http, cache)
            tarball = confined_path(tmp, f"{entry.name}_{entry.version}.tar.gz", request.target)
            shutil.copyfile(cached, tarball)
            tarballs.append(str(tarball))
        for name in removals:
            _remove(lib, name, request.target)
        if not tarballs or r_bin is None:
            return
        request.services.progress(f"r: installing {len(tarballs)} package(s) with R CMD INSTALL")
        env = dict(os.environ)
        env["R_LIBS"] = str(lib) + (os.pathsep + env["R_LIBS"] if env.get("R_LIBS") else "")
        run_installer([r_bin, "CMD", "INSTALL", "--no-test-load", "-l", str(lib), *tarballs], f"{request.target}: R CMD INSTALL", env=env)
