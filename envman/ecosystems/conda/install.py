"""A minimal conda package linker for `envman sync conda:PREFIX` (no conda binary needed).

Installs verified `.tar.bz2` packages (and `.conda` ones when the `zstandard` module is
importable) the way conda does: files copied into the prefix, prefix placeholders replaced
(text: plain replacement; binary: C-string replacement padded with NULs, as conda does),
a `conda-meta/<name>-<version>-<build>.json` record with `files` and `paths_data`
(`sha256_in_prefix` where a placeholder was replaced). Removes a package by its record.
`noarch: python` packages need a Python-aware linker (site-packages relocation, entry
points, byte-compilation): they are refused with a clear message.

A package is untrusted even when its sha256 is the locked one (the lock was made from what a
channel served). Before anything is written into the prefix, each package is unpacked into
a temporary folder and checked whole (`prepare`): every archive member is a regular file,
folder, symlink or hard link whose path and link target stay inside the package (no
absolute path, no `..` out, no device or FIFO); the members add up to at most
decompress_ratio times the package's size (envman.limits); info/index.json (member_bytes)
names a valid conda name, version and build, the ones the lock names; every paths.json
(index_bytes) entry is a relative path outside conda-meta/ whose file is a regular file
or a symlink that stays inside the prefix. Each write is then confined to the prefix
(`confined_path`: no symlink already in the prefix may lead out). Any refusal is a
SyncError (exit 5): the artifact is the one the lock names, so nothing is being resolved;
installing it failed.
"""

from __future__ import annotations

import hashlib
import json
import os
import posixpath
import re
import shutil
import stat
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envman.ecosystems.conda import record_bytes
from envman.ecosystems.conda.grammar import build_problem, name_problem, shown, version_problem
from envman.ecosystems.conda.probe_target import read_conda_record as _untyped_read_record
from envman.errors import BadInputError, SyncError
from envman.limits import LIMITS, LimitError, confined_path, limit, read_regular_file

__all__ = [
    "install_package",
    "remove_package",
    "record_path",
    "prepare",
    "prepared",
    "Prepared",
    "check_destinations",
    "link_package",
]


# probe_target is untyped by design (Python 3.6, standard library only)
read_conda_record: Callable[[str, int], tuple[bytes | None, str | None]] = _untyped_read_record


def _inside(rel: Any) -> bool:
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


def record_path(prefix: Path, name: str, version: str, build: str) -> Path:
    return prefix / "conda-meta" / f"{name}-{version}-{build}.json"


def _check_members(archive: tarfile.TarFile, what: str, budget: list[int]) -> None:
    """Refuse any member that could land outside the package or is not a plain file, folder
    or link, and stop as soon as the members add up to more than the budget. No member may
    lie under a symlink member (tar never stores one there; extracting it would follow the link)."""
    links: set[str] = set()
    for member in archive:
        name = member.name
        if not _inside(name):
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
        if member.islnk() and not _inside(member.linkname):
            raise SyncError(f"{what}: archive member {shown(name)} is a hard link out of the package ({shown(member.linkname)})")
        budget[0] -= max(member.size, 0)
        if budget[0] < 0:
            raise SyncError(
                f"{what}: the package expands to more than {limit('decompress_ratio')} "
                f"times its size (a decompression bomb?); set {LIMITS['decompress_ratio'][0]} to raise the limit"
            )


def _extract(archive: tarfile.TarFile, dest: Path, what: str, budget: list[int]) -> None:
    _check_members(archive, what, budget)
    try:
        archive.extractall(dest, filter="tar")
    except TypeError:  # Python without extraction filters
        archive.extractall(dest)


def _unpack(artifact: Path, dest: Path, where: str, filename: str, budget: list[int]) -> None:
    what = f"{where}: {filename}"
    try:
        if filename.endswith(".conda"):
            try:
                import zstandard  # type: ignore[import-not-found]
            except ImportError:
                raise SyncError(
                    f"{what} is a .conda package; installing it needs the `zstandard` module (pip install zstandard)"
                ) from None
            with zipfile.ZipFile(artifact) as outer:
                for info in outer.infolist():
                    if not info.filename.endswith(".tar.zst"):
                        continue
                    with outer.open(info) as compressed, tempfile.TemporaryFile() as scratch:
                        reader = zstandard.ZstdDecompressor().stream_reader(compressed)
                        total = 0
                        while True:
                            chunk = reader.read(1 << 20)
                            if not chunk:
                                break
                            total += len(chunk)
                            if total > budget[0]:
                                raise SyncError(
                                    f"{what}: {info.filename} expands to more than {limit('decompress_ratio')} times the package's "
                                    f"size (a decompression bomb?); set {LIMITS['decompress_ratio'][0]} to raise the limit"
                                )
                            scratch.write(chunk)
                        scratch.seek(0)
                        with tarfile.open(fileobj=scratch, mode="r:") as archive:
                            _extract(archive, dest, what, budget)
        else:
            with tarfile.open(artifact, "r:*") as archive:
                _extract(archive, dest, what, budget)
    except SyncError:
        raise
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise SyncError(f"{where}: cannot unpack {filename}: {exc}") from None
    except Exception as exc:  # zstandard.ZstdError and other decoder errors of a hostile package
        if type(exc).__module__.startswith("zstandard"):
            raise SyncError(f"{where}: cannot unpack {filename}: {exc}") from None
        raise


def _replace_binary(data: bytes, placeholder: bytes, prefix: bytes) -> bytes:
    if len(prefix) > len(placeholder):
        raise ValueError("the prefix is longer than the package's placeholder")
    pattern = re.compile(re.escape(placeholder) + b"([^\0]*?)\0")
    padding = len(placeholder) - len(prefix)

    def swap(match: re.Match[bytes]) -> bytes:
        return prefix + match.group(1) + b"\0" * padding + b"\0"

    return pattern.sub(swap, data)


@dataclass
class Prepared:
    """One package unpacked into a temporary folder and checked whole, ready to link."""

    root: Path
    filename: str
    index: dict[str, Any]
    items: list[dict[str, Any]]
    entry: Any
    what: str


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
        if not isinstance(rel, str) or not _inside(rel) or posixpath.normpath(rel).split("/")[0] == "conda-meta":
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


def prepare(root: Path, artifact: Path, entry: Any, what: str) -> Prepared:
    """Unpack a verified artifact into root (an empty temporary folder) and check it whole;
    SyncError for anything that could write outside the prefix or is not the locked package."""
    filename = entry.url.rsplit("/", 1)[-1]
    try:
        size = os.stat(artifact).st_size
    except OSError as exc:
        raise SyncError(f"{what}: cannot read {artifact}: {exc.strerror or exc}") from None
    budget = [max(size, 1 << 16) * limit("decompress_ratio")]
    _unpack(artifact, root, what, filename, budget)
    try:
        index = _read_json(root / "info" / "index.json", "member_bytes", f"{what}: {filename}: info/index.json")
    except FileNotFoundError:
        raise SyncError(f"{what}: {filename} has no readable info/index.json") from None
    index = _checked_index(index, entry, what, filename)
    if index.get("noarch") == "python":
        raise SyncError(
            f"{what}: {filename} is a noarch: python package; envman's conda linker does not relocate those (use conda/pixi)"
        )
    try:
        document = _read_json(root / "info" / "paths.json", "index_bytes", f"{what}: {filename}: info/paths.json")
        paths = document.get("paths", []) if isinstance(document, dict) else None
    except FileNotFoundError:
        try:
            files = read_regular_file(root / "info" / "files", "index_bytes", f"{what}: {filename}: info/files").decode("utf-8")
        except FileNotFoundError:
            raise SyncError(f"{what}: {filename} has neither info/paths.json nor info/files") from None
        except (BadInputError, OSError, UnicodeDecodeError) as exc:
            raise SyncError(f"{what}: {filename}: info/files: {exc}") from None
        paths = [{"_path": f, "path_type": "hardlink"} for f in files.split()]
    return Prepared(root, filename, index, _checked_items(root, paths, what, filename), entry, what)


@contextmanager
def prepared(artifact: Path, entry: Any, what: str) -> Iterator[Prepared]:
    """prepare() in a temporary folder that is removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="envman-conda-") as tmp:
        yield prepare(Path(tmp), artifact, entry, what)


def _destination(prefix: Path, rel: str, package: Prepared) -> Path:
    try:
        return confined_path(prefix, rel, f"{package.what}: {package.filename}")
    except BadInputError as exc:
        raise SyncError(f"{package.what}: {package.filename} writes outside the prefix: {exc}") from None


def check_destinations(prefix: Path, package: Prepared) -> None:
    """Every path the package writes stays inside the prefix as it is now (no symlink in the
    prefix leads out); checked again at each write."""
    for item in package.items:
        _destination(prefix, item["_path"], package)
    index = package.index
    _destination(prefix, f"conda-meta/{index['name']}-{index['version']}-{index['build']}.json", package)


def link_package(prefix: Path, package: Prepared) -> None:
    """Copy a prepared package into prefix and write its conda-meta record."""
    what, filename, root, entry, index = package.what, package.filename, package.root, package.entry, package.index
    linked = []
    for item in package.items:
        rel = item["_path"]
        src = root / rel
        dst = _destination(prefix, rel, package)
        record = dict(item)
        try:
            dst.parent.mkdir(parents=True, exist_ok=True)
            if item.get("path_type") == "directory":
                dst.mkdir(exist_ok=True)
                linked.append(record)
                continue
            if dst.is_symlink() or dst.exists():
                dst.unlink()
            if src.is_symlink():
                os.symlink(os.readlink(src), dst)
                linked.append(record)
                continue
            data = src.read_bytes()
            placeholder = item.get("prefix_placeholder")
            if placeholder:
                old, new = placeholder.encode(), str(prefix).encode()
                try:
                    data = data.replace(old, new) if item.get("file_mode", "text") == "text" else _replace_binary(data, old, new)
                except ValueError as exc:
                    raise SyncError(f"{what}: {filename}: {rel}: {exc}") from None
                record["sha256_in_prefix"] = hashlib.sha256(data).hexdigest()
            dst.write_bytes(data)
            shutil.copymode(src, dst)
        except OSError as exc:
            raise SyncError(f"{what}: {filename}: cannot write {dst}: {exc.strerror or exc}") from None
        linked.append(record)
    meta = dict(index)
    meta.update(
        {
            "url": entry.url,
            "fn": filename,
            "sha256": entry.sha256.removeprefix("sha256:"),
            "channel": entry.channel or index.get("channel", ""),
            "files": [p["_path"] for p in linked],
            "paths_data": {"paths_version": 1, "paths": linked},
            "link": {"source": "envman", "type": 1},
        }
    )
    if entry.md5:
        meta["md5"] = entry.md5
    target = _destination(prefix, f"conda-meta/{index['name']}-{index['version']}-{index['build']}.json", package)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    except OSError as exc:
        raise SyncError(f"{what}: cannot write {target}: {exc.strerror or exc}") from None


def install_package(prefix: Path, artifact: Path, entry: Any, what: str) -> None:
    """Link one verified package into prefix and write its conda-meta record."""
    with prepared(artifact, entry, what) as package:
        check_destinations(prefix, package)
        link_package(prefix, package)


def remove_package(prefix: Path, name: str, what: str) -> None:
    """Remove every file a package's conda-meta record lists, then the record. Records that
    are not regular files or not JSON are skipped; a listed path that is absolute, has `..`
    or lies under a symlink leading out of the prefix is not followed."""
    meta_dir = prefix / "conda-meta"
    base = prefix.resolve()
    for record_file in sorted(meta_dir.glob("*.json")):
        try:
            data, _why = read_conda_record(str(record_file), record_bytes())
            if data is None:
                continue  # a FIFO, a device or an oversized file: never read
            record = json.loads(data.decode("utf-8"))
        except (OSError, ValueError, RecursionError):
            continue
        if not isinstance(record, dict) or record.get("name") != name:
            continue
        files = record.get("files")
        dirs = set()
        try:
            for rel in files if isinstance(files, list) else []:
                if not _inside(rel):
                    continue  # a record naming a path outside the prefix is not followed
                path = prefix / rel
                parent = path.parent.resolve()
                if parent != base and base not in parent.parents:
                    continue  # under a symlink that leads out of the prefix
                if path.is_symlink() or path.is_file():
                    path.unlink()
                dirs.add(path.parent)
            record_file.unlink()
            for folder in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
                while folder != prefix and folder.is_dir() and not folder.is_symlink() and not any(folder.iterdir()):
                    folder.rmdir()
                    folder = folder.parent
        except OSError as exc:
            raise SyncError(f"{what}: cannot remove {name} from {prefix}: {exc.strerror or exc}") from None
