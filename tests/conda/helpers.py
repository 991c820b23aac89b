"""Shared by the conda tests: a project folder with a manifest, the lock read back."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import yaml

__all__ = ["write_manifest", "read_lock", "pins", "closed_port_url"]


def write_manifest(folder: Path, body: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "envman.yaml").write_text(body)
    return folder


def read_lock(folder: Path) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((folder / "envman.lock").read_text())
    return data


def pins(folder: Path, env: str, platform: str) -> dict[str, str]:
    """name -> version of the conda entries of one environment and platform."""
    return {e["name"]: e["version"] for e in read_lock(folder)["environments"][env][platform]["conda"]}


def closed_port_url() -> str:
    """An http URL on 127.0.0.1 where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/channel"
