"""A minimal conda package linker for `envman sync conda:PREFIX` (no conda binary needed).

Installs verified `.tar.bz2` packages (and `.conda` ones when the `zstandard` module is
importable) the way conda does: files copied into the prefix, prefix placeholders replaced
(text: plain replacement; binary: C-string replacement padded with NULs, as conda does),
a `conda-meta/<name>-<version>-<build>.json` record with `files` and `paths_data`
(`sha256_in_prefix` where a placeholder was replaced). Removes a package by its record.
`noarch: python` packages need a Python-aware linker (site-packages relocation, entry
points, byte-compilation): they are refused with a clear message.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

from envman.errors import SyncError

__all__ = ["install_package", "remove_package", "record_path"]


def _inside(rel: Any) -> bool:
    """A relative path that stays inside the prefix (no absolute path, no `..`)."""
    return isinstance(rel, str) and rel != "" and not rel.startswith("/") and ".." not in rel.replace("\\", "/").split("/")


def record_path(prefix: Path, name: str, version: str, build: str) -> Path:
    return prefix / "conda-meta" / f"{name}-{version}-{build}.json"


def _safe_extract(archive: tarfile.TarFile, dest: Path, what: str) -> None:
    for member in archive.getmembers():
        target = (dest / member.name).resolve()
        if not str(target).startswith(str(dest.resolve()) + os.sep) and target != dest.resolve():
            raise SyncError(f"{what}: archive member {member.name!r} escapes the package")
        if member.isdev():
            raise SyncError(f"{what}: archive member {member.name!r} is a device file")
    try:
        archive.extractall(dest, filter="tar")
    except TypeError:  # Python without extraction filters
        archive.extractall(dest)


def _unpack(artifact: Path, dest: Path, what: str, filename: str) -> None:
    try:
        if filename.endswith(".conda"):
            try:
                import zstandard  # type: ignore[import-not-found]
            except ImportError:
                raise SyncError(
                    f"{what}: {filename} is a .conda package; installing it needs the `zstandard` module (pip install zstandard)"
                ) from None
            with zipfile.ZipFile(artifact) as outer:
                for inner in outer.namelist():
                    if inner.endswith(".tar.zst"):
                        data = zstandard.ZstdDecompressor().decompressobj().decompress(outer.read(inner))
                        with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                            _safe_extract(archive, dest, what)
        else:
            with tarfile.open(artifact, "r:*") as archive:
                _safe_extract(archive, dest, what)
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as exc:
        raise SyncError(f"{what}: cannot unpack {filename}: {exc}") from None


def _replace_binary(data: bytes, placeholder: bytes, prefix: bytes) -> bytes:
    if len(prefix) > len(placeholder):
        raise ValueError("the prefix is longer than the package's placeholder")
    pattern = re.compile(re.escape(placeholder) + b"([^\0]*?)\0")
    padding = len(placeholder) - len(prefix)

    def swap(match: re.Match[bytes]) -> bytes:
        return prefix + match.group(1) + b"\0" * padding + b"\0"

    return pattern.sub(swap, data)


def install_package(prefix: Path, artifact: Path, entry: Any, what: str) -> None:
    """Link one verified package into prefix and write its conda-meta record."""
    filename = entry.url.rsplit("/", 1)[-1]
    with tempfile.TemporaryDirectory(prefix="envman-conda-") as tmp:
        root = Path(tmp)
        _unpack(artifact, root, what, filename)
        try:
            index = json.loads((root / "info" / "index.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise SyncError(f"{what}: {filename} has no readable info/index.json: {exc}") from None
        if index.get("noarch") == "python":
            raise SyncError(
                f"{what}: {filename} is a noarch: python package; envman's conda linker does not relocate those (use conda/pixi)"
            )
        paths_file = root / "info" / "paths.json"
        if paths_file.is_file():
            paths = json.loads(paths_file.read_text(encoding="utf-8")).get("paths", [])
        else:
            files = (root / "info" / "files").read_text(encoding="utf-8").split()
            paths = [{"_path": f, "path_type": "hardlink"} for f in files]
        linked = []
        for item in paths:
            rel = item["_path"]
            src, dst = root / rel, prefix / rel
            if not _inside(rel) or not str(dst.resolve()).startswith(str(prefix.resolve()) + os.sep):
                raise SyncError(f"{what}: {filename} writes outside the prefix: {rel}")
            dst.parent.mkdir(parents=True, exist_ok=True)
            record = dict(item)
            if item.get("path_type") == "directory":
                dst.mkdir(exist_ok=True)
                linked.append(record)
                continue
            if dst.is_symlink() or dst.exists():
                dst.unlink()
            if src.is_symlink() or item.get("path_type") == "softlink":
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
    target = record_path(prefix, index.get("name", entry.name), str(index.get("version", entry.version)), index.get("build", entry.build))
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def remove_package(prefix: Path, name: str, what: str) -> None:
    """Remove every file a package's conda-meta record lists, then the record."""
    meta_dir = prefix / "conda-meta"
    for record_file in sorted(meta_dir.glob("*.json")):
        try:
            record = json.loads(record_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if record.get("name") != name:
            continue
        dirs = set()
        for rel in record.get("files", []):
            if not _inside(rel):
                continue  # a record naming a path outside the prefix is not followed
            path = prefix / rel
            if path.is_symlink() or path.is_file():
                path.unlink()
            dirs.add(path.parent)
        record_file.unlink()
        for folder in sorted(dirs, key=lambda p: len(p.parts), reverse=True):
            while folder != prefix and folder.is_dir() and not any(folder.iterdir()):
                folder.rmdir()
                folder = folder.parent
