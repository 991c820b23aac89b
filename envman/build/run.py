"""`envman build`: render the lock into a context, check the base's runtimes, build with the
engine, then rewrite the image so the same lock always gives the same image ID (layers
squashed per group, times clamped to SOURCE_DATE_EPOCH, no build-host noise) and tag it only
when everything succeeded."""

from __future__ import annotations

import io
import re
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envman.errors import BadInputError, BuildError, UnreachableError

__all__ = ["BuildRequest", "BuildResult", "build_image", "default_tag"]


@dataclass(frozen=True)
class BuildRequest:
    manifest_path: Path
    environment: str | None = None
    platform: str | None = None
    tag: str | None = None
    no_cache: bool = False
    ca_cert: Path | None = None
    oci_dir: Path | None = None
    network: str | None = None  # docker's network mode for RUN steps (apt); None: the engine's default
    revision: str | None = None  # build --at: the commit that last changed the lock (else from git)
    epoch: int | None = None  # build --at: that commit's time, the SOURCE_DATE_EPOCH


@dataclass(frozen=True)
class BuildResult:
    image_id: str
    tag: str
    environment: str
    layers: list[tuple[str, str]]  # (group, diff_id) of the layers envman added
    cached: list[str]  # instructions served from the engine's build cache
    notes: list[str] = field(default_factory=list)
    oci_digest: str | None = None


def default_tag(manifest: Any, manifest_path: Path, environment: str) -> str:
    name = (manifest.name or manifest_path.resolve().parent.name).lower()
    name = re.sub(r"[^a-z0-9._-]+", "-", name).strip("._-") or "envman"
    return f"{name}:{re.sub(r'[^A-Za-z0-9._-]+', '-', environment)[:128]}"


def build_image(request: BuildRequest, say: Callable[[str], None]) -> BuildResult:
    from envman.build.engine import connect
    from envman.build.stream import follow
    from envman.cache import ArtifactCache, cache_root
    from envman.ecosystems.base import Services
    from envman.http import HttpClient
    from envman.render.context import write_context
    from envman.render.groups import layer_groups
    from envman.render.plan import plan_image

    ca_bytes = _read_ca(request.ca_cert)
    tag = _check_tag(request.tag) if request.tag else None
    # download bytes only on a terminal: piped build logs get one line per step, not per megabyte
    services = Services(http=HttpClient(progress=say if sys.stderr.isatty() else None), cache=ArtifactCache(), progress=say)
    plan = plan_image(request.manifest_path, request.environment, request.platform, services, request.epoch, request.revision)
    _check_platform(plan.platform)
    client = connect()
    base_layers = _base_layers(client, plan, say)
    scratch_root = cache_root() / "build"
    scratch_root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="envman-build-", dir=scratch_root) as scratch:
        context = write_context(plan, Path(scratch) / "context", services, ca_cert=ca_bytes)
        dockerfile = (context / "Dockerfile").read_text()
        options = {"path": str(context), "rm": True, "forcerm": True, "nocache": request.no_cache, "pull": False, "decode": True}
        if request.network:
            options["network_mode"] = request.network
        what = f"building {plan.environment} ({plan.platform})"
        say("the base and system packages")
        system = follow(client.api.build(target="envman-system", **options), what, say)
        _check_runtimes(plan, system.image_id, say)
        raw_tag = f"envman-build/{_repo_part(request, plan)}:raw"
        log = follow(client.api.build(tag=raw_tag, **options), what, say)
        if not log.image_id:
            raise BuildError(f"{what}: the engine reported no image")
        groups = layer_groups(dockerfile)
        say("making the image reproducible")
        image = _rewrite(client, log.image_id, Path(scratch), base_layers, groups, plan.epoch)
        final_tag = tag or _default_tag_for(plan)
        _load_and_tag(client, image, Path(scratch), final_tag)
        oci_digest = None
        if request.oci_dir is not None:
            from envman.build.oci import write_oci_layout

            oci_digest = write_oci_layout(image, request.oci_dir, final_tag, dict(plan.labels))
    added = list(zip([name for name, count in groups], image.diff_ids[base_layers:], strict=False))
    return BuildResult(image.image_id, final_tag, plan.environment, added, log.cached, plan.notes, oci_digest)


def _default_tag_for(plan: Any) -> str:
    from envman.manifest import load_manifest

    return default_tag(load_manifest(plan.manifest_path), plan.manifest_path, plan.environment)


def _repo_part(request: BuildRequest, plan: Any) -> str:
    return _default_tag_for(plan).replace(":", "-")


def _read_ca(path: Path | None) -> bytes | None:
    if path is None:
        return None
    from envman.limits import read_regular_file

    try:
        data = read_regular_file(path, "manifest_bytes", f"--ca-cert {path}")
    except OSError as exc:
        raise BadInputError(f"--ca-cert {path}: {exc.strerror or exc}") from None
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise BadInputError(f"--ca-cert {path}: not a PEM certificate")
    return data


_TAG = re.compile(r"^[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?::[0-9]+)?(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?$")


def _check_tag(tag: str) -> str:
    if not _TAG.match(tag):
        raise BadInputError(f"--tag {tag!r} is not a valid image reference (name[:tag], lower case)")
    return tag


def _check_platform(platform: str) -> None:
    import platform as host

    machine = {"x86_64": "linux-64", "amd64": "linux-64", "aarch64": "linux-aarch64", "arm64": "linux-aarch64"}.get(host.machine().lower())
    if platform != machine:
        raise BadInputError(f"this machine builds {machine or host.machine()} images, not {platform}; use --platform {machine}")


def _base_layers(client: Any, plan: Any, say: Callable[[str], None]) -> int:
    """How many layers the pinned base has (pulled when it is not in the engine)."""
    import docker.errors

    try:
        image = client.images.get(plan.base)
    except docker.errors.ImageNotFound:
        say(f"pulling {plan.base}")
        try:
            image = client.images.pull(plan.base)
        except docker.errors.DockerException as exc:
            raise UnreachableError(f"the base image {plan.base} is not in the engine and cannot be pulled: {exc}") from None
    except docker.errors.DockerException as exc:
        raise UnreachableError(f"the engine cannot inspect {plan.base}: {exc}") from None
    if plan.base_id and image.id != plan.base_id:
        raise BuildError(
            f"the base {plan.base_tag} is now {image.id[:19]}, the lock pinned {plan.base_id[:19]}; "
            "run `envman lock --upgrade-package image` or restore it"
        )
    return len(image.attrs.get("RootFS", {}).get("Layers", []))


def _check_runtimes(plan: Any, system_id: str | None, say: Callable[[str], None]) -> None:
    """The base's Python, R and Java against python.version, r.version and jvm.java, before
    any package is installed (exit 5 naming both)."""
    from envman import ecosystems
    from envman.targets.checking import take_snapshot
    from envman.targets.context import ProbeContext
    from envman.targets.project import Project
    from envman.targets.spec import parse_target

    if not system_id:
        raise BuildError("the engine reported no image for the system stage")
    say("checking the runtimes of the base")
    snap = take_snapshot(parse_target(f"image:{system_id}"), ProbeContext())
    data = Project(plan.manifest_path).manifest_data() or {}
    plock_entries = {f.ecosystem for f in plan.fragments}
    from envman.lockfile.canonical import read_lock

    plock = read_lock(plan.lock_path).platform_lock(plan.environment, plan.platform)
    problems = []
    for eco in ecosystems.all_ecosystems():
        if eco.name not in plock_entries or eco.runtime is None:
            continue
        want = eco.expected_runtime(data.get(eco.name), plock)
        have = snap.runtimes.get(eco.runtime)
        label = eco.runtime_label or eco.runtime
        if want and not have:
            problems.append(f"{label}: the base has none, the manifest asks for {want}")
        elif want and have and not eco.runtime_matches(want, have):
            problems.append(f"{label}: the base has {have}, the manifest asks for {want}")
    if problems:
        raise BuildError(f"the base image {plan.base} does not provide the locked runtimes: " + "; ".join(problems))


class _ChunkReader(io.RawIOBase):
    """A file over the engine's `docker save` chunks, read as they arrive."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def _rewrite(client: Any, raw_id: str, scratch: Path, base_layers: int, groups: list[tuple[str, int]], epoch: int) -> Any:
    from envman.build.layers import LayerGroup, rewrite_image

    work = scratch / "layers"
    work.mkdir()
    stream = io.BufferedReader(_ChunkReader(iter(client.api.get_image(raw_id, chunk_size=1 << 20))), 1 << 20)
    try:
        return rewrite_image(stream, work, base_layers=base_layers, groups=[LayerGroup(n, c) for n, c in groups], epoch=epoch, labels={})
    except ValueError as exc:
        raise BuildError(f"cannot make the image reproducible: {exc}") from None


def _load_and_tag(client: Any, image: Any, scratch: Path, tag: str) -> None:
    from envman.build.layers import write_docker_archive

    archive = scratch / "image.tar"
    with open(archive, "wb") as out:
        write_docker_archive(image, out, tags=[])
    with open(archive, "rb") as data:
        for _ in client.api.load_image(data):
            pass
    repo, _, name = tag.rpartition(":") if ":" in tag.rsplit("/", 1)[-1] else (tag, "", "latest")
    client.api.tag(image.image_id, repo, name)
