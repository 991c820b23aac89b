"""Fleet benchmark: `envman check --inventory` over 50 targets (containers on two Docker
engines plus hosts reached over SSH to a real sshd on 127.0.0.1).

Of the 20 containers on each engine, 18 are plain replicas of one image, one had a package
uninstalled (drift) and one had a package reinstalled in place (files rewritten, in sync):
both must be probed in full, the plain ones may share one probe (envman.targets.replicas).
The 10 SSH hosts are one sshd on 127.0.0.1, so envman's one ControlMaster per destination
serves all ten (real distinct hosts would each need their own connection).

Measured, whole processes, medians of --runs with min-max:
  one       `check --inventory one.ini` (a single container target)
  fleet     `check --inventory fleet.ini --jobs 8` (all 50, replicas sharing a probe)
  serial    the same, one after another: `--jobs 1` (replicas still sharing)
  each      every target probed in full, 8 at once: `--jobs 8 --probe-each`
  full      every target probed in full, one after another: `--jobs 1 --probe-each`
  loop      the peer a user would write without envman's fleet support: a shell-style loop of
            50 separate `envman check TARGET` processes (run --loop-runs times)
Goals (issue 17): fleet under 5x one; fleet at least 5x faster than the same probes one
after another (full, and serial with sharing, both reported). The reports of fleet and
full are compared: the same JSON, or the benchmark fails.

    .venv/bin/python benchmarks/fleet/run.py --runs 5 --loop-runs 1

Needs the test setup (dockerd, the test base image, tests/setup/second-engine.sh,
openssh-server). Writes RESULTS.md and results.json beside this file.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO))

from envman.ecosystems.python.entry import PythonEntry  # noqa: E402
from envman.lockfile import PlatformLock  # noqa: E402
from tests.drift.builders import make_wheel, sha256_file  # noqa: E402
from tests.drift.conftest import write_project  # noqa: E402
from tests.fleet.sshd import start_sshd  # noqa: E402

BASE_IMAGE = "envman-test-base:bookworm"
WHEELS = [("alpha", "1.0"), ("beta", "2.0"), ("gamma", "0.3"), ("delta", "1.0")]
PER_ENGINE = 20
SSH_HOSTS = 10
DRIFTED, REINSTALLED = 7, 13  # on each engine: delta uninstalled; alpha reinstalled in place


def envman(*args: str, env: dict[str, str] | None = None) -> tuple[float, subprocess.CompletedProcess[str]]:
    full = dict(os.environ, PYTHONPATH=str(REPO), NO_PROXY="127.0.0.1,localhost", **(env or {}))
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "envman", *args], capture_output=True, text=True, env=full)
    return time.perf_counter() - started, done


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


def copy_image(url: str) -> None:
    env = dict(os.environ, DOCKER_HOST=url)
    if subprocess.run(["docker", "image", "inspect", BASE_IMAGE], env=env, capture_output=True).returncode == 0:
        return
    here = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    save = subprocess.Popen(["docker", "save", BASE_IMAGE], stdout=subprocess.PIPE, env=here)
    subprocess.run(["docker", "load", "-q"], stdin=save.stdout, env=env, check=True, capture_output=True)
    save.wait()


def build(client, wheels: Path, work: Path) -> str:
    context = work / f"ctx-{uuid.uuid4().hex[:6]}"
    shutil.copytree(wheels, context / "wh")
    reqs = " ".join(f"{n}=={v}" for n, v in WHEELS)
    (context / "Dockerfile").write_text(
        f"FROM {BASE_IMAGE}\nCOPY wh /wh\n"
        f"RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install -q --no-index --find-links /wh {reqs}\n"
        "LABEL org.envman.python=/opt/venv/bin/python\n"
    )
    tag = f"envman-bench-fleet:{uuid.uuid4().hex[:8]}"
    client.images.build(path=str(context), tag=tag, rm=True, forcerm=True, network_mode="none")
    return tag


def spread(values: list[float]) -> str:
    return f"{min(values):.2f}-{max(values):.2f}"


def median_spread(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} s ({min(values):.2f}-{max(values):.2f})"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--loop-runs", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=8)
    args = parser.parse_args()

    import docker

    script = REPO / "tests" / "setup" / "second-engine.sh"
    token = f"bench-{os.getpid()}"
    acquired = subprocess.run(["bash", str(script), "acquire", str(os.getpid())], capture_output=True, text=True)
    if acquired.returncode != 0:
        sys.exit(f"the second engine did not start: {acquired.stderr}")
    engine2 = acquired.stdout.strip().splitlines()[-1]
    work = Path(tempfile.mkdtemp(prefix="envman-bench-fleet-"))
    clients = {"one": docker.from_env(), "two": docker.DockerClient(base_url=engine2)}
    made: dict[str, tuple[object, str, list[str]]] = {}
    sshd = None
    try:
        wheels = work / "wheels"
        for name, version in WHEELS:
            make_wheel(wheels, name, version)
        copy_image(engine2)

        def prepare(key: str) -> None:
            client = clients[key]
            tag = build(client, wheels, work)
            names = []
            for index in range(PER_ENGINE):
                name = f"envman-bench-fleet-{key}-{index}-{token}"
                client.containers.run(tag, entrypoint=["sleep", "infinity"], name=name, detach=True, network_mode="none")
                names.append(name)
            made[key] = (client, tag, names)
            pip = "/opt/venv/bin/pip"
            drift = client.containers.get(names[DRIFTED]).exec_run([pip, "uninstall", "-q", "-y", "delta"])
            redo = client.containers.get(names[REINSTALLED]).exec_run(
                [pip, "install", "-q", "--no-index", "--find-links", "/wh", "--force-reinstall", "--no-deps", "alpha==1.0"])
            assert drift.exit_code == 0 and redo.exit_code == 0, (drift.output, redo.output)

        threads = [threading.Thread(target=prepare, args=(k,)) for k in clients]
        for thread in threads:
            thread.start()
        venv = work / "venv"
        import uv

        subprocess.run([uv.find_uv_bin(), "venv", "-q", str(venv)], check=True)
        subprocess.run([uv.find_uv_bin(), "pip", "install", "-q", "--python", str(venv / "bin" / "python"), "--no-index",
                        "--find-links", str(wheels), *(f"{n}=={v}" for n, v in WHEELS)], check=True)
        sshd = start_sshd(work / "sshd")
        for thread in threads:
            thread.join()
        plock = PlatformLock(python_version="3.11", python=[
            PythonEntry(name=n, version=v, hashes=["sha256:" + sha256_file(next(wheels.glob(f"{n}-{v}-*.whl")))]) for n, v in WHEELS
        ])
        manifest = (f"version: 1\npython:\n  version: '3.11'\n  find-links: ['{wheels}']\n"
                    f"  packages: [{', '.join(n for n, _ in WHEELS)}]\n")
        project = write_project(work / "project", manifest, {"linux-64": plock}, environment="production")

        lines = ["[engine_one]"] + [f"{n} ansible_connection=docker" for n in made["one"][2]]
        lines += ["[engine_two]", f"engine2 ansible_connection=local envman_probe_host=false envman_engine={engine2} "
                  f"envman_containers={','.join(made['two'][2])}", "[vms]"]
        lines += [f"vm{i:02d} ansible_host=127.0.0.1 ansible_port={sshd.port} ansible_user={sshd.user} "
                  f"envman_python={venv / 'bin' / 'python'}" for i in range(SSH_HOSTS)]
        fleet_ini = work / "fleet.ini"
        fleet_ini.write_text("\n".join(lines) + "\n")
        one_ini = work / "one.ini"
        one_ini.write_text(f"[one]\n{made['one'][2][0]} ansible_connection=docker\n")
        targets = [f"docker:{n}" for n in made["one"][2]] + [f"docker:{n}" for n in made["two"][2]] + [
            f"ssh:{sshd.user}@127.0.0.1:{sshd.port}{venv / 'bin' / 'python'}" for _ in range(SSH_HOSTS)
        ]
        common = ["check", "-f", str(project), "--timeout", "300", "--format", "json", "--ssh-config", str(sshd.config)]

        drifted = {f"docker:{made['one'][2][DRIFTED]}", f"engine2/docker:{made['two'][2][DRIFTED]}"}
        reports: dict[str, object] = {}

        def run_fleet(ini: Path, jobs: int, *extra: str) -> float:
            seconds, done = envman(*common, "--inventory", str(ini), "--jobs", str(jobs), *extra)
            rows = json.loads(done.stdout)["targets"] if done.stdout.strip() else []
            if ini == fleet_ini:
                found = {row["target"] for row in rows if row["findings"] or row.get("error")}
                if done.returncode != 1 or len(rows) != 50 or found != drifted:
                    raise SystemExit(f"check failed ({done.returncode}, drifted {sorted(found)}): {done.stderr[-2000:]}")
                report = json.loads(done.stdout)
                reports.setdefault("full" if "--probe-each" in extra else "shared", report)
                if len(reports) == 2 and reports["full"] != reports["shared"]:
                    raise SystemExit("the report with shared probes differs from the one with every target probed in full")
            elif done.returncode != 0 or len(rows) != 1:
                raise SystemExit(f"check failed ({done.returncode}): {done.stderr[-2000:]}")
            return seconds

        run_fleet(one_ini, 1)  # warm: the probe source cache, the page cache
        results: dict[str, list[float]] = {"one": [], "fleet": [], "serial": [], "each": [], "full": [], "loop": []}
        loads = []
        for _ in range(args.runs):
            loads.append(load())
            results["one"].append(run_fleet(one_ini, 1))
            results["fleet"].append(run_fleet(fleet_ini, args.jobs))
            results["serial"].append(run_fleet(fleet_ini, 1))
            results["each"].append(run_fleet(fleet_ini, args.jobs, "--probe-each"))
            results["full"].append(run_fleet(fleet_ini, 1, "--probe-each"))
        for _ in range(args.loop_runs):
            started = time.perf_counter()
            for target in targets:
                engine = ["--engine", engine2] if target.startswith("docker:") and target[7:] in made["two"][2] else []
                _, done = envman(*common, *engine, target)
                if done.returncode not in (0, 1):
                    raise SystemExit(f"{target}: {done.stderr[-1000:]}")
            results["loop"].append(time.perf_counter() - started)
        med = {k: statistics.median(v) for k, v in results.items() if v}
        ratios = {
            "fleet / one": med["fleet"] / med["one"],
            "full / fleet": med["full"] / med["fleet"],
            "serial / fleet": med["serial"] / med["fleet"],
            "each / one": med["each"] / med["one"],
            "full / each": med["full"] / med["each"],
        }
        if "loop" in med:
            ratios["loop / fleet"] = med["loop"] / med["fleet"]
        per_run_ratio = [f / o for f, o in zip(results["fleet"], results["one"], strict=True)]
        per_run_full = [s / f for s, f in zip(results["full"], results["fleet"], strict=True)]
        per_run_speedup = [s / f for s, f in zip(results["serial"], results["fleet"], strict=True)]
        per_run_each = [e / o for e, o in zip(results["each"], results["one"], strict=True)]
        (HERE / "results.json").write_text(json.dumps({"seconds": results, "ratios": ratios, "loads": loads}, indent=1) + "\n")
        loop_row = f"| loop of 50 processes / `--jobs {args.jobs}` | **{ratios.get('loop / fleet', 0):.2f}x** faster | | at least 5x |\n"
        command = f".venv/bin/python benchmarks/fleet/run.py --runs {args.runs} --loop-runs {args.loop_runs}"
        text = f"""# Fleet benchmark

`flock /tmp/envman-bench.lock {command}` (written by the script, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}).

Workload: 50 targets in one Ansible-style INI inventory: {PER_ENGINE} containers on the default Docker
engine (`ansible_connection=docker`), {PER_ENGINE} on a second dockerd (`envman_containers` with
`envman_engine=unix://…`), {SSH_HOSTS} hosts over SSH to a real OpenSSH server on 127.0.0.1. Each
container runs `{BASE_IMAGE}` plus a venv of {len(WHEELS)} wheels; the lock pins them. On each engine
18 containers are plain replicas, one had `delta` uninstalled (drift: both are reported) and one
had `alpha` reinstalled in place (its files rewritten: in sync, but probed in full since what
the probe reads changed). The {SSH_HOSTS} SSH hosts are one sshd at one address, so envman's one
ControlMaster per destination serves all of them (distinct real hosts would each need their own
connection; `watch` keeps them between rounds). Every number is a whole `envman check`
process; medians of {args.runs} runs (min-max). Load average (1/5/15 min) at the start of each run:
{', '.join(loads)} on {os.cpu_count()} cores, shared with other engineers' test runs.
The JSON report with shared probes was checked equal to the one with every target probed in full.

| measurement | wall time |
|---|---|
| one target (`check --inventory one.ini`) | {median_spread(results['one'])} |
| 50 targets, `--jobs {args.jobs}` (replicas share a probe) | {median_spread(results['fleet'])} |
| 50 targets, `--jobs 1` (one after another, replicas share a probe) | {median_spread(results['serial'])} |
| 50 targets, `--jobs {args.jobs} --probe-each` (every target probed in full) | {median_spread(results['each'])} |
| 50 targets, `--jobs 1 --probe-each` (the same full probes one after another) | {median_spread(results['full'])} |
""" + (f"| peer: a loop of 50 `envman check TARGET` processes | {median_spread(results['loop'])} ({args.loop_runs} run(s)) |\n"
       if results["loop"] else "") + f"""
| ratio | median | per run (min-max) | goal |
|---|---|---|---|
| 50 targets with `--jobs {args.jobs}` / one target | **{ratios['fleet / one']:.2f}x** | {spread(per_run_ratio)} | under 5x |
| full probes one after another (`--jobs 1 --probe-each`) / `--jobs {args.jobs}` | **{ratios['full / fleet']:.2f}x** faster \
| {spread(per_run_full)} | at least 5x |
| `--jobs 1` with sharing / `--jobs {args.jobs}` with sharing | **{ratios['serial / fleet']:.2f}x** faster | {spread(per_run_speedup)} | |
| `--jobs {args.jobs} --probe-each` / one target (no sharing) | {ratios['each / one']:.2f}x | {spread(per_run_each)} | |
| `--jobs 1 --probe-each` / `--jobs {args.jobs} --probe-each` (concurrency alone) | {ratios['full / each']:.2f}x faster | | |
""" + (loop_row if "loop / fleet" in ratios else "") + """
What bounds it: every full probe is a `docker exec` (dockerd, containerd, runc) and a Python
start inside the target, or an ssh session and a Python start on the host, all on the same 2
cores as envman itself: 50 full probes are CPU-bound, and concurrency alone gives about what
the `--probe-each` rows show. Sharing removes the probes themselves: 6 full container
probes (on each engine: its group's first, the uninstalled and the reinstalled replica), 34
reads of a container's overlay2 upper folder instead of a probe, 10 SSH sessions over one
connection.
"""
        (HERE / "RESULTS.md").write_text(text)
        print(text)
        return 0
    finally:
        for client, tag, names in made.values():
            for name in names:
                try:
                    client.containers.get(name).remove(force=True)  # type: ignore[attr-defined]
                except Exception:
                    pass
            try:
                client.images.remove(tag, force=True)  # type: ignore[attr-defined]
            except Exception:
                pass
        if sshd is not None:
            sshd.process.terminate()
        subprocess.run(["bash", str(script), "release", str(os.getpid())], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
