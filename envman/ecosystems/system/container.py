"""The throwaway container that asks apt (I/O shell of resolve.py).

A container of the pinned base runs apt_script.sh: `apt-get update` with the base's own
sources into a named volume (the apt lists, kept between runs so a warm lock only checks
the Release files), then `apt-get satisfy --simulate` per job. Nothing is installed; the
container is removed. The host's apt proxy, proxy variables and CA bundle are handed to
apt inside (a TLS-inspecting proxy needs its CA there), never written into any image.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import subprocess
import tarfile
import time
from pathlib import Path
from typing import Any

from envman.errors import UnreachableError

__all__ = ["AptJob", "run_apt", "image_reference", "host_apt_options", "lists_volume"]

_SCRIPT = Path(__file__).with_name("apt_script.sh")
_CA_CANDIDATES = ("/etc/ssl/certs/ca-certificates.crt", "/etc/pki/tls/certs/ca-bundle.crt", "/etc/ssl/cert.pem")


class AptJob:
    """One `apt-get satisfy -s`: relations, an apt_preferences text, run only after a failure?"""

    def __init__(self, relations: list[str], preferences: str = "", fallback: bool = False) -> None:
        self.relations, self.preferences, self.fallback = relations, preferences, fallback


def image_reference(pin: Any, base: str) -> str:
    """What `docker run` names: the image ID or tag@digest the lock pinned, else the tag."""
    if pin is not None and getattr(pin, "id", None):
        return str(pin.id)
    if pin is not None and getattr(pin, "digest", None):
        return f"{base.split('@', 1)[0]}@{pin.digest}"
    return base


def lists_volume(reference: str) -> str:
    return "envman-apt-lists-" + hashlib.sha256(reference.encode()).hexdigest()[:16]


def host_apt_options() -> tuple[list[str], bytes | None]:
    """(apt -o options, CA bundle bytes): the host's apt proxy settings and proxy variables,
    the host's CA bundle (the TLS-inspecting proxy's CA is in it)."""
    options = ["Acquire::Languages=none", "Acquire::Retries=3", "Dpkg::Use-Pty=0"]
    proxies: dict[str, str] = {}
    apt_config = shutil.which("apt-config")
    if apt_config:
        try:
            dump = subprocess.run([apt_config, "dump"], capture_output=True, text=True, timeout=20, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            dump = ""
        for line in dump.splitlines():
            for scheme in ("http", "https"):
                prefix = f"Acquire::{scheme}::Proxy "
                if line.startswith(prefix):
                    proxies.setdefault(scheme, line[len(prefix):].strip().rstrip(";").strip('"'))
    for scheme in ("http", "https"):
        value = os.environ.get(f"{scheme}_proxy") or os.environ.get(f"{scheme.upper()}_PROXY")
        if value:
            proxies.setdefault(scheme, value)
    for scheme, value in sorted(proxies.items()):
        if value and "\n" not in value:
            options.append(f"Acquire::{scheme}::Proxy={value}")
    ca: bytes | None = None
    for candidate in (os.environ.get("SSL_CERT_FILE"), os.environ.get("REQUESTS_CA_BUNDLE"), *_CA_CANDIDATES):
        if candidate and os.path.isfile(candidate):
            try:
                ca = Path(candidate).read_bytes()
            except OSError:
                continue
            options.append("Acquire::https::CAInfo=/envman/ca.crt")
            break
    return options, ca


def _archive(jobs: list[AptJob], options: list[str], ca: bytes | None, offline: bool) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        def add(name: str, data: bytes, mode: int = 0o644) -> None:
            info = tarfile.TarInfo(f"envman/{name}")
            info.size, info.mode, info.mtime = len(data), mode, 0
            tar.addfile(info, io.BytesIO(data))

        add("script.sh", _SCRIPT.read_bytes(), 0o755)
        add("options", ("\n".join(options) + "\n").encode())
        if ca is not None:
            add("ca.crt", ca)
        if offline:
            add("offline", b"")
        for index, job in enumerate(jobs):
            add(f"jobs/{index:03d}/relations", ("\n".join(job.relations) + "\n").encode())
            if job.preferences:
                add(f"jobs/{index:03d}/preferences", job.preferences.encode())
            if job.fallback:
                add(f"jobs/{index:03d}/fallback", b"")
    return buffer.getvalue()


def run_apt(reference: str, jobs: list[AptJob], offline: bool, timeout: float = 900) -> str:
    """apt_script.sh's answer (stdout) from a container of `reference`."""
    import docker.errors

    from envman.cache import cache_root
    from envman.targets.engine import engine_client

    client = engine_client("system.apt")
    try:  # the lists volume belongs to the image, however it is named (tag, tag@digest, ID)
        image_id = str(client.images.get(reference).id)
    except docker.errors.ImageNotFound:
        raise UnreachableError(
            f"system.apt: the base image {reference} is not in the Docker engine "
            "(pull it, or run `envman lock --upgrade-package image`)"
        ) from None
    except docker.errors.DockerException as exc:
        raise UnreachableError(f"system.apt: cannot inspect the base image {reference}: {exc}") from None
    options, ca = host_apt_options()
    network = os.environ.get("ENVMAN_APT_NETWORK", "host")
    volume = lists_volume(image_id)
    lock_dir = cache_root() / "locks"
    lock_dir.mkdir(parents=True, exist_ok=True)
    with open(lock_dir / f"{volume}.lock", "w") as lock_file:  # one apt at a time per lists volume
        import fcntl

        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            container = client.containers.create(
                image_id, entrypoint=["/bin/sh"], command=["/envman/script.sh"], user="0",
                network_mode=network, volumes={volume: {"bind": "/var/lib/apt/lists", "mode": "rw"}},
                labels={"org.envman.role": "apt-resolver"},
            )
        except docker.errors.DockerException as exc:
            raise UnreachableError(f"system.apt: cannot start a container of {reference}: {exc}") from None
        try:
            container.put_archive("/", _archive(jobs, options, ca, offline))
            container.start()
            deadline = time.monotonic() + timeout
            try:
                status = container.wait(timeout=max(1.0, deadline - time.monotonic()))
            except Exception:
                raise UnreachableError(f"system.apt: apt did not answer within {timeout:g} s in a container of {reference}") from None
            out = container.logs(stdout=True, stderr=False)
            err = container.logs(stdout=False, stderr=True)
        except docker.errors.DockerException as exc:
            raise UnreachableError(f"system.apt: the container of {reference} failed: {exc}") from None
        finally:
            try:
                container.remove(force=True)
            except docker.errors.DockerException:
                pass
    text: str = out.decode("utf-8", "replace")
    if int(status.get("StatusCode", 1)) != 0 or "@@end" not in text:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-5:]
        raise UnreachableError(f"system.apt: apt's script failed in a container of {reference}: {' / '.join(tail) or 'no output'}")
    return text
