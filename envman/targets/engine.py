"""The Docker engines for docker:/image: targets: one shared client per engine, engine errors -> exit 4."""

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
_clients: dict[str | None, Any] = {}


def engine_client(what: str, engine: str | None = None) -> Any:
    """The client of `engine` (a URL such as unix:///run/docker.sock, tcp://host:2375,
    ssh://user@host, or a docker context's name); None: the engine the docker CLI would use
    ($DOCKER_HOST, else $DOCKER_CONTEXT, else the current context of ~/.docker/config.json,
    else the default socket). One client per engine, shared by the targets on it."""
    with _lock:
        if engine not in _clients:
            try:
                client = _connect(engine)
                client.ping()
            except UnreachableError as exc:
                raise UnreachableError(f"{what}: {exc}") from None
            except Exception as exc:  # docker raises DockerException, requests errors, OSError
                where = f" at {engine}" if engine else ""
                raise UnreachableError(f"{what}: the Docker engine{where} is not reachable ({type(exc).__name__}: {exc})") from None
            _clients[engine] = client
        return _clients[engine]


def _connect(engine: str | None) -> Any:
    import os

    import docker

    if engine is None and not os.environ.get("DOCKER_HOST"):
        engine = os.environ.get("DOCKER_CONTEXT") or _current_context()
        if engine == "default":
            engine = None
    if engine is None:
        return docker.from_env(max_pool_size=64)
    if "://" in engine:
        return docker.DockerClient(base_url=engine, max_pool_size=64, use_ssh_client=engine.startswith("ssh://"))
    from docker.context import ContextAPI

    try:
        context = ContextAPI.get_context(engine)
    except docker.errors.DockerException as exc:
        raise UnreachableError(f"docker context {engine!r} cannot be read: {exc}") from None
    if context is None or not context.Host:
        raise UnreachableError(f"no docker context named {engine!r} (see `docker context ls`)")
    host = str(context.Host)
    return docker.DockerClient(base_url=host, tls=context.TLSConfig or False, max_pool_size=64, use_ssh_client=host.startswith("ssh://"))


def _current_context() -> str | None:
    try:
        from docker.context.config import get_current_context_name

        return str(get_current_context_name())
    except Exception:
        return None


def get_container(name: str, what: str, engine: str | None = None) -> Any:
    import docker.errors

    client = engine_client(what, engine)
    try:
        container = client.containers.get(name)
    except docker.errors.NotFound:
        raise UnreachableError(f"{what}: no such container {name!r}") from None
    except docker.errors.DockerException as exc:
        raise UnreachableError(f"{what}: the Docker engine is not reachable: {exc}") from None
    if container.status != "running":
        raise UnreachableError(f"{what}: container {name!r} is not running (status {container.status})")
    return container


def get_image(ref: str, what: str, engine: str | None = None) -> Any:
    import docker.errors

    client = engine_client(what, engine)
    try:
        return client.images.get(ref)
    except docker.errors.ImageNotFound:
        raise UnreachableError(f"{what}: no such image {ref!r} in the engine") from None
    except docker.errors.DockerException as exc:
        raise UnreachableError(f"{what}: the Docker engine is not reachable: {exc}") from None
