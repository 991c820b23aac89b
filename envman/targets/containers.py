"""docker:CONTAINER and image:REF targets.

The probe script runs with the container's own Python (`docker exec`, or a one-off
container of the image with the probe as entrypoint: the image's entrypoint never runs).
When the target has no Python (an R-only or JVM-only image), envman reads the files
instead: it copies the R libraries, jar folders and conda records out of the container
(`GET /archive`, the API behind `docker cp`) and scans them here.
"""

from __future__ import annotations

import io
import json
import posixpath
import shutil
import tarfile
import tempfile
from pathlib import Path
from typing import Any, Iterator

from envman.ecosystems.conda.probe_target import CONDA_AUTO
from envman.ecosystems.r.probe_target import R_AUTO_LIBS
from envman.errors import UnreachableError
from envman.snapshot import Snapshot
from envman.targets.probe import ALL_ECOSYSTEMS, ProbeContext, in_process, snapshot_from_probe
from envman.targets.spec import TargetSpec

__all__ = ["probe_container", "probe_image", "DEFAULT_JAR_DIRS"]

DEFAULT_JAR_DIRS = ["/opt", "/usr/share/java"]
R_DEFAULT_LIBS = list(R_AUTO_LIBS)
CONDA_DEFAULTS = list(CONDA_AUTO)


class NoInterpreter(Exception):
    """The target has no Python to run the probe with."""


def _split(value: str | None) -> list[str]:
    return [p for p in (value or "").split(":") if p]


def _options(labels: dict[str, str], ctx: ProbeContext) -> tuple[str, dict[str, Any]]:
    from envman.targets.engine import label

    places = ctx.places
    interpreter = places.python or label(labels, "python") or "python3"
    rlibs = list(places.rlibs) or _split(label(labels, "r"))
    jars = list(places.jars) or _split(label(labels, "jvm")) or DEFAULT_JAR_DIRS
    conda = list(places.conda) or _split(label(labels, "conda")) or "auto"
    options = {
        "python": True,
        "deep": ctx.deep,
        "rlibs": rlibs or "auto",
        # R's own .libPaths() (and its version) too, unless the libraries were given explicitly
        "rscript": None if places.rlibs else "auto",
        "jars": jars,
        "java": "auto",
        "conda": conda,
    }
    return interpreter, options


def _not_found(text: str) -> bool:
    text = text.lower()
    return "executable file not found" in text or "no such file or directory" in text


# -- with the target's Python ----------------------------------------------------------


def _exec_probe(container: Any, interpreter: str, options: dict[str, Any], what: str) -> dict[str, Any]:
    from envman.ecosystems.python.probe import run_probe
    from envman.targets.runners import ContainerRunner

    try:
        return run_probe(ContainerRunner(container, what), interpreter, options, what)
    except FileNotFoundError:
        raise NoInterpreter(interpreter) from None
    except UnreachableError as exc:
        if "no interpreter" in str(exc):
            raise NoInterpreter(interpreter) from None
        raise


def _run_probe_in_image(client: Any, image: Any, interpreter: str, options: dict[str, Any], what: str) -> dict[str, Any]:
    import docker.errors

    from envman.ecosystems.python.probe import encode_options, probe_source

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
                raise NoInterpreter(interpreter) from None
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
        raise NoInterpreter(interpreter)
    if result.get("StatusCode") != 0:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise UnreachableError(f"{what}: the probe failed in the image: {tail[0]}")
    try:
        return json.loads(out.decode("utf-8", "replace").strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise UnreachableError(f"{what}: the probe printed no result in the image") from None


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


def _wanted(kind: str, rel_parts: list[str], deep: bool) -> bool:
    """Which archive members the scan needs (rel_parts: path inside the copied folder)."""
    name = rel_parts[-1]
    if kind == "r":
        return deep or (len(rel_parts) == 2 and name == "DESCRIPTION")
    if kind == "jvm":
        return name.endswith(".jar") or (len(rel_parts) >= 2 and rel_parts[-2] == "conda-meta" and name.endswith(".json"))
    return deep or (len(rel_parts) >= 2 and rel_parts[-2] == "conda-meta" and name.endswith(".json"))


def _copy_out(container: Any, folder: str, kind: str, root: Path, deep: bool) -> bool:
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
            if ".." in rel or not _wanted(kind, rel, deep):
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
    from envman.targets.engine import label

    places = ctx.places
    r_env = [p for item in env for key in ("R_LIBS=", "R_LIBS_SITE=", "R_LIBS_USER=") if item.startswith(key) for p in _split(item[len(key):])]
    rlibs = list(places.rlibs) or _split(label(labels, "r")) or (r_env + R_DEFAULT_LIBS)
    jars = list(places.jars) or _split(label(labels, "jvm")) or DEFAULT_JAR_DIRS
    conda = list(places.conda) or _split(label(labels, "conda"))
    with tempfile.TemporaryDirectory(prefix="envman-probe-") as tmp:
        root = Path(tmp)
        found_r = [d for d in dict.fromkeys(rlibs) if _copy_out(container, d, "r", root, ctx.deep)]
        found_jars = [d for d in dict.fromkeys(jars) if _copy_out(container, d, "jvm", root, False)]
        if conda:
            found_conda = [d for d in dict.fromkeys(conda) if _copy_out(container, d, "conda", root, ctx.deep)]
        else:  # conda prefixes under /opt came along with the jar folders, else look at the usual places
            candidates = [d for d in CONDA_DEFAULTS if (root / d.lstrip("/") / "conda-meta").is_dir()]
            opt = root / "opt"
            if opt.is_dir():
                candidates += [f"/opt/{p.name}" for p in sorted(opt.iterdir()) if (p / "conda-meta").is_dir()]
            found_conda = list(dict.fromkeys(candidates))
        data = in_process({
            "deep": ctx.deep,
            "rlibs": [str(root / d.lstrip("/")) for d in found_r],
            "jars": [str(root / d.lstrip("/")) for d in found_jars],
            "conda": [str(root / d.lstrip("/")) for d in found_conda],
        })
        data = _unroot(data, str(root))
    data.setdefault("r", {"version": None, "libraries": [], "packages": []})
    data.setdefault("conda", {"prefixes": [], "packages": []})
    data["python"] = {"packages": []}
    problems = data.setdefault("problems", [])
    problems.append(f"no Python interpreter ({interpreter}) in the target: its files were read instead; Python packages and runtime versions were not inspected (set --python if one exists elsewhere)")
    if ctx.deep:
        problems.append("--deep without Python in the target: jar and conda hashes are checked, Python RECORD hashes cannot be")
    return data


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
    return snapshot_from_probe(spec.text, ALL_ECOSYSTEMS, data, ctx.known_jars)


def probe_image(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    from envman.targets.engine import engine_client, get_image

    image = get_image(spec.value, spec.text)
    labels = image.labels or {}
    interpreter, options = _options(labels, ctx)
    client = engine_client(spec.text)
    try:
        data = _run_probe_in_image(client, image, interpreter, options, spec.text)
    except NoInterpreter:
        container = client.containers.create(image.id, entrypoint=["/envman-never-started"], network_disabled=True, labels={"org.envman.probe": "1"})
        try:
            env = (image.attrs.get("Config") or {}).get("Env") or []
            data = _probe_files(container, env, labels, ctx, interpreter)
        finally:
            container.remove(force=True)
    return snapshot_from_probe(spec.text, ALL_ECOSYSTEMS, data, ctx.known_jars)
