"""End to end with the real `envman lock` over a PEP 503 index served on 127.0.0.1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.drift.builders import make_wheel, serve_directory, sha256_file
from tests.drift.conftest import run_envman, uv_bin


@pytest.fixture(scope="module")
def index_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("index")
    files = root / "files"
    wheels = [
        make_wheel(files, "Tiny.Core", "1.0"),
        make_wheel(files, "Tiny.Core", "1.1"),
        make_wheel(files, "tiny-app", "2.0", requires=["tiny-core>=1.0"]),
    ]
    simple = root / "simple"
    by_project: dict[str, list[Path]] = {}
    for wheel in wheels:
        project = wheel.name.split("-")[0].replace("_", "-").lower()
        by_project.setdefault(project, []).append(wheel)
    for project, items in by_project.items():
        (simple / project).mkdir(parents=True)
        links = "".join(f'<a href="../../files/{w.name}#sha256={sha256_file(w)}">{w.name}</a>\n' for w in items)
        (simple / project / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{links}</body></html>\n")
    with serve_directory(root) as url:
        yield f"{url}/simple"


def test_lock_export_install_check_sync(tmp_path, index_url):
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    (tmp_path / "envman.yaml").write_text(
        f"version: 1\npython:\n  version: '{version}'\n  index-url: {index_url}\n  packages: ['tiny-app', 'tiny-core<1.1']\n"
    )
    locked = run_envman("lock", "-f", str(tmp_path / "envman.yaml"))
    assert locked.returncode == 0, locked.stderr
    req = run_envman("export", "-f", str(tmp_path / "envman.yaml"), "--format", "requirements")
    assert req.returncode == 0, req.stderr
    (tmp_path / "requirements.txt").write_text(req.stdout)
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    python = str(tmp_path / "venv" / "bin" / "python")
    subprocess.run([uv_bin(), "pip", "install", "-q", "--python", python, "--require-hashes", "--no-deps", "--link-mode", "copy",
                    "-r", str(tmp_path / "requirements.txt")], check=True)

    manifest = str(tmp_path / "envman.yaml")
    check = run_envman("check", "-f", manifest, "--deep", "--format", "json", f"python:{python}")
    assert check.returncode == 0, check.stdout + check.stderr

    subprocess.run([uv_bin(), "pip", "install", "-q", "--python", python, "--no-deps", "--index-url", index_url, "tiny-core==1.1"],
                   check=True)
    drift = run_envman("check", "-f", manifest, "--format", "json", f"python:{python}")
    assert drift.returncode == 1
    findings = json.loads(drift.stdout)["targets"][0]["findings"]
    assert [(f["name"], f["kind"], f["expected"], f["actual"]) for f in findings] == [("tiny-core", "changed", "1.0", "1.1")]
    diff = run_envman("diff", "-f", manifest, "lock:", f"python:{python}", "--format", "json")
    assert json.loads(diff.stdout)["differences"] == [{"ecosystem": "python", "name": "tiny-core", "left": "1.0", "right": "1.1"}]
    assert run_envman("sync", "-f", manifest, f"python:{python}").returncode == 0
    assert run_envman("check", "-f", manifest, "--deep", f"python:{python}").returncode == 0
