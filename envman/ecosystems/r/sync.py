"""`envman sync rlib:DIR`: R CMD INSTALL of the locked, sha256-verified source tarballs."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from envman.ecosystems.base import SyncRequest
from envman.errors import UnreachableError
from envman.fetch import fetch_verified, run_installer

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


def sync_rlib(request: SyncRequest) -> None:
    lib = Path(request.location)
    by_name = {e.name: e for e in request.entries}
    entries = [by_name[a.name] for a in request.actions if a.op in ("install", "change", "reinstall")]
    r_bin = shutil.which("R")
    if entries and r_bin is None:
        raise UnreachableError(f"{request.target}: R is not installed (R CMD INSTALL is needed to install packages)")
    http, cache = request.services.http, request.services.cache
    with tempfile.TemporaryDirectory(prefix="envman-sync-") as tmp:
        tarballs = []
        for entry in install_order(entries):  # every artifact verified before anything changes
            cached = fetch_verified(entry.url, entry.sha256, http, cache)
            tarball = Path(tmp) / f"{entry.name}_{entry.version}.tar.gz"
            shutil.copyfile(cached, tarball)
            tarballs.append(str(tarball))
        for action in request.actions:
            if action.op == "remove":
                shutil.rmtree(lib / action.name)
        if not tarballs or r_bin is None:
            return
        env = dict(os.environ)
        env["R_LIBS"] = str(lib) + (os.pathsep + env["R_LIBS"] if env.get("R_LIBS") else "")
        run_installer([r_bin, "CMD", "INSTALL", "--no-test-load", "-l", str(lib), *tarballs], f"{request.target}: R CMD INSTALL", env=env)
