"""Read the tar stream of `docker save` into files on disk, one pass, nothing held in memory.

Both layouts the engine writes are read, always through manifest.json: the legacy one
(docker 20.10: `<id>/layer.tar`, `<hex>.json`) and the newer one (docker 25+:
`blobs/sha256/<hex>`, possibly symlinked). The stream's members come in no useful order
(manifest.json is last), so every file is spilled to `workdir` first, hashed on the way.
Each layer is checked against its diff_id; a gzip-compressed layer (an engine with the
containerd image store) is decompressed first.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import posixpath
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from envman.build.archive import COPY_CHUNK, ENCODING, ERRORS, Readable, clean_path

__all__ = ["SavedImage", "read_saved_image"]

_GZIP_MAGIC = b"\x1f\x8b"
_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_MAX_JSON = 64 << 20  # manifest.json and the config: anything larger is not what we think


@dataclass(frozen=True)
class SavedImage:
    config: dict[str, Any]
    layers: tuple[Path, ...]  # uncompressed layer tars, base first; sha256 of each == its diff_id
    diff_ids: tuple[str, ...]


@dataclass(frozen=True)
class _Spilled:
    path: Path
    digest: str  # "sha256:<hex>" of the bytes as stored in the stream


def read_saved_image(saved: BinaryIO, workdir: Path) -> SavedImage:
    """Spill the `docker save` stream `saved` into `workdir` (created, should be empty) and
    return the image's config and its verified, uncompressed layers."""
    workdir.mkdir(parents=True, exist_ok=True)
    files, links = _spill(saved, workdir)

    def lookup(name: str) -> _Spilled:
        path = clean_path(name)
        for _ in range(40):  # symlinks among the members (blob aliases), followed a bounded number of times
            if path in files:
                return files[path]
            if path not in links:
                break
            path = links[path]
        raise ValueError(f"the saved image has no file {name!r} (named in manifest.json)")

    manifest = _read_json(lookup("manifest.json").path, "manifest.json")
    if not isinstance(manifest, list) or len(manifest) != 1 or not isinstance(manifest[0], dict):
        raise ValueError(f"manifest.json of the saved image must describe exactly one image, got {_describe(manifest)}")
    entry = manifest[0]
    config_name, layer_names = entry.get("Config"), entry.get("Layers")
    if not isinstance(config_name, str) or not isinstance(layer_names, list) or not all(isinstance(n, str) for n in layer_names):
        raise ValueError("manifest.json of the saved image lacks Config or Layers")
    config = _read_json(lookup(config_name).path, config_name)
    if not isinstance(config, dict):
        raise ValueError(f"image config {config_name} is not a JSON object")
    rootfs = config.get("rootfs")
    diff_ids = rootfs.get("diff_ids") if isinstance(rootfs, dict) else None
    if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
        raise ValueError(f"image config {config_name} has no rootfs.diff_ids")
    if len(diff_ids) != len(layer_names):
        raise ValueError(f"the saved image lists {len(layer_names)} layers but its config has {len(diff_ids)} diff_ids")

    layers: list[Path] = []
    for index, (name, diff_id) in enumerate(zip(layer_names, diff_ids, strict=True)):
        layers.append(_uncompressed_layer(lookup(name), diff_id, workdir / f"layer-{index}.tar", name))
    return SavedImage(config=config, layers=tuple(layers), diff_ids=tuple(diff_ids))


def _spill(saved: BinaryIO, workdir: Path) -> tuple[dict[str, _Spilled], dict[str, str]]:
    files: dict[str, _Spilled] = {}
    links: dict[str, str] = {}
    try:
        with tarfile.open(fileobj=saved, mode="r|", encoding=ENCODING, errors=ERRORS) as stream:
            for member in stream:
                name = clean_path(member.name)
                if member.issym():
                    links[name] = clean_path(posixpath.join(posixpath.dirname(name), member.linkname))
                elif member.islnk():
                    links[name] = clean_path(member.linkname)
                elif member.isreg():
                    source = stream.extractfile(member)
                    assert source is not None
                    dest = workdir / f"member-{len(files)}"
                    files[name] = _Spilled(dest, _copy_hashed(source, dest))
    except tarfile.TarError as exc:
        raise ValueError(f"the saved image is not a readable tar stream: {exc}") from exc
    return files, links


def _copy_hashed(source: Readable, dest: Path) -> str:
    sha = hashlib.sha256()
    with open(dest, "wb") as out:
        while chunk := source.read(COPY_CHUNK):
            sha.update(chunk)
            out.write(chunk)
    return "sha256:" + sha.hexdigest()


def _uncompressed_layer(spilled: _Spilled, diff_id: str, dest: Path, name: str) -> Path:
    if spilled.digest == diff_id:
        return spilled.path
    with open(spilled.path, "rb") as raw:
        magic = raw.read(4)
    if magic.startswith(_GZIP_MAGIC):
        with gzip.open(spilled.path, "rb") as unzipped:
            digest = _copy_hashed(unzipped, dest)
        if digest == diff_id:
            return dest
    elif magic == _ZSTD_MAGIC:
        raise ValueError(f"layer {name} of the saved image is zstd-compressed, which envman cannot read")
    raise ValueError(f"layer {name} of the saved image does not match its diff_id {diff_id} (content is {spilled.digest})")


def _read_json(path: Path, name: str) -> Any:
    if path.stat().st_size > _MAX_JSON:
        raise ValueError(f"{name} in the saved image is larger than {_MAX_JSON} bytes")
    try:
        return json.loads(path.read_bytes())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{name} in the saved image is not valid JSON: {exc}") from exc


def _describe(value: Any) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return type(value).__name__
