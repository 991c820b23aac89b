"""Pin `image.base` at lock time: the registry's manifest digest (tag@sha256:…), asked of the
registry over its HTTP API (anonymous token when it wants one), else the digest the local
engine recorded when it pulled the image, else — for a base that exists only in the local
engine — its image ID. Nothing reachable: unpinned, and the caller says so."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["Pin", "pin_base", "split_reference"]

_ACCEPT = ", ".join([
    "application/vnd.oci.image.index.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
])
_DIGEST = re.compile(r"^sha256:[0-9a-f]{64}$")


class Pin:
    def __init__(self, digest: str | None = None, image_id: str | None = None, note: str | None = None) -> None:
        self.digest, self.image_id, self.note = digest, image_id, note


def split_reference(ref: str) -> tuple[str | None, str, str]:
    """(registry host or None for Docker Hub / local names, repository, tag or digest)."""
    name, _, digest = ref.partition("@")
    tag = "latest"
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest, digest or tag
    return None, name, digest or tag


def pin_base(ref: str, timeout: float = 15.0) -> Pin:
    host, repository, reference = split_reference(ref)
    if _DIGEST.match(reference):
        return Pin(digest=reference)
    if host is not None:
        digest = _registry_digest(host, repository, reference, timeout)
        if digest:
            return Pin(digest=digest)
    return _engine_pin(ref)


def _registry_digest(host: str, repository: str, reference: str, timeout: float) -> str | None:
    import requests

    local = host.startswith(("127.", "localhost", "[::1]"))
    for scheme in (("https", "http") if local else ("https",)):
        url = f"{scheme}://{host}/v2/{repository}/manifests/{reference}"
        try:
            with requests.Session() as session:
                response = session.head(url, headers={"Accept": _ACCEPT}, timeout=timeout)
                if response.status_code == 401:
                    token = _anonymous_token(session, response.headers.get("WWW-Authenticate", ""), timeout)
                    if token:
                        response = session.head(url, headers={"Accept": _ACCEPT, "Authorization": f"Bearer {token}"}, timeout=timeout)
        except requests.RequestException:
            continue
        digest = response.headers.get("Docker-Content-Digest", "")
        if response.status_code == 200 and _DIGEST.match(digest):
            return digest
    return None


def _anonymous_token(session: Any, challenge: str, timeout: float) -> str | None:
    fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
    if not challenge.lower().startswith("bearer") or "realm" not in fields:
        return None
    params = {k: v for k, v in fields.items() if k in ("service", "scope")}
    try:
        reply = session.get(fields["realm"], params=params, timeout=timeout).json()
    except Exception:
        return None
    token = reply.get("token") or reply.get("access_token")
    return token if isinstance(token, str) else None


def _engine_pin(ref: str) -> Pin:
    try:
        import docker

        client = docker.from_env(timeout=30)
        image = client.images.get(ref)
    except Exception as exc:  # no engine, no such image: both mean "cannot pin here"
        return Pin(note=f"image.base {ref}: not pinned (no registry or engine has it: {type(exc).__name__})")
    repository = split_reference(ref)[1]
    for item in image.attrs.get("RepoDigests") or []:
        name, _, digest = item.partition("@")
        if name.endswith(repository) and _DIGEST.match(digest):
            return Pin(digest=digest)
    return Pin(image_id=image.id, note=f"image.base {ref} exists only in the local engine: pinned by image ID")
