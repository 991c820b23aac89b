"""Start-up benchmark: how long the everyday commands take as whole processes, and how much of it
is start-up (interpreter, imports, CLI) rather than work.

    .venv/bin/python benchmarks/startup/run.py [--runs 9]

Workloads, built in a temporary folder by reusing the other benchmarks' builders:
- drift (benchmarks/drift/run.py): a venv of 500 Python distributions, an R library of 200
  packages, a folder of 300 jars, and a lock pinning all 1,000; checked as local targets
  (python:V rlib:D jars:J), no containers;
- r_lock (benchmarks/r_lock/run.py): the 1,108-package Debian-derived CRAN-like index served
  over http on 127.0.0.1 and a manifest of its 100 roots (tests/r/test_debian_graph.py::top_roots).

Measured, each `--runs` times; each round runs every measurement once and the order rotates
every round (the 2-core machine is shared, so noise spreads over all rows alike):
1. `envman check -f M --format json python:V rlib:D jars:J` as a process, and the same check
   in-process twice: through the API the command calls (run_check + render_check) and through
   the whole CLI function (envman.cli.main.run) with every import already loaded;
2. a warm `envman lock` of the R manifest (index and tarball hashes cached in ENVMAN_CACHE_DIR),
   the lock deleted before each run as benchmarks/r_lock does, so it re-resolves through the full
   CLI; against the `Rscript` run that benchmark compares with (available.packages +
   tools::package_dependencies over the same server), whole process;
3. `envman lock --check` on the fresh lock that (2) leaves (the stdlib-only fast path);
4. `python -c pass` with the venv's interpreter: the floor (and `python -S -c pass`, the floor
   without site: the .pth files of the venv).
Commands are the venv's console script `.venv/bin/envman` (envman.cli.entry:run), as a user runs it.

Writes benchmarks/startup/RESULTS.md and results.json. The import-time analysis of the same
three commands is benchmarks/startup/imports.py (writes IMPORTS.md).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

VENV_PY = REPO / ".venv" / "bin" / "python"
VENV_ENVMAN = REPO / ".venv" / "bin" / "envman"
PYTHON = str(VENV_PY) if VENV_PY.exists() else sys.executable
ENVMAN = [str(VENV_ENVMAN)] if VENV_ENVMAN.exists() else [PYTHON, "-m", "envman"]

PY_XY = "{}.{}".format(*sys.version_info[:2])
GOALS: dict[str, float] = {"check": 0.12, "r_ratio": 3.0, "lock_check": 0.05}


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def r_code_for(url: str, roots: list[str]) -> str:
    """The R program of benchmarks/r_lock/run.py (same text): closure of the roots, timed inside R."""
    vector = ", ".join(f'"{r}"' for r in roots)
    return (
        "t <- system.time({"
        f'db <- available.packages(repos = "{url}", type = "source", filters = list()); '
        f'deps <- tools::package_dependencies(c({vector}), db = db, recursive = TRUE, which = c("Depends", "Imports", "LinkingTo"))'
        "})[['elapsed']]; "
        f'n <- length(setdiff(unique(c({vector}, unlist(deps))), rownames(installed.packages(priority = "base")))); '
        'cat(n, "\\n"); cat(t, "\\n")'
    )


@dataclass
class Workload:
    root: Path
    check_manifest: Path
    targets: list[str]
    r_manifest: Path
    r_env: dict[str, str]
    r_url: str
    r_roots: list[str]
    setup_s: float
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def check_argv(self) -> list[str]:
        return ENVMAN + ["check", "-f", str(self.check_manifest), "--format", "json", *self.targets]

    @property
    def lock_argv(self) -> list[str]:
        return ENVMAN + ["lock", "-f", str(self.r_manifest)]

    @property
    def lock_check_argv(self) -> list[str]:
        return ENVMAN + ["lock", "--check", "-f", str(self.r_manifest)]

    @property
    def rscript_argv(self) -> list[str]:
        return ["Rscript", "-e", r_code_for(self.r_url, self.r_roots)]


def run_checked(argv: list[str], env: dict[str, str] | None = None, ok: tuple[int, ...] = (0,)) -> subprocess.CompletedProcess:
    proc = subprocess.run(argv, capture_output=True, env=env)
    if proc.returncode not in ok:
        raise SystemExit(f"{' '.join(argv[:5])} … failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-800:]}")
    return proc


class _DriftMirror:
    """benchmarks/drift/run.py's builders (same names, versions and files), for when that script
    does not import; entries are plain dicts validated by the lock model wherever it lives now."""

    N_PY, N_R, N_JAR = 500, 200, 300

    @staticmethod
    def _lock_api():
        try:
            from envman.lockfile import Lock, dump_lock
        except ImportError:
            from envman.lockfile import Lock, dump_lock
        return Lock, dump_lock

    def build_venv(self, root: Path):
        import uv

        from tests.drift.builders import make_wheel, sha256_file

        wheels, entries = root / "wheels", []
        for i in range(self.N_PY):
            name, version = f"bench-pkg-{i:03d}", f"1.{i % 7}.{i % 13}"
            wheel = make_wheel(wheels, name, version)
            entries.append({"name": name, "version": version, "hashes": ["sha256:" + sha256_file(wheel)]})
        venv = root / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        python = venv / "bin" / "python"
        subprocess.run(
            [
                uv.find_uv_bin(),
                "pip",
                "install",
                "-q",
                "--python",
                str(python),
                "--no-deps",
                "--no-index",
                "--link-mode",
                "copy",
                *[str(w) for w in sorted(wheels.iterdir())],
            ],
            check=True,
        )
        return python, entries

    def build_rlib(self, root: Path):
        import hashlib

        lib, entries = root / "rlib", []
        for i in range(self.N_R):
            name, version = f"benchR{i:03d}", f"0.{i % 9}-{i % 4}"
            pkg = lib / name
            (pkg / "R").mkdir(parents=True)
            files = {
                "DESCRIPTION": (
                    f"Package: {name}\nVersion: {version}\nTitle: Bench\nDescription: Benchmark package.\nLicense: MIT\n"
                    f"Imports: stats, utils\nNeedsCompilation: no\nBuilt: R 4.2.2; ; 2024-01-01 00:00:00 UTC; unix\n"
                ),
                "NAMESPACE": "export(f)\n",
                f"R/{name}": "f <- function() 1\n",
            }
            md5 = []
            for rel, text in files.items():
                (pkg / rel).write_text(text)
                md5.append(f"{hashlib.md5(text.encode()).hexdigest()} *{rel}")
            (pkg / "MD5").write_text("\n".join(md5) + "\n")
            entries.append(
                {
                    "name": name,
                    "version": version.replace("-", "."),
                    "sha256": "0" * 64,
                    "repository": "CRAN",
                    "url": f"https://cran.invalid/{name}_{version}.tar.gz",
                }
            )
        return lib, entries

    def build_jars(self, root: Path):
        from tests.drift.builders import make_jar, sha256_file

        folder, entries = root / "jars", []
        for i in range(self.N_JAR):
            group, artifact, version = f"org.bench.g{i % 17}", f"artifact-{i:03d}", f"{1 + i % 5}.{i % 11}.0"
            jar = make_jar(folder, group, artifact, version)
            entries.append(
                {"name": f"{group}:{artifact}", "version": version, "sha256": sha256_file(jar), "url": f"https://repo.invalid/{jar.name}"}
            )
        return folder, entries

    @staticmethod
    def PlatformLock(**fields):
        return {k.replace("_", "-"): v for k, v in fields.items()}

    def write_project(self, root: Path, plock: dict) -> Path:
        Lock, dump_lock = self._lock_api()
        project = root / "project"
        project.mkdir()
        (project / "envman.yaml").write_text(
            f"version: 1\npython:\n  version: '{PY_XY}'\n  packages: [bench-pkg-000]\nr:\n  packages: [benchR000]\n"
            "jvm:\n  dependencies: ['org.bench.g0:artifact-000:1.0.0']\n" % sys.version_info[:2]
        )
        lock = Lock.model_validate(
            {"version": 1, "manifest-hash": {"all": "sha256:" + "0" * 64}, "environments": {"default": {"linux-64": plock}}}
        )
        (project / "envman.lock").write_text(dump_lock(lock))
        return project / "envman.yaml"


def _top_roots_from_source(packages_records) -> Callable[[int], list[str]]:
    """tests/r/test_debian_graph.py::top_roots without importing that module: its POPULAR list is
    read from the source, the selection is the same three lines."""
    import ast
    import random

    tree = ast.parse((REPO / "tests" / "r" / "test_debian_graph.py").read_text())
    popular = next(
        ast.literal_eval(node.value)
        for node in tree.body
        if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "POPULAR" for t in node.targets)
    )

    def top_roots(n: int = 100) -> list[str]:
        names = sorted(r["Package"] for r in packages_records())
        roots = [p for p in popular if p in names]
        rest = [p for p in names if p not in roots]
        roots += random.Random(4).sample(rest, n - len(roots))
        return roots

    return top_roots


@contextlib.contextmanager
def workload() -> Iterator[Workload]:
    """Both workloads, built in a temporary folder; the R index server runs while inside."""
    try:
        drift = _load("bench_drift_run", REPO / "benchmarks" / "drift" / "run.py")
    except ImportError as exc:  # drift/run.py imports envman.lock, which the restructuring moves
        sys.stderr.write(f"startup: benchmarks/drift/run.py does not import ({exc}); building the same workload here\n")
        drift = _DriftMirror()
    from tests.r.debian_index import packages_records, write_repository
    from tests.r.r_helpers import Server

    try:
        from tests.r.test_debian_graph import top_roots
    except ImportError as exc:  # that test module imports envman names the restructuring moves
        sys.stderr.write(f"startup: tests/r/test_debian_graph.py does not import ({exc}); same top_roots from its source\n")
        top_roots = _top_roots_from_source(packages_records)

    root = Path(tempfile.mkdtemp(prefix="envman-bench-startup-"))
    server = None
    try:
        started = time.perf_counter()
        python, py_entries = drift.build_venv(root)
        rlib, r_entries = drift.build_rlib(root)
        jars, jar_entries = drift.build_jars(root)
        plock = drift.PlatformLock(python_version=PY_XY, python=py_entries, r=r_entries, jvm=jar_entries)
        check_manifest = drift.write_project(root, plock)

        records = packages_records()
        repo = write_repository(root / "cran", records)
        server = Server(repo)
        roots = top_roots(100)
        proj = root / "rproj"
        proj.mkdir()
        r_manifest = proj / "envman.yaml"
        r_manifest.write_text(
            'version: 1\nr:\n  version: "4.2.2"\n'
            f'  repositories: {{CRAN: "{server.url}"}}\n'
            "  packages: [" + ", ".join(f'"{r}"' for r in roots) + "]\n"
        )
        r_env = {**os.environ, "ENVMAN_CACHE_DIR": str(root / "cache")}
        r_env.pop("ENVMAN_NO_FAST_PATH", None)
        load = Workload(
            root,
            check_manifest,
            [f"python:{python}", f"rlib:{rlib}", f"jars:{jars}"],
            r_manifest,
            r_env,
            server.url,
            roots,
            0.0,
            {"python": len(py_entries), "r": len(r_entries), "jars": len(jar_entries), "cran_index": len(records), "r_roots": len(roots)},
        )
        # cold lock once: fills the cache (index + tarball hashes), so every timed lock is warm
        run_checked(load.lock_argv, r_env)
        load.counts["r_locked"] = (proj / "envman.lock").read_text().count("repository: CRAN")
        load.setup_s = time.perf_counter() - started
        yield load
    finally:
        if server is not None:
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


# --- in-process variants of the commands --------------------------------------------------------


def api_check_fn(load: Workload) -> Callable[[], None] | str:
    """run_check + render_check, as check_cmd calls them; a reason string when the API moved."""
    try:
        from envman.report import render_check
        from envman.targets import Places, ProbeContext, Project, parse_target

        try:  # since the restructuring: (result, errors) always
            from envman.targets.checking import run_check as _run_check

            def run_check(specs, ctx):
                return _run_check(specs, ctx)
        except ImportError:  # before it: envman.cli.drift_cmds.run_check(..., keep_going=True)
            from envman.cli.drift_cmds import run_check as _old_run_check

            def run_check(specs, ctx):
                return _old_run_check(specs, ctx, keep_going=True)
    except ImportError as exc:
        return f"n/a (API not importable mid-restructure: {exc})"

    def call() -> None:
        specs = [parse_target(t) for t in load.targets]
        ctx = ProbeContext(places=Places(), project=Project(load.check_manifest))
        result, errors = run_check(specs, ctx)
        assert not errors and result.in_sync, (errors, [f for t in result.targets for f in t.findings][:3])
        render_check(result, "json", color=False)

    return call


def cli_inproc_fn(argv: list[str], env: dict[str, str] | None = None, before: Callable[[], None] | None = None) -> Callable[[], None] | str:
    """The whole CLI function in this process (argument parsing + command), imports already loaded."""
    try:
        from envman.cli.main import run as cli_run
    except ImportError as exc:
        return f"n/a ({exc})"

    def call() -> None:
        if before:
            before()
        saved = dict(os.environ)
        os.environ.update(env or {})
        try:
            with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
                cli_run(list(argv))
        except SystemExit as exc:
            if exc.code not in (0, None):
                raise RuntimeError(f"in-process `envman {' '.join(argv[:2])}` exited {exc.code}") from None
        finally:
            os.environ.clear()
            os.environ.update(saved)

    return call


# --- measurement -----------------------------------------------------------------------------


def proc_measure(
    argv: list[str], env: dict[str, str] | None = None, before: Callable[[], None] | None = None, after: Callable[[], None] | None = None
) -> Callable[[], float]:
    def measure() -> float:
        if before:
            before()
        started = time.perf_counter()
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv[:5])} … failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-800:]}")
        if after:
            after()
        return elapsed

    return measure


def call_measure(fn: Callable[[], None]) -> Callable[[], float]:
    def measure() -> float:
        started = time.perf_counter()
        fn()
        return time.perf_counter() - started

    return measure


def rotate_rounds(measures: dict[str, Callable[[], float]], runs: int) -> dict[str, list[float]]:
    names = list(measures)
    times: dict[str, list[float]] = {n: [] for n in names}
    for name in names:  # one untimed warm-up of each (page cache, .pyc, R's own caches)
        measures[name]()
    for round_no in range(runs):
        shift = round_no % len(names)
        for name in names[shift:] + names[:shift]:
            times[name].append(measures[name]())
    return times


def envman_python_argv(*flags: str) -> list[str]:
    """The same envman entry as ENVMAN, run by PYTHON with interpreter flags (e.g. -X importtime)."""
    return [PYTHON, *flags, *(ENVMAN if ENVMAN[0] != PYTHON else ENVMAN[1:])]


def imported_modules(importtime_stderr: str) -> set[str]:
    return {
        line.rsplit("|", 1)[1].strip()
        for line in importtime_stderr.splitlines()
        if line.startswith("import time:") and line.count("|") == 2
    }


def fast_path_used(load: Workload) -> bool:
    """True when `lock --check` answered without importing the full CLI (envman.cli.main)."""
    proc = run_checked(envman_python_argv("-X", "importtime") + ["lock", "--check", "-f", str(load.r_manifest)], load.r_env)
    return "envman.cli.main" not in imported_modules(proc.stderr.decode())


def machine() -> dict[str, object]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
        platform.processor(),
    )
    mem = next((int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")), 0)
    r_version = subprocess.run(["Rscript", "-e", "cat(R.version.string)"], capture_output=True, text=True).stdout.strip()
    git = lambda *a: subprocess.run(["git", "-C", str(REPO), *a], capture_output=True, text=True).stdout.strip()  # noqa: E731
    dirty = git("status", "--porcelain", "--", "envman")
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem / 1024 / 1024),
        "os": platform.platform(),
        "python": platform.python_version(),
        "r": r_version,
        "envman_commit": git("rev-parse", "--short", "HEAD"),
        "envman_tree": f"{len(dirty.splitlines())} uncommitted change(s) under envman/" if dirty else "clean",
    }


def _show(arg: str) -> str:
    return arg.replace(str(REPO) + "/", "")


def stats(values: list[float]) -> dict[str, float]:
    return {"median": statistics.median(values), "min": min(values), "max": max(values)}


def ms(v: float) -> str:
    return f"{v * 1000:.0f} ms" if v >= 0.0995 else f"{v * 1000:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--report-only", action="store_true", help="re-render RESULTS.md from results.json")
    args = parser.parse_args()
    if args.report_only:
        (HERE / "RESULTS.md").write_text(render(json.loads((HERE / "results.json").read_text(encoding="utf-8"))), encoding="utf-8")
        return
    if shutil.which("Rscript") is None:
        raise SystemExit("Rscript not found: apt-get install -y r-base-core")
    # Byte-code as an installed envman has it: pip compiles .pyc files at install, but an
    # editable checkout under PYTHONDONTWRITEBYTECODE=1 would recompile every module on
    # every run (~80 ms of `compile` per process), which no user pays.
    subprocess.run([PYTHON, "-m", "compileall", "-q", str(REPO / "envman")], check=True, stdout=subprocess.DEVNULL)
    load_start = os.getloadavg()
    with workload() as load:
        lock_path = load.r_manifest.with_name("envman.lock")
        reference_lock = lock_path.read_bytes()

        def unlink_lock() -> None:
            lock_path.unlink(missing_ok=True)

        api = api_check_fn(load)
        cli_inproc = cli_inproc_fn(load.check_argv[len(ENVMAN) :])
        lock_inproc = cli_inproc_fn(load.lock_argv[len(ENVMAN) :], {"ENVMAN_CACHE_DIR": load.r_env["ENVMAN_CACHE_DIR"]}, before=unlink_lock)
        in_process = {"check_api": api, "check_cli_inproc": cli_inproc, "r_lock_cli_inproc": lock_inproc}
        for key, fn in list(in_process.items()):
            if callable(fn):
                try:
                    fn()  # imports + first run outside the timing
                except Exception as exc:  # an API that moved or changed shape mid-restructure
                    in_process[key] = f"n/a ({type(exc).__name__}: {exc})"

        def same_lock() -> None:
            if lock_path.read_bytes() != reference_lock:
                raise SystemExit("envman lock wrote a different lock than the first run")

        measures: dict[str, Callable[[], float]] = {
            "floor": proc_measure([PYTHON, "-c", "pass"]),
            "floor_nosite": proc_measure([PYTHON, "-S", "-c", "pass"]),
            "check": proc_measure(load.check_argv),
            "r_lock": proc_measure(load.lock_argv, load.r_env, before=unlink_lock, after=same_lock),
            "rscript": proc_measure(load.rscript_argv),
            "lock_check": proc_measure(load.lock_check_argv, load.r_env),
        }
        for key, fn in in_process.items():
            if callable(fn):
                measures[key] = call_measure(fn)
        times = rotate_rounds(measures, args.runs)
        fast = fast_path_used(load)
        r_out = run_checked(load.rscript_argv).stdout.decode().split()
        r_count, r_inner = int(r_out[0]), float(r_out[-1])
        setup_s, counts = load.setup_s, load.counts
        argvs = {
            "check": load.check_argv,
            "r_lock": load.lock_argv,
            "lock_check": load.lock_check_argv,
            "rscript": load.rscript_argv[:2] + ["<the R program of benchmarks/r_lock/run.py>"],
        }
        root = str(load.root)
    load_end = os.getloadavg()

    s = {name: stats(values) for name, values in times.items()}
    data = {
        "command": f"{_show(PYTHON)} benchmarks/startup/run.py --runs {args.runs}",
        "machine": machine(),
        "load_average": {"start": [round(x, 2) for x in load_start], "end": [round(x, 2) for x in load_end]},
        "workload": {**counts, "r_locked_by_R": r_count, "setup_s": round(setup_s, 1)},
        "runs": args.runs,
        "argv": {k: [_show(a).replace(root, "$TMP") for a in v] for k, v in argvs.items()},
        "lock_check_fast_path": fast,
        "rscript_inner_s": r_inner,
        "in_process": {k: fn if isinstance(fn, str) else "measured" for k, fn in in_process.items()},
        "envman_invocation": " ".join(_show(a) for a in ENVMAN),
        "times_s": {k: [round(v, 4) for v in vals] for k, vals in times.items()},
        "stats_s": {k: {kk: round(vv, 4) for kk, vv in v.items()} for k, v in s.items()},
        "goals": {
            "check_under_s": GOALS["check"],
            "check_met": s["check"]["median"] < GOALS["check"],
            "r_ratio_at_least": GOALS["r_ratio"],
            "r_ratio": round(s["rscript"]["median"] / s["r_lock"]["median"], 2),
            "r_ratio_met": s["rscript"]["median"] / s["r_lock"]["median"] >= GOALS["r_ratio"],
            "lock_check_under_s": GOALS["lock_check"],
            "lock_check_met": s["lock_check"]["median"] < GOALS["lock_check"],
        },
    }
    (HERE / "results.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    text = render(data)
    (HERE / "RESULTS.md").write_text(text, encoding="utf-8")
    print(text)


def render(d: dict) -> str:
    s, g, m, w = d["stats_s"], d["goals"], d["machine"], d["workload"]
    floor = s["floor"]["median"]

    def row(label: str, key: str, goal: str = "", note: str = "") -> str:
        if key not in s:
            reason = d["in_process"].get(key, "not measured")
            return f"| {label} | {reason} | | | | {note} |"
        x = s[key]
        minus_floor = ms(x["median"] - floor) if key in ("check", "r_lock", "lock_check") else ""
        return f"| {label} | **{ms(x['median'])}** | {ms(x['min'])} - {ms(x['max'])} | {minus_floor} | {goal} | {note} |"

    met = lambda ok: "**met**" if ok else "**NOT met**"  # noqa: E731
    lines = [
        "# benchmarks/startup: results",
        "",
        f"Command: `{d['command']}` (from the repository root)  ",
        f"Run: {m['date_utc']}. Machine: {m['nproc']} cores ({m['cpu']}), {m['ram_gib']} GiB RAM, {m['os']}, "
        f"Python {m['python']}, {m['r']}; "
        f"envman at commit {m['envman_commit']} (working tree under envman/: {m['envman_tree']}).  ",
        f"Load average (1/5/15 min): {' / '.join(map(str, d['load_average']['start']))} at the start, "
        f"{' / '.join(map(str, d['load_average']['end']))} at the end (2 cores: above 2 means the CPU was contended).",
        "",
        f"Workloads: the drift benchmark's {w['python']} Python distributions + {w['r']} R packages + {w['jars']} jars "
        "with a lock of all of them (checked as `python:V rlib:D jars:J`, no containers); "
        f"the r_lock benchmark's {w['cran_index']}-package CRAN-like index on 127.0.0.1 "
        f"and {w['r_roots']} roots -> {w['r_locked']} locked packages (R finds {w['r_locked_by_R']}). Setup {w['setup_s']} s.",
        f"Every row is a median of {d['runs']} runs, wall clock; each round runs every row once, the order rotating every round. "
        f"envman runs as `{d['envman_invocation']}` (envman.cli.entry:run, what users run).",
        "",
        "| measurement | median | min - max | minus floor | goal | note |",
        "|---|---:|---:|---:|---|---|",
        row(
            "`python -c pass` (venv interpreter): the floor",
            "floor",
            note="includes site: the venv's .pth files (the editable install's path entry or finder)",
        ),
        row("`python -S -c pass` (no site)", "floor_nosite", note="the interpreter alone"),
        row(
            "`envman check -f M --format json python:V rlib:D jars:J`",
            "check",
            f"< {GOALS['check']} s: {met(g['check_met'])}",
            "process: start-up + imports + probe of 1,000 packages + compare",
        ),
        row("same check in-process: `run_check` + `render_check` (the API check_cmd calls)", "check_api", note="the work alone"),
        row(
            "same check in-process: `envman.cli.main.run(argv)` (whole CLI, imports loaded)",
            "check_cli_inproc",
            note="the work + argument parsing and dispatch",
        ),
        row(
            "warm `envman lock -f M` of the R manifest (lock deleted before each run)",
            "r_lock",
            f"Rscript / envman ≥ {GOALS['r_ratio']:.0f}x: {met(g['r_ratio_met'])} ({g['r_ratio']:.2f}x)",
            "full CLI path: re-resolves 100 roots from the cached index; same lock bytes every run",
        ),
        row(
            "same lock in-process: `envman.cli.main.run(argv)` (imports loaded, lock deleted first)",
            "r_lock_cli_inproc",
            note="the work + argument parsing and dispatch",
        ),
        row(
            "`Rscript -e '<available.packages + package_dependencies>'` (r_lock's R side)",
            "rscript",
            note=f"whole R process; R's own timer inside: {d['rscript_inner_s'] * 1000:.0f} ms",
        ),
        row(
            "`envman lock --check -f M` on the fresh R lock",
            "lock_check",
            f"< {GOALS['lock_check']} s: {met(g['lock_check_met'])}",
            "fast path (stdlib only) "
            + ("confirmed: envman.cli.main not imported" if d["lock_check_fast_path"] else "NOT taken: envman.cli.main was imported"),
        ),
        "",
    ]
    if "check_api" in s:
        work = s["check_api"]["median"]
        total = s["check"]["median"]
        lines += [
            f"Split of `envman check`: {ms(total)} in all = {ms(floor)} interpreter floor + {ms(work)} work (API in-process) + "
            f"**{ms(total - floor - work)} envman's own start-up** (imports, CLI set-up, and whatever a long-lived process "
            "has already cached: the in-process rows are warm). "
            f"The work is {work / total * 100:.0f}% of the process.",
            "",
        ]
    lines += [
        (
            f"Split of the warm R lock: {ms(s['r_lock']['median'])} in all = {ms(floor)} interpreter floor + "
            f"{ms(s['r_lock_cli_inproc']['median'])} work (the whole `lock` command in-process, imports loaded) + "
            f"**{ms(s['r_lock']['median'] - floor - s['r_lock_cli_inproc']['median'])} start-up**. "
            f"At that work, the 3x goal needs the process under {ms(s['rscript']['median'] / GOALS['r_ratio'])}."
            if "r_lock_cli_inproc" in s
            else "Split of the warm R lock: in-process run not available."
        ),
        "Where the start-up goes, module by module: [IMPORTS.md](IMPORTS.md) (`python benchmarks/startup/imports.py`).",
        "",
        "Exact commands ($TMP = the run's temporary folder; M = the workload's envman.yaml):",
        "",
        *[f"- {k}: `{' '.join(v)}`" for k, v in d["argv"].items()],
        "- R lock: `ENVMAN_CACHE_DIR=$TMP/cache` (filled by one cold `envman lock` before timing); "
        "`envman.lock` deleted before each run, as benchmarks/r_lock does.",
        "",
        "Raw times per run: results.json. The machine is shared: single runs vary by up to 2x; compare medians and same-run ratios only.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
