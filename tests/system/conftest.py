"""Fixtures of the system (apt) tests: a small apt repository served on 127.0.0.1 and a base
image whose only apt source it is (the runtime test image plus one sources.list), built once
per session; the apt lists volumes envman makes for it are removed at the end."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.python.servers import serve_directory
from tests.system.aptrepo import SUITE, Deb, build_repo

REPO_DEBS = [
    Deb("envtest-lib", "1.0-1"),
    Deb("envtest-lib", "1.1-1"),
    Deb("envtest-app", "2.0-1", depends="envtest-lib (>= 1.0)",
        files={"usr/bin/envtest-app": "#!/bin/sh\necho envtest-app 2.0\n", "usr/share/envman-test/app.txt": "app\n"}),
    Deb("envtest-plugin", "0.1-1", depends="envtest-app"),
    Deb("envtest-red", "1.0-1", conflicts="envtest-blue"),
    Deb("envtest-blue", "1.0-1"),
    Deb("envtest-needs-ghost", "1.0-1", depends="envtest-ghost"),
    Deb("envtest-java-shim", "1.0-1", provides="envtest-virtual"),
]


def run_envman(*args: str, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", "envman", *args]
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, env=dict(os.environ))


@pytest.fixture(scope="session")
def apt_repo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    """(folder, URL) of the served repository."""
    root = build_repo(tmp_path_factory.mktemp("aptrepo") / "repo", REPO_DEBS)
    with ExitStack() as stack:
        url = stack.enter_context(serve_directory(root))
        yield root, url


@pytest.fixture(scope="session")
def repo_base(docker_client, runtime_image, apt_repo) -> Iterator[str]:
    """An image tag: the runtime test image with the served repository as its one apt source."""
    _root, url = apt_repo
    dockerfile = f"FROM {runtime_image}\nCOPY sources.list /etc/apt/sources.list\n".encode()
    sources = f"deb [trusted=yes] {url} {SUITE} main\n".encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in (("Dockerfile", dockerfile), ("sources.list", sources)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    tag = f"envman-test-aptrepo:{os.getpid()}"
    image, _logs = docker_client.images.build(fileobj=io.BytesIO(buffer.getvalue()), custom_context=True, tag=tag, rm=True)
    yield tag
    from envman.ecosystems.system.container import lists_volume

    for reference in (tag, image.id):
        try:
            docker_client.volumes.get(lists_volume(reference)).remove(force=True)
        except Exception:
            pass
    docker_client.images.remove(tag, force=True)


def project(folder: Path, base: str, apt: list[str], extra: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    listed = ", ".join(f'"{spec}"' for spec in apt)
    (folder / "envman.yaml").write_text(f"version: 1\nsystem:\n  apt: [{listed}]\nimage:\n  base: {base}\n{extra}")
    return folder
