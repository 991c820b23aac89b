"""A conda package checked whole before anything of it reaches a prefix.

A package is untrusted even when its sha256 is the locked one (the lock was made from what a
channel served). `unpack_checked` first reads the archive as a stream without writing
anything (`.tar.bz2` with tarfile, `.conda` with zstandard): every member is a regular
file, folder, symlink or hard link whose path and link target stay inside the package (no
absolute path, no `..` out, no member under a symlink, no device or FIFO), and the members
add up to at most decompress_ratio times the package's size (envman.limits: a
decompression bomb is stopped before it is written). Only then does rattler extract it
(install.extract) into a private folder, where envman checks again: nothing but regular
files, folders and symlinks staying inside; info/index.json (member_bytes) names a valid
conda name, version and build, the ones the lock names; every info/paths.json
(index_bytes) entry is a relative path outside conda-meta/ whose file is a regular file or
a symlink that stays inside the prefix. `check_destinations` then confines every path the
package writes to the prefix as it is (no symlink already there may lead out).

Errors: an archive that cannot be read at all (truncated, not bzip2/zip/zstd) is corrupt:
ResolutionError (exit 3, like a sha256 mismatch); a readable package that tries to leave
its prefix, or is not the locked one, is SyncError (exit 5). Nothing is written into the
prefix in either case: every package is checked before the first one is linked.
"""

from __future__ import annotations

import json
import os
import posixpath
import stat
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from envman.ecosystems.conda.grammar import build_problem, name_problem, shown, version_problem
from envman.errors import BadInputError, ResolutionError, SyncError
from envman.limits import LIMITS, LimitError, confined_path, limit, read_regular_file

__all__ = ["Checked", "unpack_checked", "check_destinations", "package_file_name", "inside"]


@dataclass(frozen=True)
class Checked:
    """One package extracted into `root` (a package-cache folder) and checked whole."""

    root: Path
    filename: str
    index: dict[str, Any]
    items: list[dict[str, Any]]
    what: str


def inside(rel: Any) -> bool:
    """A relative path that stays inside the prefix (no absolute path, no `..`, no NUL)."""
    return (
        isinstance(rel, str)
        and rel != ""
        and "\x00" not in rel
        and not rel.startswith("/")
        and ".." not in rel.replace("\\", "/").split("/")
    )


def _link_leaves(rel: str, target: str) -> bool:
    """True when a symlink at rel pointing to target leads out of its root (read as text:
    an absolute target, or more `..` than rel has folders)."""
    if not target or "\x00" in target or target.startswith("/"):
        return True
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(rel), target))
    return joined == ".." or joined.startswith(("../", "/"))


def package_file_name(url: str) -> str:
    """The package's file name (the URL's last component), which must be a `.conda` or
    `.tar.bz2` file name without a path."""
    name = url.rstrip("/").rsplit("/", 1)[-1]
    if not name.endswith((".conda", ".tar.bz2")) or not inside(name) or "/" in name or "\\" in name or name.startswith("."):
        raise BadInputError(f"{shown(url)}: not the URL of a .conda or .tar.bz2 package; refusing it (run `envman lock`)")
    return name


# -- the stream pass: nothing written --------------------------------------------------------


def _bomb(what: str) -> SyncError:
    return SyncError(
        f"{what}: the package expands to more than {limit('decompress_ratio')} "
        f"times its size (a decompression bomb?); set {LIMITS['decompress_ratio'][0]} to raise the limit"
    )


def _check_members(archive: tarfile.TarFile, what: str, budget: list[int]) -> None:
    """Refuse any member that could land outside the package or is not a plain file, folder
    or link, and stop as soon as the members add up to more than the budget."""
    links: set[str] = set()
    for member in archive:
        name = member.name
        if not inside(name):
            raise SyncError(f"{what}: archive member {shown(name)} escapes the package")
        normal = posixpath.normpath(name)
        parents = normal.split("/")[:-1]
        if any("/".join(parents[: i + 1]) in links for i in range(len(parents))):
            raise SyncError(f"{what}: archive member {shown(name)} lies under a symlink of the package")
        if member.issym():
            links.add(normal)
        if member.isdev() or member.isfifo():
            raise SyncError(f"{what}: archive member {shown(name)} is a device file or a FIFO")
        if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
            raise SyncError(f"{what}: archive member {shown(name)} is not a file, folder or link")
        if member.issym() and _link_leaves(name, member.linkname):
            raise SyncError(f"{what}: archive member {shown(name)} is a symlink leading out of the package ({shown(member.linkname)})")
        if member.islnk() and not inside(member.linkname):
            raise SyncError(f"{what}: archive member {shown(name)} is a hard link out of the package ({shown(member.linkname)})")
        budget[0] -= max(member.size, 0)
        if budget[0] < 0:
            raise _bomb(what)


class _Bounded:
    """A read-only stream that raises the bomb error past `budget` bytes."""

    def __init__(self, raw: Any, budget: list[int], what: str) -> None:
        self.raw, self.budget, self.what = raw, budget, what

    def read(self, size: int = -1) -> bytes:
        data: bytes = self.raw.read(size if size and size > 0 else 1 << 20)
        self.budget[0] -= len(data)
        if self.budget[0] < 0:
            raise _bomb(self.what)
        return data


def _stream_check(artifact: Path, filename: str, what: str, budget: list[int]) -> None:
    if not filename.endswith(".conda"):
        with tarfile.open(artifact, "r:*") as archive:
            _check_members(archive, what, budget)
        return
    import zstandard

    with zipfile.ZipFile(artifact) as outer:
        inner = [info for info in outer.infolist() if info.filename.endswith(".tar.zst")]
        if not inner:
            raise zipfile.BadZipFile("no .tar.zst member")
        for info in inner:
            with outer.open(info) as compressed:
                reader = zstandard.ZstdDecompressor().stream_reader(compressed)
                stream: IO[bytes] = _Bounded(reader, [budget[0]], what)  # type: ignore[assignment]
                with tarfile.open(fileobj=stream, mode="r|") as archive:
                    _check_members(archive, what, budget)


# -- the extracted package ---------------------------------------------------------------------


def _read_json(path: Path, limit_name: str, what: str) -> Any:
    try:
        return json.loads(read_regular_file(path, limit_name, what).decode("utf-8"))
    except FileNotFoundError:
        raise
    except LimitError as exc:
        raise SyncError(str(exc)) from None
    except BadInputError as exc:  # a FIFO or a device
        raise SyncError(str(exc)) from None
    except (OSError, ValueError, RecursionError) as exc:
        raise SyncError(f"{what}: not readable JSON: {str(exc)[:200]}") from None


def _check_tree(root: Path, what: str) -> None:
    """Only regular files, folders and symlinks that stay inside, whatever paths.json lists."""
    base = os.path.realpath(root)
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                real = os.path.realpath(path)
                if real != base and not real.startswith(base + os.sep):
                    raise SyncError(f"{what}: {shown(rel)} is a symlink leading out of the package ({shown(os.readlink(path))})")
            elif not (stat.S_ISREG(info.st_mode) or stat.S_ISDIR(info.st_mode)):
                raise SyncError(f"{what}: {shown(rel)} is not a regular file, folder or symlink")


def _checked_index(index: Any, entry: Any, what: str, filename: str) -> dict[str, Any]:
    if not isinstance(index, dict):
        raise SyncError(f"{what}: {filename}: info/index.json is not a JSON object")
    for key, problem_of in (("name", name_problem), ("version", version_problem), ("build", build_problem)):
        problem = problem_of(index.get(key))
        if problem:
            raise SyncError(f"{what}: {filename}: info/index.json {key}: {problem}; refusing the package")
    named = (index["name"], index["version"], index["build"])
    locked = (entry.name, entry.version, entry.build)
    if named != locked:
        raise SyncError(f"{what}: {filename} is {' '.join(named)}, not {' '.join(locked)} as the lock says; refusing it")
    return index


def _checked_items(root: Path, paths: Any, what: str, filename: str) -> list[dict[str, Any]]:
    if not isinstance(paths, list):
        raise SyncError(f"{what}: {filename}: info/paths.json has no list of paths")
    items: list[dict[str, Any]] = []
    base = os.path.realpath(root)
    for item in paths:
        item = item if isinstance(item, dict) else {}
        rel = item.get("_path")
        if not isinstance(rel, str) or not inside(rel) or posixpath.normpath(rel).split("/")[0] == "conda-meta":
            raise SyncError(f"{what}: {filename} writes outside the prefix: {shown(rel)}")
        src = root / rel
        kind = item.get("path_type")
        try:
            info = os.lstat(src)
        except OSError:
            if kind == "directory":
                items.append(dict(item))
                continue
            raise SyncError(f"{what}: {filename} lists {shown(rel)}, which it does not contain") from None
        if stat.S_ISLNK(info.st_mode):
            target = os.readlink(src)
            real = os.path.realpath(src)  # links through links: resolved as they will be in the prefix
            if _link_leaves(rel, target) or (real != base and not real.startswith(base + os.sep)):
                raise SyncError(f"{what}: {filename}: {shown(rel)} is a symlink leading outside the prefix ({shown(target)})")
        elif kind == "softlink":
            raise SyncError(f"{what}: {filename}: {shown(rel)} is listed as a softlink but is not one")
        elif kind == "directory":
            if not stat.S_ISDIR(info.st_mode):
                raise SyncError(f"{what}: {filename}: {shown(rel)} is listed as a folder but is not one")
        elif not stat.S_ISREG(info.st_mode):
            raise SyncError(f"{what}: {filename}: {shown(rel)} is not a regular file")
        placeholder = item.get("prefix_placeholder")
        if placeholder is not None and not isinstance(placeholder, str):
            raise SyncError(f"{what}: {filename}: {shown(rel)} has a prefix_placeholder that is not text")
        items.append(dict(item))
    return items


def unpack_checked(artifact: Path, entry: Any, folder: Path, what: str) -> Checked:
    """Check the verified package file `artifact` of lock entry `entry` as a stream, have
    rattler extract it into `folder` (new, private), and check what it holds."""
    from envman.ecosystems.conda.install import extract

    filename = package_file_name(entry.url)
    label = f"{what}: {filename}"
    try:
        size = os.stat(artifact).st_size
    except OSError as exc:
        raise SyncError(f"{what}: cannot read {artifact}: {exc.strerror or exc}") from None
    budget = [max(size, 1 << 16) * limit("decompress_ratio")]
    try:
        _stream_check(artifact, filename, label, budget)
        extract(_named(artifact, folder.parent / ".files" / filename), folder)
    except SyncError:
        raise
    except Exception as exc:  # tarfile, zipfile, zstandard and rattler errors of a broken archive
        raise ResolutionError(f"{label}: the package is corrupt ({type(exc).__name__}: {str(exc)[:200]}); refusing it") from None
    _check_tree(folder, label)
    try:
        index = _read_json(folder / "info" / "index.json", "member_bytes", f"{label}: info/index.json")
    except FileNotFoundError:
        raise SyncError(f"{label} has no readable info/index.json") from None
    index = _checked_index(index, entry, what, filename)
    try:
        document = _read_json(folder / "info" / "paths.json", "index_bytes", f"{label}: info/paths.json")
        paths = document.get("paths", []) if isinstance(document, dict) else None
    except FileNotFoundError:
        try:
            files = read_regular_file(folder / "info" / "files", "index_bytes", f"{label}: info/files").decode("utf-8")
        except FileNotFoundError:
            raise SyncError(f"{label} has neither info/paths.json nor info/files") from None
        except (BadInputError, OSError, UnicodeDecodeError) as exc:
            raise SyncError(f"{label}: info/files: {exc}") from None
        paths = [{"_path": f, "path_type": "hardlink"} for f in files.split()]
    return Checked(folder, filename, index, _checked_items(folder, paths, what, filename), what)


def _named(artifact: Path, path: Path) -> Path:
    """The cache's file under its package file name (rattler reads the format from it)."""
    import shutil

    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        try:
            os.link(artifact, path)
        except OSError:
            shutil.copyfile(artifact, path)
    return path


def check_destinations(prefix: Path, package: Checked) -> None:
    """Every path the package writes stays inside the prefix as it is now (no symlink in the
    prefix leads out)."""
    index = package.index
    for rel in [item["_path"] for item in package.items] + [f"conda-meta/{index['name']}-{index['version']}-{index['build']}.json"]:
        try:
            confined_path(prefix, rel, f"{package.what}: {package.filename}")
        except BadInputError as exc:
            raise SyncError(f"{package.what}: {package.filename} writes outside the prefix: {exc}") from None
