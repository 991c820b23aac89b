"""Shared fixtures for the whole suite: real components or a loud failure, never a skip.

`bash tests/run.sh` installs and starts everything these fixtures look for.
Ecosystem-specific fixtures live in tests/<ecosystem>/conftest.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

BASE_IMAGE = "envman-test-base:bookworm"
RUNTIME_IMAGE = "envman-test-runtime:bookworm"  # tests/setup/runtime-images.sh
BUILDER_IMAGE = "envman-test-builder:bookworm"  # tests/setup/runtime-images.sh
REGISTRY = "127.0.0.1:5000"  # tests/setup/registry.sh
REGISTRY_RUNTIME_REF = f"{REGISTRY}/envman/runtime:bookworm"
SETUP_DIR = Path(__file__).resolve().parent / "setup"
SETUP_HINT = "run `bash tests/run.sh` (as root) once: it installs and starts what the tests need"

# Fixtures that imply a marker, so `-m "not docker"` and friends select correctly.
_FIXTURE_MARKERS = {
    "docker_client": "docker",
    "base_image": "docker",
    "runtime_image": "docker",
    "builder_image": "docker",
    "local_registry": "docker",
    "registry_runtime_ref": "docker",
    "second_engine": "docker",
    "rscript": "r",
    "mvn": "maven",
}


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


def _local_image(docker_client, name: str, made_by: str) -> str:
    import docker.errors

    try:
        docker_client.images.get(name)
        return name
    except docker.errors.ImageNotFound:
        pass
    pytest.fail(f"the test image {name} is missing (tests/setup/{made_by}); {SETUP_HINT}", pytrace=False)


@pytest.fixture(scope="session")
def runtime_image(docker_client) -> str:
    """`"envman-test-runtime:bookworm"`: the test base plus Debian's python3, python3-venv,
    r-base-core (R 4.2, base packages only) and openjdk-17-jre-headless; no compiler.
    The base image envman's image tests build FROM."""
    return _local_image(docker_client, RUNTIME_IMAGE, "runtime-images.sh")


@pytest.fixture(scope="session")
def builder_image(docker_client) -> str:
    """`"envman-test-builder:bookworm"`: the runtime image plus r-base-dev (gcc, g++, gfortran,
    make, R headers), the same package versions: for `image.builder` stages that compile R
    packages without network."""
    return _local_image(docker_client, BUILDER_IMAGE, "runtime-images.sh")


def _registry_get(path: str, accept: str | None = None) -> str | None:
    """GET http://REGISTRY/PATH without any proxy; None when it answers 200, else the problem."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(f"http://{REGISTRY}{path}", headers={"Accept": accept} if accept else {})
    try:
        with opener.open(request, timeout=10) as response:
            if response.status == 200:
                return None
            return f"HTTP {response.status}"
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code}"
    except OSError as exc:
        return f"{type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def local_registry() -> str:
    """`"127.0.0.1:5000"`: Debian's docker-registry (plain http, so `--tls-verify=false` for
    skopeo; the engine treats 127.0.0.0/8 as insecure by default). Fails when it does not answer."""
    problem = _registry_get("/v2/")
    if problem is not None:
        pytest.fail(f"no registry answers on http://{REGISTRY}/v2/ ({problem}); {SETUP_HINT}", pytrace=False)
    return REGISTRY


@pytest.fixture(scope="session")
def registry_runtime_ref(local_registry) -> str:
    """`"127.0.0.1:5000/envman/runtime:bookworm"`: the runtime image in the local registry
    (same image ID as `runtime_image`)."""
    repo, tag = REGISTRY_RUNTIME_REF.removeprefix(f"{local_registry}/").rsplit(":", 1)
    problem = _registry_get(f"/v2/{repo}/manifests/{tag}", "application/vnd.docker.distribution.manifest.v2+json")
    if problem is not None:
        pytest.fail(f"the registry lacks {REGISTRY_RUNTIME_REF} ({problem}); {SETUP_HINT}", pytrace=False)
    return REGISTRY_RUNTIME_REF


@pytest.fixture(scope="session")
def second_engine(runtime_image, builder_image) -> Iterator[str]:
    """DOCKER_HOST URL (`unix:///run/envman-test-engine2/docker.sock`) of a second dockerd that
    shares nothing with the default engine and holds the runtime and builder images.

    tests/setup/second-engine.sh starts it on first use and stops it when its last user ends:
    the xdist workers share one engine, each registered by its process id under a file lock."""
    script = SETUP_DIR / "second-engine.sh"
    token = str(os.getpid())
    done = subprocess.run(["bash", str(script), "acquire", token], capture_output=True, text=True, timeout=900)
    if done.returncode != 0:
        pytest.fail(f"the second Docker engine is not available:\n{done.stderr.strip()}\n{SETUP_HINT}", pytrace=False)
    yield done.stdout.strip().splitlines()[-1]
    done = subprocess.run(["bash", str(script), "release", token], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        warnings.warn(f"second-engine.sh release failed: {done.stderr.strip()}", stacklevel=1)


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


@pytest.fixture(scope="session")
def skopeo() -> str:
    """Path to skopeo (Debian's, 1.9)."""
    return _tool("skopeo", "skopeo")


@pytest.fixture(scope="session")
def repos_url(tmp_path_factory) -> Iterator[str]:
    """The example's real R (cran/) and Maven (maven/) repositories plus a local PEP 503 index
    of tiny wheels (pypi/simple), served over http on 127.0.0.1."""
    import shutil

    from tests.python.servers import serve_directory
    from tests.python.wheelhouse import write_simple_index

    root = tmp_path_factory.mktemp("repos")
    shutil.copytree(Path(__file__).resolve().parents[1] / "examples" / "multi-language" / "repos", root, dirs_exist_ok=True)
    write_simple_index(root / "pypi")
    with serve_directory(root) as url:
        yield url
