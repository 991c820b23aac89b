"""Real venvs from a local wheelhouse: check finds exactly the drift made, sync repairs it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.drift.conftest import run_envman, uv_bin


def _findings(proc: subprocess.CompletedProcess) -> list[tuple[str, str, str, str | None, str | None]]:
    data = json.loads(proc.stdout)
    return sorted((f["ecosystem"], f["name"], f["kind"], f["expected"], f["actual"]) for t in data["targets"] for f in t["findings"])


def test_in_sync_venv_normalized_names_versions_markers_and_tooling(python_project):
    # Lock names alpha-pkg 1.0 and delta 1; the venv has Alpha.Pkg 1.0 and delta 1.0.0, plus pip
    # (installer tooling); winonly is locked for win32 only.
    p = python_project
    proc = run_envman("check", "-f", str(p["manifest"]), "--deep", "--format", "json", f"python:{p['python']}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert data["in_sync"] is True
    assert data["targets"][0]["target"] == f"python:{p['python']}"
    assert data["targets"][0]["environment"] == "default"
    assert data["targets"][0]["platform"] == "linux-64"
    assert data["targets"][0]["findings"] == []


def test_four_kinds_of_drift_then_sync(python_project):
    p = python_project
    python = str(p["python"])
    site = Path(subprocess.check_output([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], text=True).strip())
    uv = uv_bin()
    # one upgraded, one removed, one extra installed, one installed file edited
    subprocess.run([uv, "pip", "install", "-q", "--python", python, "--link-mode", "copy", "--no-index",
                    "--find-links", str(p["wheel_dir"]), "beta==2.1", "extra-pkg==9.0"], check=True)
    subprocess.run([uv, "pip", "uninstall", "-q", "--python", python, "gamma"], check=True)
    with open(site / "delta" / "__init__.py", "a", encoding="utf-8") as handle:
        handle.write("# edited in production\n")

    args = ("check", "-f", str(p["manifest"]), "--format", "json", f"python:{python}")
    shallow = run_envman(*args)
    assert shallow.returncode == 1, shallow.stderr
    assert _findings(shallow) == [
        ("python", "beta", "changed", "2.0", "2.1"),
        ("python", "extra-pkg", "extra", None, "9.0"),
        ("python", "gamma", "missing", "0.3", None),
    ]
    deep = run_envman(*args, "--deep")
    assert deep.returncode == 1
    assert _findings(deep) == [
        ("python", "beta", "changed", "2.0", "2.1"),
        ("python", "delta", "modified", "1", "1.0.0"),
        ("python", "extra-pkg", "extra", None, "9.0"),
        ("python", "gamma", "missing", "0.3", None),
    ]
    modified = next(f for f in json.loads(deep.stdout)["targets"][0]["findings"] if f["kind"] == "modified")
    assert "delta/__init__.py" in modified["detail"]

    plan = run_envman("sync", "-f", str(p["manifest"]), "--dry-run", f"python:{python}")
    assert plan.returncode == 1
    assert "remove    extra-pkg 9.0" in plan.stdout and "change    beta 2.1 -> 2.0" in plan.stdout
    assert "install   gamma 0.3" in plan.stdout and "reinstall delta" in plan.stdout
    assert _findings(run_envman(*args, "--deep")) != []  # dry run changed nothing

    synced = run_envman("sync", "-f", str(p["manifest"]), f"python:{python}")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    after = run_envman(*args, "--deep")
    assert after.returncode == 0, after.stdout
    assert _findings(after) == []
    # installer tooling was left alone
    assert subprocess.run([python, "-m", "pip", "--version"], capture_output=True).returncode == 0


def test_formats_table_markdown_junit(python_project):
    p = python_project
    subprocess.run([uv_bin(), "pip", "uninstall", "-q", "--python", str(p["python"]), "gamma"], check=True)
    base = ("check", "-f", str(p["manifest"]), f"python:{p['python']}")
    table = run_envman(*base)
    assert table.returncode == 1
    assert "missing" in table.stdout and "gamma" in table.stdout and "\x1b[" not in table.stdout  # no colour when piped
    md = run_envman(*base, "--format", "markdown")
    assert "| python | gamma | missing | 0.3 | — |" in md.stdout
    junit = run_envman(*base, "--format", "junit")
    import xml.etree.ElementTree as ET

    root = ET.fromstring(junit.stdout)
    assert root.tag == "testsuites" and root.get("failures") == "1"
    failed = [c.get("name") for c in root.iter("testcase") if c.find("failure") is not None]
    assert failed == ["gamma"]
    names = sorted(c.get("name") for c in root.iter("testcase"))
    assert names == ["alpha-pkg", "beta", "delta", "gamma"]  # winonly does not apply on linux


def test_snapshot_then_offline_check_and_diff(python_project, tmp_path):
    p = python_project
    snap = tmp_path / "prod.json"
    made = run_envman("snapshot", f"python:{p['python']}", "-o", str(snap))
    assert made.returncode == 0, made.stderr
    data = json.loads(snap.read_text())
    assert data["envman-snapshot"] == 1 and data["target"] == f"python:{p['python']}"
    assert data["runtimes"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert {"name": "beta", "version": "2.0"}.items() <= next(r for r in data["packages"]["python"] if r["name"] == "beta").items()
    assert run_envman("check", "-f", str(p["manifest"]), str(snap)).returncode == 0

    subprocess.run([uv_bin(), "pip", "install", "-q", "--python", str(p["python"]), "--link-mode", "copy", "--no-index",
                    "--find-links", str(p["wheel_dir"]), "beta==2.1"], check=True)
    diff = run_envman("diff", "-f", str(p["manifest"]), str(snap), f"python:{p['python']}", "--format", "json")
    assert diff.returncode == 1
    assert json.loads(diff.stdout) == {
        "left": str(snap),
        "right": f"python:{p['python']}",
        "identical": False,
        "differences": [{"ecosystem": "python", "name": "beta", "left": "2.0", "right": "2.1"}],
    }
    same = run_envman("diff", "-f", str(p["manifest"]), "lock:default", str(snap))
    assert same.returncode == 0, same.stdout
    table = run_envman("diff", "-f", str(p["manifest"]), "lock:default", f"python:{p['python']}")
    assert table.returncode == 1 and "beta" in table.stdout and "2.1" in table.stdout


def test_duplicates_on_sys_path_are_reported(python_project, tmp_path):
    # a second copy of beta on PYTHONPATH-like .pth path: both are reported, not hidden
    p = python_project
    other = tmp_path / "other-site"
    subprocess.run([uv_bin(), "pip", "install", "-q", "--target", str(other), "--link-mode", "copy", "--no-index",
                    "--find-links", str(p["wheel_dir"]), "beta==2.1"], check=True)
    site = Path(subprocess.check_output([str(p["python"]), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                        text=True).strip())
    (site / "zz-extra.pth").write_text(str(other) + "\n")
    proc = run_envman("check", "-f", str(p["manifest"]), "--format", "json", f"python:{p['python']}")
    assert proc.returncode == 1
    findings = json.loads(proc.stdout)["targets"][0]["findings"]
    assert [(f["name"], f["kind"], f["actual"]) for f in findings] == [("beta", "extra", "2.1")]
    assert str(other) in findings[0]["detail"]


def test_runtime_mismatch_is_a_finding(python_project, wheelhouse):
    from envman.lockfile import PlatformLock
    from tests.drift.conftest import python_entries, python_manifest, write_project

    p = python_project
    plock = PlatformLock(python_version="3.9.1", python=python_entries(wheelhouse))
    manifest = write_project(p["tmp"] / "old", python_manifest(p["wheel_dir"]), {"linux-64": plock})
    proc = run_envman("check", "-f", str(manifest), "--format", "json", f"python:{p['python']}")
    assert proc.returncode == 1
    findings = json.loads(proc.stdout)["targets"][0]["findings"]
    assert [(f["kind"], f["name"], f["expected"]) for f in findings] == [("runtime", "python", "3.9.1")]
    assert findings[0]["actual"] == ".".join(map(str, sys.version_info[:3]))


def test_the_targets_own_platform_section_is_used(python_project, wheelhouse):
    """A lock for linux-64 and linux-aarch64: an x86_64 venv is compared with linux-64 unless told otherwise."""
    import platform as host

    from envman.ecosystems.python.entry import PythonEntry
    from envman.lockfile import PlatformLock
    from tests.drift.conftest import python_entries, python_manifest, write_project

    p = python_project
    x86 = PlatformLock(python_version=f"{sys.version_info.major}.{sys.version_info.minor}", python=python_entries(wheelhouse))
    arm = PlatformLock(python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
                       python=python_entries(wheelhouse) + [PythonEntry(name="arm-only", version="1.0", hashes=["sha256:" + "1" * 64])])
    manifest = write_project(p["tmp"] / "multi", python_manifest(p["wheel_dir"]), {"linux-64": x86, "linux-aarch64": arm})
    own = "linux-aarch64" if host.machine() in ("aarch64", "arm64") else "linux-64"
    proc = run_envman("check", "-f", str(manifest), "--format", "json", f"python:{p['python']}")
    data = json.loads(proc.stdout)
    assert data["targets"][0]["platform"] == own
    forced = run_envman("check", "-f", str(manifest), "--platform", "linux-aarch64", "--format", "json", f"python:{p['python']}")
    assert forced.returncode == 1 and [f["name"] for f in json.loads(forced.stdout)["targets"][0]["findings"]] == ["arm-only"]
