"""docker: targets on another engine: $DOCKER_HOST, a docker context ($DOCKER_CONTEXT, made
with the real docker CLI), --engine URL; one run mixing both engines."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

from tests.drift.conftest import run_envman
from tests.fleet.conftest import _copy_image


@pytest.fixture(scope="module")
def engine2_container(second_engine, base_image):
    import docker

    _copy_image(base_image, second_engine)
    client = docker.DockerClient(base_url=second_engine)
    name = f"envman-fleet-engine2-{uuid.uuid4().hex[:8]}"
    container = client.containers.run(base_image, entrypoint=["sleep", "infinity"], name=name, detach=True, network_mode="none")
    yield name
    container.remove(force=True)


@pytest.fixture(scope="module")
def engine1_container(docker_client, base_image):
    name = f"envman-fleet-engine1-{uuid.uuid4().hex[:8]}"
    container = docker_client.containers.run(base_image, entrypoint=["sleep", "infinity"], name=name, detach=True, network_mode="none")
    yield name
    container.remove(force=True)


def _python_of(done: subprocess.CompletedProcess) -> dict:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_docker_host_context_and_engine_url(second_engine, engine2_container, engine1_container, fleet_project, tmp_path):
    target = f"docker:{engine2_container}"
    # not on the default engine
    done = run_envman("snapshot", target, env={"DOCKER_HOST": "unix:///var/run/docker.sock"})
    assert done.returncode == 4 and "no such container" in done.stderr
    assert _python_of(run_envman("snapshot", target, env={"DOCKER_HOST": second_engine}))["target"] == target
    # a docker context made by the docker CLI, chosen by $DOCKER_CONTEXT (DOCKER_HOST unset)
    config = tmp_path / "docker-config"
    env = {k: v for k, v in os.environ.items() if k != "DOCKER_HOST"}
    env["DOCKER_CONFIG"] = str(config)
    subprocess.run(["docker", "context", "create", "engine-two", "--docker", f"host={second_engine}"], env=env, check=True,
                   capture_output=True)
    snapshot = run_envman("snapshot", target, env={"DOCKER_CONFIG": str(config), "DOCKER_CONTEXT": "engine-two", "DOCKER_HOST": ""})
    assert _python_of(snapshot)["target"] == target
    # the context as the current one (docker context use), as the docker CLI would pick it
    subprocess.run(["docker", "context", "use", "engine-two"], env=env, check=True, capture_output=True)
    assert _python_of(run_envman("snapshot", target, env={"DOCKER_CONFIG": str(config), "DOCKER_HOST": ""}))["target"] == target
    # one check run mixing engines: --engine for one, an inventory-less list with engine per target
    listed = tmp_path / "targets.yaml"
    listed.write_text(f"- docker:{engine1_container}\n- target: docker:{engine2_container}\n  engine: {second_engine}\n")
    done = run_envman("check", "-f", str(fleet_project), "--inventory", str(listed), "--format", "json",
                      env={"DOCKER_HOST": "unix:///var/run/docker.sock"})
    rows = json.loads(done.stdout)["targets"]
    assert [r["target"] for r in rows] == [f"docker:{engine1_container}", target]
    assert all(r.get("error") is None for r in rows), rows  # both reached (the base image has no venv: drift)
    done = run_envman("check", "-f", str(fleet_project), target, "--engine", "no-such-context", "--format", "json")
    assert done.returncode == 4 and "no docker context named 'no-such-context'" in done.stderr, done.stderr
