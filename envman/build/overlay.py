"""Squash consecutive layers into one, with the overlay semantics of the OCI image spec.

Inside a group, a later entry for a path wins; a whiteout `.wh.NAME` removes NAME and what
lies under it; an opaque marker `.wh..wh..opq` hides everything under its directory. Within
one layer, whiteouts apply to the layers below it only, so a layer's markers are applied
before its entries.

What the squashed layer says about the layers below the group is decided against
`LowerTree`, the paths that exist there: a whiteout is written only when its path exists
below (one that just cancels a path added inside the group disappears with it), an opaque
marker only when its directory has children below. A path both removed and re-created in
the group becomes the new entry (a file replaces whatever was there) or, for a directory,
the directory plus an opaque marker: never `.wh.X` beside `X`, whose effect on extraction
would depend on member order.

Hard links are resolved when read: a link takes the content of the file it named at that
moment (a later change of the target in the group does not follow, as with copy-up in
overlayfs). On writing, the paths that share one content are written as the first of them
in member order plus links to it, so a link never precedes its target, whatever was dropped.
Hard links to a path below the group are written as they came.
"""

from __future__ import annotations

import tarfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from envman.build.archive import ENCODING, ERRORS, TarWriter, clean_path, join_path, sort_key

__all__ = ["LowerTree", "SquashResult", "squash_layers", "WHITEOUT_PREFIX", "OPAQUE_MARKER"]

WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"
_XATTR_PREFIXES = ("SCHILY.xattr.", "LIBARCHIVE.xattr.")
_REGULAR = frozenset((tarfile.REGTYPE, tarfile.AREGTYPE, tarfile.CONTTYPE, tarfile.GNUTYPE_SPARSE))
_SPECIAL = frozenset((tarfile.DIRTYPE, tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.CHRTYPE, tarfile.BLKTYPE, tarfile.FIFOTYPE))
_MARKER_MODE = 0o600  # what the engine gives the whiteouts it writes

_Dir = dict[str, "_Dir"]


class LowerTree:
    """The paths that exist below a group (base layers, earlier groups), as a trie of dicts."""

    def __init__(self) -> None:
        self._root: _Dir = {}

    def _find(self, path: str) -> _Dir | None:
        node: _Dir | None = self._root
        if path:
            for part in path.split("/"):
                assert node is not None
                node = node.get(part)
                if node is None:
                    return None
        return node

    def exists(self, path: str) -> bool:
        return self._find(path) is not None

    def has_children(self, path: str) -> bool:
        return bool(self._find(path))

    def add(self, path: str, is_dir: bool) -> None:
        node = self._root
        if path:
            for part in path.split("/"):
                child = node.get(part)
                if child is None:
                    child = node[part] = {}
                node = child
        if not is_dir:
            node.clear()  # a file replaces a directory and all under it

    def remove(self, path: str) -> None:
        parent, _, name = path.rpartition("/")
        node = self._find(parent)
        if node is not None:
            node.pop(name, None)

    def clear(self, path: str) -> None:
        node = self._find(path)
        if node is not None:
            node.clear()

    def apply_layer(self, layer: Path) -> None:
        """Apply a layer as the engine would: its whiteouts and opaque markers, then its entries."""
        with open_layer(layer) as archive:
            members = _members(archive, layer)
        entries: list[tuple[str, bool]] = []
        for member in members:
            kind, path = _classify(clean_path(member.name))
            if kind == "whiteout":
                self.remove(path)
            elif kind == "opaque":
                self.clear(path)
            elif kind == "entry":
                entries.append((path, member.isdir()))
        for path, is_dir in entries:
            self.add(path, is_dir)


def open_layer(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:", encoding=ENCODING, errors=ERRORS)
    except tarfile.TarError as exc:
        raise ValueError(f"layer {path.name} is not a readable tar: {exc}") from exc


def _members(archive: tarfile.TarFile, path: Path) -> list[tarfile.TarInfo]:
    try:
        return archive.getmembers()
    except tarfile.TarError as exc:
        raise ValueError(f"layer {path.name} is not a readable tar: {exc}") from exc


def _classify(path: str) -> tuple[str, str]:
    """("entry", path) | ("whiteout", removed path) | ("opaque", its directory) | ("skip", path)."""
    parent, _, base = path.rpartition("/")
    if base == OPAQUE_MARKER:
        return "opaque", parent
    if base.startswith(WHITEOUT_PREFIX + WHITEOUT_PREFIX):
        return "skip", path  # other AUFS metadata (.wh..wh.plnk, …): the engine ignores it too
    if base.startswith(WHITEOUT_PREFIX):
        name = base[len(WHITEOUT_PREFIX) :]
        if not name:
            raise ValueError(f"layer entry {path!r} is a whiteout without a name")
        return "whiteout", join_path(parent, name)
    if not path:
        return "skip", path  # the root directory itself: its metadata stays the base's
    return "entry", path


@dataclass(slots=True)
class _Entry:
    header: tarfile.TarInfo  # the member whose header and data this path gets (a hard link's target)
    layer: int  # index, within the group, of the layer that holds `header`
    lower_link: bool = False  # a hard link to a path below the group, written as it came

    @property
    def is_dir(self) -> bool:
        return not self.lower_link and self.header.isdir()


@dataclass(slots=True)
class _Node:
    children: dict[str, _Node] = field(default_factory=dict)
    entry: _Entry | None = None
    hidden: bool = False  # what lies below the group at this path is removed
    opaque: bool = False  # what lies below the group under this directory is removed


class _GroupState:
    def __init__(self) -> None:
        self.root = _Node()

    def node(self, path: str) -> _Node:
        node = self.root
        if path:
            for part in path.split("/"):
                child = node.children.get(part)
                if child is None:
                    child = node.children[part] = _Node()
                node = child
        return node

    def entry_at(self, path: str) -> _Entry | None:
        node: _Node | None = self.root
        if path:
            for part in path.split("/"):
                assert node is not None
                node = node.children.get(part)
                if node is None:
                    return None
        return node.entry if node is not None else None

    def whiteout(self, path: str) -> None:
        node = self.node(path)
        node.children, node.entry, node.hidden, node.opaque = {}, None, True, False

    def make_opaque(self, path: str) -> None:
        node = self.node(path)
        node.children, node.opaque = {}, True

    def put(self, path: str, entry: _Entry) -> None:
        node = self.node(path)
        node.entry = entry
        if not entry.is_dir:
            node.children = {}  # a file replaces a directory and all under it

    def walk(self) -> Iterator[tuple[str, _Node]]:
        stack: list[tuple[str, _Node]] = [("", self.root)]
        while stack:
            path, node = stack.pop()
            yield path, node
            stack.extend((join_path(path, name), child) for name, child in node.children.items())


@dataclass(frozen=True)
class SquashResult:
    diff_id: str
    entries: int  # members written, markers included


def squash_layers(layers: Sequence[Path], out: Path, lower: LowerTree, *, epoch: int, drop: Callable[[str], bool]) -> SquashResult:
    """Write the squash of `layers` to `out` and apply it to `lower` (which then describes
    the paths below the next group)."""
    with ExitStack() as stack:
        archives = [stack.enter_context(open_layer(p)) for p in layers]
        state = _GroupState()
        for index, archive in enumerate(archives):
            _apply(state, index, _members(archive, layers[index]))
        kept, markers = _decide(state, lower, drop)
        with open(out, "wb") as handle:
            writer = TarWriter(handle)
            count = _write(writer, kept, markers, archives, epoch)
            diff_id = writer.close()
    for path, kind in markers:
        if kind == "whiteout":
            lower.remove(path)
        else:
            lower.clear(path)
    for path, entry in kept:
        lower.add(path, entry.is_dir)
    return SquashResult(diff_id=diff_id, entries=count)


def _apply(state: _GroupState, index: int, members: list[tarfile.TarInfo]) -> None:
    entries: list[tuple[str, tarfile.TarInfo]] = []
    for member in members:
        kind, path = _classify(clean_path(member.name))
        if kind == "whiteout":
            state.whiteout(path)
        elif kind == "opaque":
            state.make_opaque(path)
        elif kind == "entry":
            if member.type not in _REGULAR and member.type not in _SPECIAL:
                raise ValueError(f"layer entry {member.name!r} has a tar type ({member.type!r}) that a layer cannot hold")
            entries.append((path, member))
    seen: dict[str, _Entry] = {}  # this layer's entries so far, for its hard links
    for path, member in entries:
        if member.islnk():
            target = clean_path(member.linkname)
            found = seen.get(target) or state.entry_at(target)
            entry = _Entry(found.header, found.layer, found.lower_link) if found else _Entry(member, index, lower_link=True)
        else:
            entry = _Entry(member, index)
        seen[path] = entry
        state.put(path, entry)


def _decide(state: _GroupState, lower: LowerTree, drop: Callable[[str], bool]) -> tuple[list[tuple[str, _Entry]], list[tuple[str, str]]]:
    """The entries kept (in member order) and the markers to write: (path, "whiteout"|"opaque")."""
    present: dict[str, _Entry] = {}
    dropped: dict[str, _Entry] = {}
    for path, node in state.walk():
        if node.entry is not None:
            (dropped if drop(path) else present)[path] = node.entry
    holds_kept: set[str] = set()  # directories with a kept entry somewhere under them
    for path in present:
        parent: str | None = path.rpartition("/")[0] if path else None
        while parent is not None and parent not in holds_kept:
            holds_kept.add(parent)
            parent = parent.rpartition("/")[0] if parent else None

    markers: list[tuple[str, str]] = []
    # covered: what lies below the group here is hidden already by a marker or file above
    stack: list[tuple[str, _Node, bool]] = [("", state.root, False)]
    while stack:
        path, node, covered = stack.pop()
        entry = present.get(path)
        replaced = entry is not None and not entry.is_dir  # a file here replaces whatever lies below
        opaque = node.opaque
        if node.hidden and not replaced:
            if entry is not None or path in holds_kept:
                opaque = True  # removed, then re-created as a directory
            else:
                if not covered and lower.exists(path):
                    markers.append((path, "whiteout"))
                continue  # nothing is kept under a plain whiteout
        if opaque and not replaced and not covered and lower.has_children(path):
            markers.append((path, "opaque"))
        below = covered or opaque or replaced
        stack.extend((join_path(path, name), child, below) for name, child in node.children.items())

    for path, kind in markers:  # directories a marker sits in are written even when dropped
        folder: str | None = path if kind == "opaque" else path.rpartition("/")[0]
        while folder is not None:
            if folder in dropped:
                present[folder] = dropped.pop(folder)
            folder = folder.rpartition("/")[0] if folder else None
    kept = sorted(present.items(), key=lambda item: sort_key(item[0]))
    return kept, markers


def _write(
    writer: TarWriter,
    kept: list[tuple[str, _Entry]],
    markers: list[tuple[str, str]],
    archives: list[tarfile.TarFile],
    epoch: int,
) -> int:
    items: list[tuple[tuple[str, ...], str, _Entry | None]] = [(sort_key(path), path, entry) for path, entry in kept]
    for path, kind in markers:
        if kind == "whiteout":
            parent, _, name = path.rpartition("/")
            marker = join_path(parent, WHITEOUT_PREFIX + name)
        else:
            marker = join_path(path, OPAQUE_MARKER)
        items.append((sort_key(marker), marker, None))
    items.sort(key=lambda item: item[0])

    first_path: dict[tuple[int, int], str] = {}  # one content (layer, member offset) -> the path that carries it
    for _, path, entry in items:
        if entry is None:
            writer.add(_marker_header(path, epoch))
            continue
        header = _header(path, entry.header, epoch)
        if entry.lower_link:
            header.linkname = clean_path(entry.header.linkname)
            writer.add(header)
            continue
        content = (entry.layer, entry.header.offset)
        if not entry.is_dir and content in first_path:
            header.type, header.size, header.linkname = tarfile.LNKTYPE, 0, first_path[content]
            writer.add(header)
            continue
        first_path[content] = path
        if header.type == tarfile.REGTYPE:
            data = archives[entry.layer].extractfile(entry.header)
            assert data is not None
            with data:
                writer.add(header, data)
        else:
            writer.add(header)
    return len(items)


def _header(path: str, source: tarfile.TarInfo, epoch: int) -> tarfile.TarInfo:
    """A clean header for `path` from `source`: same type, mode, owner ids, device numbers
    and xattrs; mtime clamped to the epoch; no user/group names; no atime/ctime."""
    header = tarfile.TarInfo(path)
    header.type = tarfile.REGTYPE if source.type in _REGULAR else source.type
    header.mode = source.mode & 0o7777
    header.uid, header.gid = source.uid, source.gid
    header.uname = header.gname = ""
    header.mtime = min(int(source.mtime), epoch)
    header.size = source.size if header.type == tarfile.REGTYPE else 0
    if header.type in (tarfile.SYMTYPE, tarfile.LNKTYPE):
        header.linkname = source.linkname
    if header.type in (tarfile.CHRTYPE, tarfile.BLKTYPE):
        header.devmajor, header.devminor = source.devmajor, source.devminor
    header.pax_headers = {key: source.pax_headers[key] for key in sorted(source.pax_headers) if key.startswith(_XATTR_PREFIXES)}
    return header


def _marker_header(path: str, epoch: int) -> tarfile.TarInfo:
    header = tarfile.TarInfo(path)
    header.mode, header.mtime = _MARKER_MODE, epoch
    return header
