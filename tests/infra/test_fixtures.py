"""The shared fixtures of tests/conftest.py."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from envman.cache import ArtifactCache, cache_root


def test_cache_dir_is_isolated(envman_cache_dir, tmp_path_factory):
    assert os.environ["ENVMAN_CACHE_DIR"] == str(envman_cache_dir)
    assert cache_root() == envman_cache_dir
    assert envman_cache_dir.is_relative_to(tmp_path_factory.getbasetemp())
    _digest, path = ArtifactCache().put_artifact(b"x")
    assert path.is_relative_to(envman_cache_dir)


def test_rscript_runs(rscript):
    out = subprocess.run([rscript, "-e", "cat(R.version$major)"], capture_output=True, text=True, check=True)
    assert int(out.stdout) >= 4


def test_mvn_runs(mvn):
    out = subprocess.run([mvn, "-v"], capture_output=True, text=True, check=True)
    assert "Apache Maven" in out.stdout


def test_fixture_markers_are_applied(request, mvn):
    assert request.node.get_closest_marker("maven") is not None


def test_maven_dependency_plugin_and_junit_are_installed():
    assert Path("/usr/share/maven-repo/org/apache/maven/plugins/maven-dependency-plugin").is_dir()
    assert Path("/usr/share/java/junit4.jar").exists()
