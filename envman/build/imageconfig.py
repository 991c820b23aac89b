"""The rewritten image config: only what the image means, nothing about when or where it was built.

Kept from the engine's config: the platform, the runtime settings a container starts with
(Env, Cmd, Entrypoint, WorkingDir, User, ExposedPorts, Volumes, Labels, StopSignal,
Healthcheck, Shell, OnBuild; empty ones left out), and the base's history. Dropped: the
build container and its config, the engine version, the parent image ID, the hostname.
`created` and the new history entries carry the epoch.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

__all__ = ["rewrite_config", "canonical_json", "rfc3339"]

_PLATFORM_KEYS = ("architecture", "os", "os.version", "os.features", "variant")
_RUNTIME_KEYS = (
    "User",
    "ExposedPorts",
    "Env",
    "Entrypoint",
    "Cmd",
    "Volumes",
    "WorkingDir",
    "Labels",
    "StopSignal",
    "Healthcheck",
    "Shell",
    "OnBuild",
)


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode("ascii")


def rfc3339(epoch: int) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rewrite_config(
    raw: Mapping[str, Any],
    *,
    diff_ids: Sequence[str],
    base_layers: int,
    group_names: Sequence[str],
    epoch: int,
    labels: Mapping[str, str],
) -> dict[str, Any]:
    """The deterministic config of the rewritten image, from the engine's `raw` config."""
    config: dict[str, Any] = {key: raw[key] for key in _PLATFORM_KEYS if raw.get(key) not in (None, "", [], {})}
    for key in ("architecture", "os"):
        if not isinstance(config.get(key), str):
            raise ValueError(f"the image config has no {key}")
    runtime = raw.get("config") or {}
    if not isinstance(runtime, dict):
        raise ValueError("the image config's `config` is not an object")
    kept = {key: runtime[key] for key in _RUNTIME_KEYS if runtime.get(key) not in (None, "", [], {})}
    merged_labels = {**(runtime.get("Labels") or {}), **labels}
    if merged_labels:
        kept["Labels"] = merged_labels
    created = rfc3339(epoch)
    config["config"] = kept
    config["created"] = created
    raw_rootfs = raw.get("rootfs") or {}
    raw_added = len(raw_rootfs.get("diff_ids") or []) - base_layers
    config["history"] = _base_history(raw.get("history") or [], base_layers, raw_added)
    config["history"] += [{"created": created, "created_by": f"envman: {name}"} for name in group_names]
    config["rootfs"] = {"type": "layers", "diff_ids": list(diff_ids)}
    return config


def _base_history(history: Any, base_layers: int, added_layers: int) -> list[dict[str, Any]]:
    """The base image's history entries that made a layer, as the base image has them.

    The engine's history starts with the base's and goes on with one entry per build step;
    the entries that made the last `added_layers` layers are the build's. A base without
    (full) history gives what it has."""
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise ValueError("the image config's history is not a list of objects")
    made_layers = [h for h in history if not h.get("empty_layer")]
    own = len(made_layers) - added_layers
    if own < 0:
        raise ValueError(f"the image history names {len(made_layers)} layers, fewer than the {added_layers} the build added")
    if own > base_layers:
        raise ValueError(f"the image history names {own} base layers, the base has {base_layers}")
    return [dict(h) for h in made_layers[:own]]
