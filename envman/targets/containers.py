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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from envman import ecosystems
from envman.errors import UnreachableError
from envman.snapshot import Snapshot
from envman.targets.context import ProbeContext
from envman.targets.engine import label
from envman.targets.probe_runner import NoInterpreter, encode_options, in_process, parse_result, probe_source, run_probe
from envman.targets.reading import snapshot_from_probe
from envman.targets.spec import TargetSpec

__all__ = ["probe_container", "probe_image"]


def _options(labels: dict[str, str], ctx: ProbeContext) -> tuple[str, dict[str, Any]]:
    """(interpreter, probe options) for a container: places, then labels, then defaults."""
    interpreter = "python3"
    options: dict[str, Any] = {"deep": ctx.deep}
    for eco in ecosystems.all_ecosystems():
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


def _exec_probe(container: Any, interpreter: str, options: dict[str, Any], what: str) -> dict[str, Any]:
    from envman.targets.runners import ContainerRunner

    return run_probe(ContainerRunner(container, what), interpreter, options, what)


def _run_probe_in_image(client: Any, image: Any, interpreter: str, options: dict[str, Any], what: str) -> dict[str, Any]:
    import docker.errors

    container = None
    try:
        container = client.containers.create(
            image.id,
            entrypoint=[interpreter],
            command=["-c", probe_source(), *encode_options(options)],
            network_disabled=True,
            labels={"org.envman.probe": "1"},
        )
        try:
            container.start()
        except docker.errors.APIError as exc:
            if _not_found(str(exc.explanation or exc)):
                raise NoInterpreter(f"{what}: no interpreter at {interpreter}") from None
            raise
        result = container.wait(timeout=300)
        out = container.logs(stdout=True, stderr=False)
        err = container.logs(stdout=False, stderr=True)
    except docker.errors.APIError as exc:
        raise UnreachableError(f"{what}: cannot run the probe in the image with {interpreter}: {exc.explanation or exc}") from None
    except docker.errors.DockerException as exc:
        raise UnreachableError(f"{what}: the Docker engine is not reachable: {exc}") from None
    finally:
        if container is not None:
            try:
                container.remove(force=True)
            except Exception:
                pass
    if result.get("StatusCode") in (126, 127):
        raise NoInterpreter(f"{what}: no interpreter at {interpreter}")
    if result.get("StatusCode") != 0:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise UnreachableError(f"{what}: the probe failed in the image: {tail[0]}")
    return parse_result(out, what, "in the image")


# -- without: copy the files out --------------------------------------------------------


class _Chunks(io.RawIOBase):
    """A file object over the archive stream's chunks (tarfile reads it sequentially)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = iter(chunks)
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


def _copy_out(container: Any, folder: str, eco: Any, root: Path, deep: bool) -> bool:
    """Copy what the scan needs from `folder` in the container to root/folder; False when absent."""
    import docker.errors

    try:
        chunks, _stat = container.get_archive(folder)
    except docker.errors.NotFound:
        return False
    base = posixpath.dirname(folder.rstrip("/")) or "/"
    with tarfile.open(fileobj=io.BufferedReader(_Chunks(chunks), 1 << 20), mode="r|") as archive:
        for member in archive:
            if not member.isfile():
                continue
            path = posixpath.normpath(posixpath.join(base, member.name))
            if not path.startswith(folder.rstrip("/") + "/"):
                continue
            rel = path[len(folder.rstrip("/")) + 1 :].split("/")
            if ".." in rel or not eco.wanted_file(folder, rel, deep):
                continue
            dest = root / path.lstrip("/")
            dest.parent.mkdir(parents=True, exist_ok=True)
            source = archive.extractfile(member)
            if source is None:
                continue
            with open(dest, "wb") as handle:
                shutil.copyfileobj(source, handle)
    return True


def _unroot(value: Any, root: str) -> Any:
    if isinstance(value, str):
        return "/" + value[len(root):].lstrip("/") if value.startswith(root) else value
    if isinstance(value, list):
        return [_unroot(v, root) for v in value]
    if isinstance(value, dict):
        return {k: _unroot(v, root) for k, v in value.items()}
    return value


def _probe_files(container: Any, env: list[str], labels: dict[str, str], ctx: ProbeContext, interpreter: str) -> dict[str, Any]:
    options: dict[str, Any] = {"deep": ctx.deep}
    with tempfile.TemporaryDirectory(prefix="envman-probe-") as tmp:
        root = Path(tmp)
        for eco in ecosystems.all_ecosystems():
            if eco.probe_interpreter:
                continue
            folders = eco.file_folders(ctx.places.of(eco.name), label(labels, eco), env)
            found = [d for d in dict.fromkeys(folders) if _copy_out(container, d, eco, root, ctx.deep)]
            wanted = eco.files_options(found, root)
            if wanted is not None:
                options[eco.name] = wanted
        data = _unroot(in_process(options), str(root))
    for eco in ecosystems.all_ecosystems():
        empty = eco.empty_section()
        if eco.name not in data and empty is not None:
            data[eco.name] = empty
    problems = data.setdefault("problems", [])
    problems.append(
        f"no Python interpreter ({interpreter}) in the target: its files were read instead; "
        "Python packages and runtime versions were not inspected (set --python if one exists elsewhere)"
    )
    if ctx.deep:
        problems.append("--deep without Python in the target: jar and conda hashes are checked, Python RECORD hashes cannot be")
    return dict(data)


# -- entry points ----------------------------------------------------------------------


def probe_container(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    from envman.targets.engine import get_container

    container = get_container(spec.value, spec.text)
    labels = container.labels or {}
    interpreter, options = _options(labels, ctx)
    try:
        data = _exec_probe(container, interpreter, options, spec.text)
    except NoInterpreter:
        env = (container.attrs.get("Config") or {}).get("Env") or []
        data = _probe_files(container, env, labels, ctx, interpreter)
    return snapshot_from_probe(spec.text, ecosystems.names(), data, ctx.known)


def probe_image(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    from envman.targets.engine import engine_client, get_image

    image = get_image(spec.value, spec.text)
    labels = image.labels or {}
    interpreter, options = _options(labels, ctx)
    client = engine_client(spec.text)
    try:
        data = _run_probe_in_image(client, image, interpreter, options, spec.text)
    except NoInterpreter:
        container = client.containers.create(
            image.id, entrypoint=["/envman-never-started"], network_disabled=True, labels={"org.envman.probe": "1"}
        )
        try:
            env = (image.attrs.get("Config") or {}).get("Env") or []
            data = _probe_files(container, env, labels, ctx, interpreter)
        finally:
            container.remove(force=True)
    return snapshot_from_probe(spec.text, ecosystems.names(), data, ctx.known)
