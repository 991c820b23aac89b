"""The Docker engine for docker:/image: targets: one shared client, engine errors -> exit 4."""

from __future__ import annotations

import threading
from typing import Any

from envman.errors import UnreachableError

__all__ = ["engine_client", "get_container", "get_image", "label"]

def label(labels: dict[str, str], ecosystem: Any) -> str | None:
    """Where an image's labels say `ecosystem` lives, under any spelling it accepts
    (Ecosystem.image_labels; the first is the one envman writes)."""
    for key in ecosystem.image_labels:
        if labels.get(key):
            return labels[key]
    return None


_lock = threading.Lock()
_client: Any = None


def engine_client(what: str) -> Any:
    global _client
    with _lock:
        if _client is None:
            import docker

            try:
                client = docker.from_env(max_pool_size=64)
                client.ping()
            except Exception as exc:  # docker raises DockerException, requests errors, OSError
                raise UnreachableError(f"{what}: the Docker engine is not reachable ({type(exc).__name__}: {exc})") from None
            _client = client
        return _client


def get_container(name: str, what: str) -> Any:
    import docker.errors

    client = engine_client(what)
    try:
        container = client.containers.get(name)
    except docker.errors.NotFound:
        raise UnreachableError(f"{what}: no such container {name!r}") from None
    except docker.errors.DockerException as exc:
        raise UnreachableError(f"{what}: the Docker engine is not reachable: {exc}") from None
    if container.status != "running":
        raise UnreachableError(f"{what}: container {name!r} is not running (status {container.status})")
    return container


def get_image(ref: str, what: str) -> Any:
    import docker.errors

    client = engine_client(what)
    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        raise UnreachableError(f"{what}: no such image {ref!r} in the engine") from None
    except docker.errors.DockerException as exc:
        raise UnreachableError(f"{what}: the Docker engine is not reachable: {exc}") from None
