"""`envman sync jars:DIR`: place the locked, sha256-verified jars, remove the others."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from envman.ecosystems.base import SyncRequest
from envman.fetch import fetch_verified

__all__ = ["sync_jars", "jar_filename"]


def jar_filename(name: str, version: str) -> str:
    parts = name.split(":")
    artifact = parts[1] if len(parts) > 1 else parts[0]
    classifier = parts[2] if len(parts) > 2 else None
    return f"{artifact}-{version}" + (f"-{classifier}" if classifier else "") + ".jar"


def sync_jars(request: SyncRequest) -> None:
    folder = Path(request.location)
    files: dict[str, list[str]] = {}
    for pkg in request.installed:
        if pkg.location:
            files.setdefault(pkg.name, []).append(pkg.location)
    by_name = {e.name: e for e in request.entries}
    http, cache = request.services.http, request.services.cache
    sources = {
        a.name: fetch_verified(by_name[a.name].url, by_name[a.name].sha256, http, cache)
        for a in request.actions
        if a.op in ("install", "change", "reinstall")
    }  # every artifact verified before anything changes
    for action in request.actions:
        if action.op == "remove":
            for path in files.get(action.name, []):
                Path(path).unlink(missing_ok=True)
    for action in request.actions:
        if action.op not in ("install", "change", "reinstall"):
            continue
        entry = by_name[action.name]
        target = folder / jar_filename(entry.name, entry.version)
        tmp = target.with_name(f".{target.name}.envman-tmp")
        shutil.copyfile(sources[action.name], tmp)
        os.replace(tmp, target)
        for path in files.get(action.name, []):
            if Path(path).resolve() != target.resolve():
                Path(path).unlink(missing_ok=True)
