"""docker:CONTAINER and image:REF targets.

The probe script runs with the container's own Python (`docker exec`, or a one-off
container of the image with the probe as entrypoint: the image's entrypoint never runs).
When the target has no Python (an R-only or JVM-only image), envman reads the files
instead: it copies the R libraries, jar folders and conda records out of the container
(`GET /archive`, the API behind `docker cp`) and scans them here.
"""

from __future__ import annotations

import io
import posixpath
import shutil
import tarfile
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from envman import ecosystems
from envman.errors import UnreachableError
from envman.limits import LIMITS, limit
from envman.snapshot import Snapshot
from envman.targets.context import ProbeContext, remaining, timed_out
from envman.targets.engine import label
from envman.targets.probe_runner import NoInterpreter, encode_options, in_process, parse_result, probe_source, run_probe
from envman.targets.reading import snapshot_from_probe
from envman.targets.spec import TargetSpec

__all__ = ["probe_container", "probe_image", "copied_file_limit", "COPY_LIMIT_VARIABLE"]

# Files copied out of a container without Python: jars, DESCRIPTION files, conda records
# (and, with --deep, the files they list). A bigger one is skipped and named in the
# snapshot's problems, so a 3 GB jar never lands in this machine's /tmp.
COPY_LIMIT_VARIABLE = LIMITS["copied_file_bytes"][0]


def _options(labels: dict[str, str], ctx: ProbeContext) -> tuple[str, dict[str, Any]]:
    """(interpreter, probe options) for a container: places, then labels, then defaults."""
    interpreter = "python3"
    options: dict[str, Any] = {"deep": ctx.deep}
    for eco in ecosystems.all_ecosystems():
        if not ctx.probes(eco):
            continue
        places = ctx.places.of(eco.name)
        where = label(labels, eco)
        if eco.probe_interpreter:
            interpreter = places[0] if places else where or "python3"
        wanted = eco.probe_options(places, where, "container")
        if wanted is not None:
            options[eco.name] = wanted
    return interpreter, options


def _not_found(text: str) -> bool:
    text = text.lower()
    return "executable file not found" in text or "no such file or directory" in text


# -- with the target's Python ----------------------------------------------------------


def _exec_probe(container: Any, interpreter: str, options: dict[str, Any], what: str, ctx: ProbeContext) -> dict[str, Any]:
    from envman.targets.runners import ContainerRunner

    return run_probe(ContainerRunner(container, what), interpreter, options, what, remaining(ctx), ctx.timeout)


def _run_probe_in_image(client: Any, image: Any, interpreter: str, options: dict[str, Any], what: str, ctx: ProbeContext) -> dict[str, Any]:
    """The probe as the entrypoint of a one-off container of the image (no network), waited
    for at most the time left to the target, its logs read with a bound; the container is removed
    (killed first) whatever happens."""
    import docker.errors
    import requests.exceptions
    from docker.types import LogConfig

    from envman.report.text import printable, tail

    shown = printable(interpreter)
    maximum = limit("probe_output_bytes")
    deadline = time.monotonic() + remaining(ctx)
    stopped = timed_out(what, ctx.timeout, f"the probe with {shown}")
    container = None
    try:
        container = client.containers.create(
            image.id,
            entrypoint=[interpreter],
            command=["-c", probe_source(), *encode_options(options)],
            network_disabled=True,
            labels={"org.envman.probe": "1"},
            # the engine keeps no more of the probe's output than envman would read
            log_config=LogConfig(type=LogConfig.types.JSON, config={"max-size": str(maximum), "max-file": "1"}),
        )
        try:
            container.start()
        except docker.errors.APIError as exc:
            if _not_found(str(exc.explanation or exc)):
                raise NoInterpreter(f"{what}: no interpreter at {shown}") from None
            raise
        left = deadline - time.monotonic()
        if left <= 0:
            raise UnreachableError(stopped)
        try:
            result = container.wait(timeout=left)
        except requests.exceptions.RequestException:
            if time.monotonic() >= deadline - 0.5:
                raise UnreachableError(stopped) from None
            raise
        out = _bounded_logs(container, maximum, what, stdout=True)
        err = _bounded_logs(container, 64 << 10, what, stdout=False, keep_tail=True)
    except docker.errors.APIError as exc:
        raise UnreachableError(f"{what}: cannot run the probe in the image with {shown}: {_short(exc.explanation or exc)}") from None
    except (docker.errors.DockerException, requests.exceptions.RequestException) as exc:
        raise UnreachableError(f"{what}: the Docker engine is not reachable: {_short(exc)}") from None
    finally:
        if container is not None:
            try:
                container.remove(force=True)
            except Exception:
                pass
    if result.get("StatusCode") in (126, 127):
        raise NoInterpreter(f"{what}: no interpreter at {shown}")
    if result.get("StatusCode") != 0:
        raise UnreachableError(f"{what}: the probe failed in the image: {tail(err) or 'no output'}")
    return parse_result(out, what, "in the image")


def _short(value: object) -> str:
    from envman.report.text import printable, shorten

    return printable(shorten(str(value), 500))


def _bounded_logs(container: Any, maximum: int, what: str, stdout: bool, keep_tail: bool = False) -> bytes:
    """A stopped container's stdout (or stderr), read as a stream: more than `maximum` bytes
    is an error (or, with keep_tail, only the last `maximum` bytes are kept)."""
    kept = bytearray()
    for chunk in container.logs(stdout=stdout, stderr=not stdout, stream=True, follow=False):
        kept += chunk
        if len(kept) > maximum:
            if not keep_tail:
                variable = LIMITS["probe_output_bytes"][0]
                raise UnreachableError(
                    f"{what}: the probe in the image printed more than {maximum:,} bytes (set {variable} to raise the limit)"
                )
            del kept[:-maximum]
    return bytes(kept)


# -- without: copy the files out --------------------------------------------------------


class _Chunks(io.RawIOBase):
    """A file object over the archive stream's chunks (tarfile reads it sequentially); past
    the deadline it raises _Expired."""

    def __init__(self, chunks: Iterator[bytes], deadline: float) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._buffer:
            if time.monotonic() > self._deadline:
                raise _Expired
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


def copied_file_limit() -> int:
    """Largest file copied out of a container without Python (the copied_file_bytes limit)."""
    return limit("copied_file_bytes")


def _copy_out(container: Any, folder: str, eco: Any, root: Path, deep: bool, deadline: float, skipped: list[str]) -> bool:
    """Copy what the scan needs from `folder` in the container to root/folder; False when absent.

    Only regular files the ecosystem wants are written, each confined to root (no symlink,
    device, FIFO or link member is ever extracted), none larger than copied_file_limit()
    (those are named in `skipped`); the archive stream is read before the deadline or not
    at all."""
    import docker.errors

    from envman.limits import confined_path

    folder = posixpath.normpath("/" + folder)  # a label may say `../../x`: always a path from the container's root
    try:
        chunks, _stat = container.get_archive(folder)
    except docker.errors.NotFound:
        return False
    maximum = copied_file_limit()
    base = posixpath.dirname(folder.rstrip("/")) or "/"
    prefix = folder.rstrip("/") + "/"
    with tarfile.open(fileobj=io.BufferedReader(_Chunks(chunks, deadline), 1 << 20), mode="r|") as archive:
        for member in archive:
            if not member.isfile():
                continue
            path = posixpath.normpath(posixpath.join(base, member.name))
            if not path.startswith(prefix):
                continue
            rel = path[len(prefix) :].split("/")
            if ".." in rel or not eco.wanted_file(folder, rel, deep):
                continue
            if member.size > maximum:
                skipped.append(f"{path} ({member.size:,} bytes)")
                continue
            dest = confined_path(root, path.lstrip("/"), "a file copied out of the container")
            dest.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            if source is None:
                continue
            with open(dest, "wb") as handle:
                shutil.copyfileobj(source, handle)
    return True


class _Expired(Exception):
    """The deadline passed while copying files out of a container."""


def _unroot(value: Any, root: str) -> Any:
    if isinstance(value, str):
        return "/" + value[len(root):].lstrip("/") if value.startswith(root) else value
    if isinstance(value, list):
        return [_unroot(v, root) for v in value]
    if isinstance(value, dict):
        return {k: _unroot(v, root) for k, v in value.items()}
    return value


def _probe_files(
    container: Any, env: list[str], labels: dict[str, str], ctx: ProbeContext, interpreter: str, what: str, copy: Any = None
) -> dict[str, Any]:
    """The target's files read here. copy(folder, eco, root, deep, deadline, skipped) -> bool
    puts a folder's wanted files under root (default: copied out of `container`; ssh: hosts
    pass their own)."""
    import docker.errors
    import requests.exceptions

    options: dict[str, Any] = {"deep": ctx.deep}
    skipped: list[str] = []
    deadline = time.monotonic() + remaining(ctx)
    try:
        with tempfile.TemporaryDirectory(prefix="envman-probe-") as tmp:  # removed whatever happens
            root = Path(tmp)
            for eco in ecosystems.all_ecosystems():
                if eco.probe_interpreter or not ctx.probes(eco):
                    continue
                folders = eco.file_folders(ctx.places.of(eco.name), label(labels, eco), env)
                copy_out = copy or (lambda d, e, r, deep, end, skip: _copy_out(container, d, e, r, deep, end, skip))
                found = [d for d in dict.fromkeys(folders) if copy_out(d, eco, root, ctx.deep, deadline, skipped)]
                wanted = eco.files_options([posixpath.normpath("/" + d) for d in found], root)
                if wanted is not None:
                    options[eco.name] = wanted
            data = _unroot(in_process(options), str(root))
    except _Expired:
        raise UnreachableError(timed_out(what, ctx.timeout, "copying its files out")) from None
    except (tarfile.TarError, EOFError) as exc:
        raise UnreachableError(f"{what}: the engine sent a damaged archive of the target's files: {_short(exc)}") from None
    except docker.errors.DockerException as exc:
        raise UnreachableError(f"{what}: cannot copy files out of the container: {_short(exc)}") from None
    except requests.exceptions.RequestException as exc:
        raise UnreachableError(f"{what}: the Docker engine stopped answering: {_short(exc)}") from None
    except OSError as exc:  # a full /tmp, a member clashing with a folder
        raise UnreachableError(f"{what}: cannot keep a copy of the target's files here: {_short(exc.strerror or exc)}") from None
    for eco in ecosystems.all_ecosystems():
        empty = eco.empty_section()
        if eco.name not in data and empty is not None and ctx.probes(eco):
            data[eco.name] = empty
    problems = data.setdefault("problems", [])
    problems.append(
        f"no Python interpreter ({interpreter}) in the target: its files were read instead; "
        "Python packages and runtime versions were not inspected (set --python if one exists elsewhere)"
    )
    if skipped:
        problems.append(
            f"{len(skipped)} file(s) larger than {copied_file_limit():,} bytes were not copied out and not inspected "
            f"(set {COPY_LIMIT_VARIABLE} to raise the limit): " + ", ".join(skipped[:5]) + (", …" if len(skipped) > 5 else "")
        )
    if ctx.deep:
        problems.append("--deep without Python in the target: jar and conda hashes are checked, Python RECORD hashes cannot be")
    return dict(data)


# -- entry points ----------------------------------------------------------------------


def probe_container(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    from envman.targets.engine import get_container

    container = get_container(spec.value, spec.text, spec.engine)
    labels = container.labels or {}
    interpreter, options = _options(labels, ctx)

    def full(reads: bool) -> dict[str, Any]:
        try:
            return _exec_probe(container, interpreter, {**options, "reads": reads}, spec.text, ctx)
        except NoInterpreter:
            env = (container.attrs.get("Config") or {}).get("Env") or []
            return _probe_files(container, env, labels, ctx, interpreter, spec.text)

    if ctx.replicas is None:
        data = full(False)
    else:  # containers of one image and configuration: one probe, reused where nothing it read changed
        from envman.targets.replicas import replica_key

        key = replica_key(container.attrs, spec.engine, interpreter, options)
        data = ctx.replicas.probe(spec.text, container.attrs, key, time.monotonic() + remaining(ctx), full)
    return snapshot_from_probe(spec.text, ctx.probed_names(), data, ctx.known)


def probe_image(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    from envman.targets.engine import engine_client, get_image

    image = get_image(spec.value, spec.text, spec.engine)
    labels = image.labels or {}
    interpreter, options = _options(labels, ctx)
    client = engine_client(spec.text, spec.engine)
    try:
        data = _run_probe_in_image(client, image, interpreter, options, spec.text, ctx)
    except NoInterpreter:
        import docker.errors

        try:
            container = client.containers.create(
                image.id, entrypoint=["/envman-never-started"], network_disabled=True, labels={"org.envman.probe": "1"}
            )
        except docker.errors.DockerException as exc:
            raise UnreachableError(f"{spec.text}: cannot create a container of the image to read its files: {_short(exc)}") from None
        try:
            env = (image.attrs.get("Config") or {}).get("Env") or []
            data = _probe_files(container, env, labels, ctx, interpreter, spec.text)
        finally:
            try:
                container.remove(force=True)
            except Exception:
                pass
    return snapshot_from_probe(spec.text, ctx.probed_names(), data, ctx.known)
