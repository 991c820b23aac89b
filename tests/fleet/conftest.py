"""One shared fleet for the fleet tests: a real sshd on 127.0.0.1, venvs on this machine
reached over SSH, and containers of one small image on both Docker engines."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from envman.ecosystems.python.entry import PythonEntry
from envman.lockfile import PlatformLock
from tests.drift.builders import make_wheel, sha256_file
from tests.drift.conftest import python_manifest, uv_bin, write_project
from tests.fleet.sshd import SSHServer, start_sshd

LOCKED = [("alpha-pkg", "1.0", "Alpha.Pkg", "1.0"), ("beta", "2.0", "beta", "2.0"), ("gamma", "0.3", "gamma", "0.3")]
WHEELS = [("Alpha.Pkg", "1.0"), ("beta", "2.0"), ("beta", "2.1"), ("gamma", "0.3")]
PER_ENGINE = 8  # containers on each engine (2 x 8 + 5 SSH hosts: 21 targets)


@pytest.fixture(scope="session")
def sshd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SSHServer]:
    server = start_sshd(tmp_path_factory.mktemp("sshd"))
    yield server
    server.process.terminate()
    server.process.wait(10)


@pytest.fixture(scope="session")
def stalled_port() -> Iterator[int]:
    """A listening socket that accepts and never answers (no SSH banner, nothing)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    yield int(sock.getsockname()[1])
    sock.close()


@pytest.fixture(scope="session")
def fleet_wheels(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("fleet-wheels")
    for name, version in WHEELS:
        make_wheel(folder, name, version)
    return folder


def make_venv(path: Path, wheels: Path, beta: str = "2.0") -> Path:
    subprocess.run([uv_bin(), "venv", "-q", str(path)], check=True, capture_output=True)
    set_beta(path, wheels, beta)
    return path / "bin" / "python"


def set_beta(venv: Path, wheels: Path, beta: str) -> None:
    reqs = [f"{wn}=={wv}" for _, _, wn, wv in LOCKED if wn != "beta"] + [f"beta=={beta}"]
    python = str(venv / "bin" / "python")
    subprocess.run([uv_bin(), "pip", "install", "-q", "--python", python, "--no-index", "--find-links", str(wheels), *reqs],
                   check=True, capture_output=True)


def _wheel(folder: Path, name: str, version: str) -> Path:
    return next(folder.glob(f"{name.replace('.', '_')}-{version}-*.whl"))


@pytest.fixture(scope="session")
def fleet_project(tmp_path_factory: pytest.TempPathFactory, fleet_wheels: Path) -> Path:
    """envman.yaml + envman.lock pinning the three wheels (beta 2.0)."""
    plock = PlatformLock(
        python_version="3.11",
        python=[PythonEntry(name=n, version=v, hashes=["sha256:" + sha256_file(_wheel(fleet_wheels, wn, wv))]) for n, v, wn, wv in LOCKED],
    )
    manifest = python_manifest(fleet_wheels).replace("[alpha-pkg, beta, gamma, delta]", "[alpha-pkg, beta, gamma]")
    return write_project(tmp_path_factory.mktemp("fleet-project"), manifest, {"linux-64": plock}, environment="production")


def _engine_client(url: str | None) -> Any:
    import docker

    return docker.from_env() if url is None else docker.DockerClient(base_url=url)


def _copy_image(image: str, url: str) -> None:
    """The test base image into the second engine (docker save | docker load), unless there."""
    import os

    env = dict(os.environ, DOCKER_HOST=url)
    if subprocess.run(["docker", "image", "inspect", image], env=env, capture_output=True).returncode == 0:
        return
    here = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    save = subprocess.Popen(["docker", "save", image], stdout=subprocess.PIPE, env=here)
    subprocess.run(["docker", "load", "-q"], stdin=save.stdout, env=env, check=True, capture_output=True)
    assert save.wait() == 0


def _image(client: Any, runtime_image: str, wheels: Path, context: Path) -> str:
    shutil.copytree(wheels, context / "wh")
    reqs = " ".join(f"{wn}=={wv}" for _, _, wn, wv in LOCKED)
    (context / "Dockerfile").write_text(
        f"FROM {runtime_image}\nCOPY wh /wh\n"
        f"RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install -q --no-index --find-links /wh {reqs}\n"
        "LABEL org.envman.python=/opt/venv/bin/python\n"
        f"LABEL org.envman.test-build={uuid.uuid4().hex}\n"
    )
    tag = f"envman-test-fleet:{uuid.uuid4().hex[:8]}"
    client.images.build(path=str(context), tag=tag, rm=True, forcerm=True, network_mode="none")
    return tag


@pytest.fixture(scope="session")
def fleet(tmp_path_factory, docker_client, base_image, second_engine, fleet_wheels, sshd) -> Iterator[dict[str, Any]]:
    """Containers on both engines (one on each drifted: beta 2.1), venvs reached over SSH
    (one drifted), built in parallel threads. The test base image is copied into the second
    engine once (docker save | docker load) and left there, like the runtime image."""
    engines = {"one": None, "two": second_engine}
    made: dict[str, Any] = {"engines": engines, "containers": {}, "images": {}}
    errors: list[BaseException] = []

    def build(key: str, url: str | None) -> None:
        try:
            client = _engine_client(url)
            if url is not None:
                _copy_image(base_image, url)
            tag = _image(client, base_image, fleet_wheels, tmp_path_factory.mktemp(f"fleet-image-{key}"))
            made["images"][key] = (client, tag)
            names = []
            for index in range(PER_ENGINE):
                name = f"envman-fleet-{key}-{index}-{uuid.uuid4().hex[:6]}"
                client.containers.run(tag, entrypoint=["sleep", "infinity"], name=name, detach=True, network_mode="none")
                names.append(name)
            made["containers"][key] = names
            drifted = client.containers.get(names[-1])
            done = drifted.exec_run(["/opt/venv/bin/pip", "install", "-q", "--no-index", "--find-links", "/wh", "beta==2.1"])
            assert done.exit_code == 0, done.output
        except BaseException as exc:  # handed to the fixture's thread
            errors.append(exc)

    threads = [threading.Thread(target=build, args=item) for item in engines.items()]
    for thread in threads:
        thread.start()
    base = tmp_path_factory.mktemp("fleet-venvs")
    made["venv_ok"] = make_venv(base / "ok", fleet_wheels)
    made["venv_drift"] = make_venv(base / "drift", fleet_wheels, beta="2.1")
    for thread in threads:
        thread.join()
    try:
        if errors:
            raise errors[0]
        yield made
    finally:
        for key, (client, tag) in made["images"].items():
            remove_quietly(client, made["containers"].get(key, []), tag)


def remove_quietly(client: Any, containers: list[str], image: str) -> None:
    """Clean-up that never fails a test: the containers (force), then their image."""
    for name in containers:
        try:
            client.containers.get(name).remove(force=True)
        except Exception:
            pass
    try:
        client.images.remove(image, force=True)
    except Exception:
        pass
