"""Shared fixtures for the whole suite: real components or a loud failure, never a skip.

`bash tests/run.sh` installs and starts everything these fixtures look for.
Ecosystem-specific fixtures live in tests/<ecosystem>/conftest.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

BASE_IMAGE = "envman-test-base:bookworm"
SETUP_HINT = "run `bash tests/run.sh` (as root) once: it installs and starts what the tests need"

# Fixtures that imply a marker, so `-m "not docker"` and friends select correctly.
_FIXTURE_MARKERS = {"docker_client": "docker", "base_image": "docker", "rscript": "r", "mvn": "maven"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        for fixture, marker in _FIXTURE_MARKERS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(marker)


@pytest.fixture(scope="session", autouse=True)
def envman_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """ENVMAN_CACHE_DIR points to a fresh temporary folder: tests never touch the user cache."""
    path = tmp_path_factory.mktemp("envman-cache")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ENVMAN_CACHE_DIR", str(path))
        yield path


@pytest.fixture(scope="session")
def docker_client():
    """A docker SDK client for a live engine (fails the test when none answers)."""
    try:
        import docker
    except ImportError as exc:  # pragma: no cover - the docker SDK is a dependency
        pytest.fail(f"the docker SDK is not installed ({exc}); {SETUP_HINT}", pytrace=False)
    problem = None
    try:
        client = docker.from_env(timeout=300)
        client.ping()
    except Exception as exc:  # any failure here means: no usable engine
        problem = f"{type(exc).__name__}: {exc}"
    if problem is not None:  # failed outside the except block: no chained tracebacks
        pytest.fail(f"no Docker engine answers ({problem}); {SETUP_HINT}", pytrace=False)
    yield client
    client.close()


@pytest.fixture(scope="session")
def base_image(docker_client) -> str:
    """Name of the local test base image (Debian bookworm minbase + python3, python3-venv,
    ca-certificates). No image can be pulled here: build FROM this one."""
    import docker.errors

    try:
        docker_client.images.get(BASE_IMAGE)
        return BASE_IMAGE
    except docker.errors.ImageNotFound:
        pass
    pytest.fail(f"the test base image {BASE_IMAGE} is missing; {SETUP_HINT}", pytrace=False)


def _tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} not found on PATH (Debian package {package}); {SETUP_HINT}", pytrace=False)
    return path


@pytest.fixture(scope="session")
def rscript() -> str:
    """Path to Rscript (r-base-core)."""
    return _tool("Rscript", "r-base-core")


@pytest.fixture(scope="session")
def mvn() -> str:
    """Path to mvn (maven, with libmaven-dependency-plugin-java and junit4)."""
    return _tool("mvn", "maven")
