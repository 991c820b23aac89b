"""`envman build`: render the lock into a context, check the base's runtimes, build with the
engine, then rewrite the image so the same lock always gives the same image ID (layers
squashed per group, times clamped to SOURCE_DATE_EPOCH, no build-host noise) and tag it only
when everything succeeded."""

from __future__ import annotations

import io
import re
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
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
    from envman.build.layercache import LayerCache
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
        system = follow(_build_stage(client, context, dockerfile, "envman-system", Path(scratch), options), what, say)
        _check_runtimes(plan, system.image_id, say)
        raw_tag = f"envman-build/{_repo_part(request, plan)}:raw"
        say("sending the build context")
        log = follow(client.api.build(tag=raw_tag, **options), what, say)
        if not log.image_id:
            raise BuildError(f"{what}: the engine reported no image")
        groups = layer_groups(dockerfile)
        final_tag = tag or _default_tag_for(plan)
        cache = LayerCache(scratch_root.parent / "squashed")
        fresh = request.no_cache or request.oci_dir is not None
        known = None if fresh else _known_image(client, cache, log.image_id, base_layers, groups, plan.epoch)
        if known is not None:
            say("the image is unchanged: it is in the engine already")
            image_id, diff_ids = known
            _tag(client, image_id, final_tag)
            oci_digest = None
        else:
            say("making the image reproducible")
            image = _rewrite(client, log.image_id, Path(scratch), base_layers, groups, plan.epoch, cache, reuse=not request.no_cache)
            if image.reused:
                say(f"reusing {image.reused} squashed layer{'s' if image.reused != 1 else ''} from envman's cache")
            cache.put_image(_image_key(log.image_id, base_layers, groups, plan.epoch), image.config, image.diff_ids)
            _load_and_tag(client, image, Path(scratch), final_tag, say, plan.base)
            image_id, diff_ids = image.image_id, list(image.diff_ids)
            oci_digest = None
            if request.oci_dir is not None:
                from envman.build.oci import write_oci_layout

                oci_digest = write_oci_layout(image, request.oci_dir, final_tag, dict(plan.labels))
        cache.prune()
    added = list(zip([name for name, count in groups], diff_ids[base_layers:], strict=False))
    return BuildResult(image_id, final_tag, plan.environment, added, log.cached, plan.notes, oci_digest)


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


def _image_key(raw_id: str, base_layers: int, groups: list[tuple[str, int]], epoch: int) -> str:
    from envman.build.layercache import image_key
    from envman.build.layers import DEFAULT_DROP

    return image_key(raw_id, base_layers, groups, epoch, DEFAULT_DROP)


def _known_image(
    client: Any, cache: Any, raw_id: str, base_layers: int, groups: list[tuple[str, int]], epoch: int
) -> tuple[str, list[str]] | None:
    """(image ID, diff_ids) when this raw image was rewritten before and the result is still
    in the engine: nothing to stream out, squash or load (a rebuild of an unchanged lock)."""
    import hashlib

    import docker.errors

    hit = cache.get_image(_image_key(raw_id, base_layers, groups, epoch))
    if hit is None:
        return None
    config, diff_ids = hit
    image_id = "sha256:" + hashlib.sha256(config).hexdigest()
    try:
        have = client.api.inspect_image(image_id)
    except docker.errors.DockerException:
        return None
    if (have.get("RootFS") or {}).get("Layers") != diff_ids:
        return None
    return image_id, diff_ids


def _build_stage(client: Any, context: Path, dockerfile: str, stage: str, scratch: Path, options: dict[str, Any]) -> Any:
    """Build one stage from a context of only the files it uses (else the whole context)."""
    from envman.build.stagecontext import stage_context, stage_sources

    sources = stage_sources(dockerfile, stage)
    if sources is None:
        return client.api.build(target=stage, **options)
    small = {k: v for k, v in options.items() if k != "path"}
    handle = open(scratch / f"context-{stage}.tar", "w+b")  # noqa: SIM115 (read by the generator the engine's answer streams from)
    stage_context(context, sources, handle)
    return _closing(client.api.build(target=stage, fileobj=handle, custom_context=True, **small), handle)


def _closing(chunks: Any, handle: Any) -> Iterator[Any]:
    try:
        yield from chunks
    finally:
        handle.close()


def _rewrite(
    client: Any, raw_id: str, scratch: Path, base_layers: int, groups: list[tuple[str, int]], epoch: int, cache: Any, reuse: bool
) -> Any:
    from envman.build.layers import LayerGroup, rewrite_image

    work = scratch / "layers"
    work.mkdir()
    stream = io.BufferedReader(_ChunkReader(iter(client.api.get_image(raw_id, chunk_size=1 << 20))), 1 << 20)
    try:
        return rewrite_image(
            stream, work, base_layers=base_layers, groups=[LayerGroup(n, c) for n, c in groups], epoch=epoch, labels={},
            cache=cache, reuse=reuse,
        )
    except ValueError as exc:
        raise BuildError(f"cannot make the image reproducible: {exc}") from None


def _engine_chains(client: Any, base: str | None) -> set[str]:
    """The chain IDs of the layers the engine holds for envman's images and the base: a
    layer whose chain ID is among them need not be sent to `docker load` again."""
    import docker.errors

    chains: set[str] = set()
    refs: list[str] = [base] if base else []
    try:
        # every envman image (the rewritten ones carry the epoch as their date, so no order helps)
        refs += [img["Id"] for img in client.api.images(filters={"label": "org.envman.environment"})[:500]]
    except docker.errors.DockerException:
        pass
    for ref in refs:
        try:
            layers = (client.api.inspect_image(ref).get("RootFS") or {}).get("Layers") or []
        except docker.errors.DockerException:
            continue
        chains.update(chain_ids(layers))
    return chains


def chain_ids(diff_ids: Sequence[str]) -> list[str]:
    """The chain ID of each layer (the image spec: the first is its diff_id, then
    sha256 of "parent-chain diff_id")."""
    import hashlib

    out: list[str] = []
    for diff_id in diff_ids:
        out.append(diff_id if not out else "sha256:" + hashlib.sha256(f"{out[-1]} {diff_id}".encode()).hexdigest())
    return out


def _load_and_tag(client: Any, image: Any, scratch: Path, tag: str, say: Callable[[str], None], base: str | None = None) -> None:
    """`docker load` the image, leaving out the layers the engine has already (its load skips
    reading a layer whose chain ID it holds: moby's image/tarexport/load.go); when the engine
    refuses that archive, the whole image is sent."""
    import docker.errors

    try:
        client.api.inspect_image(image.image_id)
        have_image = True
    except docker.errors.DockerException:
        have_image = False
    if not have_image:
        present = _engine_chains(client, base)
        skip = {index for index, chain in enumerate(chain_ids(image.diff_ids)) if chain in present}
        say(f"loading the image into the engine ({len(image.diff_ids) - len(skip)} of {len(image.diff_ids)} layers sent)")
        try:
            _load(client, image, scratch, skip)
        except BuildError:
            if not skip:
                raise
            say("the engine did not take the partial image; sending all of it")
            _load(client, image, scratch, set())
    _tag(client, image.image_id, tag)


def _load(client: Any, image: Any, scratch: Path, skip: set[int]) -> None:
    import docker.errors

    from envman.build.layers import write_docker_archive

    archive = scratch / "image.tar"
    with open(archive, "wb") as out:
        write_docker_archive(image, out, tags=[], skip=skip)
    try:
        with open(archive, "rb") as data:
            for chunk in client.api.load_image(data):
                if isinstance(chunk, dict) and (chunk.get("error") or chunk.get("errorDetail")):
                    raise BuildError(str(chunk.get("error") or chunk.get("errorDetail")))
    except docker.errors.DockerException as exc:
        raise BuildError(f"the engine did not load the image: {exc}") from None
    finally:
        archive.unlink(missing_ok=True)


def _tag(client: Any, image_id: str, tag: str) -> None:
    repo, _, name = tag.rpartition(":") if ":" in tag.rsplit("/", 1)[-1] else (tag, "", "latest")
    client.api.tag(image_id, repo, name)
