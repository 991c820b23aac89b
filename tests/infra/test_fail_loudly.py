"""A missing component fails the tests that need it: an error, never a skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def run_pytest(selection: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", selection, "-q", "-n", "0", "-p", "no:cacheprovider", "-rA"],
        cwd=REPO, env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )


def test_unreachable_engine_errors_not_skips():
    done = run_pytest("tests/infra/test_base_image.py::test_python_runs_in_base_image", DOCKER_HOST="unix:///nonexistent.sock")
    assert done.returncode == 1, done.stdout
    assert "no Docker engine answers" in done.stdout and "1 error" in done.stdout
    assert "skipped" not in done.stdout


def test_missing_tools_error_not_skip():
    done = run_pytest("tests/infra/test_fixtures.py::test_mvn_runs", PATH="/nonexistent")
    assert done.returncode == 1, done.stdout
    assert "mvn not found on PATH (Debian package maven)" in done.stdout
    assert "skipped" not in done.stdout
