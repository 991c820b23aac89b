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
_locks: dict[str | None, threading.Lock] = {}


def engine_client(what: str, engine: str | None = None) -> Any:
    """The client of `engine` (a URL such as unix:///run/docker.sock, tcp://host:2375,
    ssh://user@host, or a docker context's name); None: the engine the docker CLI would use
    ($DOCKER_HOST, else $DOCKER_CONTEXT, else the current context of ~/.docker/config.json,
    else the default socket). One client per engine, shared by the targets on it."""
    with _lock:
        engine_lock = _locks.setdefault(engine, threading.Lock())
    with engine_lock:  # one engine slow to answer never holds up the targets on another
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
    host, tls = _context(engine)
    return docker.DockerClient(base_url=host, tls=tls or False, max_pool_size=64, use_ssh_client=host.startswith("ssh://"))


def _docker_config_dir() -> Any:
    import os
    from pathlib import Path

    return Path(os.environ.get("DOCKER_CONFIG") or Path.home() / ".docker")


def _context(name: str) -> tuple[str, Any]:
    """(host, TLSConfig or None) of a docker CLI context, read where the CLI keeps it
    ($DOCKER_CONFIG or ~/.docker: contexts/meta/<sha256 of the name>/meta.json, TLS files
    under contexts/tls/…/docker)."""
    import hashlib
    import json

    digest = hashlib.sha256(name.encode("utf-8")).hexdigest()
    base = _docker_config_dir() / "contexts"
    try:
        meta = json.loads((base / "meta" / digest / "meta.json").read_text(encoding="utf-8"))
        endpoint = meta["Endpoints"]["docker"]
        host = str(endpoint["Host"])
    except FileNotFoundError:
        raise UnreachableError(f"no docker context named {name!r} (see `docker context ls`)") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UnreachableError(f"docker context {name!r} cannot be read ({type(exc).__name__}: {exc})") from None
    tls_dir = base / "tls" / digest / "docker"
    if not tls_dir.is_dir():
        return host, None
    from docker.tls import TLSConfig

    cert, key, ca = tls_dir / "cert.pem", tls_dir / "key.pem", tls_dir / "ca.pem"
    return host, TLSConfig(
        client_cert=(str(cert), str(key)) if cert.is_file() and key.is_file() else None,
        ca_cert=str(ca) if ca.is_file() else None,
        verify=not endpoint.get("SkipTLSVerify", False),
    )


def _current_context() -> str | None:
    """The docker CLI's current context (config.json's currentContext), None for the default."""
    import json

    try:
        data = json.loads((_docker_config_dir() / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = data.get("currentContext") if isinstance(data, dict) else None
    return str(name) if name else None


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
