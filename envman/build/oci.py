"""Write a rewritten image as an OCI image layout (image-spec 1.0), for registries and tools
that read one (skopeo, crane, podman, containerd).

Layers are stored uncompressed (application/vnd.oci.image.layer.v1.tar): the blob digest is
then the diff_id, the same on every machine. Compressed bytes depend on the compressor's
version and settings (zlib and zlib-ng give different gzip streams for the same input),
which would make the manifest digest differ between machines for the same image. A
registry push may compress on the way (`skopeo copy --dest-compress`).

The layout is written to a temporary sibling folder and renamed into place; an existing
layout is replaced, an existing non-empty folder that is not a layout is refused.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from envman.build.imageconfig import canonical_json
from envman.build.layers import RewrittenImage

__all__ = [
    "write_oci_layout",
    "MEDIA_TYPE_INDEX",
    "MEDIA_TYPE_MANIFEST",
    "MEDIA_TYPE_CONFIG",
    "MEDIA_TYPE_LAYER",
    "REF_NAME_ANNOTATION",
]

MEDIA_TYPE_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_TYPE_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_TYPE_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_TYPE_LAYER = "application/vnd.oci.image.layer.v1.tar"
REF_NAME_ANNOTATION = "org.opencontainers.image.ref.name"
_LAYOUT_FILE = "oci-layout"
_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'
# image-spec annotations.md: ref.name is components of alphanumerics joined by "/",
# with the separators - . _ : @ + or "--" inside a component.
_REF_NAME = re.compile(r"[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*(?:/[A-Za-z0-9]+(?:(?:[-._:@+]|--)[A-Za-z0-9]+)*)*")


def write_oci_layout(image: RewrittenImage, directory: Path, ref_name: str, annotations: Mapping[str, str]) -> str:
    """Write `image` as the OCI layout `directory`, tagged `ref_name`; returns the manifest
    digest. Writing the same image again gives the same bytes in every file."""
    if not _REF_NAME.fullmatch(ref_name):
        raise ValueError(f"{ref_name!r} is not a valid OCI reference name (letters, digits, and - . _ : @ + / between them)")
    directory = Path(directory)
    _check_target(directory)
    config = json.loads(image.config)
    platform = {key: config[key] for key in ("architecture", "os", "variant") if isinstance(config.get(key), str)}
    manifest_annotations = {k: v for k, v in annotations.items() if k != REF_NAME_ANNOTATION}

    directory.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".tmp", dir=directory.parent))
    try:
        blobs = tmp / "blobs" / "sha256"
        blobs.mkdir(parents=True)
        layers = [_put_file(blobs, path, diff_id) for path, diff_id in zip(image.layers, image.diff_ids, strict=True)]
        manifest: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": MEDIA_TYPE_MANIFEST,
            "config": _put_bytes(blobs, image.config, MEDIA_TYPE_CONFIG),
            "layers": layers,
        }
        if manifest_annotations:
            manifest["annotations"] = manifest_annotations
        descriptor = _put_bytes(blobs, canonical_json(manifest), MEDIA_TYPE_MANIFEST)
        descriptor["annotations"] = {**manifest_annotations, REF_NAME_ANNOTATION: ref_name}
        if platform:
            descriptor["platform"] = platform
        index = {"schemaVersion": 2, "mediaType": MEDIA_TYPE_INDEX, "manifests": [descriptor]}
        _write(tmp / "index.json", canonical_json(index))
        _write(tmp / _LAYOUT_FILE, _LAYOUT)
        _set_modes(tmp)
        _move_into_place(tmp, directory)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return str(descriptor["digest"])


def _check_target(directory: Path) -> None:
    if directory.is_symlink() or (directory.exists() and not directory.is_dir()):
        raise ValueError(f"{directory} exists and is not a folder; refusing to write an OCI layout there")
    if directory.is_dir() and any(directory.iterdir()) and not (directory / _LAYOUT_FILE).is_file():
        raise ValueError(f"{directory} is a non-empty folder that is not an OCI image layout; refusing to replace it")


def _put_bytes(blobs: Path, data: bytes, media_type: str) -> dict[str, Any]:
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    _write(blobs / digest.removeprefix("sha256:"), data)
    return {"mediaType": media_type, "digest": digest, "size": len(data)}


def _put_file(blobs: Path, source: Path, diff_id: str) -> dict[str, Any]:
    """A layer blob: the uncompressed layer file, whose digest is its diff_id. Hard-linked
    from the work folder where possible (layers may be GBs), copied otherwise."""
    dest = blobs / diff_id.removeprefix("sha256:")
    if not dest.exists():  # two layers with the same content share one blob
        try:
            os.link(source, dest)
        except OSError:
            shutil.copyfile(source, dest)
    return {"mediaType": MEDIA_TYPE_LAYER, "digest": diff_id, "size": dest.stat().st_size}


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as handle:
        handle.write(data)


def _set_modes(root: Path) -> None:
    """Folders 0777 and files 0666 minus the umask, as a plain write would give (mkdtemp
    makes 0700); hard-linked blobs keep the work folder's mode (0644)."""
    umask = os.umask(0)
    os.umask(umask)
    for folder, _subdirs, files in os.walk(root):
        os.chmod(folder, 0o777 & ~umask)
        for name in files:
            path = Path(folder, name)
            if path.stat().st_nlink == 1:
                os.chmod(path, 0o666 & ~umask)


def _move_into_place(tmp: Path, directory: Path) -> None:
    try:
        os.rename(tmp, directory)  # absent, or an empty folder (rename(2) replaces those)
        return
    except OSError:
        if not (directory / _LAYOUT_FILE).is_file():
            raise
    old = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", suffix=".old", dir=directory.parent))
    os.rename(directory, old / "layout")
    try:
        os.rename(tmp, directory)
    except BaseException:
        os.rename(old / "layout", directory)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)
