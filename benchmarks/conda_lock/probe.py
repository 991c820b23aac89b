"""The probe part of benchmarks/conda_lock: read back a 300-package conda prefix.

A channel of 300 small real packages (tests/conda/channel.py: `.conda` files, 4-12 payload
files each, a dependency chain so the records are like real ones) is locked and installed with
`envman lock` and `envman sync conda:PREFIX` (py-rattler links them), then measured:

- envman's probe, in-process: `probe_conda([PREFIX], deep=False)`, the standard-library code
  that runs in a target and reads every conda-meta record (goal: under 0.1 s);
- the same with `--deep` (every file's sha256 against the record's paths);
- the peer: py-rattler reading the same records (`PrefixRecord.from_path` on each
  conda-meta/*.json, what rattler does to know a prefix), in-process;
- the whole `envman check conda:PREFIX` process (interpreter start, lock, probe, compare).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["measure_probe"]

PACKAGES = 300


def _specs(count: int) -> list[Any]:
    from tests.conda.channel import PackageSpec

    specs = []
    for i in range(count):
        files = {f"lib/pkg{i:03d}/part{j}.txt": f"package {i} part {j}\n" * (20 + j) for j in range(4 + i % 9)}
        files[f"share/doc/pkg{i:03d}/README"] = f"pkg{i:03d}\n"
        depends = (f"pkg{i + 1:03d}",) if i + 1 < count and i % 3 else ()
        specs.append(PackageSpec(f"pkg{i:03d}", "1.0", subdirs=("linux-64",), depends=depends, files=files))
    return specs


def _median_ms(fn: Any, runs: int) -> dict[str, Any]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return {"median": statistics.median(times), "runs": times}


def measure_probe(work: Path, runs: int, serve_directory: Any) -> dict[str, Any]:
    from rattler import PrefixRecord

    from envman.ecosystems.conda.probe_target import probe_conda
    from tests.conda.channel import build_channel

    build_channel(work / "probe-channel", _specs(PACKAGES), subdirs=("noarch", "linux-64"), formats=(".conda",))
    project = work / "probe-project"
    project.mkdir()
    prefix = work / "probe-prefix"
    env = dict(os.environ)
    with serve_directory(work / "probe-channel") as url:
        roots = ", ".join(f"pkg{i:03d}" for i in range(PACKAGES))
        (project / "envman.yaml").write_text(f'version: 1\nconda:\n  channels: ["{url}"]\n  packages: [{roots}]\n')
        for argv in (["lock"], ["sync", f"conda:{prefix}"]):
            done = subprocess.run([sys.executable, "-m", "envman", *argv], cwd=project, env=env, capture_output=True, text=True)
            assert done.returncode == 0, done.stderr
    records = sorted((prefix / "conda-meta").glob("*.json"))
    assert len(records) == PACKAGES, len(records)
    problems: list[str] = []
    shallow = probe_conda([str(prefix)], False, problems)
    assert len(shallow["packages"]) == PACKAGES and not problems, problems
    deep = probe_conda([str(prefix)], True, problems)
    assert not any(row.get("modified") for row in deep["packages"]) and not problems
    assert sorted(str(PrefixRecord.from_path(p).name.normalized) for p in records) == sorted(r["name"] for r in shallow["packages"])
    results: dict[str, Any] = {"packages": PACKAGES, "record_bytes": sum(p.stat().st_size for p in records)}
    results["files"] = sum(len(r.get("files", [])) for r in _json_records(records))
    shallow_runs: list[float] = []
    rattler_runs: list[float] = []
    for _ in range(runs):  # interleaved
        shallow_runs += _median_ms(lambda: probe_conda([str(prefix)], False, []), 1)["runs"]
        rattler_runs += _median_ms(lambda: [PrefixRecord.from_path(p) for p in records], 1)["runs"]
    results["envman_probe"] = {"median": statistics.median(shallow_runs), "runs": shallow_runs}
    results["rattler_read"] = {"median": statistics.median(rattler_runs), "runs": rattler_runs}
    results["envman_probe_deep"] = _median_ms(lambda: probe_conda([str(prefix)], True, []), max(3, runs // 2))

    def check() -> None:
        done = subprocess.run([sys.executable, "-m", "envman", "check", f"conda:{prefix}"], cwd=project, env=env, capture_output=True)
        assert done.returncode == 0, done.stdout

    check()
    results["check_process"] = _median_ms(check, max(3, runs // 2))
    return results


def _json_records(paths: list[Path]) -> list[dict[str, Any]]:
    import json

    return [json.loads(p.read_text()) for p in paths]
