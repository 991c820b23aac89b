"""Images and containers without Python (R-only or JVM-only images): their files are read instead."""

from __future__ import annotations

import json
import os
import subprocess
import uuid

import pytest

from envman.ecosystems.jvm.entry import JvmEntry
from envman.ecosystems.r.entry import REntry
from envman.lockfile import PlatformLock
from tests.drift.builders import make_jar, make_r_package, sha256_file
from tests.drift.conftest import run_envman, write_project


@pytest.fixture(scope="module")
def r_image(docker_client, base_image, rscript, tmp_path_factory):
    """FROM the base image, Python removed, a real R library (built by R CMD INSTALL here) and jars."""
    context = tmp_path_factory.mktemp("rimage")
    repo = context / "src"
    tarballs = [make_r_package(repo, "pkgA", "1.0"), make_r_package(repo, "pkgB", "0.5-1", imports=["pkgA"])]
    lib = context / "site-library"
    lib.mkdir()
    subprocess.run(["R", "CMD", "INSTALL", "--no-test-load", "-l", str(lib), *map(str, tarballs)],
                   check=True, capture_output=True, env=dict(os.environ, R_LIBS=str(lib)))
    jar = make_jar(context / "jars", "com.example", "lib-a", "1.0")
    (context / "Dockerfile").write_text(
        f"FROM {base_image}\n"
        "RUN rm -f /usr/bin/python3 /usr/bin/python3.11\n"
        "COPY site-library /usr/local/lib/R/site-library\n"
        "COPY jars /usr/share/java\n"
        'ENTRYPOINT ["sh", "-c", "exit 3"]\n'
    )
    tag = f"envman-test-drift-nopy:{uuid.uuid4().hex[:8]}"
    image, _ = docker_client.images.build(path=str(context), tag=tag, rm=True, forcerm=True, network_mode="none")
    container = docker_client.containers.run(tag, entrypoint=["sleep", "infinity"], detach=True, network_mode="none",
                                             name=f"envman-nopy-{uuid.uuid4().hex[:8]}")
    yield {"tag": tag, "container": container.name, "tarballs": tarballs, "jar": jar}
    container.remove(force=True)
    docker_client.images.remove(image.id, force=True)


def _project(tmp_path, r_image, pkg_b_version="0.5-1"):
    a, b = r_image["tarballs"]
    jar = r_image["jar"]
    plock = PlatformLock(
        r=[REntry(name="pkgA", version="1.0", sha256=sha256_file(a), repository="T", url=a.as_uri()),
           REntry(name="pkgB", version=pkg_b_version, sha256=sha256_file(b), repository="T", url=b.as_uri(), requires=["pkgA"])],
        jvm=[JvmEntry(name="com.example:lib-a", version="1.0", sha256=sha256_file(jar), url=jar.as_uri())],
    )
    return write_project(tmp_path / "project",
                         "version: 1\nr:\n  packages: [pkgA, pkgB]\njvm:\n  dependencies: ['com.example:lib-a:1.0']\n",
                         {"linux-64": plock})


def test_image_and_container_without_python(r_image, tmp_path):
    manifest = _project(tmp_path, r_image)
    for target in (f"image:{r_image['tag']}", f"docker:{r_image['container']}"):
        proc = run_envman("check", "-f", str(manifest), "--deep", "--format", "json", target)
        assert proc.returncode == 0, (target, proc.stdout, proc.stderr)
    snap = json.loads(run_envman("snapshot", f"docker:{r_image['container']}").stdout)
    assert sorted((p["name"], p["version"], p["location"]) for p in snap["packages"]["r"]) == [
        ("pkgA", "1.0", "/usr/local/lib/R/site-library"),
        ("pkgB", "0.5-1", "/usr/local/lib/R/site-library"),
    ]
    assert snap["packages"]["jvm"][0]["location"] == "/usr/share/java/lib-a-1.0.jar"
    assert any("no Python interpreter" in p for p in snap["problems"])


def test_drift_in_an_image_without_python(r_image, tmp_path):
    manifest = _project(tmp_path, r_image, pkg_b_version="0.6")
    proc = run_envman("check", "-f", str(manifest), "--format", "json", f"image:{r_image['tag']}")
    assert proc.returncode == 1
    findings = json.loads(proc.stdout)["targets"][0]["findings"]
    assert [(f["name"], f["kind"], f["expected"], f["actual"]) for f in findings] == [("pkgB", "changed", "0.6", "0.5-1")]
