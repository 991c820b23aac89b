"""One image of locked Debian packages from the served repository: built with the .debs
fetched and verified on the host, installed offline; then check/diff/snapshot from the dpkg
database (image:, docker:, snapshots), --deep against the md5sums, the SBOM's deb purls, and
a tampered .deb stopping the render."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.system.conftest import project, run_envman


@pytest.fixture(scope="module")
def built(tmp_path_factory, apt_repo, repo_base, docker_client):
    folder = project(tmp_path_factory.mktemp("sysimage"), repo_base, ["envtest-app"])
    done = run_envman("lock", cwd=folder)
    assert done.returncode == 0, done.stderr
    tag = f"envman-test-sysimage:{id(folder)}"
    done = run_envman("build", "--tag", tag, "--json", cwd=folder)
    assert done.returncode == 0, done.stderr[-3000:]
    yield folder, tag, json.loads(done.stdout)
    for name in (tag, f"envman-build/{folder.name}-default:raw"):  # the build's own raw image too
        try:
            docker_client.images.remove(name, force=True)
        except Exception:
            pass


def docker(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)


def test_the_image_has_exactly_the_locked_debs_and_no_apt_leftovers(built):
    folder, tag, report = built
    assert [layer["group"] for layer in report["layers"]] == ["system"]
    script = ("envtest-app; dpkg-query -W envtest-app envtest-lib; "
              "find /var/lib/apt/lists /var/cache/apt /tmp -mindepth 1 ! -type d ! -name lock")
    ran = docker("run", "--rm", "--network", "none", tag, "sh", "-c", script)
    assert ran.returncode == 0, ran.stderr
    assert ran.stdout.splitlines() == ["envtest-app 2.0", "envtest-app\t2.0-1", "envtest-lib\t1.1-1"]  # no lists, caches, .debs
    check = run_envman("check", f"image:{tag}", cwd=folder)
    assert check.returncode == 0, check.stdout + check.stderr
    base = run_envman("check", "image:envman-test-runtime:bookworm", "--format", "json", cwd=folder)
    assert base.returncode == 1
    findings = json.loads(base.stdout)["targets"][0]["findings"]
    assert sorted((f["name"], f["kind"]) for f in findings) == [("envtest-app", "missing"), ("envtest-lib", "missing")]


def test_drift_in_a_container(built, apt_repo):
    folder, tag, _report = built
    root, _url = apt_repo
    name = f"envman-test-sysdrift-{id(folder)}"
    assert docker("run", "-d", "--name", name, "--network", "none", tag, "sleep", "600").returncode == 0
    try:
        assert run_envman("check", f"docker:{name}", "--deep", cwd=folder).returncode == 0
        assert docker("exec", name, "rm", "/usr/bin/envtest-app").returncode == 0
        assert docker("exec", name, "sh", "-c", "echo changed > /usr/share/envman-test/envtest-lib.txt").returncode == 0
        plain = run_envman("check", f"docker:{name}", cwd=folder)
        assert plain.returncode == 0, plain.stdout  # versions are what the lock says
        deep = run_envman("check", f"docker:{name}", "--deep", "--format", "json", cwd=folder)
        assert deep.returncode == 1
        findings = {f["name"]: f for f in json.loads(deep.stdout)["targets"][0]["findings"]}
        assert set(findings) == {"envtest-app", "envtest-lib"}
        assert findings["envtest-app"]["kind"] == "modified" and "/usr/bin/envtest-app" in findings["envtest-app"]["detail"]
        assert "/usr/share/envman-test/envtest-lib.txt" in findings["envtest-lib"]["detail"]
        # a package installed on top of the locked ones is extra; the base's own are not noise
        assert docker("cp", str(root / "pool/main/envtest-plugin_0.1-1_all.deb"), f"{name}:/tmp/p.deb").returncode == 0
        assert docker("exec", name, "dpkg", "-i", "/tmp/p.deb").returncode == 0
        snap = folder / "drifted.json"
        assert run_envman("snapshot", f"docker:{name}", "-o", str(snap), cwd=folder).returncode == 0
        for target in (f"docker:{name}", str(snap)):
            done = run_envman("check", target, "--format", "json", cwd=folder)
            assert done.returncode == 1, done.stderr
            found = [(f["name"], f["kind"], f.get("detail")) for f in json.loads(done.stdout)["targets"][0]["findings"]]
            assert found == [("envtest-plugin", "extra", "installed on top of the locked envtest-app")], found
        diff = run_envman("diff", "lock:default", f"docker:{name}", "--format", "json", cwd=folder)
        assert diff.returncode == 1, diff.stderr
        differences = json.loads(diff.stdout)["differences"]
        assert differences == [{"ecosystem": "system", "name": "envtest-plugin", "left": None, "right": "0.1-1"}]
    finally:
        docker("rm", "-f", name)


def test_sbom_lists_deb_purls(built):
    folder, _tag, _report = built
    done = run_envman("export", "--format", "cyclonedx", cwd=folder)
    assert done.returncode == 0, done.stderr
    components = json.loads(done.stdout)["components"]
    purls = {c["purl"]: c for c in components}
    assert {"pkg:deb/debian/envtest-app@2.0-1?arch=all", "pkg:deb/debian/envtest-lib@1.1-1?arch=all"} <= set(purls)
    assert len(purls["pkg:deb/debian/envtest-app@2.0-1?arch=all"]["hashes"][0]["content"]) == 64
    # the base's runtime packages are listed too (no hash: envman did not fetch them)
    assert any(p.startswith("pkg:deb/debian/python3.11-minimal@3.11.2-") and p.endswith("?arch=amd64") for p in purls)


def test_a_deb_that_is_not_the_locked_one_stops_the_render(built, apt_repo, tmp_path):
    folder, _tag, _report = built
    root, _url = apt_repo
    deb = root / "pool/main/envtest-lib_1.1-1_all.deb"
    original = deb.read_bytes()
    try:
        deb.write_bytes(original[:-16] + b"\0" * 16)  # same name and size, other bytes
        env = {"ENVMAN_CACHE_DIR": str(tmp_path / "cold-cache")}
        done = subprocess.run([sys.executable, "-m", "envman", "render", "-o", str(tmp_path / "ctx")], cwd=folder,
                              capture_output=True, text=True, timeout=300, env={**os.environ, **env})
        assert done.returncode == 3, done.stderr
        assert "envtest-lib_1.1-1_all.deb" in done.stderr and "sha256" in done.stderr.lower()
        assert not (tmp_path / "ctx").exists()
    finally:
        deb.write_bytes(original)
