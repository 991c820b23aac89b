"""Benchmark: lock 60 conda roots for 3 platforms over a synthetic 2,000-package channel,
against py-rattler's bare solve of the same specs, in the same run.

    .venv/bin/python benchmarks/conda_lock/run.py [--runs 7] [--names 2000] [--roots 60]

The channel (tests/conda/channel.py, repodata only: the solve reads repodata, and nothing is
installed here) has 2,000 package names with 3-6 versions each, in noarch (a quarter) or in
linux-64, osx-arm64 and win-64, in both formats (.tar.bz2 and .conda): about 45,000
repodata records. Dependencies form a DAG whose low layers are shared by many packages
(a power law: the most used library has hundreds of dependents), 0-9 per package, with
lower bounds that rise with each version and some upper bounds (`<N`) that make the
newest versions of some roots conflict, so solves backtrack; every package's oldest
version has unconstrained dependencies, so a solution always exists. Platform builds
need `__glibc` (linux), `__osx` (macOS) or a `vc-runtime` package (Windows only).

It is served over http on 127.0.0.1. Warm means rattler's repodata cache is filled
(a first lock ran): each lock still revalidates every subdir over HTTP (304s).

Measured (medians of --runs, with min-max):
- envman: `ECOSYSTEM.resolve()` in-process (gateway, 3 concurrent solves, lock entries),
  a fresh lock and a re-lock with the old pins as preferences (`--upgrade-package` path);
- bare: `rattler.solve()` of the same specs for the same 3 platforms and virtual packages,
  concurrently over one new Gateway on the same cache (what envman wraps);
- the whole `envman lock` process (lock file removed before each run; cache warm);
- the probe of a 300-package prefix that `envman sync` made (probe.py): envman's probe
  in-process against py-rattler reading the same conda-meta records, `--deep`, and the whole
  `envman check conda:PREFIX` process.

Writes benchmarks/conda_lock/RESULTS.md and results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from envman.cache import ArtifactCache  # noqa: E402
from envman.ecosystems.base import ResolveRequest, Services  # noqa: E402
from envman.ecosystems.conda import ECOSYSTEM  # noqa: E402
from envman.ecosystems.conda.platforms import virtual_packages  # noqa: E402
from envman.ecosystems.conda.section import CondaSection  # noqa: E402
from envman.http import HttpClient  # noqa: E402
from tests.conda.channel import PackageSpec, build_channel_files  # noqa: E402
from tests.python.servers import serve_directory  # noqa: E402

PLATFORMS = ["linux-64", "osx-arm64", "win-64"]
HERE = Path(__file__).resolve().parent


def synthetic_packages(names: int, seed: int = 11) -> list[PackageSpec]:
    """The channel described in the module docstring (deterministic for a seed)."""
    rng = random.Random(seed)
    name = [f"pkg{i:04d}" for i in range(names)]
    versions = {i: [f"{major}.{minor}" for major, minor in _version_list(rng)] for i in range(names)}
    noarch = {i for i in range(names) if rng.random() < 0.25}
    specs = [PackageSpec("vc-runtime", version, subdirs=("win-64",)) for version in ("14.3", "14.4")]
    for i in range(names):
        # lower layers (higher index) are libraries: fewer dependencies, many dependents
        layer = i / names
        fan_out = rng.randint(0, 9) if layer < 0.7 else rng.randint(0, 3) if layer < 0.95 else 0
        candidates = range(i + 1, names)
        if not candidates:
            fan_out = 0
        weights = [1.0 / (names - j + 5) ** 0.9 for j in candidates]
        deps = sorted(set(rng.choices(list(candidates), weights=weights, k=fan_out))) if fan_out else []
        caps = {j: rng.random() < 0.15 for j in deps}
        for n, version in enumerate(versions[i]):
            depends = []
            for j in deps:
                dep_versions = versions[j]
                if n == 0:
                    depends.append(name[j])  # the oldest version: always installable
                    continue
                floor = dep_versions[min(len(dep_versions) - 1, (n * len(dep_versions)) // len(versions[i]))]
                spec = f"{name[j]} >={floor}"
                if caps[j]:
                    cap_major = int(floor.split(".")[0]) + 1
                    spec += f",<{cap_major}"
                depends.append(spec)
            if i in noarch:
                specs.append(PackageSpec(name[i], version, depends=tuple(depends)))
            else:
                for subdir in PLATFORMS:
                    extra = {"linux-64": "__glibc >=2.17", "osx-arm64": "__osx >=11.0", "win-64": "vc-runtime >=14.3"}[subdir]
                    specs.append(PackageSpec(name[i], version, subdirs=(subdir,), depends=(*depends, extra)))
    return specs


def _version_list(rng: random.Random) -> list[tuple[int, int]]:
    count = rng.randint(3, 6)
    out, major, minor = [], 1, 0
    for _ in range(count):
        out.append((major, minor))
        if rng.random() < 0.4:
            major, minor = major + 1, 0
        else:
            minor += 1
    return out


def roots_of(names: int, count: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    return [f"pkg{i:04d}" for i in sorted(rng.sample(range(min(400, names)), count))]


def timed(fn: Any, runs: int) -> tuple[float, list[float]]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times), times


def wall_and_cpu(fn: Any) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process over all its threads, rattler's too)."""
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


def bare_solve(url: str, roots: list[str], cache_dir: Path) -> dict[str, list[Any]]:
    import rattler
    from rattler import BuildString, GenericVirtualPackage, PackageName, Version

    async def solve_all() -> dict[str, list[Any]]:
        gateway = rattler.Gateway(cache_dir=cache_dir)

        async def one(p: str) -> tuple[str, list[Any]]:
            vps = [GenericVirtualPackage(PackageName(v.name), Version(v.version), BuildString(v.build)) for v in virtual_packages(p)]
            subdirs = [rattler.Subdir(p), rattler.Subdir("noarch")]
            return p, await rattler.solve([url], roots, gateway=gateway, platforms=subdirs, virtual_packages=vps)

        return dict(await asyncio.gather(*(one(p) for p in PLATFORMS)))

    result = asyncio.run(solve_all())
    time.sleep(0.02)  # the same settle as envman's (py-rattler's threads finish before exit)
    return result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--names", type=int, default=2000)
    parser.add_argument("--roots", type=int, default=60)
    parser.add_argument("--probe-runs", type=int, default=21)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="envman-conda-bench-"))
    os.environ["ENVMAN_CACHE_DIR"] = str(work / "cache")
    started = time.perf_counter()
    specs = synthetic_packages(args.names)
    records = len(build_channel_files(work / "channel", specs, subdirs=("noarch", *PLATFORMS), archives=False))
    generate = time.perf_counter() - started
    del specs  # the generator's 40,000 objects would make every garbage collection of the runs below slow
    gc.collect()
    roots = roots_of(args.names, args.roots)
    size = sum((work / "channel" / s / "repodata.json").stat().st_size for s in ("noarch", *PLATFORMS))
    with serve_directory(work / "channel") as url:
        section = CondaSection(channels=[url], packages=roots)
        services = Services(http=HttpClient(), cache=ArtifactCache())

        def request(previous: dict[str, Any] | None = None) -> ResolveRequest:
            return ResolveRequest(section=section, environments={"default": list(roots)}, platforms=PLATFORMS, previous=previous or {})

        cold_started = time.perf_counter()
        first = ECOSYSTEM.resolve(request(), services)
        cold = time.perf_counter() - cold_started
        cache_dir = work / "cache" / "conda-repodata"
        bare_first = bare_solve(url, roots, cache_dir)
        for p in PLATFORMS:  # the same solution both ways
            ours = sorted((e.name, e.version, e.build) for e in first["default"][p])
            theirs = sorted((r.name.source, str(r.version), str(r.build)) for r in bare_first[p])
            assert ours == theirs, p
        counts = {p: len(first["default"][p]) for p in PLATFORMS}
        # interleaved, so that a change of the machine's load hits both sides alike
        envman_runs, bare_runs, relock_runs, envman_cpu, bare_cpu = [], [], [], [], []
        for _ in range(args.runs):
            wall, cpu = wall_and_cpu(lambda: ECOSYSTEM.resolve(request(), services))
            envman_runs.append(wall)
            envman_cpu.append(cpu)
            wall, cpu = wall_and_cpu(lambda: bare_solve(url, roots, cache_dir))
            bare_runs.append(wall)
            bare_cpu.append(cpu)
            relock_runs.append(wall_and_cpu(lambda: ECOSYSTEM.resolve(request(first), services))[0])
        envman_median, bare_median, relock_median = map(statistics.median, (envman_runs, bare_runs, relock_runs))
        pair_ratios = [a / b for a, b in zip(envman_runs, bare_runs, strict=True)]
        # the whole process
        project = work / "project"
        project.mkdir()
        (project / "envman.yaml").write_text(
            f"version: 1\nplatforms: [{', '.join(PLATFORMS)}]\nconda:\n  channels: [\"{url}\"]\n  packages: [{', '.join(roots)}]\n"
        )
        env = {**os.environ}
        done = subprocess.run([sys.executable, "-m", "envman", "lock"], cwd=project, env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

        def cli() -> None:
            (project / "envman.lock").unlink()
            subprocess.run([sys.executable, "-m", "envman", "lock"], cwd=project, env=env, capture_output=True, check=True)

        cli_median, cli_runs = timed(cli, max(3, args.runs // 2 + 1))
    from probe import measure_probe  # beside this script

    probe = measure_probe(work, args.probe_runs, serve_directory)
    results = {
        "command": f".venv/bin/python benchmarks/conda_lock/run.py --runs {args.runs} --probe-runs {args.probe_runs}",
        "machine": _machine(),
        "channel": {"names": args.names, "records": records, "repodata_bytes": size, "generate_seconds": round(generate, 2)},
        "roots": len(roots),
        "locked": counts,
        "cold_seconds": round(cold, 4),
        "envman_warm": {"median": envman_median, "runs": envman_runs},
        "bare_rattler_warm": {"median": bare_median, "runs": bare_runs},
        "envman_relock_with_preferences": {"median": relock_median, "runs": relock_runs},
        "envman_lock_process": {"median": cli_median, "runs": cli_runs},
        "ratio_envman_to_bare": envman_median / bare_median,
        "ratio_per_pair": {"median": statistics.median(pair_ratios), "runs": pair_ratios},
        "envman_cpu": {"median": statistics.median(envman_cpu), "runs": envman_cpu},
        "bare_rattler_cpu": {"median": statistics.median(bare_cpu), "runs": bare_cpu},
        "cpu_ratio": statistics.median(envman_cpu) / statistics.median(bare_cpu),
        "probe": probe,
    }
    (HERE / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    (HERE / "RESULTS.md").write_text(_markdown(results, args.runs))
    print(_markdown(results, args.runs))


def _spread(data: dict[str, Any]) -> str:
    return f"{data['median'] * 1000:.0f} ms ({min(data['runs']) * 1000:.0f}-{max(data['runs']) * 1000:.0f})"


def _machine() -> str:
    cores = os.cpu_count()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    import rattler

    version = getattr(rattler, "__version__", None) or _dist_version("py-rattler")
    return f"{cores} cores, Python {platform.python_version()}, py-rattler {version}, {platform.platform()}, load average {load}"


def _dist_version(name: str) -> str:
    from importlib.metadata import version

    return version(name)


def _markdown(r: dict[str, Any], runs: int) -> str:
    ratio = r["ratio_envman_to_bare"]
    envman_ok = "met" if r["envman_warm"]["median"] < 1.0 else "not met"
    ratio_ok = "met" if ratio <= 1.3 else "not met"
    locked = ", ".join(f"{p} {n}" for p, n in r["locked"].items())
    pairs = r["ratio_per_pair"]
    pair_text = f"median of the run-by-run ratios {pairs['median']:.2f}x, {min(pairs['runs']):.2f}-{max(pairs['runs']):.2f}"
    cpu_text = f"{_spread(r['envman_cpu'])} / {_spread(r['bare_rattler_cpu'])}: {r['cpu_ratio']:.2f}x"
    probe = r["probe"]
    probe_ok = "met" if probe["envman_probe"]["median"] < 0.1 else "not met"
    return f"""# benchmarks/conda_lock: results

Command: `{r['command']}` (medians of {runs} runs, envman and bare rattler interleaved, min-max in
brackets; the whole process: medians of {len(r['envman_lock_process']['runs'])}).

Machine: {r['machine']}.

Workload: synthetic channel of {r['channel']['names']} package names, {r['channel']['records']} repodata records
(.tar.bz2 and .conda; noarch, linux-64, osx-arm64, win-64; {r['channel']['repodata_bytes'] / 1e6:.1f} MB of repodata.json),
repodata only (no package files: the solve reads only repodata), served over http on 127.0.0.1;
{r['roots']} roots locked for linux-64, osx-arm64 and win-64 -> {locked} packages.
See the docstring of benchmarks/conda_lock/run.py for the graph.

| what | time | goal |
|---|---:|---|
| envman: lock 60 roots for 3 platforms, warm, in-process (`ECOSYSTEM.resolve`) | {_spread(r['envman_warm'])} | under 1 s: {envman_ok} |
| py-rattler bare `solve()` of the same specs, 3 platforms concurrently, warm | {_spread(r['bare_rattler_warm'])} | |
| ratio envman / bare rattler, wall (of the medians; {pair_text}) | {ratio:.2f}x | within 1.3x: {ratio_ok} |
| CPU time of the same runs (all threads): envman / bare rattler | {cpu_text} | |
| envman re-lock with the old pins as preferences (`locked_packages`), warm | {_spread(r['envman_relock_with_preferences'])} | |
| whole `envman lock` process (no lock file, cache warm) | {_spread(r['envman_lock_process'])} | |
| first lock, cold cache (repodata fetched and cached) | {r['cold_seconds'] * 1000:.0f} ms | |

Both sides give the same solution (checked by the script) and both revalidate the cached
repodata over HTTP on each run (conditional requests, answered 304). envman's extra work over the
bare solve: converting the records to lock entries (names, sha256/md5 as hex, requires), and a
20 ms pause after the event loop that lets py-rattler's threads finish before the interpreter
may exit (envman.ecosystems.conda.resolve._run; the bare side pays it too, for the same reason).
The whole-process number adds interpreter start, imports (py-rattler about 0.2 s), the manifest, and
writing a lock of 1,363 entries and its change list (envman.lockfile, PyYAML); under cProfile the
solve is about 40% of that process, imports about 40%, writing the lock about 20%.
The machine is shared with other work (the load average above): wall times vary by up to 2x between
runs, so the CPU times (process_time: every thread of the process, py-rattler's solver threads
included) are the steadier measure of envman's own cost over the bare solve.

Probe of a {probe['packages']}-package prefix made by `envman sync conda:PREFIX` (py-rattler linked
{probe['packages']} real `.conda` packages, {probe['files']} files, {probe['record_bytes'] / 1e3:.0f} kB of conda-meta records);
medians of {len(probe['envman_probe']['runs'])} runs, envman and rattler interleaved:

| what | time | goal |
|---|---:|---|
| envman's probe (`probe_conda`, the stdlib code run in a target), in-process | {_spread(probe['envman_probe'])} | under 0.1 s: {probe_ok} |
| py-rattler reading the same records (`PrefixRecord.from_path` each), in-process | {_spread(probe['rattler_read'])} | |
| ratio envman probe / rattler read | {probe['envman_probe']['median'] / probe['rattler_read']['median']:.2f}x | |
| envman's probe with `--deep` (every file's sha256 against `paths`) | {_spread(probe['envman_probe_deep'])} | |
| whole `envman check conda:PREFIX` process (start, lock, probe, compare) | {_spread(probe['check_process'])} | |

envman's probe reads each conda-meta record (size-limited, regular files only) and keeps name,
version, build, channel, sha256, md5 and subdir; rattler's `PrefixRecord.from_path` parses the whole
record into its Rust model. Both read the same 300 files; the whole `check` adds interpreter
start, reading the lock and comparing (the lock view is cached after the first run).
"""


if __name__ == "__main__":
    main()
