"""Make an engine-built image reproducible: rewrite its layers and config deterministically.

The classic builder stamps build times into every layer and the config, so two builds of
one lock never share an image ID. `rewrite_image` takes the image as `docker save` streams
it, keeps the base's layers byte for byte (the engine shares them with the base), squashes
the layers the build added into one layer per group (see overlay.py), clamps every mtime to
the epoch, leaves out build leftovers (droprules.py) and writes a config without build
times (imageconfig.py). `write_docker_archive` hands the result back to `docker load`; the
same image in an OCI layout is oci.py's job.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import tempfile
from collections.abc import Sequence, Set
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from envman.build.archive import TarWriter
from envman.build.droprules import DEFAULT_DROP, DropRules
from envman.build.imageconfig import canonical_json, rewrite_config
from envman.build.layercache import LayerCache, group_key
from envman.build.overlay import LowerTree, squash_layers
from envman.build.saved import read_saved_image

__all__ = ["LayerGroup", "RewrittenImage", "rewrite_image", "write_docker_archive", "DEFAULT_DROP"]

_LAYER_MODE = 0o644


@dataclass(frozen=True)
class LayerGroup:
    name: str  # the history entry of its layer says "envman: <name>"
    count: int  # how many consecutive raw layers (after the base's) become this one layer


@dataclass(frozen=True)
class RewrittenImage:
    image_id: str  # "sha256:<hex>" of `config`
    config: bytes  # canonical JSON
    layers: tuple[Path, ...]  # uncompressed layer tars, base layers first (files in the workdir)
    diff_ids: tuple[str, ...]  # "sha256:<hex>" of each layer file
    reused: int = 0  # squashed layers taken from the cache, not squashed again


def rewrite_image(
    saved: BinaryIO,
    workdir: Path,
    *,
    base_layers: int,
    groups: Sequence[LayerGroup],
    epoch: int,
    labels: dict[str, str],
    drop: Sequence[str] = DEFAULT_DROP,
    cache: LayerCache | None = None,
    reuse: bool = True,
) -> RewrittenImage:
    """Rewrite the image `docker save` streams in `saved`; the layers are written to
    `workdir`/layers and stay there (the caller removes `workdir`). ValueError when the
    groups do not cover the image's layers or the stream is not a saved image.

    With a `cache`, every squashed layer is kept there, and (when `reuse`) a group whose raw
    layers and everything below them are unchanged takes its squashed layer from there
    instead of being squashed again (the squash is a function of exactly those inputs)."""
    if base_layers < 0:
        raise ValueError(f"base_layers must be 0 or more, got {base_layers}")
    if epoch < 0:
        raise ValueError(f"epoch must be 0 or more, got {epoch}")
    for group in groups:
        if not group.name or group.count < 0:
            raise ValueError(f"layer group {group!r}: a name and a count of 0 or more are needed")
    rules = DropRules(drop)
    workdir.mkdir(parents=True, exist_ok=True)
    out_dir = workdir / "layers"
    out_dir.mkdir(exist_ok=True)
    spill = Path(tempfile.mkdtemp(prefix="saved-", dir=workdir))
    try:
        raw = read_saved_image(saved, spill)
        added = len(raw.layers) - base_layers
        if added < 0:
            raise ValueError(f"the image has {len(raw.layers)} layers, fewer than the {base_layers} of its base")
        wanted = sum(group.count for group in groups)
        if wanted != added:
            counts = " + ".join(f"{g.name}={g.count}" for g in groups) or "no groups"
            raise ValueError(
                f"the layer groups cover {wanted} layers ({counts}) but the build added {added} to the {base_layers} of the base"
            )

        layers = [_keep(path, diff_id, out_dir) for path, diff_id in zip(raw.layers[:base_layers], raw.diff_ids, strict=False)]
        diff_ids = list(raw.diff_ids[:base_layers])
        keys, hits, start = [], [], base_layers
        for group in groups:
            keys.append(group_key(raw.diff_ids, start, group.count, epoch, rules.patterns))
            hits.append(cache.get_layer(keys[-1]) if cache is not None and reuse else None)
            start += group.count
        misses = [index for index, hit in enumerate(hits) if hit is None]
        lower = LowerTree()
        if misses:  # the paths below the first group squashed here (cached groups need none)
            for path in layers:
                lower.apply_layer(path)
        start = base_layers
        for index, group in enumerate(groups):
            members = raw.layers[start : start + group.count]
            start += group.count
            hit = hits[index]
            if hit is not None:
                layers.append(hit[0])
                diff_ids.append(hit[1])
                if misses and index < misses[-1]:
                    lower.apply_layer(hit[0])
                continue
            fd, tmp = tempfile.mkstemp(prefix=".squash-", suffix=".tar", dir=out_dir)
            os.close(fd)
            try:
                result = squash_layers(members, Path(tmp), lower, epoch=epoch, drop=rules)
                os.chmod(tmp, _LAYER_MODE)
                final = out_dir / f"{result.diff_id.removeprefix('sha256:')}.tar"
                os.replace(tmp, final)  # a new inode: files linked from an earlier run stay as they were
            except BaseException:
                _unlink(Path(tmp))
                raise
            if cache is not None:
                cache.put_layer(keys[index], final, result.diff_id)
            layers.append(final)
            diff_ids.append(result.diff_id)
    finally:
        shutil.rmtree(spill, ignore_errors=True)

    config = canonical_json(
        rewrite_config(
            raw.config, diff_ids=diff_ids, base_layers=base_layers, group_names=[g.name for g in groups], epoch=epoch, labels=labels
        )
    )
    return RewrittenImage(
        image_id="sha256:" + hashlib.sha256(config).hexdigest(),
        config=config,
        layers=tuple(layers),
        diff_ids=tuple(diff_ids),
        reused=len(groups) - len(misses),
    )


def _keep(path: Path, diff_id: str, out_dir: Path) -> Path:
    """Move a base layer out of the spill folder, under its diff_id (it passes through as it is)."""
    final = out_dir / f"{diff_id.removeprefix('sha256:')}.tar"
    tmp = out_dir / f".{final.name}.{os.getpid()}.tmp"
    try:
        os.link(path, tmp)  # the spill folder may name the same file twice: link, do not move
    except OSError:
        shutil.copyfile(path, tmp)
    os.chmod(tmp, _LAYER_MODE)
    os.replace(tmp, final)
    return final


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


def write_docker_archive(image: RewrittenImage, out: BinaryIO, tags: Sequence[str], skip: Set[int] = frozenset()) -> None:
    """Write `image` as a docker-archive tar for `docker load` (the legacy layout that every
    engine reads: manifest.json, <config-hex>.json, <diff-id-hex>/layer.tar), deterministically:
    members sorted, mtime 0, owner 0. The layers at the indexes in `skip` are named in
    manifest.json but their files are left out: for an engine that holds them already (its
    load reads a layer file only when it lacks the layer's chain ID)."""
    config_name = image.image_id.removeprefix("sha256:") + ".json"
    layer_names = [f"{diff_id.removeprefix('sha256:')}/layer.tar" for diff_id in image.diff_ids]
    manifest = [{"Config": config_name, "RepoTags": list(tags), "Layers": layer_names}]
    members: dict[str, bytes | Path | None] = {config_name: image.config, "manifest.json": canonical_json(manifest)}
    for index, (name, path) in enumerate(zip(layer_names, image.layers, strict=True)):
        if index in skip:
            continue
        members[name.partition("/")[0]] = None
        members[name] = path  # a layer listed twice (two empty groups) is written once
    writer = TarWriter(out)
    for name in sorted(members):
        value = members[name]
        if value is None:
            writer.add_dir(name)
        elif isinstance(value, bytes):
            writer.add_bytes(name, value)
        else:
            with open(value, "rb") as data:
                writer.add(_file_info(name, os.fstat(data.fileno()).st_size), data)
    writer.close()


def _file_info(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.mode, info.size = 0o644, size
    return info
