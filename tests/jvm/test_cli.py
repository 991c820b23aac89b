"""`envman lock` / `export --format maven` on a manifest with a jvm section (real CLI, subprocess)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import yaml

from tests.jvm.scenarios import build_rules_repo


def _envman(*args, cwd, cache):
    env = dict(os.environ, ENVMAN_CACHE_DIR=str(cache))
    return subprocess.run([sys.executable, "-m", "envman", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def test_lock_and_export(tmp_path):
    repo = build_rules_repo(tmp_path / "repo")
    project = tmp_path / "project"
    project.mkdir()
    (project / "envman.yaml").write_text(
        "version: 1\n"
        "jvm:\n"
        '  java: "17"\n'
        f"  repositories: [{repo.url}]\n"
        "  dependencies:\n"
        '    - "m.med:a:1"\n'
        "    - artifact: o.opt:scoped:1\n"
        "      scope: runtime\n"
        '      exclusions: ["x.leaf:other"]\n'
        "environments:\n"
        "  production: {}\n"
        "  design:\n"
        '    jvm: {dependencies: ["b.bom:app:1"]}\n'
    )
    first = _envman("lock", "-f", "envman.yaml", cwd=project, cache=tmp_path / "cache")
    assert first.returncode == 0, first.stderr
    text = (project / "envman.lock").read_text()
    lock = yaml.safe_load(text)
    production = {e["name"]: e for e in lock["environments"]["production"]["linux-64"]["jvm"]}
    design = {e["name"]: e for e in lock["environments"]["design"]["linux-64"]["jvm"]}
    assert set(production) < set(design)
    assert "b.bom:app" in design and "b.bom:app" not in production
    for name, entry in production.items():
        assert design[name]["version"] == entry["version"]  # one resolution
    assert production["o.opt:scoped"]["scope"] == "runtime"
    assert production["x.leaf:third"]["scope"] == "compile"  # also reached through m.med:a (compile)
    # deterministic: locking again gives the same bytes
    (project / "envman.lock").unlink()
    second = _envman("lock", "-f", "envman.yaml", cwd=project, cache=tmp_path / "cache")
    assert second.returncode == 0, second.stderr
    assert (project / "envman.lock").read_text() == text
    exported = _envman("export", "-f", "envman.yaml", "--env", "design", "--format", "maven", cwd=project, cache=tmp_path / "cache")
    assert exported.returncode == 0, exported.stderr
    document = json.loads(exported.stdout)
    assert {a["name"] for a in document["artifacts"]} == set(design)
    assert document["classpath"].split(":")[0] == "lib/m.med/a-1.jar"


def test_resolution_error_exit_code(tmp_path):
    project = tmp_path / "project"
    project.mkdir()
    repo = tmp_path / "empty-repo"
    repo.mkdir()
    (project / "envman.yaml").write_text(
        f"version: 1\njvm:\n  repositories: [{repo.as_uri()}]\n  dependencies: [\"no.such:thing:1.0\"]\n"
    )
    result = _envman("lock", "-f", "envman.yaml", cwd=project, cache=tmp_path / "cache")
    assert result.returncode == 3, result.stderr
    assert "no.such:thing:1.0" in result.stderr and "Traceback" not in result.stderr
