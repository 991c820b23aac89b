"""Benchmark: `envman build` of the reference workload into ONE image, against a naive
single-stage Dockerfile of the same packages, on a private Docker engine.

    sudo-less root shell: .venv/bin/python benchmarks/image/run.py [--runs 3] [--check-runs 7] [--quick]

Workload (one environment, one image):
- Python: the 40 declared packages of benchmarks/python_lock/requirements-40.txt, locked
  against real PyPI (wheels downloaded on the host, as envman does);
- R: the 100 roots of benchmarks/r_lock (tests/r/test_debian_graph.py::top_roots) over the
  Debian-derived CRAN graph (1,108 packages). That index carries metadata only, so this
  script writes a real, installable tarball for every package of it: a tiny generated R
  package with the same name, version, Imports (NAMESPACE imports them, so install order
  matters) and NeedsCompilation (a C file with registered routines when "yes"), served over
  http on 127.0.0.1;
- JVM: the 274 roots of benchmarks/jvm_lock over 700 real harvested POMs with stub jars
  (tests/jvm/realrepo.py), served over http on 127.0.0.1.
image: {base: envman-test-runtime:bookworm, builder: envman-test-builder:bookworm}.

Measured, round by round so machine noise hits both sides alike:
1. `envman build --no-cache` (full build, empty build cache), wall time and image ID;
   the naive single-stage Dockerfile (FROM the builder image; pip into a venv from the same
   wheels served by the host, `docker build --network host`; the same R tarballs with
   R CMD INSTALL in one RUN; jars COPY'd), `--no-cache`, in the same round;
2. a cached rebuild of the unchanged lock (no-op), then rebuilds after adding ONE R root
   (a different one each run, re-locked with `envman lock`), with the layers reused;
3. image sizes (docker image inspect Size);
4. `envman check image:TAG --env default`, whole process.

The engine is a private dockerd started by this script (own data root, socket, exec root,
containerd namespace; no bridge, no iptables) holding copies of the two test images: its
build cache starts empty, no other build on the machine shares it, and everything it made
goes with its data root at the end. Needs root, `dockerd`, and the test images in the
default engine (`bash tests/setup/dockerd.sh && bash tests/setup/runtime-images.sh`).
Writes RESULTS.md and results.json beside this file.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import gzip
import hashlib
import io
import itertools
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tarfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))

from tests.jvm.realrepo import build_real_repo, real_roots  # noqa: E402
from tests.r.debian_index import packages_records  # noqa: E402
from tests.r.r_helpers import Server  # noqa: E402
from tests.r.test_debian_graph import top_roots  # noqa: E402

WORK = Path(os.environ.get("ENVMAN_BENCH_IMAGE_WORK", "/var/tmp/envman-bench-image"))
ENGINE_RUN = Path("/run/envman-bench-image")
RUNTIME = "envman-test-runtime:bookworm"
BUILDER = "envman-test-builder:bookworm"
PYTHON_VERSION = "3.11.2"  # the runtime image's python3 (Debian bookworm)
R_VERSION = "4.2.2"
NAME = "bench-image"
TAG = f"{NAME}:full"
REBUILD_TAG = f"{NAME}:rebuild"
NAIVE_TAG = f"{NAME}-naive:latest"
RAW_TAG = f"envman-build/{NAME}-default:raw"  # envman's intermediate tag (build/run.py)
TARBALL_MTIME = 1700000000
GOAL_REBUILD = 0.30
GOAL_CHECK_S = 1.0
NAIVE_ONCE = "; `--naive-runs`: the naive build only in the first rounds, so more envman rounds fit"


# --------------------------------------------------------------------------- helpers


def envman_argv() -> list[str]:
    script = Path(sys.executable).parent / "envman"
    return [str(script)] if script.exists() else [sys.executable, "-m", "envman"]


def median(values: list[float]) -> float:
    return statistics.median(values)


def spread(values: list[float]) -> str:
    return f"{min(values):.1f}-{max(values):.1f}" if len(values) > 1 else f"{values[0]:.1f}"


def load() -> float:
    return round(os.getloadavg()[0], 2)


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def run_timed(argv: list[str], env: dict[str, str], cwd: Path | None = None, ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
    """Run a command; wall time, stdout, and stderr lines stamped as they arrive."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    timeline: list[tuple[float, str]] = []

    def reader() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            timeline.append((time.perf_counter() - start, line.rstrip("\n")))

    thread = threading.Thread(target=reader, daemon=True)
    thread.start()
    out = proc.stdout.read() if proc.stdout else ""
    code = proc.wait()
    wall = time.perf_counter() - start
    thread.join()
    if code not in ok:
        tail = "\n".join(line for _, line in timeline[-40:])
        raise SystemExit(f"FAILED ({code}): {' '.join(argv)}\n--- stderr (tail) ---\n{tail}\n--- stdout ---\n{out[-2000:]}")
    return {"wall": wall, "stdout": out, "timeline": timeline, "code": code}


def phases(timeline: list[tuple[float, str]], wall: float) -> list[tuple[str, float]]:
    """Each progress line with the time until the next one (the last one: until exit)."""
    out = []
    for i, (t, line) in enumerate(timeline):
        end = timeline[i + 1][0] if i + 1 < len(timeline) else wall
        out.append((line, round(end - t, 2)))
    return out


def phase_summary(timeline: list[tuple[float, str]], wall: float) -> dict[str, float]:
    """Seconds in the Python install step, the R install steps, `docker save` + squash, the
    load, and the upload of the whole context (until the build's first step)."""
    summary = {"python_install": 0.0, "r_install": 0.0, "save_and_squash": 0.0, "load": 0.0, "context_upload": 0.0}
    for line, seconds in phases(timeline, wall):
        if "/tmp/envman/python/install.sh" in line and "RUN" in line:
            summary["python_install"] += seconds
        elif "/tmp/envman/r/install.sh" in line and "RUN" in line:
            summary["r_install"] += seconds
        elif "making the image reproducible" in line:
            summary["save_and_squash"] += seconds
        elif "loading the image into the engine" in line:
            summary["load"] += seconds
        elif "sending the build context" in line:
            summary["context_upload"] += seconds
    summary["other"] = round(wall - sum(summary.values()), 2)
    return {k: round(v, 2) for k, v in summary.items()}


# --------------------------------------------------------------------------- private engine


class Engine:
    """A dockerd of our own: its own data root, exec root, socket, containerd namespace."""

    def __init__(self, data_root: Path, run_dir: Path) -> None:
        self.data_root = data_root
        self.run_dir = run_dir
        self.url = f"unix://{run_dir}/docker.sock"
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = data_root.parent / "dockerd.log"

    def docker(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["docker", "-H", self.url, *args], capture_output=True, text=True, **kwargs)

    def answers(self) -> bool:
        try:
            return self.docker("info", timeout=20).returncode == 0
        except subprocess.TimeoutExpired:
            return False

    def start(self) -> None:
        if not shutil.which("dockerd"):
            raise SystemExit("dockerd not found (apt-get install docker.io)")
        if os.geteuid() != 0:
            raise SystemExit("starting a private dockerd needs root")
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.data_root.mkdir(parents=True, exist_ok=True)
        (self.run_dir / "docker.sock").unlink(missing_ok=True)
        argv = ["dockerd", "--data-root", str(self.data_root), "--exec-root", str(self.run_dir / "exec"),
                "--pidfile", str(self.run_dir / "dockerd.pid"), "--host", self.url,
                "--containerd-namespace", "envman-bench-image", "--containerd-plugins-namespace", "envman-bench-image-plugins",
                "--cgroup-parent=/envman-bench-image", "--bridge=none", "--iptables=false", "--ip6tables=false"]
        with open(self.log_path, "ab") as logfile:  # dockerd keeps its own copy of the descriptor
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=logfile, stderr=logfile, start_new_session=True)
        for _ in range(120):
            if self.answers():
                driver = self.docker("info", "-f", "{{.Driver}}").stdout.strip()
                log(f"private engine pid {self.proc.pid} answers on {self.url} (storage driver {driver})")
                return
            if self.proc.poll() is not None:
                raise SystemExit(f"the private dockerd exited during start-up; see {self.log_path}")
            time.sleep(0.5)
        self.stop()
        raise SystemExit(f"the private dockerd did not answer within 60 s; see {self.log_path}")

    def load_test_images(self) -> dict[str, str]:
        ids = {}
        for image in (RUNTIME, BUILDER):
            got = subprocess.run(["docker", "image", "inspect", "-f", "{{.Id}}", image], capture_output=True, text=True)
            if got.returncode != 0:
                raise SystemExit(f"{image} is not in the default engine: run `bash tests/setup/runtime-images.sh`")
            ids[image] = got.stdout.strip()
        log("copying the test images into the private engine (docker save | docker load)")
        save = subprocess.Popen(["docker", "save", RUNTIME, BUILDER], stdout=subprocess.PIPE)
        loaded = subprocess.run(["docker", "-H", self.url, "load", "-q"], stdin=save.stdout, capture_output=True, text=True)
        save.wait()
        if save.returncode != 0 or loaded.returncode != 0:
            raise SystemExit(f"docker save | docker load failed: {loaded.stderr}")
        for image, image_id in ids.items():
            assert self.docker("image", "inspect", "-f", "{{.Id}}", image).stdout.strip() == image_id
        return ids

    def size(self, ref: str) -> int:
        return int(self.docker("image", "inspect", "-f", "{{.Size}}", ref).stdout.strip())

    def remove_tags(self, *refs: str) -> None:
        for ref in refs:
            self.docker("rmi", ref)

    def prune_dangling(self) -> None:
        """Only this private engine's own leftovers (the stage images of earlier builds)."""
        self.docker("image", "prune", "-f")

    def df(self) -> str:
        return self.docker("system", "df").stdout

    def stop(self) -> None:
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        # dockerd leaves its network namespace mounted under the exec root (and, if it died
        # badly, overlay mounts under the data root): unmount ours before removing the folders
        mounts = [line.split()[1] for line in Path("/proc/mounts").read_text().splitlines()]
        for point in sorted(mounts, key=len, reverse=True):
            if point.startswith((str(self.run_dir) + "/", str(self.data_root) + "/")):
                subprocess.run(["umount", "-l", point], capture_output=True)
        log("private engine stopped")


# --------------------------------------------------------------------------- R repository


def _member(tar: tarfile.TarFile, path: str, text: str) -> None:
    data = text.encode()
    info = tarfile.TarInfo(path)
    info.size, info.mtime, info.mode = len(data), TARBALL_MTIME, 0o644
    tar.addfile(info, io.BytesIO(data))


def r_tarball(record: dict[str, str]) -> bytes:
    """An installable R source package with the record's name, version, Imports and
    NeedsCompilation; its NAMESPACE imports every dependency (loaded at install time)."""
    name, version = record["Package"], record["Version"]
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name)
    compiled = record.get("NeedsCompilation") == "yes"
    deps = [d.strip().split(" ")[0] for d in record.get("Imports", "").split(",") if d.strip()]
    desc = {"Package": name, "Version": version, "Title": f"Stand-in for {name}",
            "Description": f"Generated stand-in for {name} {version}, with its dependencies.",
            "Author": "envman benchmark", "Maintainer": "envman benchmark <bench@example.invalid>", "License": "GPL-2"}
    if "Priority" in record:
        desc["Priority"] = record["Priority"]
    if "Imports" in record:
        desc["Imports"] = record["Imports"]
    desc["NeedsCompilation"] = "yes" if compiled else "no"
    exports = [f"{ident}_stub"] + ([f"{ident}_native"] if compiled else [])
    namespace = [f"export({', '.join(exports)})"] + [f"import({d})" for d in deps]
    code = f'{ident}_stub <- function() "{name} {version}"\n'
    if compiled:
        namespace.append(f"useDynLib({name}, .registration = TRUE)")
        code += f"{ident}_native <- function() .Call(C_stub)\n"
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        _member(tar, f"{name}/DESCRIPTION", "".join(f"{k}: {v}\n" for k, v in desc.items()))
        _member(tar, f"{name}/NAMESPACE", "\n".join(namespace) + "\n")
        _member(tar, f"{name}/R/{ident}.R", code)
        if compiled:
            _member(tar, f"{name}/src/init.c", (
                "#include <R.h>\n#include <Rinternals.h>\n#include <R_ext/Rdynload.h>\n"
                "static SEXP stub(void) { return Rf_ScalarInteger(1); }\n"
                'static const R_CallMethodDef calls[] = {{"C_stub", (DL_FUNC) &stub, 0}, {NULL, NULL, 0}};\n'
                f"void R_init_{ident}(DllInfo *dll) {{\n"
                "  R_registerRoutines(dll, NULL, calls, NULL, NULL); R_useDynamicSymbols(dll, FALSE);\n}\n"
            ))
    return buf.getvalue()


def write_r_repository(root: Path, records: list[dict[str, str]]) -> Path:
    contrib = root / "src" / "contrib"
    contrib.mkdir(parents=True, exist_ok=True)
    index = []
    for record in records:
        data = r_tarball(record)
        (contrib / f"{record['Package']}_{record['Version']}.tar.gz").write_bytes(data)
        index.append({**record, "MD5sum": hashlib.md5(data).hexdigest()})
    text = "\n".join("".join(f"{k}: {v}\n" for k, v in r.items()) for r in index)
    (contrib / "PACKAGES").write_text(text)
    (contrib / "PACKAGES.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
    return root


# --------------------------------------------------------------------------- project


def read_requirements(path: Path) -> list[str]:
    out = []
    for raw in path.read_text().splitlines():
        line = raw.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def manifest_text(python: list[str], r_url: str, r_roots: list[str], jvm_url: str, jvm_roots: list[str]) -> str:
    lines = ["version: 1", f"name: {NAME}", "platforms: [linux-64]",
             "python:", f'  version: "{PYTHON_VERSION}"', "  packages:", *[f"    - {json.dumps(p)}" for p in python],
             "r:", f'  version: "{R_VERSION}"', f'  repositories: {{CRAN: "{r_url}"}}', "  packages:",
             *[f"    - {json.dumps(p)}" for p in r_roots],
             "jvm:", '  java: "17"', f"  repositories: [{json.dumps(jvm_url)}]", "  dependencies:",
             *[f"    - {json.dumps(p)}" for p in jvm_roots],
             "image:", f"  base: {RUNTIME}", f"  builder: {BUILDER}"]
    return "\n".join(lines) + "\n"


def lock_entries(project: Path) -> dict[str, list[dict[str, Any]]]:
    import yaml

    lock = yaml.safe_load((project / "envman.lock").read_text())
    plock = lock["environments"]["default"]["linux-64"]
    return {eco: plock.get(eco) or [] for eco in ("python", "r", "jvm")}


def pick_extra_roots(records: list[dict[str, str]], closure: set[str], count: int) -> list[str]:
    """R packages outside the closure whose dependencies are all inside it: adding one as a
    root adds exactly one package to the lock."""
    candidates = []
    for record in records:
        name = record["Package"]
        if name in closure or record.get("Priority"):
            continue
        deps = {d.strip().split(" ")[0] for d in record.get("Imports", "").split(",") if d.strip()}
        if deps <= closure:
            candidates.append(name)
    return random.Random(10).sample(sorted(candidates), count)


# --------------------------------------------------------------------------- naive image


NAIVE_DOCKERFILE = """\
# The naive single-stage image of the same lock: what a Dockerfile written by hand looks like.
FROM {builder}
COPY requirements.txt /tmp/requirements.txt
RUN python3 -m venv /opt/venv \\
 && /opt/venv/bin/pip install --no-cache-dir --no-index --find-links {wheels_url} -r /tmp/requirements.txt
COPY r/ /tmp/r/
ENV R_LIBS=/opt/r-library
RUN mkdir -p /opt/r-library && cd /tmp/r \\
 && while read -r name version file; do R CMD INSTALL --library=/opt/r-library "src/$file" || exit 1; done < packages.txt
COPY jvm/ /opt/jars/
ENV PATH=/opt/venv/bin:$PATH
"""


def naive_context(root: Path, render: Path, requirements: Path, wheels_url: str) -> Path:
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    (root / "Dockerfile").write_text(NAIVE_DOCKERFILE.format(builder=BUILDER, wheels_url=wheels_url))
    shutil.copyfile(requirements, root / "requirements.txt")
    # envman's context has the R tarballs in chunks (r/chain-NN/, then r/leaves-NN/), each a
    # packages.txt "height name version file" by decreasing height: one list, the same order
    (root / "r" / "src").mkdir(parents=True)
    lines = []
    for chunk in sorted(p for p in (render / "r").iterdir() if (p / "packages.txt").is_file()):
        for line in (chunk / "packages.txt").read_text().splitlines():
            _height, name, version, file = line.split()
            shutil.copyfile(chunk / "src" / file, root / "r" / "src" / file)
            lines.append(f"{name} {version} {file}\n")
    (root / "r" / "packages.txt").write_text("".join(lines))
    shutil.copytree(render / "jvm", root / "jvm")
    return root


def naive_build(engine: Engine, context: Path) -> dict[str, Any]:
    import docker

    client = docker.DockerClient(base_url=engine.url, timeout=3600)
    start = time.perf_counter()
    image_id = None
    tail: list[str] = []
    for chunk in client.api.build(path=str(context), tag=NAIVE_TAG, nocache=True, rm=True, forcerm=True, pull=False,
                                  network_mode="host", decode=True):
        if "error" in chunk or "errorDetail" in chunk:
            raise SystemExit(f"naive build failed: {chunk}\n" + "\n".join(tail[-30:]))
        if isinstance(chunk.get("aux"), dict) and "ID" in chunk["aux"]:
            image_id = chunk["aux"]["ID"]
        if isinstance(chunk.get("stream"), str):
            tail.extend(chunk["stream"].splitlines())
            tail = tail[-60:]
    wall = time.perf_counter() - start
    client.close()
    return {"wall": wall, "image": image_id, "size": engine.size(NAIVE_TAG)}


# --------------------------------------------------------------------------- main


def _interrupted(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


PARTIAL = Path("/var/tmp/envman-bench-image-partial.json")


def save_partial(results: dict[str, Any]) -> None:
    """What was measured so far, in case the run is cut short (not a result)."""
    PARTIAL.write_text(json.dumps(results, indent=1, default=str) + "\n")


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), 0)
    server = subprocess.run(["docker", "version", "-f", "{{.Server.Version}}"], capture_output=True, text=True).stdout.strip()
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_gib": round(mem / 1024 / 1024), "python": platform.python_version(),
            "platform": platform.platform(), "docker_server": server}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3, help="runs of each build measure (default 3)")
    parser.add_argument("--check-runs", type=int, default=7)
    parser.add_argument("--naive-runs", type=int, default=None, metavar="N",
                        help="naive builds only in the first N rounds (default: every round; at least 1: the size goal needs it)")
    parser.add_argument("--quick", action="store_true", help="a small workload, to try the script (results not written)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (artifact cache) at the end")
    parser.add_argument("--report", type=Path, metavar="RESULTS_JSON",
                        help="only write RESULTS.md again from an earlier run's results.json (its command line is kept)")
    args = parser.parse_args()
    if args.report is not None:
        saved = json.loads(args.report.read_text())
        write_results(saved, saved.get("argv", []), args.report.resolve().parent)
        return
    runs = args.runs
    naive_runs = max(1, min(runs, args.naive_runs if args.naive_runs is not None else runs))
    # stopped by a signal (a run under nohup ignores SIGINT): still stop the private engine
    # and keep what was measured (the partial results file)
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _interrupted)

    if WORK.exists():
        shutil.rmtree(WORK / "project", ignore_errors=True)
    WORK.mkdir(parents=True, exist_ok=True)
    engine = Engine(WORK / "engine", ENGINE_RUN)
    servers: list[Server] = []
    results: dict[str, Any] = {"started": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                               "machine": machine(), "load_start": load(), "runs": runs, "quick": args.quick,
                               "argv": sys.argv[1:], "naive_runs": naive_runs,
                               "commit": os.environ.get("ENVMAN_BENCH_COMMIT")}
    try:
        # -- repositories and the project ---------------------------------------------------
        records = packages_records()
        r_repo = write_r_repository(WORK / "cran", records)
        servers.append(r_server := Server(r_repo))
        jvm_repo = build_real_repo(WORK / "maven")
        servers.append(jvm_server := Server(jvm_repo.root))
        python = read_requirements(REPO / "benchmarks" / "python_lock" / "requirements-40.txt")
        r_roots, jvm_roots = top_roots(100), real_roots()
        if args.quick:
            python, r_roots, jvm_roots = ["requests", "pyyaml"], r_roots[:3], jvm_roots[:5]
        project = WORK / "project"
        project.mkdir()
        manifest = project / "envman.yaml"
        manifest.write_text(manifest_text(python, r_server.url, r_roots, jvm_server.url, jvm_roots))

        engine.start()
        results["test_images"] = engine.load_test_images()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("UV_", "ENVMAN_"))}
        env.update(ENVMAN_CACHE_DIR=str(WORK / "cache"), DOCKER_HOST=engine.url, UV_NO_CONFIG="1")
        envman = envman_argv()

        log("envman lock")
        locked = run_timed([*envman, "lock", "-f", str(manifest)], env)
        entries = lock_entries(project)
        counts = {eco: len(v) for eco, v in entries.items()}
        compiled = sum(1 for e in entries["r"] if e.get("needs-compilation") or e.get("needs_compilation"))
        results["lock"] = {"wall": locked["wall"], "counts": counts, "r_compiled": compiled}
        log(f"locked {counts} in {locked['wall']:.1f} s")
        manifest_a, lock_a = manifest.read_bytes(), (project / "envman.lock").read_bytes()

        log("envman render (downloads and verifies every artifact into the envman cache)")
        render_dir = WORK / "render"
        rendered = run_timed([*envman, "render", "-f", str(manifest), "-o", str(render_dir), "--json"], env)
        context_bytes = sum(p.stat().st_size for p in render_dir.rglob("*") if p.is_file())
        wheels = render_dir / "python" / "wheels"
        results["render"] = {"wall_cold_artifact_cache": rendered["wall"], "context_bytes": context_bytes,
                             "wheels_bytes": sum(p.stat().st_size for p in wheels.iterdir())}
        requirements = WORK / "requirements.txt"
        run_timed([*envman, "export", "-f", str(manifest), "--format", "requirements", "-o", str(requirements)], env)
        servers.append(wheel_server := Server(wheels))
        naive_dir = naive_context(WORK / "naive", render_dir, requirements, wheel_server.url + "/")

        # -- rounds: full build, (no-op,) one-R-change rebuild, naive build ---------------------
        # Each round measures the three builds back to back, so a ratio within a round compares
        # runs made under the same machine load; results are saved after every step.
        closure = {e["name"] for e in entries["r"]}
        extra = pick_extra_roots(records, closure, runs)
        full, naive, rebuilds = [], [], []
        results["full"], results["naive"], results["rebuilds"] = full, naive, rebuilds
        for i in range(runs):
            if i > 0:  # empty the build cache (and free the disk) of the round before
                engine.remove_tags(TAG, RAW_TAG)
                engine.prune_dangling()
            log(f"round {i + 1}/{runs}: envman build --no-cache (load {load()})")
            load_before = load()
            done = run_timed([*envman, "build", "-f", str(manifest), "--tag", TAG, "--no-cache", "--json"], env)
            summary = json.loads(done["stdout"])
            full.append({"wall": done["wall"], "image": summary["image"], "layers": summary["layers"],
                         "cached": summary["cached"], "size": engine.size(TAG), "load_before": load_before,
                         "load_after": load(), "phases": phase_summary(done["timeline"], done["wall"]),
                         "timeline": phases(done["timeline"], done["wall"])})
            log(f"  {done['wall']:.1f} s, {summary['image'][:19]}, {full[-1]['phases']}")
            save_partial(results)

            if i == 0:
                log("no-op rebuild (unchanged lock, with the cache)")
                done = run_timed([*envman, "build", "-f", str(manifest), "--tag", TAG, "--json"], env)
                summary = json.loads(done["stdout"])
                results["noop"] = {"wall": done["wall"], "image": summary["image"], "cached": summary["cached"],
                                   "layers": summary["layers"], "phases": phase_summary(done["timeline"], done["wall"])}
                log(f"  {done['wall']:.1f} s")
                save_partial(results)

            root = extra[i]
            manifest.write_text(manifest_text(python, r_server.url, [*r_roots, root], jvm_server.url, jvm_roots))
            relock = run_timed([*envman, "lock", "-f", str(manifest)], env)
            after = lock_entries(project)
            added = sorted({e["name"] for e in after["r"]} - closure)
            same_python = after["python"] == entries["python"] and after["jvm"] == entries["jvm"]
            log(f"round {i + 1}/{runs}: rebuild + R root {root} (lock adds {added}; load {load()})")
            load_before = load()
            done = run_timed([*envman, "build", "-f", str(manifest), "--tag", REBUILD_TAG, "--json"], env)
            summary = json.loads(done["stdout"])
            full_layers = dict((layer["group"], layer["diff_id"]) for layer in full[-1]["layers"])
            reused = [layer["group"] for layer in summary["layers"] if full_layers.get(layer["group"]) == layer["diff_id"]]
            rebuilds.append({"root": root, "added": added, "other_pins_kept": same_python, "lock_wall": relock["wall"],
                             "wall": done["wall"], "image": summary["image"], "cached": summary["cached"],
                             "layers": summary["layers"], "reused_layers": reused, "load_before": load_before,
                             "load_after": load(), "phases": phase_summary(done["timeline"], done["wall"]),
                             "timeline": phases(done["timeline"], done["wall"])})
            log(f"  {done['wall']:.1f} s ({done['wall'] / full[-1]['wall']:.0%} of this round's full build); "
                f"reused layers {reused}; {rebuilds[-1]['phases']}")
            engine.remove_tags(REBUILD_TAG)
            manifest.write_bytes(manifest_a)
            (project / "envman.lock").write_bytes(lock_a)
            save_partial(results)

            if i < naive_runs:
                log(f"round {i + 1}/{runs}: naive docker build --no-cache --network host (load {load()})")
                load_before = load()
                naive.append({**naive_build(engine, naive_dir), "load_before": load_before, "load_after": load()})
                log(f"  {naive[-1]['wall']:.1f} s, {naive[-1]['size'] / 1e9:.2f} GB")
                engine.remove_tags(NAIVE_TAG)
                engine.prune_dangling()
                save_partial(results)

            if i == 0:  # -- 3./4. size and check, once (the goals do not need more rounds) ----
                results["sizes"] = {"envman": engine.size(TAG), "naive": naive[-1]["size"],
                                    "runtime_base": engine.size(RUNTIME), "builder_base": engine.size(BUILDER)}
                checks = []
                results["check"] = checks
                for _ in range(args.check_runs):
                    argv = [*envman, "check", "-f", str(manifest), "--env", "default", "--format", "json", f"image:{TAG}"]
                    load_before = load()
                    done = run_timed(argv, env, ok=(0, 1))
                    # the engine's floor for any probe that runs in the image: a bare one-off container
                    floor = run_timed(["docker", "-H", engine.url, "run", "--rm", "--network", "none",
                                       "--entrypoint", "/bin/true", TAG], env)
                    checks.append({"wall": done["wall"], "code": done["code"], "load_before": load_before,
                                   "in_sync": json.loads(done["stdout"])["in_sync"], "bare_run": floor["wall"]})
                log(f"sizes {results['sizes']}; check {[round(c['wall'], 2) for c in checks]}")
                save_partial(results)


        results["engine_df"] = engine.df()
        results["load_end"] = load()
    finally:
        for server in servers:
            server.stop()
        engine.stop()
        if engine.data_root.exists():
            shutil.rmtree(engine.data_root, ignore_errors=True)
        shutil.rmtree(ENGINE_RUN, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(WORK, ignore_errors=True)

    out = Path("/tmp/envman-bench-image-quick") if args.quick else HERE  # a quick run is a try, not a result
    out.mkdir(parents=True, exist_ok=True)
    (out / "results.json").write_text(json.dumps(results, indent=1, default=str) + "\n")
    write_results(results, sys.argv[1:], out)


def _round_row(i: int, f: dict[str, Any], r: dict[str, Any] | None, n: dict[str, Any] | None) -> str:
    """One round: full build, rebuild, naive build, with the load before/after each ("not run"
    for a measure a cut-short run did not reach)."""
    def loads(x: dict[str, Any] | None) -> str:
        return f"{x['load_before']} / {x.get('load_after', '?')}" if x else "-"

    rebuild = f"{r['wall']:.0f} | {r['wall'] / f['wall']:.0%}" if r else "not run | -"
    naive = f"{n['wall']:.0f}" if n else "not run"
    return (f"| {i + 1} | {f['wall']:.0f} | `{f['image'][:19]}` | {rebuild} | {naive} | "
            f"{loads(f)}; {loads(r)}; {loads(n)} |")


def _steps(run: dict[str, Any]) -> list[str]:
    """The build steps of the whole Dockerfile (not the system stage's own build), as the
    progress lines name them (shortened to 90 characters)."""
    lines = [line for line, _ in run.get("timeline", [])]
    start = max((i for i, line in enumerate(lines) if "sending the build context" in line), default=0)
    found = [re.sub(r"^.*?step \d+/\d+: ", "", line) for line in lines[start:] if re.search(r"step \d+/\d+: ", line)]
    return found


def _rerun(run: dict[str, Any]) -> list[str]:
    cached = [" ".join(c.split()) for c in run["cached"]]
    return [s for s in _steps(run) if not s.startswith("FROM ") and not any(c.startswith(s.rstrip("…")) for c in cached)]


def write_results(res: dict[str, Any], argv: list[str], out: Path) -> None:
    full_t = [r["wall"] for r in res["full"]]
    naive_t = [r["wall"] for r in res["naive"]]
    rebuild_t = [r["wall"] for r in res["rebuilds"]]
    relock_t = [r["lock_wall"] for r in res["rebuilds"]]
    check_t = [c["wall"] for c in res["check"]]
    ids = [r["image"] for r in res["full"]]
    same = len(set(ids)) == 1
    noop_same = res["noop"]["image"] == ids[0]  # the no-op rebuild follows round 1
    fm, nm, rm_, cm = median(full_t), median(naive_t), median(rebuild_t), median(check_t)
    # each rebuild against the full build of its own round (same machine load), then the median
    round_ratios = [r["wall"] / f["wall"] for f, r in zip(res["full"], res["rebuilds"], strict=False)]
    ratio = median(round_ratios)
    naive_ratios = [f["wall"] / n["wall"] for f, n in zip(res["full"], res["naive"], strict=False)]
    argv_naive = [int(a) for flag, a in zip(res.get("argv", []), res.get("argv", [])[1:], strict=False) if flag == "--naive-runs"]
    naive_asked = min(res["runs"], res.get("naive_runs") or (argv_naive[0] if argv_naive else res["runs"]))
    commit = res.get("commit") or os.environ.get("ENVMAN_BENCH_COMMIT")
    rounds_done = min(len(full_t), len(rebuild_t), len(naive_t) if len(naive_t) < naive_asked else len(full_t))
    sizes = res["sizes"]
    env_sz, naive_sz = sizes["envman"], sizes["naive"]
    m = res["machine"]
    counts = res["lock"]["counts"]
    gb = lambda b: f"{b / 1e9:.2f} GB"  # noqa: E731
    ph = {k: median([r["phases"][k] for r in res["full"]]) for k in res["full"][0]["phases"]}
    rph = {k: median([r["phases"][k] for r in res["rebuilds"]]) for k in res["rebuilds"][0]["phases"]}
    reused = sorted({g for r in res["rebuilds"] for g in r["reused_layers"]})
    rebuilt = sorted({layer["group"] for r in res["rebuilds"] for layer in r["layers"]} - set(reused))
    lines = [
        "# benchmarks/image: results",
        "",
        "Command (as root, the default engine and the test images up): `"
        + " ".join([".venv/bin/python", "benchmarks/image/run.py", *argv]) + "`",
        "",
        *([f"Run from a `git archive` of commit {commit} (`PYTHONPATH` pointing at it; `ENVMAN_BENCH_COMMIT` names it), "
           "because other engineers were editing the shared checkout during the run.", ""] if commit else []),
        f"Run started {res['started']}. Machine: {m['cores']} cores ({m['cpu']}), {m['mem_gib']} GiB RAM, {m['platform']}, "
        f"Python {m['python']}, Docker engine {m['docker_server']} (a private dockerd started by the script, classic builder, overlay2). "
        f"Load average (1 min) {res['load_start']} at the start, {res.get('load_end', '?')} at the end; the machine is shared "
        "(other sessions ran tests and builds meanwhile), so single runs vary and only medians and same-run ratios mean much.",
        "",
        f"Workload, one image: {counts['python']} Python pins (the 40 packages of benchmarks/python_lock/requirements-40.txt, "
        f"real PyPI), {counts['r']} R packages (the 100 roots of benchmarks/r_lock over the Debian-derived CRAN graph; "
        f"{res['lock']['r_compiled']} need compilation), {counts['jvm']} JVM artifacts (the 274 roots of benchmarks/jvm_lock, "
        f"real POMs, stub jars). Build context {gb(res['render']['context_bytes'])} (wheels {gb(res['render']['wheels_bytes'])}). "
        f"`envman lock` took {res['lock']['wall']:.1f} s; the first `envman render` (all artifacts downloaded and verified into "
        f"envman's cache) {res['render']['wall_cold_artifact_cache']:.0f} s; the builds below start with that cache warm.",
        "",
        "R packages: the Debian-derived index has metadata only, so the script generates a real source package for each "
        "of its 1,108 entries (same name, version, Imports and NeedsCompilation; the NAMESPACE imports every dependency, "
        "so a wrong install order fails; packages with NeedsCompilation: yes carry a C file with registered routines, "
        "compiled by R CMD INSTALL in the builder stage) and serves them as a CRAN-like repository over http on 127.0.0.1. "
        "They are tiny, so R time here is R's per-package install overhead (start R, load the imports, lazy-load, "
        "byte-compile, compile one C file), not the compile time of real CRAN sources.",
        "",
        f"Runs: {len(full_t)} of each envman build measure, {len(naive_t)} of the naive Dockerfile "
        f"(interleaved round by round{'' if len(naive_t) == len(full_t) else NAIVE_ONCE}); "
        f"{len(check_t)} of `check`. Times are wall clock of the whole command; median (min-max).",
        "",
        "| measure | envman | naive single-stage Dockerfile | goal |",
        "|---|---:|---:|---|",
        f"| 1. full build, empty cache (`envman build --no-cache` / `docker build --no-cache --network host`) | "
        f"**{fm:.0f} s** ({spread(full_t)}) | {nm:.0f} s ({spread(naive_t)}) | envman/naive in the same round: "
        f"{', '.join(f'{x:.2f}x' for x in naive_ratios)} |",
        f"| same image ID every full build (reproducible) | {'**yes**' if same else '**NO**'}: `{ids[0][:19]}…`"
        f"{'' if same else ' vs ' + ', '.join(i[:19] for i in ids[1:])} | {len(set(r['image'] for r in res['naive']))} IDs in "
        f"{len(naive_t)} builds | identical IDs: {'met' if same else 'NOT met'} |",
        f"| 2. rebuild after adding one R root (re-lock + cached build) | **{rm_:.0f} s** ({spread(rebuild_t)}) build, "
        f"+ {median(relock_t):.1f} s lock: **{ratio:.0%}** of the full build of the same round "
        f"({', '.join(f'{x:.0%}' for x in round_ratios)}) | | under {GOAL_REBUILD:.0%}: "
        f"{'met' if ratio < GOAL_REBUILD else 'NOT met'} |",
        f"| no-op rebuild (same lock, cached; 1 run) | {res['noop']['wall']:.0f} s, same image ID: "
        f"{'yes' if noop_same else 'NO'} ("
        + ", ".join(f"{k.replace('_', ' ')} {v:.0f} s" for k, v in res["noop"].get("phases", {}).items()) + ") | | |",
        f"| 3. image size (`docker image inspect` Size) | **{gb(env_sz)}** | {gb(naive_sz)} | envman smaller: "
        f"{'met' if env_sz < naive_sz else 'NOT met'} ({env_sz / naive_sz:.2f}x) |",
        f"| size above its base image | {gb(env_sz - sizes['runtime_base'])} over the runtime ({gb(sizes['runtime_base'])}) | "
        f"{gb(naive_sz - sizes['builder_base'])} over the builder ({gb(sizes['builder_base'])}) | |",
        f"| 4. `envman check image:TAG --env default` | **{cm:.2f} s** ({min(check_t):.2f}-{max(check_t):.2f}), "
        f"in sync: {all(c['in_sync'] for c in res['check'])} | | under {GOAL_CHECK_S:.0f} s: {'met' if cm < GOAL_CHECK_S else 'NOT met'} |",
        "",
        "Where a full envman build spends its time (medians): "
        + ", ".join(f"{k.replace('_', ' ')} {v:.0f} s" for k, v in ph.items())
        + " (other: plan and context, system stage, runtime check, context upload, the small steps).",
        "Rebuilds (medians): " + ", ".join(f"{k.replace('_', ' ')} {v:.0f} s" for k, v in rph.items()) + ".",
        "",
        f"Layers of a rebuild: reused (same diff_id as the full build) {', '.join(reused) or 'none'}; "
        f"rebuilt {', '.join(rebuilt) or 'none'}. Build steps of each rebuild served from the engine's cache: "
        + "; ".join(f"{len(r['cached'])} of {len(_steps(r))}" for r in res["rebuilds"])
        + ". Steps that ran again (first rebuild): "
        + "; ".join(f"`{s}`" for s in _rerun(res["rebuilds"][0])) + ".",
        "",
        "| rebuild | R root added | packages added to the lock | other pins kept | lock (s) | build (s) | load before |",
        "|---|---|---|---|---:|---:|---:|",
        *[f"| {i + 1} | {r['root']} | {', '.join(r['added'])} | {r['other_pins_kept']} | {r['lock_wall']:.1f} | {r['wall']:.0f} | "
          f"{r['load_before']} |"
          for i, r in enumerate(res["rebuilds"])],
        "",
        "| round | envman full (s) | image ID | rebuild + 1 R root (s) | rebuild / full | naive (s) | "
        "load (1 min) before / after: full; rebuild; naive |",
        "|---|---:|---|---:|---:|---:|---|",
        *[_round_row(i, f, r, n) for i, (f, r, n) in enumerate(itertools.zip_longest(res["full"], res["rebuilds"], res["naive"]))],
        *(["", f"Rounds completed: {rounds_done} of the {res['runs']} asked for (the run was stopped after that; "
           "RESULTS.md written from its partial results)."] if rounds_done < res["runs"] else []),
        "",
        "`check` runs (s): " + ", ".join(f"{c['wall']:.2f} (load {c.get('load_before', '?')})" for c in res["check"]) + ".",
        *([f"A bare `docker run --rm --network none --entrypoint /bin/true` of the image, after each check (the engine's "
           f"floor for any probe that runs in the image): median {median([c['bare_run'] for c in res['check']]):.2f} s "
           "(" + ", ".join(f"{c['bare_run']:.2f}" for c in res["check"]) + ")."] if res["check"] and "bare_run" in res["check"][0] else []),
        "",
        "The naive Dockerfile (written by the script beside the rendered context):",
        "",
        "```dockerfile",
        NAIVE_DOCKERFILE.format(builder=BUILDER, wheels_url="http://127.0.0.1:PORT/").rstrip(),
        "```",
        "",
        "It installs the same pins (`envman export --format requirements`, hashes enforced by pip) from the same wheel "
        "files, served by the host on 127.0.0.1 (containers have no network here but `--network host`; wheels served, "
        "not COPY'd, so they are not in the naive image), the same R tarballs in envman's "
        "order (dependencies first), one R CMD INSTALL after another (envman installs in chunks, each a cached step, and "
        "runs the packages of one dependency height in parallel, one per CPU of the build), and the same jars. "
        "It runs pip where envman runs uv, and "
        "builds FROM the builder image (compilers included) since it has one stage.",
        "",
    ]
    (out / "RESULTS.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
