"""benchmarks/history: `envman history` and `envman identify` over 500 synthetic commits of
a 300-package lock (envman's own lock writer, two environments), whole processes.

Peers in the same run: git itself reading the same history (`git log -p -- envman.lock`, the
floor of any tool that reads every revision), and the naive way (one `git show REV:envman.lock`
process per commit, what a shell loop over `git log` does). Goal: history and identify each
under 2 s. Medians of --runs runs, with min-max; RESULTS.md is written beside this script.

    .venv/bin/python benchmarks/history/run.py --runs 5
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "b@example.org",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "b@example.org"}


def make_lock(versions: dict[str, str]) -> str:
    from envman.lockfile.canonical import dump_lock
    from envman.lockfile.models import lock_model

    lock_cls, platform_cls = lock_model()
    rows = [{"name": n, "version": v, "hashes": [f"sha256:{abs(hash((n, v))):064x}"[:71]], "source": "https://pypi.org/simple"}
            for n, v in sorted(versions.items())]
    body = {"python": rows, "python_version": "3.11.9"}
    design = {"python": rows + [{"name": "zz-notebook", "version": "7.0.0", "hashes": ["sha256:" + "1" * 64]}], "python_version": "3.11.9"}
    environments = {"production": {"linux-64": platform_cls(**body)}, "design": {"linux-64": platform_cls(**design)}}
    return dump_lock(lock_cls(version=1, manifest_hash={"all": "sha256:" + "0" * 64}, environments=environments))


def build_repo(root: Path, commits: int, packages: int) -> list[str]:
    """A git repository with `commits` commits of envman.lock, 1-3 package moves each."""
    rnd = random.Random(16)
    versions = {f"pkg-{i:03d}": f"1.{rnd.randint(0, 9)}.0" for i in range(packages)}
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    (root / "envman.yaml").write_text("version: 1\nname: bench\npython: {version: '3.11.9', packages: [pkg-000]}\n"
                                      "environments: {production: {}, design: {}}\n")
    stream = []
    stamp = 1_700_000_000
    for i in range(commits):
        for _ in range(rnd.randint(1, 3)):
            name = f"pkg-{rnd.randrange(packages):03d}"
            major, minor, _p = versions[name].split(".")
            versions[name] = f"{major}.{max(0, int(minor) + rnd.choice((-1, 1, 1)))}.0"
        data = make_lock(versions).encode()
        mark = i + 1
        stream.append(b"commit refs/heads/main\n")
        stream.append(f"mark :{mark}\ncommitter Bench <b@example.org> {stamp + i * 3600} +0000\n".encode())
        msg = f"change {i}".encode()
        stream.append(b"data %d\n%s\n" % (len(msg), msg))
        if i:
            stream.append(f"from :{mark - 1}\n".encode())
        stream.append(b"M 100644 inline envman.lock\ndata %d\n%s\n" % (len(data), data))
        if i == 0:
            manifest = (root / "envman.yaml").read_bytes()
            stream.append(b"M 100644 inline envman.yaml\ndata %d\n%s\n" % (len(manifest), manifest))
    subprocess.run(["git", "-C", str(root), "fast-import", "--quiet"], input=b"".join(stream), check=True, env=GIT_ENV)
    subprocess.run(["git", "-C", str(root), "checkout", "-q", "-f", "main"], check=True)
    return subprocess.run(["git", "-C", str(root), "log", "--format=%H"], capture_output=True, text=True, check=True).stdout.split()


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def timed(cmd: list[str], cwd: Path, ok: tuple[int, ...] = (0,)) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the process and its children: user + system)."""
    cpu = _children_cpu()
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True)
    elapsed = time.perf_counter() - started
    assert done.returncode in ok, (cmd, done.returncode, done.stderr[-2000:])
    return elapsed, _children_cpu() - cpu


def naive(root: Path, revs: list[str]) -> tuple[float, float]:
    cpu = _children_cpu()
    started = time.perf_counter()
    for rev in revs:
        subprocess.run(["git", "-C", str(root), "show", f"{rev}:envman.lock"], capture_output=True, check=True)
    return time.perf_counter() - started, _children_cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--commits", type=int, default=500)
    parser.add_argument("--packages", type=int, default=300)
    args = parser.parse_args()
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="envman-bench-history-") as tmp:
        root = Path(tmp) / "repo"
        t = time.perf_counter()
        revs = build_repo(root, args.commits, args.packages)
        setup = time.perf_counter() - t
        snap = Path(tmp) / "prod.json"  # a target that runs the lock of commit 250 (production)
        middle = revs[len(revs) // 2]
        subprocess.run([python, "-m", "envman", "snapshot", f"lock:production@{middle}", "-o", str(snap)], cwd=root, check=True,
                       capture_output=True)
        drifted = Path(tmp) / "drifted.json"
        text = snap.read_text()
        drifted.write_text(text.replace('"version": "1.', '"version": "9.', 1))
        cases = {
            "envman history (table)": lambda: timed([python, "-m", "envman", "history"], root),
            "envman history --format json -v": lambda: timed([python, "-m", "envman", "-v", "history", "--format", "json"], root),
            "envman identify (exact match)": lambda: timed([python, "-m", "envman", "identify", str(snap)], root),
            "envman identify (no exact match)": lambda: timed([python, "-m", "envman", "identify", str(drifted)], root, ok=(1,)),
            "peer: git log -p -- envman.lock": lambda: timed(["git", "log", "-p", "--", "envman.lock"], root),
            "peer: git show per commit (naive loop)": lambda: naive(root, revs),
        }
        results: dict[str, list[float]] = {name: [] for name in cases}
        cpu: dict[str, list[float]] = {name: [] for name in cases}
        loads: list[float] = []
        for _ in range(args.runs):
            for name, run in cases.items():
                wall, used = run()
                results[name].append(wall)
                cpu[name].append(used)
            loads.append(os.getloadavg()[0])
        check = subprocess.run([python, "-m", "envman", "identify", str(snap)], cwd=root, capture_output=True, text=True)
        lock_bytes = len(subprocess.run(["git", "-C", str(root), "show", "HEAD:envman.lock"], capture_output=True).stdout)
    load = os.getloadavg()
    lines = [
        "# benchmarks/history",
        "",
        f"{args.commits} commits of a {args.packages}-package lock ({lock_bytes // 1024} KiB; two environments), "
        f"1-3 version moves per commit; setup {setup:.1f} s (git fast-import).",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} at the end; "
        f"Python {platform.python_version()}; {args.runs} runs each, whole processes.",
        "",
        f"Command: `.venv/bin/python benchmarks/history/run.py --runs {args.runs}`",
        "",
        "Wall time is what a user waits; CPU time (user + system of the process and its git children) is what the work",
        "costs, and it varies far less when other jobs load the machine (load averages during the runs: "
        + ", ".join(f"{x:.1f}" for x in loads) + ").",
        "",
        "| case | wall median | wall min-max | CPU median | CPU min-max |",
        "|---|---|---|---|---|",
    ]
    for name, values in results.items():
        c = cpu[name]
        lines.append(f"| {name} | {statistics.median(values):.2f} s | {min(values):.2f}-{max(values):.2f} s "
                     f"| {statistics.median(c):.2f} s | {min(c):.2f}-{max(c):.2f} s |")
    hist = statistics.median(results["envman history (table)"])
    ident = statistics.median(results["envman identify (exact match)"])
    floor = statistics.median(results["peer: git log -p -- envman.lock"])
    slow = statistics.median(results["peer: git show per commit (naive loop)"])
    hist_cpu = statistics.median(cpu["envman history (table)"])
    ident_cpu = statistics.median(cpu["envman identify (exact match)"])
    lines += [
        "",
        f"Goal: history and identify each under 2 s: wall history {hist:.2f} s, identify {ident:.2f} s "
        f"({'met' if max(hist, ident) < 2 else 'NOT met'} in wall time); CPU history {hist_cpu:.2f} s, identify {ident_cpu:.2f} s "
        f"({'met' if max(hist_cpu, ident_cpu) < 2 else 'NOT met'} in CPU time).",
        f"history takes {hist / floor:.1f}x the wall time of git's own `log -p` of the same history "
        f"({hist_cpu / statistics.median(cpu['peer: git log -p -- envman.lock']):.1f}x its CPU time), and "
        f"{slow / hist:.1f}x less wall time ({statistics.median(cpu['peer: git show per commit (naive loop)']) / hist_cpu:.1f}x less CPU) "
        "than one `git show` per commit, which only reads the blobs and compares nothing.",
        "",
        f"identify's answer: `{check.stdout.strip().splitlines()[0] if check.stdout.strip() else check.stderr.strip()}`",
        "",
    ]
    (HERE / "RESULTS.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
