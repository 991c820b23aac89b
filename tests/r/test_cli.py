"""`envman lock` / `envman export --format renv` on manifests with an `r:` section."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.r.r_helpers import RepoBuilder


@pytest.fixture
def project(tmp_path: Path, serve):
    repo = RepoBuilder(tmp_path / "repo")
    repo.add("top", "1.0", Depends="R (>= 3.5.0), mid")
    repo.add("mid", "2.1", Imports="low (>= 1.1), stats")
    repo.add("low", "1.2")
    repo.add("low", "1.1", archived=True)
    repo.add("low", "1.0", archived=True)
    repo.add("dev", "0.1", Imports="low")
    repo.write()
    server = serve(repo.root)
    project = tmp_path / "proj"
    project.mkdir()
    manifest = f"""version: 1
name: r-demo
r:
  version: "4.3.3"
  repositories: {{CRAN: "{server.url}"}}
  packages: ["top", "low (>= 1.1)"]
environments:
  production: {{}}
  design:
    r: {{packages: [dev]}}
"""
    (project / "envman.yaml").write_text(manifest)
    return project, repo, server


def envman(*args: str, cwd: Path, cache: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "ENVMAN_CACHE_DIR": str(cache), "ENVMAN_HTTP_RETRIES": "0"}
    return subprocess.run([sys.executable, "-m", "envman", *args], cwd=cwd, capture_output=True, text=True, env=env, timeout=120)


def test_lock_export_and_determinism(project, tmp_path):
    proj, repo, server = project
    done = envman("lock", "-f", "envman.yaml", cwd=proj, cache=tmp_path / "cache")
    assert done.returncode == 0, done.stderr
    text = (proj / "envman.lock").read_text()
    data = yaml.safe_load(text)
    prod = {e["name"]: e for e in data["environments"]["production"]["linux-64"]["r"]}
    design = {e["name"]: e for e in data["environments"]["design"]["linux-64"]["r"]}
    assert sorted(prod) == ["low", "mid", "top"] and sorted(design) == ["dev", "low", "mid", "top"]
    assert prod["low"] == design["low"]
    assert prod["low"]["sha256"] == hashlib.sha256((repo.contrib / "low_1.2.tar.gz").read_bytes()).hexdigest()
    assert prod["mid"]["requires"] == ["low"] and prod["mid"]["repository"] == "CRAN"

    # a fresh cache and a forced re-resolution give byte-identical output
    (proj / "envman.lock").unlink()
    again = envman("lock", "-f", "envman.yaml", cwd=proj, cache=tmp_path / "cache2")
    assert again.returncode == 0, again.stderr
    assert (proj / "envman.lock").read_text() == text
    assert envman("lock", "--check", cwd=proj, cache=tmp_path / "cache2").returncode == 0

    out = envman("export", "--format", "renv", "--env", "design", cwd=proj, cache=tmp_path / "cache")
    assert out.returncode == 0, out.stderr
    renv = json.loads(out.stdout)
    assert renv["R"]["Version"] == "4.3.3"
    assert renv["R"]["Repositories"] == [{"Name": "CRAN", "URL": server.url}]
    assert sorted(renv["Packages"]) == ["dev", "low", "mid", "top"]
    assert renv["Packages"]["low"] == {"Package": "low", "Version": "1.2", "Source": "Repository", "Repository": "CRAN"}


def test_exit_codes(project, tmp_path):
    proj, repo, server = project
    manifest = (proj / "envman.yaml").read_text()

    (proj / "envman.yaml").write_text(manifest.replace('"top"', '"tpo"'))
    done = envman("lock", cwd=proj, cache=tmp_path / "c1")
    assert done.returncode == 3 and "did you mean `top`" in done.stderr and "Traceback" not in done.stderr

    (proj / "envman.yaml").write_text(manifest.replace('"low (>= 1.1)"', '"low (< 1.1)"'))
    done = envman("lock", cwd=proj, cache=tmp_path / "c2")
    assert done.returncode == 3 and "low (>= 1.1), required by mid 2.1 <- top 1.0" in done.stderr

    (proj / "envman.yaml").write_text(manifest.replace(server.url, "http://127.0.0.1:9"))
    done = envman("lock", cwd=proj, cache=tmp_path / "c3")
    assert done.returncode == 4 and "127.0.0.1:9" in done.stderr
    assert not (proj / "envman.lock").exists()

    # a tarball whose checksum does not match: refused, nothing written
    (proj / "envman.yaml").write_text(manifest)
    text = (repo.contrib / "PACKAGES").read_text()
    tampered = text.replace(hashlib.md5((repo.contrib / "mid_2.1.tar.gz").read_bytes()).hexdigest(), "f" * 32)
    (repo.contrib / "PACKAGES").write_text(tampered)
    (repo.contrib / "PACKAGES.gz").write_bytes(gzip.compress(tampered.encode()))
    done = envman("lock", cwd=proj, cache=tmp_path / "c4")
    assert done.returncode == 3 and "mid_2.1.tar.gz" in done.stderr and "MD5" in done.stderr
    assert not (proj / "envman.lock").exists()
