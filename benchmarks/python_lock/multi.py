"""Benchmark: a multi-platform `envman lock` against the sum of bare per-platform uv runs.

Workload: superset-base.txt (136 pinned requirements, 405 lines: Apache Superset's
requirements/base.txt, see SOURCES.md), CPython 3.11.9, real PyPI, for linux-64, osx-arm64
and win-64. In the same run, interleaved and rotated round by round:

- envman, 3 platforms: `envman lock` (one process; it resolves the platforms concurrently
  and lists every platform's files in one uv pass over its cache);
- bare uv, 3 platforms: `uv pip compile requirements.in --generate-hashes --python-platform X`
  for each platform one after another, over one cache; the time is the sum of the three;
- envman, linux-64 only, and bare uv for linux-64 only (the single-platform ratio).

Cold: every tool starts each run with a new empty cache (the three bare runs share theirs,
which helps the second and third). Warm: each tool's last cold cache is reused; envman.lock
and the outputs are deleted before every run, so every run resolves from scratch.

    .venv/bin/python benchmarks/python_lock/multi.py [--cold 3] [--warm 3]

writes RESULTS-multi-platform.md and results-multi-platform.json beside this file.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORK = HERE / "_work" / "multi"
REQUIREMENTS = HERE / "superset-base.txt"
PYTHON_VERSION = "3.11.9"
PLATFORMS = {"linux-64": "x86_64-manylinux_2_28", "osx-arm64": "aarch64-apple-darwin", "win-64": "x86_64-pc-windows-msvc"}
GOALS = {"cold": 0.6, "warm": 0.5, "single": 1.1}


def requirements() -> list[str]:
    lines = [raw.split(" #", 1)[0].strip() for raw in REQUIREMENTS.read_text(encoding="utf-8").splitlines()]
    return [line for line in lines if line and not line.startswith(("#", "-"))]


def clean_env(cache: Path) -> dict[str, str]:
    """What envman gives its resolvers (no PIP_*/UV_* settings, UV_NO_CONFIG=1, UV_PYTHON_DOWNLOADS=never); the bare runs get the same."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "ENVMAN_"))}
    env["UV_NO_CONFIG"] = "1"
    env["UV_PYTHON_DOWNLOADS"] = "never"  # as envman's resolvers: no interpreter download attempts (GitHub is unreachable here)
    env.setdefault("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    env["XDG_CACHE_HOME"] = str(cache / "xdg")
    return env


def envman_argv() -> list[str]:
    script = Path(sys.executable).parent / "envman"
    return [str(script)] if script.exists() else [sys.executable, "-m", "envman"]


def uv_bin() -> str:
    from uv import find_uv_bin

    return find_uv_bin()


def run(argv: list[str], env: dict[str, str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=1800)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} … failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return seconds


PINS: dict[str, dict[str, dict[str, str]]] = {}  # tool -> platform -> name -> version of its last run


def _pins_of_requirements(path: Path) -> dict[str, str]:
    pins = [line.split(" ")[0].split(";")[0] for line in path.read_text(encoding="utf-8").splitlines()
            if "==" in line and not line.startswith((" ", "#"))]
    from packaging.utils import canonicalize_name

    return {str(canonicalize_name(pin.split("==", 1)[0])): pin.split("==", 1)[1] for pin in pins}


def _pins_of_lock(path: Path, platforms: list[str]) -> dict[str, dict[str, str]]:
    import yaml

    default = yaml.safe_load(path.read_text(encoding="utf-8"))["environments"]["default"]
    return {p: {e["name"]: e["version"] for e in default[p]["python"]} for p in platforms}


def envman_tool(platforms: list[str]) -> Callable[[Path, Path], list[float]]:
    def go(work: Path, cache: Path) -> list[float]:
        work.mkdir(parents=True, exist_ok=True)
        body = (f"version: 1\nplatforms: [{', '.join(platforms)}]\npython:\n  version: \"{PYTHON_VERSION}\"\n  packages:\n"
                + "".join(f"    - {json.dumps(p)}\n" for p in requirements()))
        (work / "envman.yaml").write_text(body, encoding="utf-8")
        (work / "envman.lock").unlink(missing_ok=True)
        env = clean_env(cache)
        env["ENVMAN_CACHE_DIR"] = str(cache / "envman")
        seconds = run([*envman_argv(), "lock", "-q"], env, work)
        PINS[f"envman {platforms}"] = _pins_of_lock(work / "envman.lock", platforms)
        return [seconds]
    return go


def bare_uv_tool(platforms: list[str]) -> Callable[[Path, Path], list[float]]:
    def go(work: Path, cache: Path) -> list[float]:
        work.mkdir(parents=True, exist_ok=True)
        (work / "requirements.in").write_text("".join(p + "\n" for p in requirements()), encoding="utf-8")
        times = []
        for name in platforms:
            out = work / f"requirements-{name}.txt"
            out.unlink(missing_ok=True)
            argv = [uv_bin(), "pip", "compile", "requirements.in", "-o", str(out), "--python-version", PYTHON_VERSION,
                    "--python-platform", PLATFORMS[name], "--generate-hashes", "--no-header", "--quiet",
                    "--cache-dir", str(cache / "uv")]
            times.append(run(argv, clean_env(cache), work))
        PINS[f"bare {platforms}"] = {name: _pins_of_requirements(work / f"requirements-{name}.txt") for name in platforms}
        return times
    return go


TOOLS: dict[str, Callable[[Path, Path], list[float]]] = {
    "envman, 3 platforms": envman_tool(list(PLATFORMS)),
    "bare uv, 3 platforms (sum)": bare_uv_tool(list(PLATFORMS)),
    "envman, linux-64": envman_tool(["linux-64"]),
    "bare uv, linux-64": bare_uv_tool(["linux-64"]),
}


def spread(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} s ({min(values):.1f}–{max(values):.1f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cold", type=int, default=3)
    parser.add_argument("--warm", type=int, default=3)
    parser.add_argument("--report-only", action="store_true", help="re-render the .md from the .json")
    args = parser.parse_args(argv)
    if args.report_only:
        data = json.loads((HERE / "results-multi-platform.json").read_text(encoding="utf-8"))
        (HERE / "RESULTS-multi-platform.md").write_text(report(data), encoding="utf-8")
        return 0
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    scratch = Path(tempfile.mkdtemp(prefix="envman-bench-multi-"))
    names = list(TOOLS)
    results: dict[str, dict[str, list[list[float]]]] = {n: {"cold": [], "warm": []} for n in names}
    loads: dict[str, list[float]] = {"start": [round(x, 2) for x in os.getloadavg()]}
    warm_cache: dict[str, Path] = {}
    identical: list[bool] = []
    started = time.perf_counter()
    try:
        for phase, rounds in (("cold", args.cold), ("warm", args.warm)):
            for index in range(rounds):
                order = names[index % len(names):] + names[:index % len(names)]
                for name in order:
                    if phase == "cold":
                        cache = Path(tempfile.mkdtemp(prefix="cache-", dir=scratch))
                        old = warm_cache.pop(name, None)
                        if old:
                            shutil.rmtree(old, ignore_errors=True)
                        warm_cache[name] = cache
                    times = TOOLS[name](WORK / name.replace(" ", "_").replace(",", ""), warm_cache[name])
                    results[name][phase].append(times)
                    print(f"{phase} {index + 1}: {name:28s} {sum(times):6.1f} s {[round(t, 1) for t in times]}", file=sys.stderr)
                for group in (list(PLATFORMS), ["linux-64"]):  # envman's pins against bare uv's, same round
                    same = PINS[f"envman {group}"] == PINS[f"bare {group}"]
                    identical.append(same)
                    if not same:
                        print(f"{phase} {index + 1}: pins differ for {group}", file=sys.stderr)
            loads[f"after {phase}"] = [round(x, 2) for x in os.getloadavg()]
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    data = {
        "command": "python benchmarks/python_lock/multi.py" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip(),
        "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "machine": {"nproc": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
                    "uv": subprocess.run([uv_bin(), "--version"], capture_output=True, text=True).stdout.strip(),
                    "envman_commit": os.environ.get("ENVMAN_BENCH_COMMIT")  # a `git archive` export run with PYTHONPATH
                    or subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                                      capture_output=True, text=True).stdout.strip(),
                    "envman": metadata.version("envman")},
        "load_average": loads,
        "requirements": len(requirements()),
        "elapsed_min": round((time.perf_counter() - started) / 60, 1),
        "runs": results,
        "pins_identical": identical,
    }
    (HERE / "results-multi-platform.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (HERE / "RESULTS-multi-platform.md").write_text(report(data), encoding="utf-8")
    print((HERE / "RESULTS-multi-platform.md").read_text(encoding="utf-8"))
    return 0


def report(data: dict) -> str:
    runs = data["runs"]

    def totals(name: str, phase: str) -> list[float]:
        return [sum(times) for times in runs[name][phase]]

    def ratio(a: str, b: str, phase: str) -> tuple[float, float, float]:
        pairs = [x / y for x, y in zip(totals(a, phase), totals(b, phase), strict=True)]  # same round, side by side
        return statistics.median(totals(a, phase)) / statistics.median(totals(b, phase)), min(pairs), max(pairs)

    m = data["machine"]
    lines = [
        "# benchmarks/python_lock: multi-platform lock",
        "",
        f"Run: {data['when']}. Machine: {m['nproc']} cores, {m['platform']}, Python {m['python']}, {m['uv']}, "
        f"envman {m['envman']} at commit {m['envman_commit']}. Whole run: {data['elapsed_min']} min.",
        "",
        f"Command: `{data['command']}`",
        "",
        f"Workload: `superset-base.txt`, {data['requirements']} pinned requirements (Apache Superset's `requirements/base.txt`,",
        "see SOURCES.md), CPython 3.11.9, real PyPI through this machine's TLS-inspecting proxy,",
        f"platforms {', '.join(PLATFORMS)} (uv targets {', '.join(PLATFORMS.values())}).",
        "",
        "| tool | cold median (min–max) | warm median (min–max) | runs cold/warm |",
        "|---|---|---|---|",
    ]
    for name in runs:
        lines.append(f"| {name} | {spread(totals(name, 'cold'))} | {spread(totals(name, 'warm'))} | "
                     f"{len(runs[name]['cold'])}/{len(runs[name]['warm'])} |")
    lines += ["", "| ratio | median of totals | per-round range | goal | met |", "|---|---|---|---|---|"]
    for label, a, b, phase, goal in (
        ("envman 3 platforms / sum of bare uv, cold", "envman, 3 platforms", "bare uv, 3 platforms (sum)", "cold", GOALS["cold"]),
        ("envman 3 platforms / sum of bare uv, warm", "envman, 3 platforms", "bare uv, 3 platforms (sum)", "warm", GOALS["warm"]),
        ("envman linux-64 / bare uv linux-64, cold", "envman, linux-64", "bare uv, linux-64", "cold", GOALS["single"]),
        ("envman linux-64 / bare uv linux-64, warm", "envman, linux-64", "bare uv, linux-64", "warm", GOALS["single"]),
    ):
        value, low, high = ratio(a, b, phase)
        lines.append(f"| {label} | **{value:.2f}x** | {low:.2f}–{high:.2f} | ≤ {goal}x | {'yes' if value <= goal else '**no**'} |")
    per_platform = [[round(t, 1) for t in times] for times in runs["bare uv, 3 platforms (sum)"]["cold"]]
    lines += [
        "",
        f"The bare runs one by one (seconds, {', '.join(PLATFORMS)}), cold: {per_platform}; warm: "
        f"{[[round(t, 1) for t in times] for times in runs['bare uv, 3 platforms (sum)']['warm']]}.",
        "",
        "Exact bare command per platform X (C = that tool's cache, fresh for a cold run, shared by its three runs):",
        "`uv pip compile requirements.in -o requirements-X.txt --python-version 3.11.9 --python-platform <uv target of X> "
        "--generate-hashes --no-header --quiet --cache-dir C`.",
        "envman: `envman lock -q` with `ENVMAN_CACHE_DIR=C` (uv's cache is C/envman/uv), envman.lock deleted before each run.",
        "Every tool gets the environment envman gives its resolvers (no `PIP_*`/`UV_*` variables, `UV_NO_CONFIG=1`,",
        "`UV_PYTHON_DOWNLOADS=never`, a fresh `XDG_CACHE_HOME`). Every run is a whole process, wall clock; ratios of medians, and the range of the",
        "same-round ratios.",
        "",
        f"Pins: envman's pins per platform against bare uv's, same round (3 platforms and linux-64): "
        f"{sum(data.get('pins_identical', []))} of {len(data.get('pins_identical', []))} comparisons identical.",
        "",
        "What envman does differently (envman/ecosystems/python/sdist_reuse.py, docs/python-lock.md): five of the",
        "pinned versions are published as an sdist only (python-geohash, pgsanity, func-timeout, shortid,",
        "wtforms-json), so uv builds their metadata (a setuptools build environment each) — bare uv in every run,",
        "for every platform: the proxy strips HTTP caching headers, so uv counts its cached sdist as stale, downloads",
        "it again (a new cache revision) and builds again. envman builds each once: cold, the first platform resolves",
        "alone, envman reads the metadata uv built back from uv's cache and gives it to the other two platforms' uv",
        "runs as uv's static `[[dependency-metadata]]` (a uv.toml given with `--config-file`), which resolve at once",
        "without building; it keeps the metadata in its own cache keyed by (name, version, sha256), so a warm lock",
        "gives it to all three runs at once and builds nothing. Then one `uv pip compile --universal --format",
        "pylock.toml --no-deps --offline` lists each pinned version's files from the pages just cached (~0.1 s);",
        "each platform keeps the hashes of the files its machines may install.",
        "",
        "## Where the time goes (measured by hand beside the benchmark, 2026-12-07, same workload, load ~2-4)",
        "",
        "- bare uv, one warm run for linux-64: 3.4-3.6 s wall, 4.0 s user CPU; the same run given the five projects'",
        "  metadata (`--config-file`): 0.8-0.9 s wall, 0.3 s user CPU, byte-identical output. Cold, each bare run",
        "  (shared cache) 3.8-4.0 s; given the metadata, with an empty cache of its own, 1.0-1.3 s.",
        "- envman cold, 3 platforms: the first platform alone 3.0-3.9 s (it builds), the other two at once",
        "  1.2-1.4 s, the listing pass 0.05-0.2 s; 4.6-5.7 s in all. Warm: the three at once 1.8-2.3 s, the",
        "  listing pass 0.1 s; 2.6-3.3 s in all (envman's own start and lock writing ~0.4 s).",
        "- This machine's network now and then holds a request for ~5 s (seen in single uv runs of both tools, and",
        "  in envman's own page requests): a round with such a stall is slower by that much, whichever tool it hits.",
        "- Not done: reading the later platforms from the cache the first one filled (uv `--offline`): uv lacks each",
        "  platform's own wheels' metadata there, and where the cache lacks something uv silently resolves around",
        "  it (`six` offline gave 1.16.0 where 1.17.0 is current), so envman never resolves offline unless asked to.",
        "",
        "Load average (1/5/15 min): " + "; ".join(f"{k}: {'/'.join(map(str, v))}" for k, v in data["load_average"].items())
        + f" on {m['nproc']} cores (other engineers' work shared the machine).",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
