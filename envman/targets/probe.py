"""Probe a target into a Snapshot (I/O): local paths, containers, images, locks, snapshot files."""

from __future__ import annotations

import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from envman.ecosystems.base import InstalledPackage
from envman.errors import BadInputError, EnvmanError, UnreachableError
from envman.snapshot import Snapshot, load_snapshot, now_iso
from envman.targets.spec import TargetSpec

__all__ = ["Places", "ProbeContext", "probe_target", "probe_many", "snapshot_from_probe", "snapshot_from_lock", "platform_of"]

ALL_ECOSYSTEMS = ["python", "r", "jvm", "conda"]
DEFAULT_PLATFORM = "linux-64"


def platform_of(markers: dict[str, Any]) -> str | None:
    """The conda-style platform of a probed interpreter, from its PEP 508 marker environment."""
    system, machine = markers.get("sys_platform"), str(markers.get("platform_machine", "")).lower()
    arm = machine in ("aarch64", "arm64")
    if system == "linux":
        return "linux-aarch64" if arm else "linux-64" if machine in ("x86_64", "amd64") else None
    if system == "darwin":
        return "osx-arm64" if arm else "osx-64"
    if system == "win32":
        return "win-64"
    return None


@dataclass(frozen=True)
class Places:
    """Where to look inside docker:/image:/local targets (overrides labels and defaults)."""

    python: str | None = None
    rlibs: tuple[str, ...] = ()
    jars: tuple[str, ...] = ()
    conda: tuple[str, ...] = ()


@dataclass
class ProbeContext:
    deep: bool = False
    places: Places = field(default_factory=Places)
    project: Any = None  # targets.project.Project, for lock: targets
    platform: str | None = None  # None: linux-64, or (check) the target's own platform
    environment: str | None = None
    known_jars: dict[str, tuple[str, str]] = field(default_factory=dict)


# -- converting the probe script's output ---------------------------------------------


def _mark_shadowed(rows: list[InstalledPackage]) -> list[InstalledPackage]:
    seen: dict[str, str] = {}
    out = []
    for pkg in rows:
        if pkg.name in seen and "shadowed-by" not in pkg.extra:
            pkg = InstalledPackage(pkg.ecosystem, pkg.name, pkg.version, pkg.location, pkg.sha256, {**pkg.extra, "shadowed-by": seen[pkg.name]})
        else:
            seen.setdefault(pkg.name, pkg.location or "")
        out.append(pkg)
    return out


def _modified(row: dict[str, Any]) -> dict[str, Any]:
    if not row.get("modified"):
        return {}
    return {"modified": list(row["modified"]), "modified-count": int(row.get("modified_count", len(row["modified"])))}


def _r_packages(section: dict[str, Any]) -> list[InstalledPackage]:
    rows = []
    for row in section.get("packages", []):
        extra = {k: row[k] for k in ("priority",) if row.get(k)}
        extra.update(_modified(row))
        rows.append(InstalledPackage("r", str(row["name"]), str(row.get("version", "")), row.get("location"), None, extra))
    return _mark_shadowed(rows)


def _jvm_packages(section: dict[str, Any], known: dict[str, tuple[str, str]]) -> list[InstalledPackage]:
    rows = []
    for row in section.get("packages", []):
        sha = row.get("sha256")
        name, version = row.get("name"), row.get("version")
        extra: dict[str, Any] = {}
        if not name and sha and sha in known:
            name, version = known[sha]
            extra["identified-by"] = "sha256"
        if not name:
            name, version = os.path.basename(row["file"]), ""
            extra["unidentified"] = True
            if row.get("problem"):
                extra["problem"] = row["problem"]
        rows.append(InstalledPackage("jvm", str(name), str(version or ""), row.get("file"), sha, extra))
    return rows


def snapshot_from_probe(target: str, ecosystems: list[str], data: dict[str, Any], known_jars: dict[str, tuple[str, str]] | None = None) -> Snapshot:
    """Snapshot of a target from the probe script's JSON (pure).

    The JSON comes from inside the target (a container may be hostile): anything of the
    wrong shape is an error naming the target, never a traceback."""
    try:
        return _snapshot_from_probe(target, ecosystems, data, known_jars)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UnreachableError(f"{target}: the probe returned data of an unexpected shape ({type(exc).__name__}: {exc})") from None


def _snapshot_from_probe(target: str, ecosystems: list[str], data: dict[str, Any], known_jars: dict[str, tuple[str, str]] | None) -> Snapshot:
    from envman.ecosystems.conda.probe import conda_packages
    from envman.ecosystems.python.probe import python_packages

    snap = Snapshot(target=target, ecosystems=sorted(ecosystems), created=now_iso(), problems=list(data.get("problems", [])))
    py = data.get("python")
    if py is not None:
        snap.packages["python"] = python_packages(py)
        if py.get("version"):
            snap.runtimes["python"] = py["version"]
        if py.get("markers"):
            snap.environment["python-markers"] = py["markers"]
        if py.get("executable"):
            snap.environment["python-executable"] = py["executable"]
    r = data.get("r")
    if r is not None:
        snap.packages["r"] = _r_packages(r)
        if r.get("version"):
            snap.runtimes["r"] = r["version"]
        snap.environment["r-libraries"] = r.get("libraries", [])
    jvm = data.get("jvm")
    if jvm is not None:
        snap.packages["jvm"] = _jvm_packages(jvm, known_jars or {})
        if jvm.get("java"):
            snap.runtimes["java"] = jvm["java"]
    conda = data.get("conda")
    if conda is not None:
        snap.packages["conda"] = conda_packages(conda)
        snap.environment["conda-prefixes"] = conda.get("prefixes", [])
    for eco in snap.ecosystems:
        snap.packages.setdefault(eco, [])
    return snap


# -- lock -> snapshot ------------------------------------------------------------------


def snapshot_from_lock(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    if ctx.project is None:
        raise BadInputError(f"{spec.text}: no project (envman.yaml / envman.lock) to read the lock from")
    lock = ctx.project.lock(spec.rev)
    env = ctx.project.environment(spec.value or ctx.environment, spec.rev)
    platform = spec.platform or ctx.platform or DEFAULT_PLATFORM
    plock = lock.platform_lock(env, platform)
    manifest = ctx.project.manifest_data(spec.rev) or {}
    snap = Snapshot(target=spec.text, ecosystems=[], created=now_iso())
    for eco in ALL_ECOSYSTEMS:
        entries = getattr(plock, eco)
        declared = isinstance(manifest.get(eco), dict)
        if not entries and not declared:
            continue
        snap.ecosystems.append(eco)
        rows = []
        for e in entries:
            extra: dict[str, Any] = {}
            if eco == "python" and e.marker:
                extra["marker"] = e.marker
            if eco == "conda":
                extra["build"] = e.build
            sha = getattr(e, "sha256", None)
            rows.append(InstalledPackage(eco, e.name, e.version, None, sha, extra))
        snap.packages[eco] = rows
    if plock.python_version:
        snap.runtimes["python"] = plock.python_version
    for eco, key, runtime in (("r", "version", "r"), ("jvm", "java", "java")):
        section = manifest.get(eco)
        value = section.get(key) if isinstance(section, dict) else None
        if value is not None and str(value).strip():
            snap.runtimes[runtime] = str(value).strip()
    snap.environment["lock"] = {"environment": env, "platform": platform, "rev": spec.rev}
    return snap


# -- probing each kind -----------------------------------------------------------------


def _probe_local_python(spec_text: str, interpreter: str, options: dict[str, Any]) -> dict[str, Any]:
    from envman.ecosystems.python.probe import run_probe
    from envman.targets.runners import LocalRunner

    return run_probe(LocalRunner(), interpreter, options, spec_text)


def in_process(options: dict[str, Any]) -> dict[str, Any]:
    """The probe's result computed in this process, by the same modules the in-target
    script is assembled from (local folders: no interpreter to start)."""
    from envman.ecosystems.conda.probe_target import probe_conda
    from envman.ecosystems.jvm.probe_target import java_version, probe_jars
    from envman.ecosystems.python.probe_script import collect
    from envman.ecosystems.r.probe_target import probe_r

    probes = {"probe_r": probe_r, "probe_jars": probe_jars, "java_version": java_version, "probe_conda": probe_conda}
    return collect({k: v for k, v in options.items() if k != "python"}, probes)


def _need_dir(spec: TargetSpec) -> str:
    path = spec.value
    if not os.path.isdir(path):
        raise UnreachableError(f"{spec.text}: no such folder {path}")
    return path


def _probe_path_target(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    deep = ctx.deep
    if spec.kind == "python":
        path = spec.value
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            found = shutil.which(path)
            if not found:
                raise UnreachableError(f"{spec.text}: no Python interpreter at {path}")
            path = found
        data = _probe_local_python(spec.text, path, {"python": True, "deep": deep})
        return snapshot_from_probe(spec.text, ["python"], data)
    if spec.kind == "rlib":
        data = in_process({"rlibs": [_need_dir(spec)], "deep": deep})
        return snapshot_from_probe(spec.text, ["r"], data)
    if spec.kind == "rscript":
        exe = spec.value if os.path.isfile(spec.value) else shutil.which(spec.value)
        if not exe:
            raise UnreachableError(f"{spec.text}: no Rscript at {spec.value}")
        data = in_process({"rscript": exe, "deep": deep})
        if not data.get("r", {}).get("version"):
            raise UnreachableError(f"{spec.text}: cannot run {exe}: {'; '.join(data['problems']) or 'no answer'}")
        return snapshot_from_probe(spec.text, ["r"], data)
    if spec.kind == "jars":
        data = in_process({"jars": [_need_dir(spec)], "deep": deep})
        return snapshot_from_probe(spec.text, ["jvm"], data, ctx.known_jars)
    if spec.kind == "conda":
        prefix = spec.value
        if not os.path.isdir(os.path.join(prefix, "conda-meta")):
            raise UnreachableError(f"{spec.text}: not a conda prefix (no {os.path.join(prefix, 'conda-meta')})")
        data = in_process({"conda": [prefix], "deep": deep})
        return snapshot_from_probe(spec.text, ["conda"], data)
    raise AssertionError(spec.kind)


def _probe_local(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    """This machine: python3 (or --python) and Rscript on PATH, jars under $ENVMAN_JARS (or --jars)."""
    places = ctx.places
    ecosystems: list[str] = []
    python = places.python or shutil.which("python3")
    data: dict[str, Any] = {"problems": []}
    if python:
        ecosystems.append("python")
        data = _probe_local_python(spec.text, python, {"python": True, "deep": ctx.deep})
    rscript = shutil.which("Rscript")
    jar_dirs = list(places.jars) or [d for d in os.environ.get("ENVMAN_JARS", "").split(os.pathsep) if d]
    conda = list(places.conda) or ([os.environ["CONDA_PREFIX"]] if os.environ.get("CONDA_PREFIX") else [])
    options: dict[str, Any] = {"deep": ctx.deep}
    if rscript or places.rlibs:
        ecosystems.append("r")
        options["rlibs"] = list(places.rlibs)
        options["rscript"] = rscript
    if jar_dirs:
        ecosystems.append("jvm")
        options["jars"] = jar_dirs
        options["java"] = "auto"
    if conda:
        ecosystems.append("conda")
        options["conda"] = conda
    rest = in_process(options)
    rest["problems"] = data.get("problems", []) + rest.get("problems", [])
    data.update(rest)
    return snapshot_from_probe(spec.text, ecosystems, data, ctx.known_jars)


def probe_target(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    """Snapshot of one target; errors name it (exit 4 when it cannot be reached)."""
    if spec.kind == "snapshot":
        return load_snapshot(spec.value)
    if spec.kind == "lock":
        return snapshot_from_lock(spec, ctx)
    if spec.kind == "local":
        return _probe_local(spec, ctx)
    if spec.kind in ("docker", "image"):
        from envman.targets.containers import probe_container, probe_image

        return probe_container(spec, ctx) if spec.kind == "docker" else probe_image(spec, ctx)
    return _probe_path_target(spec, ctx)


def probe_many(specs: list[TargetSpec], ctx: ProbeContext, keep_going: bool = False) -> list[Any]:
    """Probe targets concurrently (threads: the work is in subprocesses and the engine).

    Without keep_going the first error (in target order) is raised; with it, a failed
    target's place in the list holds its EnvmanError, so the others can still be reported.
    """
    if len(specs) == 1 and not keep_going:
        return [probe_target(specs[0], ctx)]
    with ThreadPoolExecutor(max_workers=min(32, len(specs))) as pool:
        futures = [pool.submit(probe_target, spec, ctx) for spec in specs]
        results: list[Any] = []
        for future in futures:
            try:
                results.append(future.result())
            except EnvmanError as exc:
                if not keep_going:
                    raise
                results.append(exc)
        return results
