"""The engine and the test base image work: real containers, no network."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.docker


def run(client, image: str, command: list[str]) -> str:
    out = client.containers.run(image, command, remove=True, network_mode="none", stderr=True)
    return out.decode()


def test_python_runs_in_base_image(docker_client, base_image):
    assert run(docker_client, base_image, ["python3", "-c", "print(1)"]) == "1\n"


def test_venv_with_pip_in_base_image(docker_client, base_image):
    script = (
        "python3 -m venv /opt/venv && /opt/venv/bin/python -m pip --version"
        " && /opt/venv/bin/python -c 'import sys; print(sys.prefix != sys.base_prefix)'"
    )
    out = run(docker_client, base_image, ["sh", "-c", script])
    assert "pip " in out and "/opt/venv/" in out
    assert out.strip().endswith("True")


def test_base_image_is_bookworm_with_ca_bundle(docker_client, base_image):
    out = run(docker_client, base_image,
              ["sh", "-c", ". /etc/os-release; echo $VERSION_CODENAME; test -s /etc/ssl/certs/ca-certificates.crt && echo ca"])
    assert out.split() == ["bookworm", "ca"]


def test_containers_have_no_network_unless_asked(docker_client, base_image):
    out = run(docker_client, base_image, ["ls", "/sys/class/net"])
    assert out.split() == ["lo"]


def test_build_from_base_image(docker_client, base_image, tmp_path):
    """The classic builder (what the docker SDK uses) builds FROM the imported image offline."""
    (tmp_path / "Dockerfile").write_text(
        f"FROM {base_image}\nRUN python3 -m venv /opt/venv\nCMD [\"/opt/venv/bin/python\", \"-c\", \"print(2)\"]\n"
    )
    tag = f"envman-test-infra:{tmp_path.name.lower()}"
    image, _ = docker_client.images.build(path=str(tmp_path), tag=tag, rm=True, forcerm=True)
    try:
        assert docker_client.containers.run(tag, remove=True, network_mode="none") == b"2\n"
    finally:
        docker_client.images.remove(image.id, force=True)


def test_image_carries_setup_key_label(docker_client, base_image):
    labels = docker_client.images.get(base_image).labels or {}
    assert len(labels.get("org.envman.test-base.key", "")) == 16
