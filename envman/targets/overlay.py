"""A running container's changes against its image, read from the engine's overlay2 folders
on this machine (I/O).

`docker diff` (`GET /containers/{id}/changes`) answers the same question, but engine 20.10
walks the whole image for it (0.25 s of dockerd's CPU for a 6,000-file image, 0.7 s for
15,000 files, measured here: more than probing the container), so envman reads what the
overlay2 driver's own native diff reads: the container's upper folder (`GraphDriver.Data.
UpperDir` of the inspect), which holds exactly the paths the container added, changed or
deleted (whiteouts: character devices 0/0; `trusted.overlay.opaque=y` folders hide the
image's folder), and, for the few changed paths that matter, the image's layers
(`LowerDir`, top first) to tell a folder copied up for a change inside it from a folder
whose type or mode changed. Only when the engine runs on this machine with the overlay2
driver and its folders can be read (root, or rootless docker's own folders); otherwise
`changes_of` answers None and nothing is shared.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping
from typing import Any, NamedTuple

__all__ = ["Entry", "Changes", "changes_of", "MAX_CHANGES"]

MAX_CHANGES = 50_000  # a container that changed more than this many paths is probed itself
_OPAQUE = ("trusted.overlay.opaque", "user.overlay.opaque")
_REDIRECT = ("trusted.overlay.redirect", "user.overlay.redirect")


class Entry(NamedTuple):
    """One path as a layer holds it: its file type (stat.S_IFMT), mode bits, owner; a
    whiteout (the path was deleted); an opaque folder (the layers below it are hidden)."""

    kind: int
    mode: int
    uid: int
    gid: int
    whiteout: bool = False
    opaque: bool = False

    @property
    def is_dir(self) -> bool:
        return self.kind == stat.S_IFDIR and not self.whiteout


def _entry(path: str) -> Entry | None:
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return None
    kind = stat.S_IFMT(info.st_mode)
    whiteout = kind == stat.S_IFCHR and info.st_rdev == 0
    opaque = False
    if kind == stat.S_IFDIR:
        opaque = _marked(path, _OPAQUE, b"y") or _marked(path, _REDIRECT, None)
    return Entry(kind, stat.S_IMODE(info.st_mode), info.st_uid, info.st_gid, whiteout, opaque)


def _marked(path: str, names: tuple[str, ...], value: bytes | None) -> bool:
    """Whether one of the xattrs is set (to value, when given); one that cannot be read
    (no permission, no xattr support) counts as set: the folder is then never taken as
    unchanged."""
    import errno

    for name in names:
        try:
            found = os.getxattr(path, name, follow_symlinks=False)
        except OSError as exc:
            if exc.errno in (errno.ENODATA, getattr(errno, "ENOATTR", errno.ENODATA)):
                continue
            if name.startswith("user.") and exc.errno in (errno.ENOTSUP, errno.EOPNOTSUPP):
                continue  # a file system without user xattrs has none of these either
            return True
        if value is None or found == value:
            return True
    return False


class Changes:
    """The container's changed paths (path -> Entry in its upper folder) and a lookup of the
    image's entry at a path (through the layers, as overlayfs merges them)."""

    def __init__(self, upper: Mapping[str, Entry], layers: list[str]) -> None:
        self.upper = dict(upper)
        self.layers = layers
        self._lower: dict[str, Entry | None] = {}

    def lower(self, path: str) -> Entry | None:
        """The image's entry at `path` (None when the image has none)."""
        if path not in self._lower:
            self._lower[path] = self._lookup(path)
        return self._lower[path]

    def _lookup(self, path: str) -> Entry | None:
        parts = [p for p in path.split("/") if p]
        for layer in self.layers:
            hidden_below = False
            present = True
            for depth in range(1, len(parts)):
                here = _entry(os.path.join(layer, *parts[:depth]))
                if here is None:
                    present = False
                    break
                if here.whiteout or not here.is_dir:
                    return None  # deleted, or not a folder, in this layer: nothing below it
                if here.opaque:
                    hidden_below = True
            if present:
                found = _entry(os.path.join(layer, *parts)) if parts else _entry(layer)
                if found is not None:
                    return None if found.whiteout else found
            if hidden_below:
                return None
        return None


def changes_of(attrs: Mapping[str, Any]) -> Changes | None:
    """The container's changes from its inspect data, or None when they cannot be read here
    (not overlay2, folders not on this machine or not readable, too many changes)."""
    driver = attrs.get("GraphDriver") or {}
    data = driver.get("Data") or {}
    upper, lower = data.get("UpperDir"), data.get("LowerDir")
    if driver.get("Name") != "overlay2" or not isinstance(upper, str) or not isinstance(lower, str):
        return None
    layers = [p for p in lower.split(":") if p]
    if not layers or not all(os.path.isabs(p) and os.path.isdir(p) for p in [upper, *layers]):
        return None
    found: dict[str, Entry] = {}
    todo = [(upper, "")]
    try:
        while todo:
            folder, rel = todo.pop()
            with os.scandir(folder) as entries:
                for item in entries:
                    path = f"{rel}/{item.name}"
                    entry = _entry(item.path)
                    if entry is None:
                        continue  # removed while being read
                    found[path] = entry
                    if len(found) > MAX_CHANGES:
                        return None
                    if entry.is_dir:
                        todo.append((item.path, path))
    except OSError:
        return None
    return Changes(found, layers)
