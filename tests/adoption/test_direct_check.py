"""`envman check` recognises Python direct references in a target by their direct_url.json
(PEP 610): the locked commit of a VCS requirement, the locked file of an archive, a local
folder; the same version from another commit is drift. Installed with the real uv."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import yaml
from uv import find_uv_bin

from tests.adoption.conftest import Sources, run_envman


def _uv(*args: str) -> None:
    subprocess.run([find_uv_bin(), *args], check=True, capture_output=True, text=True)


def test_check_knows_direct_references_by_direct_url_json(sources: Sources, tmp_path: Path) -> None:
    project = sources.root / "check-direct"
    project.mkdir(exist_ok=True)
    manifest = {"version": 1, "python": {"version": "3.11", "packages": [
        f"gitpkg @ git+{sources.git_url}@v1",
        f"urlpkg @ {sources.wheel_url}",
        "pathwheel @ file:../dist/pathwheel-3.0-py3-none-any.whl",
        "localpkg @ file:../localpkg",
    ]}}
    (project / "envman.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    done = run_envman("lock", cwd=project)
    assert done.returncode == 0, done.stderr
    exported = run_envman("export", "--format", "requirements", cwd=project)
    assert exported.returncode == 0, exported.stderr
    assert f"gitpkg @ git+{sources.git_url}@{sources.v1_commit}" in exported.stdout  # the URL as locked, not name==version

    venv = tmp_path / "venv"
    _uv("venv", "--quiet", "--no-config", "--python", "3.11", str(venv))
    python = str(venv / "bin" / "python")
    _uv("pip", "install", "--quiet", "--no-config", "--python", python, "--no-deps",
        f"gitpkg @ git+{sources.git_url}@{sources.v1_commit}", f"urlpkg @ {sources.wheel_url}",
        f"pathwheel @ {(sources.root / 'dist' / 'pathwheel-3.0-py3-none-any.whl').as_uri()}",
        f"localpkg @ {(sources.root / 'localpkg').as_uri()}")
    check = run_envman("check", f"python:{python}", "--format", "json", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    assert json.loads(check.stdout)["in_sync"] is True

    # the same version of gitpkg from another commit: drift, named by the commits
    _uv("pip", "install", "--quiet", "--no-config", "--python", python, "--no-deps", "--reinstall-package", "gitpkg",
        f"gitpkg @ git+{sources.git_url}@{sources.head_commit}")
    check = run_envman("check", f"python:{python}", "--format", "json", cwd=project)
    assert check.returncode == 1, check.stdout + check.stderr
    findings = json.loads(check.stdout)["targets"][0]["findings"]
    assert findings == [{
        "ecosystem": "python", "name": "gitpkg", "kind": "changed",
        "expected": f"1.0 (commit {sources.v1_commit[:12]})", "actual": f"1.0 (commit {sources.head_commit[:12]})",
    }]


def test_sync_installs_direct_references(sources: Sources, tmp_path: Path) -> None:
    """sync installs VCS references at their locked commit and archives (URL, relative path)
    by their sha256; the result checks in sync. A local folder (no hash) is refused."""
    project = sources.root / "sync-direct"
    project.mkdir(exist_ok=True)
    manifest = {"version": 1, "python": {"version": "3.11", "packages": [
        f"gitpkg @ git+{sources.git_url}@v1", f"urlpkg @ {sources.wheel_url}",
        "pathwheel @ file:../dist/pathwheel-3.0-py3-none-any.whl",
    ]}}
    (project / "envman.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    assert run_envman("lock", cwd=project).returncode == 0
    venv = tmp_path / "venv"
    _uv("venv", "--quiet", "--no-config", "--python", "3.11", str(venv))
    python = f"python:{venv / 'bin' / 'python'}"
    done = run_envman("sync", python, cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    check = run_envman("check", python, "--format", "json", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr

    manifest["python"]["packages"].append("localpkg @ file:../localpkg")
    (project / "envman.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    assert run_envman("lock", cwd=project).returncode == 0
    done = run_envman("sync", python, cwd=project)
    assert done.returncode == 5 and "no hashes for localpkg" in done.stderr, done.stderr


def test_direct_references_images_cannot_hold_are_refused_by_name() -> None:
    """Images install git and archive references (tests/adoption/test_direct_image.py); an hg
    reference or a local folder (no locked hash) is refused before anything is fetched."""
    import re

    import pytest

    from envman.ecosystems.python.entry import PythonEntry
    from envman.ecosystems.python.image_direct import direct_files
    from envman.errors import BuildError

    hg = [PythonEntry(name="hgpkg", version="1.0", url="hg+https://h/x@" + "a" * 40, commit="a" * 40)]
    with pytest.raises(BuildError, match=re.escape(f"hgpkg @ hg+https://h/x@{'a' * 40}: images of hg references are not supported")):
        direct_files(hg, None, cache=None)
    folder = [PythonEntry(name="localpkg", version="5.0", url="file:../localpkg")]
    with pytest.raises(BuildError, match=re.escape("localpkg @ file:../localpkg is a local folder, locked without a hash")):
        direct_files(folder, None, cache=None)
