from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.python.servers import serve_directory, serve_errors
from tests.python.wheelhouse import write_simple_index


@pytest.fixture(scope="session")
def simple_index(tmp_path_factory) -> str:
    """URL of a PEP 503 index of tiny wheels, served on 127.0.0.1 for the session."""
    root = write_simple_index(tmp_path_factory.mktemp("pyindex"))
    with serve_directory(root) as url:
        yield f"{url}/simple"


@pytest.fixture()
def failing_index() -> str:
    with serve_errors() as url:
        yield f"{url}/simple"


def run_envman(*args: str, cwd: Path, timeout: float = 300, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real CLI as a user would (a separate process)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "envman", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env)


@pytest.fixture()
def project(tmp_path, simple_index):
    """Write envman.yaml in a temp project; returns (dir, write(text))."""
    def write(body: str) -> Path:
        text = body.replace("INDEX", simple_index)
        (tmp_path / "envman.yaml").write_text(text)
        return tmp_path
    return write
