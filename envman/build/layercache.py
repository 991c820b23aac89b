"""envman's cache of squashed layers and rewritten configs, so a rebuild does not squash again
what did not change.

A squashed layer is a function of the raw layers below and inside its group (and of the epoch
and the rewrite rules), so its key is a hash of the raw diff_ids up to the group's last
layer, the group's size, the epoch, the drop rules and `REWRITE_VERSION`. A rewritten config
is a function of the raw image (its ID is the hash of its config), the groups and the epoch.
Entries live under the cache root in `squashed/` (0700 like the rest of the cache), are
written atomically, touched on use, and evicted oldest first beyond `ENVMAN_LAYER_CACHE_GB`
(10 GB by default). A missing or broken entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["LayerCache", "REWRITE_VERSION", "group_key", "image_key"]

REWRITE_VERSION = "1"  # bump when the squash or the config rewrite writes other bytes
_DEFAULT_LIMIT_GB = 10.0


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def group_key(raw_diff_ids: Sequence[str], start: int, count: int, epoch: int, drop: Sequence[str]) -> str:
    """The key of the group made of raw layers [start, start + count)."""
    return _digest({"v": REWRITE_VERSION, "chain": list(raw_diff_ids[: start + count]), "start": start, "count": count,
                    "epoch": epoch, "drop": list(drop)})


def image_key(raw_image_id: str, base_layers: int, groups: Sequence[tuple[str, int]], epoch: int, drop: Sequence[str]) -> str:
    return _digest({"v": REWRITE_VERSION, "raw": raw_image_id, "base": base_layers, "groups": [list(g) for g in groups],
                    "epoch": epoch, "drop": list(drop)})


class LayerCache:
    def __init__(self, root: Path, limit_bytes: int | None = None) -> None:
        self.root = root
        if limit_bytes is None:
            try:
                limit_bytes = int(float(os.environ.get("ENVMAN_LAYER_CACHE_GB", _DEFAULT_LIMIT_GB)) * 1e9)
            except ValueError:
                limit_bytes = int(_DEFAULT_LIMIT_GB * 1e9)
        self.limit_bytes = limit_bytes
        self.used: set[str] = set()

    def _dir(self) -> Path:
        from envman.atomic import make_private_dirs

        make_private_dirs(self.root)
        return self.root

    # -- squashed layers -----------------------------------------------------------------

    def get_layer(self, key: str) -> tuple[Path, str] | None:
        """(layer file, its diff_id) or None."""
        meta = self.root / f"{key}.json"
        layer = self.root / f"{key}.tar"
        try:
            data = json.loads(meta.read_text())
            diff_id = data["diff_id"]
            if not isinstance(diff_id, str) or not layer.is_file() or layer.stat().st_size != data.get("size"):
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        self._touch(layer, meta)
        self.used.add(key)
        return layer, diff_id

    def put_layer(self, key: str, layer: Path, diff_id: str) -> None:
        """Keep `layer` (hard-linked when it can be, else copied) under `key`."""
        if self.limit_bytes <= 0:
            return
        folder = self._dir()
        target = folder / f"{key}.tar"
        fd, tmp = tempfile.mkstemp(prefix=f".{key}.", suffix=".tmp", dir=folder)
        os.close(fd)
        try:
            os.unlink(tmp)
            try:
                os.link(layer, tmp)
            except OSError:
                import shutil

                shutil.copyfile(layer, tmp)
            os.replace(tmp, target)
        except OSError:
            _unlink(Path(tmp))
            return
        self._write_json(f"{key}.json", {"diff_id": diff_id, "size": target.stat().st_size})
        self.used.add(key)

    # -- rewritten configs ---------------------------------------------------------------

    def get_image(self, key: str) -> tuple[bytes, list[str]] | None:
        """(config bytes, diff_ids) of the rewritten image of a raw image, or None."""
        meta = self.root / f"image-{key}.json"
        try:
            data = json.loads(meta.read_text())
            config, diff_ids = data["config"].encode("ascii"), data["diff_ids"]
            if not isinstance(diff_ids, list) or not all(isinstance(d, str) for d in diff_ids):
                return None
        except (OSError, ValueError, KeyError, TypeError, AttributeError, UnicodeEncodeError):
            return None
        self._touch(meta)
        return config, diff_ids

    def put_image(self, key: str, config: bytes, diff_ids: Sequence[str]) -> None:
        if self.limit_bytes > 0:
            self._write_json(f"image-{key}.json", {"config": config.decode("ascii"), "diff_ids": list(diff_ids)})

    # -- housekeeping ----------------------------------------------------------------------

    def prune(self) -> None:
        """Evict the least recently used layers beyond the size limit (never one this build used)."""
        try:
            layers = [p for p in self.root.glob("*.tar") if p.is_file()]
        except OSError:
            return
        stats = []
        for path in layers:
            try:
                stats.append((path.stat().st_mtime, path.stat().st_size, path))
            except OSError:
                continue
        total = sum(size for _, size, _ in stats)
        for _, size, path in sorted(stats):
            if total <= self.limit_bytes:
                break
            if path.stem in self.used:
                continue
            _unlink(path)
            _unlink(path.with_suffix(".json"))
            total -= size

    def _write_json(self, name: str, value: Any) -> None:
        from envman.atomic import atomic_write_bytes

        try:
            atomic_write_bytes(self._dir() / name, json.dumps(value, sort_keys=True).encode(), fsync=False, private=True)
        except OSError:
            pass

    @staticmethod
    def _touch(*paths: Path) -> None:
        now = time.time()
        for path in paths:
            try:
                os.utime(path, (now, now))
            except OSError:
                pass


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError:
        pass
