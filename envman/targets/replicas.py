"""Replicas are one probe: containers of one image, with one configuration, on one engine.

Production is mostly many containers of one image. For the containers of one run that share
an engine, an image ID and everything the probe's answer depends on (the interpreter and
probe options, Env, User, WorkingDir, labels, the security settings that decide what a
process may read), one is probed in full with `reads=1`: the probe then also reports every
path it read (envman.targets.probe_script.reads_report: import paths as whole trees,
folders it listed, single paths it stated or opened, each symlink met on the way and where
it leads, the interpreter and every file it maps). Each other container of the group
reuses that answer only when none of its own changes against the image
(envman.targets.overlay) and none of its mounts touches anything the probe read, and the
probed container's own changes and mounts do not either; otherwise it is probed in full
itself. A probe that started a program (Rscript, java) or could not be traced is never
shared. A wrong "in sync" is far worse than a slow check: every doubt is a full probe.

`touched` is pure: given the changes, the mounts and the reads, the first reason the
answer could differ (None when it cannot).
"""

from __future__ import annotations

import copy
import posixpath
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from envman.targets.overlay import Changes, Entry

__all__ = ["ReplicaPool", "replica_key", "touched", "mounts_of", "launch_nodes", "IMPLICIT_MOUNTS"]

# what the engine mounts into every container (its own files: they differ between containers)
IMPLICIT_MOUNTS = (
    "/proc", "/sys", "/dev", "/dev/shm", "/dev/pts", "/dev/mqueue", "/sys/fs/cgroup",
    "/etc/hosts", "/etc/hostname", "/etc/resolv.conf", "/.dockerenv",
)
# HostConfig settings that decide what a process in the container may read or see
_HOST_CONFIG = ("Privileged", "CapAdd", "CapDrop", "SecurityOpt", "Runtime", "UsernsMode", "GroupAdd", "ReadonlyRootfs",
                "MaskedPaths", "ReadonlyPaths", "Devices", "Isolation", "CgroupnsMode", "PidMode", "IpcMode")


def replica_key(attrs: Mapping[str, Any], engine: str | None, interpreter: str, options: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """What must be equal for two containers' probes to be shared; None: never shared."""
    import json

    image = attrs.get("Image")
    config = attrs.get("Config") or {}
    host = attrs.get("HostConfig") or {}
    if not isinstance(image, str) or not image:
        return None
    probe = json.dumps(options, sort_keys=True, default=str)
    settings = json.dumps(
        {
            "User": config.get("User"),
            "WorkingDir": config.get("WorkingDir"),
            "Env": config.get("Env"),
            "Labels": config.get("Labels"),
            "Driver": attrs.get("Driver"),
            "Platform": attrs.get("Platform"),
            **{name: host.get(name) for name in _HOST_CONFIG},
        },
        sort_keys=True,
        default=str,
    )
    return (engine or "", image, interpreter, probe, settings)


def mounts_of(attrs: Mapping[str, Any]) -> list[str]:
    """Every folder or file mounted into the container: volumes, binds, tmpfs, the engine's own."""
    found = [str(m.get("Destination")) for m in attrs.get("Mounts") or [] if isinstance(m, dict) and m.get("Destination")]
    host = attrs.get("HostConfig") or {}
    found += [str(path) for path in (host.get("Tmpfs") or {})]
    for item in host.get("Mounts") or []:
        if isinstance(item, dict) and item.get("Target"):
            found.append(str(item["Target"]))
    for bind in host.get("Binds") or []:
        parts = str(bind).split(":")
        if len(parts) >= 2:
            found.append(parts[1])
    return sorted({posixpath.normpath(p) for p in [*found, *IMPLICIT_MOUNTS] if p.startswith("/")})


_DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"  # the engine's, when Env has none


def launch_nodes(attrs: Mapping[str, Any], interpreter: str) -> list[str]:
    """Where the engine looks for an interpreter named without a folder (`python3`): every
    PATH entry, since one added earlier in PATH would be run instead."""
    if "/" in interpreter:
        return []
    config = attrs.get("Config") or {}
    path = next((str(e)[5:] for e in config.get("Env") or [] if str(e).startswith("PATH=")), _DEFAULT_PATH)
    base = str(config.get("WorkingDir") or "/")
    return [posixpath.normpath(posixpath.join(base, folder or ".", interpreter)) for folder in path.split(":")]


def _ancestors(path: str) -> Iterable[str]:
    while path != "/":
        path = posixpath.dirname(path)
        yield path


class _Roots:
    def __init__(self, reads: Mapping[str, Any]) -> None:
        def paths(name: str) -> set[str]:
            values = reads.get(name)
            if not isinstance(values, list):
                raise ValueError(f"the probe's reads have no {name} list")
            return {posixpath.normpath(str(p)) for p in values if isinstance(p, str) and p.startswith("/")}

        self.trees = paths("trees")
        self.lists = paths("lists")
        self.nodes = paths("nodes")
        self.all = self.trees | self.lists | self.nodes
        self.on_the_way = {a for p in self.all for a in _ancestors(p)}

    def in_tree(self, path: str) -> str | None:
        for parent in _ancestors(path):
            if parent in self.trees:
                return parent
        return None


def _same_folder(path: str, entry: Entry, changes: Changes) -> bool:
    """A folder copied up because something in it changed: still a folder over a folder,
    neither opaque nor renamed, same mode and owner as in the image."""
    if not entry.is_dir or entry.opaque:
        return False
    below = changes.lower(path)
    return below is not None and below.is_dir and (below.mode, below.uid, below.gid) == (entry.mode, entry.uid, entry.gid)


def touched(changes: Changes, mounts: Iterable[str], reads: Mapping[str, Any]) -> str | None:
    """Why the container's probe could answer differently from the image's (None: it cannot).

    A changed path P touches what the probe read when P is on the way to something read, or
    is something read, or is inside an import path (each unless P is a folder only copied up
    for a change inside it, which is then itself a changed path), or is a name added to,
    deleted from or changed in type in a listed folder. A mount touches when it is on the
    way to, at, inside or directly in (a listed folder) anything read."""
    if reads.get("untraceable"):
        return "the probe could not be traced (" + "; ".join(map(str, reads["untraceable"])) + ")"
    try:
        roots = _Roots(reads)
    except ValueError as exc:
        return str(exc)
    for mount in mounts:
        if mount in roots.all or mount in roots.on_the_way:
            return f"{mount} is mounted where the probe reads"
        if roots.in_tree(mount) is not None or posixpath.dirname(mount) in roots.lists:
            return f"{mount} is mounted inside what the probe reads"
    for path, entry in sorted(changes.upper.items()):
        if path in roots.on_the_way or path in roots.all:
            if not _same_folder(path, entry, changes):
                return f"{path} changed"
            continue
        tree = roots.in_tree(path)
        if tree is not None and not _same_folder(path, entry, changes):
            return f"{path} changed (in {tree})"
        if posixpath.dirname(path) in roots.lists:
            below = changes.lower(path)
            if entry.whiteout or below is None or below.kind != entry.kind:
                return f"{path} was added, deleted or changed in type (in {posixpath.dirname(path)})"
    return None


class _Group:
    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.running = False
        self.reference: tuple[dict[str, Any], dict[str, Any], str] | None = None  # (data, reads, target)
        self.attempts = 0
        self.waiting: set[tuple[int, int]] = set()  # (number of changed paths, arrival) of the members waiting


class ReplicaPool:
    """The replica groups of one run (thread-safe). `probe` answers for one container:
    either its own full probe or the group's shared answer."""

    MAX_ATTEMPTS = 3  # containers probed with reads=1 before the group gives up sharing

    def __init__(self, containers: Mapping[str, int] | None = None) -> None:
        """containers: engine ("" for the default) -> how many docker: targets the run has
        on it (an engine with one is never traced); None: unknown."""
        self._lock = threading.Lock()
        self._arrivals = 0
        self._containers = dict(containers) if containers is not None else None
        self._groups: dict[tuple[Any, ...], _Group] = {}
        self.shared: dict[str, str] = {}  # target -> the target whose answer it reused
        self.reasons: dict[str, str] = {}  # target -> why it was probed itself

    def _group(self, key: tuple[Any, ...]) -> _Group:
        with self._lock:
            return self._groups.setdefault(key, _Group())

    def probe(
        self, what: str, attrs: Mapping[str, Any], key: tuple[Any, ...] | None, deadline: float, full: Callable[[bool], dict[str, Any]]
    ) -> dict[str, Any]:
        """The container's probe result. full(reads) probes it (with reads=1: the result
        carries "reads"). Never waits for another container past `deadline` minus a margin."""
        from envman.targets.overlay import changes_of

        if key is not None and self._containers is not None and self._containers.get(str(key[0]), 0) < 2:
            return self._own(full)  # no other container on its engine to share with
        changes = changes_of(attrs) if key is not None else None
        if key is None or changes is None:
            self.reasons[what] = "its changes against the image cannot be read here"
            return self._own(full)
        mounts = mounts_of(attrs)
        group = self._group(key)
        with self._lock:
            self._arrivals += 1
            me = (len(changes.upper), self._arrivals)
        lead = False
        with group.cond:  # of the members waiting, the one with the fewest changes is probed first
            group.waiting.add(me)
            try:
                while group.reference is None:
                    if not group.running and group.attempts >= self.MAX_ATTEMPTS:
                        break
                    if not group.running and me == min(group.waiting):
                        lead = True
                        group.running = True
                        group.attempts += 1
                        break
                    left = deadline - 1.0 - time.monotonic()
                    if left <= 0:
                        break
                    group.cond.wait(min(left, 1.0))
            finally:
                group.waiting.discard(me)
                group.cond.notify_all()
            reference = group.reference
        if reference is not None:
            data, reads, source = reference
            why = touched(changes, mounts, reads)
            if why is None:
                self.shared[what] = source
                return copy.deepcopy(data)
            self.reasons[what] = why
            return self._own(full)
        if not lead:
            self.reasons[what] = "no container of its group could be shared"
            return self._own(full)
        shareable = None
        try:
            data = full(True)
            reads = data.pop("reads", None)
            if isinstance(reads, dict):
                if isinstance(reads.get("nodes"), list):  # how the engine found the interpreter
                    reads = {**reads, "nodes": [*reads["nodes"], *launch_nodes(attrs, str(key[2]))]}
                why = touched(changes, mounts, reads)
                if why is None:
                    shareable = (copy.deepcopy(data), reads, what)
                else:
                    self.reasons[what] = why
            return data
        finally:
            with group.cond:
                group.running = False
                if shareable is not None:
                    group.reference = shareable
                group.cond.notify_all()

    def _own(self, full: Callable[[bool], dict[str, Any]]) -> dict[str, Any]:
        data = full(False)
        data.pop("reads", None)
        return data
