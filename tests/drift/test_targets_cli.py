"""Targets through the CLI: errors and exit codes, lock at a git revision, conda prefixes, local."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path

from envman.ecosystems.conda.entry import CondaEntry
from envman.lockfile import PlatformLock
from tests.drift.conftest import run_envman, write_project


def test_bad_snapshots_exit_2(python_project, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    proc = run_envman("check", "-f", str(python_project["manifest"]), str(bad))
    assert proc.returncode == 2 and "bad.json" in proc.stderr and "Traceback" not in proc.stderr
    future = tmp_path / "future.json"
    future.write_text(json.dumps({"envman-snapshot": 99, "target": "x"}))
    proc = run_envman("diff", str(future), "lock:default", "-f", str(python_project["manifest"]))
    assert proc.returncode == 2 and "unsupported snapshot version 99" in proc.stderr
    assert run_envman("diff", str(tmp_path / "absent.json"), "lock:default").returncode == 2


def test_unreachable_targets_exit_4(python_project):
    m = str(python_project["manifest"])
    for target in ("python:/nonexistent/bin/python", "rlib:/nonexistent/lib", "jars:/nonexistent", "conda:/nonexistent"):
        proc = run_envman("check", "-f", m, target)
        assert proc.returncode == 4, (target, proc.stderr)
        assert target in proc.stderr


def test_bad_arguments_exit_2(python_project):
    m = str(python_project["manifest"])
    assert run_envman("check", "-f", m, "--format", "yaml", "local").returncode == 2
    assert run_envman("check", "-f", m, "whatever:thing").returncode == 2
    assert run_envman("check", "-f", m, "--env", "nope", f"python:{python_project['python']}").returncode == 2
    assert run_envman("sync", "-f", m, "lock:default").returncode == 2


def test_lock_at_git_revision(python_project):
    folder = python_project["dir"]
    git = ["git", "-C", str(folder), "-c", "user.email=t@example.org", "-c", "user.name=t"]
    subprocess.run(["git", "init", "-q", str(folder)], check=True)
    subprocess.run(git + ["add", "envman.yaml", "envman.lock"], check=True)
    subprocess.run(git + ["commit", "-qm", "v1"], check=True)
    lock_file = folder / "envman.lock"
    lock_file.write_text(lock_file.read_text().replace("version: '2.0'", "version: '2.1'").replace("version: 2.0", "version: 2.1"))
    assert "2.1" in lock_file.read_text()
    m = str(python_project["manifest"])
    proc = run_envman("diff", "-f", m, "lock:default@HEAD", "lock:default", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    assert json.loads(proc.stdout)["differences"] == [{"ecosystem": "python", "name": "beta", "left": "2.0", "right": "2.1"}]
    subprocess.run(git + ["commit", "-qam", "v2"], check=True)
    assert run_envman("diff", "-f", m, "lock:default@HEAD", "lock:default").returncode == 0
    assert run_envman("diff", "-f", m, "lock:default@HEAD~1", "lock:default@linux-64@HEAD").returncode == 1
    missing = run_envman("diff", "-f", m, "lock:default@no-such-rev", "lock:default")
    assert missing.returncode == 2 and "no-such-rev" in missing.stderr  # bad input, as for `envman history`


def _conda_record(prefix: Path, name: str, version: str, build: str, files: dict[str, bytes]) -> None:
    paths = []
    for rel, data in files.items():
        path = prefix / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        paths.append({"_path": rel, "path_type": "hardlink", "sha256": hashlib.sha256(data).hexdigest(), "size_in_bytes": len(data)})
    record = {"name": name, "version": version, "build": build, "build_number": 0, "channel": "https://conda.anaconda.org/conda-forge",
              "files": list(files), "paths_data": {"paths_version": 1, "paths": paths}}
    (prefix / "conda-meta").mkdir(parents=True, exist_ok=True)
    (prefix / "conda-meta" / f"{name}-{version}-{build}.json").write_text(json.dumps(record))


def test_conda_prefix_check_and_deep(tmp_path):
    prefix = tmp_path / "env"
    _conda_record(prefix, "zlib", "1.3.1", "h4ab18f5_1", {"lib/libz.so.1.3.1": b"zlib-bytes"})
    _conda_record(prefix, "gdal", "3.9.1", "h2_0", {"bin/gdalinfo": b"gdal", "share/gdal/x.csv": b"a,b\n"})
    _conda_record(prefix, "tzdata", "2024a", "h0_0", {"share/zoneinfo/UTC": b"utc"})
    entries = [
        CondaEntry(name="zlib", version="1.3.1", build="h4ab18f5_1", url="https://example.invalid/zlib.conda", sha256="0" * 64),
        CondaEntry(name="gdal", version="3.9.1", build="h1_0", url="https://example.invalid/gdal.conda", sha256="1" * 64),
        CondaEntry(name="proj", version="9.4.1", build="h0_0", url="https://example.invalid/proj.conda", sha256="2" * 64),
    ]
    manifest = write_project(tmp_path / "project", "version: 1\nconda:\n  packages: [gdal]\n", {"linux-64": PlatformLock(conda=entries)})
    (prefix / "lib" / "libz.so.1.3.1").write_bytes(b"patched")
    proc = run_envman("check", "-f", str(manifest), "--deep", "--format", "json", f"conda:{prefix}")
    assert proc.returncode == 1, proc.stderr
    got = sorted((f["name"], f["kind"], f["expected"], f["actual"]) for f in json.loads(proc.stdout)["targets"][0]["findings"])
    assert got == [
        ("gdal", "changed", "3.9.1 h1_0", "3.9.1 h2_0"),
        ("proj", "missing", "9.4.1 h0_0", None),
        ("tzdata", "extra", None, "2024a h0_0"),
        ("zlib", "modified", "1.3.1 h4ab18f5_1", "1.3.1 h4ab18f5_1"),
    ]


def test_local_target(python_project, tmp_path):
    """`local`: python3 on PATH (here the venv's), jars under $ENVMAN_JARS; check with no TARGET checks local."""
    venv_bin = str(Path(python_project["python"]).parent)
    jars = tmp_path / "jars"
    jars.mkdir()
    env = {"PATH": venv_bin + os.pathsep + os.environ["PATH"], "ENVMAN_JARS": str(jars)}
    proc = run_envman("check", "-f", str(python_project["manifest"]), "--format", "json", env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert json.loads(proc.stdout)["targets"][0]["target"] == "local"
    snap = json.loads(run_envman("snapshot", "local", env=env).stdout)
    assert "python" in snap["ecosystems"] and "jvm" in snap["ecosystems"]
    assert snap["environment"]["python-executable"].startswith(venv_bin)


def test_unreachable_target_among_others_still_reports_the_rest(python_project):
    m = str(python_project["manifest"])
    proc = run_envman("check", "-f", m, "--format", "json", f"python:{python_project['python']}",
                      "python:/nonexistent/python", "rlib:/nonexistent/lib")
    assert proc.returncode == 4
    report = json.loads(proc.stdout)
    assert report["in_sync"] is False  # never green with an unchecked target
    assert [t["target"] for t in report["targets"] if "error" not in t] == [f"python:{python_project['python']}"]
    assert [t["target"] for t in report["targets"] if "error" in t] == ["python:/nonexistent/python", "rlib:/nonexistent/lib"]
    assert "python:/nonexistent/python" in proc.stderr and "rlib:/nonexistent/lib" in proc.stderr
