"""Benchmark: `envman lock` (uv, pip-tools) against bare `uv pip compile` and `pip-compile`.

Workload 1 (requirements-40.txt): a 40-package data-science list, resolved cold (fresh
caches every run) and warm (caches reused, lock/output deleted between runs) by four
tools in the same run, interleaved round by round so network noise hits all of them.
Workload 2 (requirements-200.txt, 300+ pins): lock once, then time a no-op `envman lock`
and `envman lock --check` as whole processes (interpreter start and imports included).

    python benchmarks/python_lock/run.py [--quick]

writes RESULTS.md and results.json beside this file. Work dirs go to _work/ (gitignored),
caches to fresh temporary folders that are removed afterwards.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import pstats
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORK = HERE / "_work"
PYTHON_VERSION = "3.11.7"          # python.version of both manifests
UV_PLATFORM = "x86_64-manylinux_2_28"  # what envman passes for linux-64
INDEX = "https://pypi.org/simple"
GOAL_RATIO = 1.2
GOAL_NOOP_S = 0.3

# --------------------------------------------------------------------------- inputs


def read_requirements(path: Path) -> list[str]:
    """Requirement lines, `-r other.txt` expanded, comments dropped, order kept."""
    lines: list[str] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("-r "):
            lines += read_requirements(path.parent / line[3:].strip())
        else:
            lines.append(line)
    return list(dict.fromkeys(lines))


def write_manifest(folder: Path, name: str, packages: list[str], resolver: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    body = [
        "version: 1",
        f"name: {name}",
        "platforms: [linux-64]",
        "python:",
        f'  version: "{PYTHON_VERSION}"',
        f"  resolver: {resolver}",
        "  packages:",
        *[f"    - {json.dumps(p)}" for p in packages],
    ]
    path = folder / "envman.yaml"
    path.write_text("\n".join(body) + "\n", encoding="utf-8")
    return path


def envman_argv() -> list[str]:
    """The installed console script next to this interpreter (not a pyenv shim)."""
    script = Path(sys.executable).parent / "envman"
    return [str(script)] if script.exists() else [sys.executable, "-m", "envman"]


def resolver_env(cache_home: Path | None) -> dict[str, str]:
    """The environment envman gives its resolvers (compilers._clean_env): no PIP_*/UV_*
    settings but PIP_CERT, UV_NO_CONFIG=1. The bare tools get the same, for a fair race."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_", "ENVMAN_"))}
    if "PIP_CERT" in os.environ:
        env["PIP_CERT"] = os.environ["PIP_CERT"]
    env["UV_NO_CONFIG"] = "1"
    env["UV_PYTHON_DOWNLOADS"] = "never"  # as envman's resolvers (compilers._clean_env)
    env.setdefault("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt")
    if cache_home is not None:
        env["XDG_CACHE_HOME"] = str(cache_home / "xdg")
    return env


# --------------------------------------------------------------------------- tools


@dataclass
class Tool:
    name: str
    family: str                      # "uv" or "pip-tools": which run counts apply
    # (workdir, cache dir) -> (argv, env, output file that must be absent before a run)
    command: Callable[[Path, Path], tuple[list[str], dict[str, str], Path]]
    count: Callable[[Path], int]
    display: str = ""


def _count_lock(path: Path) -> int:
    return len(re.findall(r"^  *- name: ", path.read_text(encoding="utf-8"), flags=re.M)) if path.exists() else 0


def _count_requirements(path: Path) -> int:
    return len(re.findall(r"^[A-Za-z0-9][^ =]*==", path.read_text(encoding="utf-8"), flags=re.M)) if path.exists() else 0


def make_tools(packages: list[str]) -> list[Tool]:
    def envman_tool(resolver: str) -> Callable[[Path, Path], tuple[list[str], dict[str, str], Path]]:
        def command(work: Path, cache: Path) -> tuple[list[str], dict[str, str], Path]:
            manifest = write_manifest(work, f"bench-{resolver}", packages, resolver)
            env = resolver_env(cache)
            env["ENVMAN_CACHE_DIR"] = str(cache / "envman")  # envman passes <this>/uv as --cache-dir
            return [*envman_argv(), "lock", "-f", str(manifest)], env, work / "envman.lock"
        return command

    def requirements_in(work: Path) -> Path:
        work.mkdir(parents=True, exist_ok=True)
        path = work / "requirements.in"
        path.write_text("".join(p + "\n" for p in packages), encoding="utf-8")
        return path

    def uv_command(work: Path, cache: Path) -> tuple[list[str], dict[str, str], Path]:
        out = work / "requirements.txt"
        argv = [
            sys.executable, "-m", "uv", "pip", "compile", str(requirements_in(work)), "-o", str(out),
            "--python-version", PYTHON_VERSION, "--no-header", "--quiet",
            "--python-platform", UV_PLATFORM, "--cache-dir", str(cache / "uv"),
            "--generate-hashes", "--emit-index-annotation",
        ]
        return argv, resolver_env(cache), out

    def uv_two_pass_command(work: Path, cache: Path) -> tuple[list[str], dict[str, str], Path]:
        """What envman runs: the resolution, then a universal pylock.toml over the pins from the cache (the files' names)."""
        argv, env, out = uv_command(work, cache)
        uv = [sys.executable, "-m", "uv", "pip", "compile"]
        second = [*uv, str(work / "pins.txt"), "-o", str(work / "pylock.toml"), "--python-version", PYTHON_VERSION,
                  "--no-header", "--quiet", "--universal", "--cache-dir", str(cache / "uv"),
                  "--format", "pylock.toml", "--no-deps", "--offline"]
        script = (
            f"{shlex.join(argv)} && grep -oE '^[A-Za-z0-9][^ ;]*==[^ ;]*' {shlex.quote(str(out))} > {shlex.quote(str(work / 'pins.txt'))}"
            f" && {shlex.join(second)}"
        )
        return ["sh", "-c", script], env, out

    def piptools_command(work: Path, cache: Path) -> tuple[list[str], dict[str, str], Path]:
        out = work / "requirements.txt"
        argv = [
            sys.executable, "-m", "piptools", "compile", str(requirements_in(work)), "--output-file", str(out),
            "--generate-hashes", "--no-header", "--quiet", "--no-emit-index-url", "--strip-extras",
            "--resolver", "backtracking", "--no-config", "--cache-dir", str(cache / "pip"),
            "--index-url", INDEX,
        ]
        return argv, resolver_env(cache), out

    return [
        Tool("envman lock (uv)", "uv", envman_tool("uv"), _count_lock,
             "envman lock -f envman.yaml  (python.resolver: uv)"),
        Tool("uv pip compile", "uv", uv_command, _count_requirements,
             f"uv pip compile requirements.in -o requirements.txt --python-version {PYTHON_VERSION} "
             f"--python-platform {UV_PLATFORM} --generate-hashes --emit-index-annotation --no-header --quiet --cache-dir C"),
        Tool("uv, both passes (bare)", "uv", uv_two_pass_command, _count_requirements,
             "the uv pip compile command above, then: uv pip compile pins.txt -o pylock.toml --universal --format pylock.toml "
             "--no-deps --offline with the same --python-version/--cache-dir (pins.txt = the name==version lines of the first output)"),
        Tool("envman lock (pip-tools)", "pip-tools", envman_tool("pip-tools"), _count_lock,
             "envman lock -f envman.yaml  (python.resolver: pip-tools)"),
        Tool("pip-compile", "pip-tools", piptools_command, _count_requirements,
             "pip-compile requirements.in --output-file requirements.txt --generate-hashes --no-header --quiet "
             f"--no-emit-index-url --strip-extras --resolver backtracking --no-config --index-url {INDEX} --cache-dir C"),
    ]


# --------------------------------------------------------------------------- timing


@dataclass
class Run:
    seconds: float
    ok: bool
    pins: int = 0
    error: str = ""


def timed(argv: list[str], env: dict[str, str], cwd: Path | None = None, timeout: float = 1800) -> tuple[float, int, str]:
    start = time.perf_counter()
    try:
        done = subprocess.run(argv, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout)
        code, err = done.returncode, (done.stderr or "") + (done.stdout or "")
    except subprocess.TimeoutExpired:
        code, err = -1, f"timed out after {timeout}s"
    return time.perf_counter() - start, code, err


def run_tool(tool: Tool, work: Path, cache: Path) -> Run:
    argv, env, output = tool.command(work, cache)
    output.unlink(missing_ok=True)
    seconds, code, err = timed(argv, env, cwd=work)
    if code != 0:
        tail = "\n".join(err.strip().splitlines()[-8:])
        print(f"    ! {tool.name} failed ({code}): {tail}", file=sys.stderr)
        return Run(seconds, False, 0, tail)
    return Run(seconds, True, tool.count(output))


@dataclass
class ToolResult:
    tool: Tool
    cold: list[Run] = field(default_factory=list)
    warm: list[Run] = field(default_factory=list)

    def median(self, which: str) -> float | None:
        runs = [r.seconds for r in getattr(self, which) if r.ok]
        return statistics.median(runs) if runs else None


def rotated(results: list[ToolResult], family: str, index: int) -> list[ToolResult]:
    """The family's tools, rotated by the round number: each tool takes each position in
    turn, so order effects (a proxy or CDN warmed by the previous tool) hit all alike."""
    members = [r for r in results if r.tool.family == family]
    if not members:
        return []
    shift = index % len(members)
    return members[shift:] + members[:shift]


def bench_lock(tools: list[Tool], counts: dict[str, tuple[int, int]], scratch: Path) -> list[ToolResult]:
    """Cold rounds (fresh caches each), then warm rounds reusing each tool's last cold cache."""
    results = [ToolResult(t) for t in tools]
    families = list(dict.fromkeys(t.family for t in tools))
    warm_cache: dict[str, Path] = {}
    rounds = max(counts[t.family][0] for t in tools)
    for index in range(rounds):
        for family in families:
            if index >= counts[family][0]:
                continue
            for result in rotated(results, family, index):
                tool = result.tool
                cache = Path(tempfile.mkdtemp(prefix="cache-", dir=scratch))
                run = run_tool(tool, WORK / slug(tool.name), cache)
                result.cold.append(run)
                print(f"  cold {index + 1}: {tool.name:26s} {run.seconds:7.2f} s  {run.pins} pins", file=sys.stderr)
                old = warm_cache.pop(tool.name, None)
                if old is not None:
                    shutil.rmtree(old, ignore_errors=True)
                warm_cache[tool.name] = cache
    rounds = max(counts[t.family][1] for t in tools)
    for index in range(rounds):
        for family in families:
            if index >= counts[family][1]:
                continue
            for result in rotated(results, family, index):
                tool = result.tool
                if tool.name not in warm_cache:
                    continue
                run = run_tool(tool, WORK / slug(tool.name), warm_cache[tool.name])
                result.warm.append(run)
                print(f"  warm {index + 1}: {tool.name:26s} {run.seconds:7.2f} s  {run.pins} pins", file=sys.stderr)
    profiled = next((r.tool for r in results if r.tool.name == "envman lock (uv)"), None)
    if profiled is not None and profiled.name in warm_cache:
        PROFILE["lock"] = profile_lock(profiled, warm_cache[profiled.name])
    for cache in warm_cache.values():
        shutil.rmtree(cache, ignore_errors=True)
    return results


PROFILE: dict = {}
LOADS: dict = {}


def note_load(phase: str) -> None:
    LOADS[phase] = [round(x, 2) for x in os.getloadavg()]


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


# --------------------------------------------------------------------------- no-op / --check


@dataclass
class NoopCase:
    label: str
    argv: list[str]
    setup: str            # "empty-cache" | "full-path"
    times: list[float] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)


def bench_noop(manifest: Path, cache: Path, runs: int, scratch: Path) -> tuple[dict, list[NoopCase]]:
    lock = manifest.parent / "envman.lock"
    env = resolver_env(cache)
    env["ENVMAN_CACHE_DIR"] = str(cache / "envman")
    info: dict = {}
    if not lock.exists():
        seconds, code, err = timed([*envman_argv(), "lock", "-f", str(manifest)], env)
        if code != 0:
            raise SystemExit(f"locking the 200+ manifest failed:\n{err}")
        info["initial_lock_seconds"] = round(seconds, 2)
    info["pins"] = _count_lock(lock)
    info["lock_bytes"] = lock.stat().st_size
    before = lock.read_bytes()
    base = envman_argv()
    cases = []
    for setup in ("empty-cache", "full-path"):
        cases.append(NoopCase(f"no-op `envman lock` [{setup}]", [*base, "lock", "-f", str(manifest)], setup))
        cases.append(NoopCase(f"`envman lock --check` [{setup}]", [*base, "lock", "--check", "-f", str(manifest)], setup))
    baseline = [timed([sys.executable, "-c", "pass"], env)[0] for _ in range(runs)]
    info["python_startup_median_s"] = round(statistics.median(baseline), 4)
    for _ in range(runs):
        for case in cases:
            case_env = dict(env)
            fresh = None
            if case.setup == "empty-cache":
                fresh = Path(tempfile.mkdtemp(prefix="empty-", dir=scratch))
                case_env["ENVMAN_CACHE_DIR"] = str(fresh / "envman")
                case_env["XDG_CACHE_HOME"] = str(fresh / "xdg")
            if case.setup == "full-path":
                case_env["ENVMAN_NO_FAST_PATH"] = "1"
            seconds, code, _ = timed(case.argv, case_env)
            case.times.append(seconds)
            case.codes.append(code)
            if fresh is not None:
                shutil.rmtree(fresh, ignore_errors=True)
    info["lock_unchanged"] = lock.read_bytes() == before
    return info, cases


def profile_check(manifest: Path, scratch: Path) -> dict:
    """Where the full path of `lock --check` (a stale or hand-edited lock) spends its time."""
    fresh = Path(tempfile.mkdtemp(prefix="prof-", dir=scratch))
    env = resolver_env(fresh)
    env["ENVMAN_CACHE_DIR"] = str(fresh / "envman")
    env["ENVMAN_NO_FAST_PATH"] = "1"
    argv_tail = ["-m", "envman", "lock", "--check", "-f", str(manifest)]
    _, _, err = timed([sys.executable, "-X", "importtime", *argv_tail], env)
    imports: dict[str, int] = {}
    for line in err.splitlines():
        match = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if match and len(match.group(2)) <= 3:  # top-level and first-level imports only
            imports[match.group(3)] = max(imports.get(match.group(3), 0), int(match.group(1)))
    wanted = ("typer", "envman.cli.main", "envman.lock", "envman.manifest", "pydantic", "ruamel.yaml", "yaml", "rich", "click", "site")
    import_ms = {name: round(imports[name] / 1000, 1) for name in wanted if name in imports}
    out = fresh / "prof.out"
    timed([sys.executable, "-m", "cProfile", "-o", str(out), *argv_tail], env)
    calls: dict[str, float] = {}
    if out.exists():
        stats = pstats.Stats(str(out))
        total = 0.0
        for (filename, _line, func), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
            key = None
            if func in ("load_manifest", "read_lock", "manifest_hashes") and "envman" in filename:
                key = f"envman {func}()"
            elif func == "<module>" and filename.endswith(("typer/__init__.py", "envman/lock.py", "envman/manifest.py", "envman/cli/main.py")):
                key = "import " + filename.split("site-packages/")[-1].split("/main/")[-1]
            elif func == "run" and filename.endswith("envman/cli/entry.py"):
                total = ct
            if key:
                calls[key] = round(max(calls.get(key, 0.0), ct) * 1000, 1)
        calls["total envman run() (under cProfile)"] = round(total * 1000, 1)
    shutil.rmtree(fresh, ignore_errors=True)
    return {"import_cumulative_ms": import_ms, "cprofile_cumulative_ms": calls}


def profile_lock(tool: Tool, cache: Path) -> dict:
    """One warm `envman lock` under cProfile: time inside the uv subprocesses vs envman's own."""
    work = WORK / "profile-lock"
    argv, env, output = tool.command(work, cache)
    output.unlink(missing_ok=True)
    out = work / "lock.prof"
    seconds, code, err = timed([sys.executable, "-m", "cProfile", "-o", str(out), "-m", "envman", *argv[-3:]], env, cwd=work)
    if code != 0 or not out.exists():
        return {"error": err[-500:]}
    stats = pstats.Stats(str(out))
    total = subprocess_s = 0.0
    calls = 0
    for (filename, _line, func), (_cc, ncalls, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if func == "run" and filename.endswith("envman/cli/entry.py"):
            total = ct
        elif func == "run" and filename.endswith("/subprocess.py"):
            subprocess_s, calls = ct, ncalls
    return {
        "wall_s": round(seconds, 2),
        "envman_run_s": round(total, 2),
        "uv_subprocess_s": round(subprocess_s, 2),
        "uv_subprocess_calls": calls,
        "envman_own_s": round(total - subprocess_s, 3),
    }


def pypi_cache_headers() -> dict:
    """Which HTTP caching headers reach this machine from PyPI (a proxy may strip them)."""
    import urllib.request

    request = urllib.request.Request(f"{INDEX}/numpy/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            headers = {k.lower(): v for k, v in response.headers.items()}
    except OSError as exc:
        return {"error": str(exc)}
    keys = ("cache-control", "etag", "last-modified", "age", "expires", "x-cache", "via")
    return {k: headers.get(k) for k in keys}


# --------------------------------------------------------------------------- report


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    def version(argv: list[str]) -> str:
        try:
            return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"
    def dist(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "?"
    return {
        "date_utc": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "os": platform.platform(),
        "python": platform.python_version(),
        "uv": version([sys.executable, "-m", "uv", "--version"]),
        "pip-tools": dist("pip-tools"),
        "pip": dist("pip"),
        "envman": dist("envman"),
        "envman_commit": version(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"]),
    }


def fmt(seconds: float | None) -> str:
    return "n/a" if seconds is None else f"{seconds:.2f} s"


def ratio(a: float | None, b: float | None) -> str:
    return "n/a" if a is None or b is None or b == 0 else f"{a / b:.2f}×"


def lock_profile_lines(prof: dict | None) -> list[str]:
    if not prof or "error" in prof:
        return []
    return [
        f"One extra warm `envman lock` (uv) under cProfile: {prof['envman_run_s']} s in envman's run(), of which "
        f"{prof['uv_subprocess_s']} s inside its {prof['uv_subprocess_calls']} uv subprocesses; **envman's own time: "
        f"{prof['envman_own_s'] * 1000:.0f} ms** (interpreter start excluded). That "
        "means any larger gap between envman and bare uv in the table comes from the network, not from envman.",
        "",
    ]


def _med(entry: dict | None, which: str) -> float | None:
    return None if entry is None else entry.get(f"{which}_median_s")


def _ok(entry: dict, which: str) -> list[dict]:
    return [run for run in entry[which] if run["ok"]]


def analysis_lines(data: dict) -> list[str]:
    """What the numbers mean: run counts, and where the no-op time goes when over the goal."""
    lines = ["", "## Analysis", ""]
    counts = {e["tool"]: (len(e["cold"]), len(e["warm"])) for e in data["lock"]}
    piptools = {"envman lock (pip-tools)", "pip-compile"}
    pip_runs = [runs for tool, runs in counts.items() if tool in piptools]
    uv_runs = [runs for tool, runs in counts.items() if tool not in piptools] or [(0, 0)]
    if pip_runs:
        pip_times = [r["seconds"] for e in data["lock"] if e["tool"] in piptools for r in e["cold"] + e["warm"]]
        lines.append(
            f"- Run counts: uv-based tools {max(uv_runs)[0]} cold / {max(c[1] for c in uv_runs)} warm; "
            f"pip-tools-based tools {pip_runs[0][0]} cold / {pip_runs[0][1]} warm, because one pip-compile of this list takes "
            f"{min(pip_times) / 60:.1f}–{max(pip_times) / 60:.1f} min here (pip fetches index pages, metadata and hashes one "
            "request at a time through the proxy, and caches nothing, see Conditions). The pip-tools runs are why the whole "
            f"benchmark takes about {round(data.get('elapsed_s', 0) / 60)} min rather than the ~15 min budget; `--piptools-cold/--piptools-warm` or "
            "`--no-piptools` shorten it."
        )
    lines.append(
        "- Cold and warm medians are close for every tool: the index pages are re-downloaded on every run (no caching "
        "headers reach this machine), so both are network-bound; run-to-run spread of a single tool is often larger than "
        "the gap between tools. Interleaving and rotating the order keeps that noise from favouring any tool."
    )
    cases = {(c["label"].split(" [")[0], c["state"]): statistics.median(c["times_s"]) for c in data["noop_cases"]}
    fast = max(v for (label, state), v in cases.items() if state == "empty-cache")
    full = max(v for (label, state), v in cases.items() if state == "full-path")
    lines.append(
        f"- A fresh lock is answered by envman/cli/entry.py from the lock's self-hashed header and the manifest's "
        f"libyaml-parsed data, without importing the CLI stack and without any cache: {fast * 1000:.0f} ms "
        f"(~{data['noop']['python_startup_median_s'] * 1000:.0f} ms of it interpreter start). The full path, taken only "
        f"when the lock is stale or was edited by hand (it validates both files before answering), takes {full * 1000:.0f} ms."
    )
    return lines


def report(data: dict) -> str:
    """RESULTS.md from the results.json data alone (so `--report-only` can re-render it)."""
    m = data["machine"]
    command = data["command"]
    by = {e["tool"]: e for e in data["lock"]}
    cases = data["noop_cases"]
    lines = [
        "# benchmarks/python_lock",
        "",
        f"Run: {m['date_utc']}{' (quick mode)' if data['quick'] else ''}. Machine: {m['nproc']} cores ({m['cpu']}), "
        f"{m['os']}, Python {m['python']}, {m['uv']}, pip-tools {m['pip-tools']} (pip {m['pip']}), "
        f"envman {m['envman']} at commit {m['envman_commit']}.",
        "",
        f"Command: `{command}`",
        "",
        f"## Lock of requirements-40.txt ({data['packages_40']} declared packages, real PyPI, Python {PYTHON_VERSION}, linux-64)",
        "",
        "| tool | cold median | warm median | runs (cold/warm) | pins | ratio cold | ratio warm |",
        "|---|---|---|---|---|---|---|",
    ]
    pairs = {"envman lock (uv)": "uv pip compile", "envman lock (pip-tools)": "pip-compile"}
    for e in data["lock"]:
        peer = by.get(pairs.get(e["tool"], ""))
        pins = sorted({run["pins"] for run in _ok(e, "cold") + _ok(e, "warm")})
        failed = sum(not run["ok"] for run in e["cold"] + e["warm"])
        rc = ratio(_med(e, "cold"), _med(peer, "cold")) if peer else "—"
        rw = ratio(_med(e, "warm"), _med(peer, "warm")) if peer else "—"
        lines.append(
            f"| {e['tool']} | {fmt(_med(e, 'cold'))} | {fmt(_med(e, 'warm'))} | "
            f"{len(_ok(e, 'cold'))}/{len(_ok(e, 'warm'))}{f' ({failed} failed)' if failed else ''} | "
            f"{', '.join(map(str, pins)) or '—'} | {rc} | {rw} |"
        )
    uv_env, uv_bare = by.get("envman lock (uv)"), by.get("uv pip compile")
    if _med(uv_env, "cold") and _med(uv_bare, "cold"):
        value = _med(uv_env, "cold") / _med(uv_bare, "cold")
        lines += ["", f"Goal, envman cold lock within {GOAL_RATIO}× of bare uv: **{value:.2f}× — "
                      f"{'met' if value <= GOAL_RATIO else 'not met'}**."]
        two = by.get("uv, both passes (bare)")
        if _med(two, "cold") and _med(two, "warm"):
            lines += ["", f"envman (uv) / the same two uv passes run bare: cold {ratio(_med(uv_env, 'cold'), _med(two, 'cold'))}, "
                          f"warm {ratio(_med(uv_env, 'warm'), _med(two, 'warm'))} (envman's own cost: interpreter start, "
                          "imports, manifest parsing, lock writing)."]
    lines += [
        "",
        *lock_profile_lines(data.get("lock_profile")),
        "Ratios are envman / its bare resolver (envman (uv) / `uv pip compile`, envman (pip-tools) / `pip-compile`).",
        "envman (uv) runs `uv pip compile` twice: the resolution, then `--universal --format pylock.toml --no-deps --offline`",
        "over the pins (each file's name, to keep the hashes of the platform's files); both passes are in its time, plus interpreter",
        "start, manifest parsing and writing the lock. Every run is a whole process, wall clock.",
        "",
        "Exact bare commands (C = that run's cache dir, fresh for cold runs):",
        "",
        *[f"- {e['tool']}: `{e['command'].replace('`', '')}`" for e in data["lock"]],
        "",
        "Environment of every run (bare tools included): what envman gives its resolvers — no `PIP_*`/`UV_*`",
        "variables except `PIP_CERT`, `UV_NO_CONFIG=1`; cold runs also get a fresh `XDG_CACHE_HOME`.",
        "Cold: new empty cache dirs per run (`ENVMAN_CACHE_DIR` for envman, `--cache-dir` for the bare tools).",
        "Warm: the last cold run's caches reused, the output lock / requirements file deleted before each run.",
        "Rounds are interleaved (each tool once per round) and the order rotates every round, so network noise",
        "and order effects (a proxy or CDN warmed by the tool before) spread over all tools alike.",
        "",
        "## No-op re-lock and `lock --check` on a lock of 200+ packages",
        "",
        f"requirements-200.txt: {data['packages_200']} declared packages, lock of **{data['noop']['pins']} packages** "
        f"({data['noop']['lock_bytes']} bytes). Whole processes (`{' '.join(cases[0]['argv'][:-3])} …`), wall clock, "
        f"{data['noop_runs']} runs each; bare `python -c pass` start: {data['noop']['python_startup_median_s'] * 1000:.0f} ms.",
        "",
        "| command | state | median | min | max | goal < 0.3 s |",
        "|---|---|---|---|---|---|",
    ]
    states = {
        "empty-cache": "fresh checkout, empty cache (the fast path)",
        "full-path": "`ENVMAN_NO_FAST_PATH=1` (full CLI path)",
    }
    for case in cases:
        times = case["times_s"]
        med = statistics.median(times)
        bad = [c for c in case["exit_codes"] if c != 0]
        lines.append(
            f"| {case['label'].split(' [')[0]} | {states[case['state']]} | {med * 1000:.0f} ms | {min(times) * 1000:.0f} ms | "
            f"{max(times) * 1000:.0f} ms | {'yes' if med < GOAL_NOOP_S else '**no**'}{f' (exit codes {bad})' if bad else ''} |"
        )
    lines += ["", f"The lock file was {'unchanged' if data['noop']['lock_unchanged'] else '**changed**'} by the no-op runs."]
    prof = data.get("profile")
    if prof:
        lines += [
            "",
            "### Where the full path of `lock --check` spends its time",
            "",
            "`python -X importtime` (cumulative import time, ms): "
            + ", ".join(f"{k} {v}" for k, v in prof["import_cumulative_ms"].items()),
            "",
            "cProfile (cumulative, ms; cProfile inflates everything): "
            + ", ".join(f"{k} {v}" for k, v in prof["cprofile_cumulative_ms"].items()),
        ]
    lines += [
        "",
        "## Conditions",
        "",
        "- Load average (1/5/15 min) during the run: "
        + "; ".join(f"{k}: {'/'.join(map(str, v))}" for k, v in data["load_average"].items())
        + f" on {m['nproc']} cores (other work shared the machine: timings carry that noise).",
        "- HTTP caching headers on PyPI's simple page for numpy as seen from here: "
        + (", ".join(f"{k}: {v}" for k, v in data["pypi_cache_headers"].items() if v) or "**none**")
        + ". Without Cache-Control/ETag/Last-Modified (the TLS-inspecting proxy strips them) no resolver can"
        " reuse a cached index page: uv revalidates and re-downloads every simple page on a warm run, pip"
        " caches nothing, so warm runs only save uv's cached wheel metadata and are network-bound like cold ones.",
    ]
    lines += analysis_lines(data)
    if data.get("notes"):
        lines += ["", "## Notes", "", *[f"- {n}" for n in data["notes"]]]
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- main


def rerun_noop(command: str, runs: int) -> int:
    """Refresh the no-op rows (after a change to envman's fast path) without the 30-minute lock part."""
    data = json.loads((HERE / "results.json").read_text(encoding="utf-8"))
    packages_200 = read_requirements(HERE / "requirements-200.txt")
    scratch = Path(tempfile.mkdtemp(prefix="envman-bench-python-lock-"))
    try:
        manifest_200 = write_manifest(WORK / "noop-200", "bench-200", packages_200, "uv")
        (manifest_200.parent / "envman.lock").unlink(missing_ok=True)  # lock afresh with this envman
        noop_cache = Path(tempfile.mkdtemp(prefix="noop-", dir=scratch))
        note_load("before no-op benchmark")
        noop_info, cases = bench_noop(manifest_200, noop_cache, runs, scratch)
        note_load("after no-op benchmark")
        profile = profile_check(manifest_200, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    data["noop"] = noop_info
    data["noop_runs"] = runs
    data["noop_cases"] = [{"label": c.label, "state": c.setup, "argv": c.argv, "times_s": c.times, "exit_codes": c.codes,
                           "median_s": statistics.median(c.times)} for c in cases]
    data["profile"] = profile
    data.setdefault("notes", []).append(f"No-op rows refreshed on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} with `{command}` (load: {LOADS}).")
    (HERE / "results.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (HERE / "RESULTS.md").write_text(report(data), encoding="utf-8")
    return 0



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="1 cold + 2 warm uv runs, 1 + 1 pip-tools runs, 5 no-op runs")
    parser.add_argument("--cold", type=int, default=3, help="cold runs of the uv-based tools")
    parser.add_argument("--warm", type=int, default=6, help="warm runs of the uv-based tools")
    parser.add_argument("--piptools-cold", type=int, default=2, help="cold runs of the pip-tools-based tools")
    parser.add_argument("--piptools-warm", type=int, default=2, help="warm runs of the pip-tools-based tools")
    parser.add_argument("--no-piptools", action="store_true", help="skip pip-compile and envman (pip-tools)")
    parser.add_argument("--noop-runs", type=int, default=10)
    parser.add_argument("--note", action="append", default=[], help="a line for the Notes section")
    parser.add_argument("--report-only", action="store_true", help="re-render RESULTS.md from results.json")
    parser.add_argument("--noop-only", action="store_true", help="re-run only the no-op/--check part; keep the lock rows of results.json")
    args = parser.parse_args(argv)
    if args.report_only:
        data = json.loads((HERE / "results.json").read_text(encoding="utf-8"))
        (HERE / "RESULTS.md").write_text(report(data), encoding="utf-8")
        return 0
    if args.quick:
        args.cold, args.warm, args.piptools_cold, args.piptools_warm, args.noop_runs = 1, 2, 1, 1, 5
    command = "python benchmarks/python_lock/run.py" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    if args.noop_only:
        return rerun_noop(command, args.noop_runs)

    packages_40 = read_requirements(HERE / "requirements-40.txt")
    packages_200 = read_requirements(HERE / "requirements-200.txt")
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    scratch = Path(tempfile.mkdtemp(prefix="envman-bench-python-lock-"))
    started = time.perf_counter()
    try:
        tools = make_tools(packages_40)
        if args.no_piptools:
            tools = [t for t in tools if t.family == "uv"]
        counts = {"uv": (args.cold, args.warm), "pip-tools": (args.piptools_cold, args.piptools_warm)}
        print(f"lock benchmark: {len(packages_40)} packages, {len(tools)} tools", file=sys.stderr)
        note_load("start")
        results = bench_lock(tools, counts, scratch)
        note_load("after lock benchmark")

        print(f"no-op benchmark: {len(packages_200)} packages", file=sys.stderr)
        manifest_200 = write_manifest(WORK / "noop-200", "bench-200", packages_200, "uv")
        noop_cache = Path(tempfile.mkdtemp(prefix="noop-", dir=scratch))
        noop_info, cases = bench_noop(manifest_200, noop_cache, args.noop_runs, scratch)
        note_load("after no-op benchmark")
        profile = profile_check(manifest_200, scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    data = {
        "machine": machine(),
        "load_average": LOADS,
        "pypi_cache_headers": pypi_cache_headers(),
        "lock_profile": PROFILE.get("lock"),
        "quick": args.quick,
        "command": command,
        "elapsed_s": round(time.perf_counter() - started, 1),
        "packages_40": len(packages_40),
        "packages_200": len(packages_200),
        "noop_runs": args.noop_runs,
        "lock": [
            {
                "tool": r.tool.name,
                "command": r.tool.display,
                "cold_median_s": r.median("cold"),
                "warm_median_s": r.median("warm"),
                "cold": [vars(x) for x in r.cold],
                "warm": [vars(x) for x in r.warm],
            }
            for r in results
        ],
        "noop": noop_info,
        "noop_cases": [{"label": c.label, "state": c.setup, "argv": c.argv, "times_s": c.times, "exit_codes": c.codes,
                        "median_s": statistics.median(c.times)} for c in cases],
        "profile": profile,
        "notes": [*args.note, f"Whole benchmark run took {round((time.perf_counter() - started) / 60, 1)} min."],
    }
    (HERE / "results.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    (HERE / "RESULTS.md").write_text(report(data), encoding="utf-8")
    print((HERE / "RESULTS.md").read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
