"""Fixtures for the adoption tests: real direct-reference sources (a git repository, a wheel
and an sdist served over http on 127.0.0.1, local folders) and the real CLI."""

from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conda.conftest import channel_dir, channel_url  # noqa: F401  (the conda test channel, shared)
from tests.drift.builders import make_wheel
from tests.python.conftest import simple_index  # noqa: F401  (the local index, shared)
from tests.python.servers import serve_directory

__all__ = ["run_envman", "Sources", "git"]

GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_NOSYSTEM": "1", "HOME": "/nonexistent"}


def run_envman(*args: str, cwd: Path, timeout: float = 300, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI in a separate process, as a user runs it."""
    return subprocess.run([sys.executable, "-m", "envman", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def git(*args: str, cwd: Path) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ, **GIT_ENV}, check=True)
    return done.stdout.strip()


def python_project(folder: Path, name: str, version: str) -> Path:
    """A tiny real project (flit_core backend, static metadata) in folder."""
    module = name.replace("-", "_")
    (folder / module).mkdir(parents=True, exist_ok=True)
    (folder / module / "__init__.py").write_text(f'"""{name}."""\n__version__ = "{version}"\n')
    (folder / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "{version}"\ndescription = "test"\n\n'
        '[build-system]\nrequires = ["flit_core>=3.4,<4"]\nbuild-backend = "flit_core.buildapi"\n'
    )
    return folder


def sdist(folder: Path, name: str, version: str) -> Path:
    """An sdist with static PKG-INFO (metadata 2.2: resolvers read it without building)."""
    base = f"{name.replace('-', '_')}-{version}"
    files = {
        f"{base}/PKG-INFO": f"Metadata-Version: 2.2\nName: {name}\nVersion: {version}\n".encode(),
        f"{base}/pyproject.toml": (
            f'[project]\nname = "{name}"\nversion = "{version}"\ndescription = "t"\n'
            '[build-system]\nrequires = ["flit_core>=3.4,<4"]\nbuild-backend = "flit_core.buildapi"\n'
        ).encode(),
        f"{base}/{name.replace('-', '_')}/__init__.py": b"",
    }
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, data in sorted(files.items()):
            info = tarfile.TarInfo(path)
            info.size, info.mtime = len(data), 0
            tar.addfile(info, io.BytesIO(data))
    folder.mkdir(parents=True, exist_ok=True)
    out = folder / f"{base}.tar.gz"
    out.write_bytes(gzip.compress(raw.getvalue(), mtime=0))
    return out


@dataclass(frozen=True)
class Sources:
    root: Path  # a folder a project may point to with relative paths
    git_url: str  # file:// URL of a git repository (tag v1, then one more commit)
    v1_commit: str
    head_commit: str
    wheel_url: str  # http://127.0.0.1/… wheel
    http: str


@pytest.fixture(scope="session")
def sources(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sources]:
    root = tmp_path_factory.mktemp("direct-sources")
    repo = python_project(root / "gitpkg", "gitpkg", "1.0")
    git("init", "-q", "-b", "main", cwd=repo)
    git("add", ".", cwd=repo)
    git("commit", "-qm", "v1", cwd=repo)
    git("tag", "v1", cwd=repo)
    v1 = git("rev-parse", "HEAD", cwd=repo)
    (repo / "gitpkg" / "extra.py").write_text("X = 2\n")
    git("add", ".", cwd=repo)
    git("commit", "-qm", "two", cwd=repo)
    head = git("rev-parse", "HEAD", cwd=repo)
    served = root / "served"
    make_wheel(served, "urlpkg", "2.0")
    make_wheel(root / "dist", "pathwheel", "3.0")
    sdist(root / "dist", "pathsdist", "4.0")
    python_project(root / "localpkg", "localpkg", "5.0")
    with serve_directory(served) as url:
        yield Sources(root, repo.as_uri(), v1, head, f"{url}/urlpkg-2.0-py3-none-any.whl", url)
