"""The metadata uv built from sdists, read back from uv's cache.

When uv resolves a version that has no wheel, it builds the sdist's metadata (a PEP 517
`prepare_metadata_for_build_wheel` in a build environment) and keeps it in its cache:

    <uv cache>/sdists-v11/<index bucket>/<name>/<version>/revision.http   the sdist's revision: id, hashes
    <uv cache>/sdists-v11/<index bucket>/<name>/<version>/<id>/metadata.msgpack
        [name, version, requires-dist, requires-python, provides-extras, dynamic]

(`<index bucket>` is `pypi`, or `index/<digest of the index URL>`). This is uv's own layout
for the version envman pins (pyproject.toml); a layout it does not recognise gives nothing,
and then every uv run builds as it would anyway. The files are read as untrusted input:
bounded in size, every value checked (sdist_metadata.checked).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from envman.ecosystems.python.sdist_metadata import StaticMetadata, checked

__all__ = ["built_sdist_metadata", "SDIST_BUCKET"]

SDIST_BUCKET = "sdists-v11"  # uv 0.13's bucket of source distributions
_MAX_BYTES = 1 << 20


def _read_msgpack(path: Path) -> object:
    """The first msgpack value in path (revision.http carries uv's cache policy after it), or None."""
    import msgpack

    try:
        if not path.is_file() or path.stat().st_size > _MAX_BYTES:
            return None
        unpacker = msgpack.Unpacker(raw=False, max_buffer_size=_MAX_BYTES, strict_map_key=True)
        unpacker.feed(path.read_bytes())
        return next(unpacker)
    except (OSError, StopIteration, ValueError, TypeError, msgpack.ExtraData, msgpack.FormatError, msgpack.StackError):
        return None


def _revision_hashes(value: object) -> tuple[str, frozenset[str]] | None:
    """(revision id, {"sha256:<hex>"}) of a revision.http value ([id, [{"Sha256": hex}, …], size])."""
    if not isinstance(value, list) or len(value) < 2 or not isinstance(value[0], str) or not isinstance(value[1], list):
        return None
    revision = value[0]
    if not revision or "/" in revision or revision.startswith(".") or len(revision) > 64:
        return None
    hashes = set()
    for item in value[1]:
        if isinstance(item, dict) and isinstance(item.get("Sha256"), str):
            hashes.add("sha256:" + item["Sha256"].lower())
    return (revision, frozenset(hashes)) if hashes else None


def _version_folders(root: Path, name: str) -> Iterable[Path]:
    bucket = root / SDIST_BUCKET
    yield from (bucket / "pypi" / name).glob("*")
    yield from bucket.glob(f"index/*/{name}/*")


def built_sdist_metadata(uv_cache: str | None, pins: Iterable[tuple[str, str, frozenset[str]]]) -> list[StaticMetadata]:
    """For each (normalized name, version, the pin's hashes) whose files are exactly one sdist
    uv built in this cache: that build's metadata (keyed by the sdist's hashes)."""
    from packaging.version import InvalidVersion, Version

    if not uv_cache or not os.path.isdir(uv_cache):
        return []
    root = Path(uv_cache)
    found: list[StaticMetadata] = []
    for name, version, hashes in pins:
        if not hashes or len(hashes) > 4:  # sdist-only versions list one file (rarely a few)
            continue
        for folder in _version_folders(root, name):
            revision = _revision_hashes(_read_msgpack(folder / "revision.http"))
            if revision is None or revision[1] != hashes:
                continue
            value = _read_msgpack(folder / revision[0] / "metadata.msgpack")
            if not isinstance(value, list) or len(value) < 5:
                continue
            try:
                same = isinstance(value[1], str) and Version(value[1]) == Version(version)
            except InvalidVersion:
                same = False
            entry = checked({  # the version as the pin spells it (PEP 440 equal to the built one)
                "name": value[0], "version": version, "hashes": sorted(hashes), "requires_dist": value[2],
                "requires_python": value[3], "provides_extra": value[4],
            }) if same else None
            if entry is not None and entry.name == name:
                found.append(entry)
                break
    return found
