"""`envman build` end to end on the real engine: the multi-language example becomes an image
whose Python, R and Java see exactly the locked packages, that `check` finds in sync, that a
second engine with an empty cache rebuilds to the same image ID, and whose layers are reused
when only R changes."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.image.conftest import copy_example
from tests.python.conftest import run_envman

pytestmark = pytest.mark.timeout(900)
# one tag per xdist worker: a module's tests may run on both workers, each with its own build
TAG = "envman-e2e/example-{worker}:production"
IMAGE = "image:\n  base: envman-test-runtime:bookworm\n  builder: envman-test-builder:bookworm\n"


def build(project: Path, *args: str, env: dict | None = None) -> dict:
    done = run_envman("build", "--env", "production", "--json", *args, cwd=project, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def example(tmp_path_factory, repos_url, runtime_image, builder_image) -> Path:
    return copy_example(tmp_path_factory.mktemp("example") / "project", repos_url, IMAGE)


@pytest.fixture(scope="module")
def tag(worker_id) -> str:
    return TAG.format(worker=worker_id)


@pytest.fixture(scope="module")
def built(example, docker_client, tag) -> dict:
    # from an empty build cache: with the second engine's build below, two --no-cache builds
    result = build(example, "--tag", tag, "--no-cache")
    yield result
    for name in (tag, tag + "-r"):
        try:
            docker_client.images.remove(name, force=True)
        except Exception:
            pass


def run_in(image: str, script: str, mounts: dict | None = None) -> str:
    argv = ["docker", "run", "--rm", "--network", "none"]
    for host, inside in (mounts or {}).items():
        argv += ["-v", f"{host}:{inside}:ro"]
    done = subprocess.run([*argv, image, "sh", "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_image_runs_python_r_and_java_code_with_the_locked_packages(built, tag, tmp_path):
    assert built["tag"] == tag and built["image"].startswith("sha256:")
    assert [layer["group"] for layer in built["layers"]] == ["jvm", "python", "r"]
    out = run_in(tag, "python3 -c 'import sys, pandas, requests; print(sys.prefix, pandas.__version__, requests.__version__)'")
    assert out.split() == ["/opt/envman/venv", "3.1.1", "2.34.2"], out
    r_code = 'library(desc); d <- description$new(text = "Package: x\\nVersion: 1.0"); cat(d$get("Version"), .libPaths()[1])'
    out = run_in(tag, f"Rscript -e '{r_code}'")
    assert out.split() == ["1.0", "/opt/envman/r-library"]
    # cli has C code: compiled in the R builder stage (FROM image.builder, with r-base-dev);
    # the final image loads its shared object and has no compiler
    out = run_in(tag, "Rscript -e 'library(cli); cat(\"dll:\", names(getLoadedDLLs()) %in% \"cli\" |> any(), \"\\n\")'; "
                      "command -v gcc cc x86_64-linux-gnu-gcc-12 || echo no-compiler")
    assert out.split() == ["dll:", "TRUE", "no-compiler"], out
    source = tmp_path / "Main.java"
    source.write_text(
        "import com.fasterxml.jackson.databind.ObjectMapper;\n"
        "public class Main { public static void main(String[] a) throws Exception {\n"
        "  System.out.println(new ObjectMapper().writeValueAsString(java.util.Map.of(\"ok\", 1)));\n"
        "  System.out.println(org.apache.commons.text.WordUtils.capitalize(\"locked jars\")); } }\n"
    )
    jars = subprocess.run(["docker", "run", "--rm", tag, "cat", "/opt/envman/jars/classpath"], capture_output=True, text=True, check=True)
    host_cp = tmp_path / "lib"
    container = subprocess.run(["docker", "create", tag], capture_output=True, text=True, check=True).stdout.strip()
    try:
        subprocess.run(["docker", "cp", f"{container}:/opt/envman/jars/lib", str(host_cp)], check=True, capture_output=True)
    finally:
        subprocess.run(["docker", "rm", container], capture_output=True)
    classpath = ":".join(str(p) for p in sorted(host_cp.rglob("*.jar")))
    subprocess.run(["javac", "-cp", classpath, "-d", str(tmp_path / "classes"), str(source)], check=True)
    out = run_in(tag, 'java -cp "/test:$CLASSPATH" Main', {str(tmp_path / "classes"): "/test"})
    assert out.splitlines() == ['{"ok":1}', "Locked Jars"]
    assert jars.stdout.count(".jar") == 5


def test_the_built_image_is_the_lock(built, tag, example):
    done = run_envman("check", f"image:{tag}", "--env", "production", "--format", "json", cwd=example)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    assert report["in_sync"] is True and report["targets"][0]["findings"] == []


def test_labels_say_which_lock_and_where_each_ecosystem_lives(built, tag, example, docker_client):
    labels = docker_client.images.get(tag).labels
    assert labels["org.envman.lock-sha256"] == hashlib.sha256((example / "envman.lock").read_bytes()).hexdigest()
    assert labels["org.envman.environment"] == "production"
    assert labels["org.envman.python"] == "/opt/envman/venv/bin/python"
    assert labels["org.envman.r-libs"] == "/opt/envman/r-library"
    assert labels["org.envman.jars"] == "/opt/envman/jars"
    assert labels["org.opencontainers.image.created"] == "1980-01-01T00:00:00Z"  # the lock is not committed here
    attrs = docker_client.images.get(tag).attrs
    assert attrs["Created"].startswith("1980-01-01T00:00:00")
    # nothing of the build host or its caches in the layers envman added
    listing = run_in(tag, "ls -A /tmp /var/lib/apt/lists 2>/dev/null; find / -xdev -name '*.pyc' -path '/opt/envman/*' | head -3")
    assert listing.strip() in ("", "auxfiles") or "pyc" not in listing


def test_a_second_engine_with_an_empty_cache_builds_the_same_image_id(built, tag, example, second_engine):
    again = build(example, "--tag", tag, "--no-cache", env={"DOCKER_HOST": second_engine})
    import docker

    other = docker.DockerClient(base_url=second_engine)
    try:  # the second engine's data root is kept between sessions: leave nothing of ours there
        for name in (tag, "envman-build/scoring-service-production:raw"):
            other.images.remove(name, force=True)
        other.images.prune(filters={"dangling": True})
    finally:
        other.close()
    assert again["image"] == built["image"]
    assert [layer["diff_id"] for layer in again["layers"]] == [layer["diff_id"] for layer in built["layers"]]
    assert again["cached"] == []


def test_changing_one_r_package_reuses_every_layer_below_r(built, tag, example, tmp_path, docker_client):
    changed = tmp_path / "changed"
    shutil.copytree(example, changed, ignore=shutil.ignore_patterns("envman-render"))
    manifest = changed / "envman.yaml"
    manifest.write_text(manifest.read_text().replace("  production: {}", '  production:\n    r: {packages: ["withr"]}'))
    assert run_envman("lock", cwd=changed).returncode == 0
    second = build(changed, "--tag", tag + "-r")
    before = {layer["group"]: layer["diff_id"] for layer in built["layers"]}
    after = {layer["group"]: layer["diff_id"] for layer in second["layers"]}
    assert after["jvm"] == before["jvm"] and after["python"] == before["python"]
    assert after["r"] != before["r"]
    assert 'RUN ["/bin/sh", "/tmp/envman/python/install.sh"]' in second["cached"]  # Python was not rebuilt
    # (whether R's own step is served from the cache depends on what this engine built before)
    done = run_envman("diff", f"image:{tag}", f"image:{tag}-r", "--format", "json", cwd=changed)
    assert done.returncode == 1, done.stderr
    differences = json.loads(done.stdout)["differences"]
    assert differences == [{"ecosystem": "r", "name": "withr", "left": None, "right": "2.5.0"}]


def test_oci_layout_output_is_read_by_skopeo_and_pushed_to_a_registry(built, tag, example, tmp_path, skopeo, local_registry):
    layout = tmp_path / "oci"
    again = build(example, "--tag", tag, "--output", f"oci:{layout}")
    assert again["image"] == built["image"]
    inspect = subprocess.run([skopeo, "inspect", f"oci:{layout}:{tag}"], capture_output=True, text=True)
    assert inspect.returncode == 0, inspect.stderr
    info = json.loads(inspect.stdout)
    assert info["Digest"] == again["oci_digest"]
    assert info["Labels"]["org.envman.environment"] == "production"
    target = f"docker://{local_registry}/envman/e2e:production"
    copy = subprocess.run([skopeo, "copy", "--dest-tls-verify=false", f"oci:{layout}:{tag}", target], capture_output=True, text=True)
    assert copy.returncode == 0, copy.stderr
    inspected = subprocess.run([skopeo, "inspect", "--tls-verify=false", target], capture_output=True, text=True, check=True)
    remote = json.loads(inspected.stdout)
    assert remote["Labels"]["org.envman.lock-sha256"] == info["Labels"]["org.envman.lock-sha256"]
