"""The engine a build talks to: the one DOCKER_HOST names (else the local socket), reached
with the docker SDK; no engine is exit 4 with how to start one."""

from __future__ import annotations

import os
from typing import Any

from envman.errors import UnreachableError

__all__ = ["connect", "engine_name"]


def engine_name() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def connect(timeout: int = 1800) -> Any:
    try:
        import docker

        client = docker.from_env(timeout=timeout)
        client.ping()
    except Exception as exc:  # DockerException, requests errors, OSError: all mean "no engine"
        raise UnreachableError(
            f"no Docker engine answers at {engine_name()} ({type(exc).__name__}: {exc}); start one "
            "(`systemctl start docker`, or `dockerd &` as root) or point DOCKER_HOST at one"
        ) from None
    return client
