"""Fixtures for the conda tests: channels made by tests/conda/channel.py, served over http
on 127.0.0.1.

    serve(root) -> "http://127.0.0.1:PORT"  (function scope; the server stops after the test)
    channel_dir                            the standard channel's folder (session, read-only)
    channel_url                            the standard channel served for the session
    run_envman(*args, cwd=...)             the real CLI in a separate process
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.conda.channel import build_channel, standard_packages
from tests.python.servers import serve_directory

__all__ = ["run_envman"]


def run_envman(*args: str, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the real CLI as a user would (a separate process)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "envman", *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env)


@pytest.fixture
def serve() -> Iterator[Callable[[Path], str]]:
    """serve(root) -> the URL of root served over http on 127.0.0.1 (until the test ends)."""
    with ExitStack() as stack:
        yield lambda root: stack.enter_context(serve_directory(root))


@pytest.fixture(scope="session")
def channel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The standard test channel (tests/conda/channel.py standard_packages()) on disk."""
    return build_channel(tmp_path_factory.mktemp("conda-channel"), standard_packages())


@pytest.fixture(scope="session")
def channel_url(channel_dir: Path) -> Iterator[str]:
    """The standard test channel, served over http on 127.0.0.1 for the session."""
    with serve_directory(channel_dir) as url:
        yield url
