"""`envman build` on small projects: the base pinned by digest from a registry, apt behind a
CA certificate that no layer keeps, and every failure with its documented exit code and
nothing tagged."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.python.conftest import run_envman
from tests.python.servers import serve_directory

pytestmark = pytest.mark.timeout(600)
JAR = "org.apache.commons:commons-lang3:3.14.0"


def small_project(root: Path, repos: str, image: str, extra: str = "") -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / "envman.yaml").write_text(
        f'version: 1\nname: small\njvm:\n  java: "17"\n  repositories: ["{repos}/maven"]\n  dependencies: ["{JAR}"]\n{image}{extra}'
    )
    done = run_envman("lock", cwd=root)
    assert done.returncode == 0, done.stderr
    return root


def image_exists(client, tag: str) -> bool:
    import docker.errors

    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def test_a_registry_base_is_pinned_by_digest(tmp_path, repos_url, registry_runtime_ref, skopeo, docker_client):
    project = small_project(tmp_path / "p", repos_url, f"image:\n  base: {registry_runtime_ref}\n")
    lock = (project / "envman.lock").read_text()
    inspect = [skopeo, "inspect", "--tls-verify=false", f"docker://{registry_runtime_ref}"]
    inspected = subprocess.run(inspect, capture_output=True, text=True)
    digest = json.loads(inspected.stdout)["Digest"]
    assert f"digest: {digest}" in lock
    assert run_envman("render", "-o", str(project / "ctx"), cwd=project).returncode == 0
    assert f"FROM {registry_runtime_ref}@{digest} AS envman-system" in (project / "ctx" / "Dockerfile").read_text()
    done = run_envman("build", "--tag", "envman-e2e/pinned:1", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    labels = docker_client.images.get("envman-e2e/pinned:1").labels
    assert labels["org.opencontainers.image.base.digest"] == digest
    docker_client.images.remove("envman-e2e/pinned:1", force=True)


def test_a_local_only_base_is_pinned_by_image_id_with_a_note(tmp_path, repos_url, runtime_image, docker_client):
    project = small_project(tmp_path / "p", repos_url, f"image:\n  base: {runtime_image}\n")
    image_id = docker_client.images.get(runtime_image).id
    assert f"id: {image_id}" in (project / "envman.lock").read_text()
    done = run_envman("render", "-o", str(project / "ctx"), cwd=project)
    assert done.returncode == 0 and "pinned by image ID" in done.stderr


def test_apt_behind_a_ca_certificate_leaves_it_in_no_layer(tmp_path, repos_url, runtime_image, docker_client):
    cert = tmp_path / "proxy-ca.pem"
    made = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=envman test proxy CA",
         "-keyout", str(tmp_path / "key.pem"), "-out", str(cert)],
        capture_output=True, text=True,
    )
    assert made.returncode == 0, made.stderr
    project = small_project(tmp_path / "p", repos_url, f"image:\n  base: {runtime_image}\n", "system:\n  apt: [hello]\n")
    tag = "envman-e2e/ca:1"
    done = run_envman("build", "--tag", tag, "--ca-cert", str(cert), "--network", "host", "--json", cwd=project)
    assert done.returncode == 0, done.stderr[-3000:]
    assert [layer["group"] for layer in json.loads(done.stdout)["layers"]] == ["system", "jvm"]
    # the system stage is built first from a context of its own files only; the whole build
    # finds its steps in the cache (tests/build/test_stagecontext.py shows it from nothing)
    cached = json.loads(done.stdout)["cached"]
    assert "COPY system/ /tmp/envman-system/" in cached and 'RUN ["/bin/sh", "/tmp/envman-system/install.sh"]' in cached, cached
    ran = subprocess.run(["docker", "run", "--rm", "--network", "none", tag, "hello"], capture_output=True, text=True)
    assert ran.stdout.strip() == "Hello, world!"
    body = b"".join(line for line in cert.read_bytes().splitlines() if not line.startswith(b"-----"))[:64]
    saved = io.BytesIO(b"".join(docker_client.api.get_image(tag)))
    with tarfile.open(fileobj=saved) as outer:
        layers = [m for m in outer.getmembers() if m.isfile()]
        assert layers
        for member in layers:
            data = outer.extractfile(member).read()
            assert body not in data, f"the CA certificate is in {member.name}"
            if member.name.endswith(".tar"):
                with tarfile.open(fileobj=io.BytesIO(data)) as layer:
                    names = layer.getnames()
                    assert not any(n.endswith(("envman-ca.crt", "lists/deb.debian.org_debian_dists_bookworm_InRelease")) for n in names)
    docker_client.images.remove(tag, force=True)


def test_no_engine_is_exit_4_saying_how_to_start_one(tmp_path, repos_url, runtime_image):
    project = small_project(tmp_path / "p", repos_url, f"image:\n  base: {runtime_image}\n")
    done = run_envman("build", cwd=project, env={"DOCKER_HOST": f"unix://{tmp_path}/no-engine.sock"})
    assert done.returncode == 4, done.stderr
    assert "no Docker engine answers" in done.stderr and "dockerd" in done.stderr and "Traceback" not in done.stderr


def test_a_runtime_the_base_lacks_stops_the_build_before_any_install(tmp_path, repos_url, runtime_image, docker_client):
    project = tmp_path / "p"
    project.mkdir()
    (project / "envman.yaml").write_text(
        f'version: 1\nname: small\nr:\n  version: "4.3.3"\n  repositories: {{LOCAL: "{repos_url}/cran"}}\n  packages: ["R6"]\n'
        f"image:\n  base: {runtime_image}\n"
    )
    assert run_envman("lock", cwd=project).returncode == 0
    done = run_envman("build", "--tag", "envman-e2e/runtime:1", cwd=project)
    assert done.returncode == 5, done.stderr
    assert "4.2.2" in done.stderr and "4.3.3" in done.stderr and "Traceback" not in done.stderr
    assert "installing R package" not in done.stderr
    assert not image_exists(docker_client, "envman-e2e/runtime:1")


def test_a_failed_step_is_exit_5_naming_it_with_its_log_and_nothing_is_tagged(tmp_path, repos_url, runtime_image, docker_client):
    own = tmp_path / "p" / "own" / "ecosystems" / "jvm"
    own.mkdir(parents=True)
    (own / "Dockerfile.j2").write_text(
        '{%- if part == "final" %}\n# envman-layer: jvm\nCOPY jvm/ {{ f.install_dir }}/\n'
        'RUN echo "boom: the team step broke" && exit 3\n{%- endif %}\n'
    )
    project = small_project(tmp_path / "p", repos_url, f"image:\n  base: {runtime_image}\n  templates: own\n")
    done = run_envman("build", "--tag", "envman-e2e/failed:1", cwd=project)
    assert done.returncode == 5, done.stderr
    assert 'RUN echo "boom: the team step broke" && exit 3' in done.stderr
    assert "| boom: the team step broke" in done.stderr and "returned a non-zero code: 3" in done.stderr
    assert not image_exists(docker_client, "envman-e2e/failed:1")


def test_an_artifact_that_no_longer_matches_its_hash_is_refused_before_the_build(tmp_path, runtime_image, docker_client):
    repos = tmp_path / "repos"
    shutil.copytree(Path(__file__).resolve().parents[2] / "examples" / "multi-language" / "repos" / "maven", repos / "maven")
    with serve_directory(repos) as url:
        project = small_project(tmp_path / "p", url, f"image:\n  base: {runtime_image}\n")
        jar = next((repos / "maven").rglob("commons-lang3-3.14.0.jar"))
        jar.write_bytes(jar.read_bytes() + b"tampered")
        done = run_envman("build", "--tag", "envman-e2e/tampered:1", cwd=project, env={"ENVMAN_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 3, done.stderr
    assert "commons-lang3-3.14.0.jar" in done.stderr and "Traceback" not in done.stderr
    assert "step 1/" not in done.stderr  # no build step ran
    assert not image_exists(docker_client, "envman-e2e/tampered:1")
