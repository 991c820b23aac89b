"""A real running container (from the test base image) checked and diffed; an image probed without its entrypoint."""

from __future__ import annotations

import json
import shutil
import subprocess
import uuid

import pytest

from envman.ecosystems.jvm.entry import JvmEntry
from envman.lockfile import PlatformLock
from tests.drift.builders import make_jar, sha256_file
from tests.drift.conftest import LOCKED, python_entries, python_manifest, run_envman, uv_bin, write_project


@pytest.fixture(scope="module")
def app_image(docker_client, base_image, wheelhouse, tmp_path_factory):
    """An image with a venv (labelled) holding the locked wheels, and a jar folder under /opt."""
    context = tmp_path_factory.mktemp("image")
    wheel_dir = next(iter(wheelhouse.values())).parent
    shutil.copytree(wheel_dir, context / "wh")
    jar = make_jar(context / "jars", "com.example", "lib-a", "1.0")
    reqs = " ".join(f"{wn}=={wv}" for _, _, wn, wv in LOCKED)
    (context / "Dockerfile").write_text(
        f"FROM {base_image}\n"
        "COPY wh /wh\n"
        f"RUN python3 -m venv /opt/venv && /opt/venv/bin/pip install -q --no-index --find-links /wh {reqs}\n"
        "COPY jars /opt/app/lib\n"
        "LABEL org.envman.python=/opt/venv/bin/python\n"
        'ENTRYPOINT ["sh", "-c", "echo the entrypoint must not run; exit 3"]\n'
        # one image per build: two test workers building the same context must not share an
        # image id, or one removes the image the other's containers run
        f"LABEL org.envman.test-build={uuid.uuid4().hex}\n"
    )
    tag = f"envman-test-drift:{uuid.uuid4().hex[:8]}"
    docker_client.images.build(path=str(context), tag=tag, rm=True, forcerm=True, network_mode="none")
    yield {"tag": tag, "jar": jar}
    docker_client.images.remove(tag, force=True)


@pytest.fixture(scope="module")
def containers(docker_client, app_image):
    started = []
    for _ in range(2):
        name = f"envman-drift-{uuid.uuid4().hex[:8]}"
        started.append(docker_client.containers.run(app_image["tag"], entrypoint=["sleep", "infinity"], name=name,
                                                    detach=True, network_mode="none"))
    yield [c.name for c in started]
    for c in started:
        c.remove(force=True)


@pytest.fixture()
def project(tmp_path, wheelhouse, app_image):
    wheel_dir = next(iter(wheelhouse.values())).parent
    jar = app_image["jar"]
    plock = PlatformLock(
        python_version="3.11",
        python=python_entries(wheelhouse),
        jvm=[JvmEntry(name="com.example:lib-a", version="1.0", sha256=sha256_file(jar), url=jar.as_uri())],
    )
    manifest = python_manifest(wheel_dir, "jvm:\n  dependencies: ['com.example:lib-a:1.0']\n")
    return write_project(tmp_path / "project", manifest, {"linux-64": plock})


def test_running_containers_checked_concurrently(containers, project):
    proc = run_envman("check", "-f", str(project), "--deep", "--format", "json", *[f"docker:{c}" for c in containers])
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = json.loads(proc.stdout)
    assert [t["target"] for t in data["targets"]] == [f"docker:{c}" for c in containers]
    assert data["in_sync"] is True


def test_drift_inside_a_container(docker_client, containers, project):
    container = docker_client.containers.get(containers[1])
    code, out = container.exec_run(["/opt/venv/bin/pip", "uninstall", "-y", "-q", "gamma"])
    assert code == 0, out
    try:
        proc = run_envman("check", "-f", str(project), "--format", "json", f"docker:{containers[0]}", f"docker:{containers[1]}")
        assert proc.returncode == 1
        targets = json.loads(proc.stdout)["targets"]
        assert targets[0]["in_sync"] is True
        assert [(f["name"], f["kind"]) for f in targets[1]["findings"]] == [("gamma", "missing")]
    finally:
        container.exec_run(["/opt/venv/bin/pip", "install", "-q", "--no-index", "--find-links", "/wh", "gamma==0.3"])


def test_container_diffed_against_a_venv(containers, project, python_project):
    venv_python = str(python_project["python"])
    subprocess.run([uv_bin(), "pip", "install", "-q", "--python", venv_python, "--link-mode", "copy", "--no-index",
                    "--find-links", str(python_project["wheel_dir"]), "beta==2.1", "extra-pkg==9.0"], check=True)
    proc = run_envman("diff", "-f", str(project), f"docker:{containers[0]}", f"python:{venv_python}", "--format", "json")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    packages = [d for d in data["differences"] if d["ecosystem"] == "python"]
    assert packages == [
        {"ecosystem": "python", "name": "beta", "left": "2.0", "right": "2.1"},
        {"ecosystem": "python", "name": "extra-pkg", "left": None, "right": "9.0"},
    ]
    table = run_envman("diff", "-f", str(project), f"docker:{containers[0]}", f"python:{venv_python}")
    assert "extra-pkg" in table.stdout and f"docker:{containers[0]}" in table.stdout
    # the container against itself, through a snapshot taken once
    snap = python_project["tmp"] / "prod.json"
    assert run_envman("snapshot", f"docker:{containers[0]}", "-o", str(snap)).returncode == 0
    assert run_envman("diff", str(snap), f"docker:{containers[0]}").returncode == 0


def test_image_probed_without_its_entrypoint(docker_client, app_image, project):
    probes = {"ancestor": app_image["tag"], "label": "org.envman.probe"}
    proc = run_envman("check", "-f", str(project), "--format", "json", f"image:{app_image['tag']}")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    snap = json.loads(run_envman("snapshot", f"image:{app_image['tag']}").stdout)
    assert snap["environment"]["python-executable"] == "/opt/venv/bin/python"
    assert [p["name"] for p in snap["packages"]["jvm"]] == ["com.example:lib-a"]
    assert docker_client.containers.list(all=True, filters=probes) == []  # the probe containers are gone


def test_missing_container_and_engine_down_exit_4(docker_client, project):
    proc = run_envman("check", "-f", str(project), "docker:envman-no-such-container")
    assert proc.returncode == 4 and "docker:envman-no-such-container" in proc.stderr
    down = run_envman("check", "-f", str(project), "docker:api-1", env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert down.returncode == 4 and "docker:api-1" in down.stderr and "Traceback" not in down.stderr
    image = run_envman("diff", "-f", str(project), "image:envman-no-such-image:1", "lock:default")
    assert image.returncode == 4 and "image:envman-no-such-image:1" in image.stderr


def test_hostile_probe_output_is_an_error_not_a_traceback(docker_client, containers, project):
    container = docker_client.containers.get(containers[0])
    script = "#!/bin/sh\necho '{\"python\": {\"packages\": \"surprise\"}}'\n"
    container.exec_run(["sh", "-c", "cat > /tmp/fake-python <<'EOF'\n" + script + "EOF\nchmod +x /tmp/fake-python"])
    proc = run_envman("check", "-f", str(project), "--python", "/tmp/fake-python", f"docker:{containers[0]}")
    assert proc.returncode == 4, proc.stderr
    assert f"docker:{containers[0]}" in proc.stderr and "unexpected shape" in proc.stderr and "Traceback" not in proc.stderr
