"""The image's conda layer on the real engine: a prefix made by py-rattler in a builder stage
at /opt/envman/conda from a real lock of a channel served on 127.0.0.1 (the build itself is
offline: the packages are fetched and checked on the host), that `check image:` finds in sync,
and that two builds without the engine's cache make the same image ID."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conda.channel import build_channel, standard_packages
from tests.conda.conftest import run_envman
from tests.conda.helpers import read_lock, write_manifest

pytestmark = pytest.mark.timeout(900)
TAG = f"envman-conda-e2e/prefix:{os.getpid()}"  # one per test process: xdist workers build their own


def build(project: Path, *args: str) -> dict:
    done = run_envman("build", "--json", *args, cwd=project, timeout=900)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def run_in(image: str, script: str) -> str:
    done = subprocess.run(["docker", "run", "--rm", "--network", "none", image, "sh", "-c", script],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory, channel_url: str, base_image: str) -> Path:
    folder = write_manifest(
        tmp_path_factory.mktemp("conda-image") / "project",
        f'version: 1\nname: conda-image\nconda:\n  channels: ["{channel_url}"]\n  packages: [app, plugin, tools]\n'
        f"image:\n  base: {base_image}\n",
    )
    done = run_envman("lock", cwd=folder)
    assert done.returncode == 0, done.stderr
    return folder


@pytest.fixture(scope="module")
def built(project: Path, docker_client) -> Iterator[dict]:
    result = build(project, "--tag", TAG)
    yield result
    for tag in (TAG, TAG + "-again"):
        try:
            docker_client.images.remove(tag, force=True)
        except Exception:
            pass


def test_the_image_holds_the_locked_prefix(built: dict, project: Path, docker_client) -> None:
    assert built["tag"] == TAG and [layer["group"] for layer in built["layers"]] == ["conda"]
    out = run_in(TAG, 'tool; echo "$CONDA_PREFIX"; cat /opt/envman/conda/etc/libz.conf; readlink /opt/envman/conda/lib/libz.so.1;'
                      " ls /opt/envman/conda/conda-meta; ls -A /tmp; ls /opt/envman")
    locked = read_lock(project)["environments"]["default"]["linux-64"]["conda"]
    assert out.splitlines() == [
        "/opt/envman/conda",  # bin/tool, found on PATH, with its placeholder replaced by the final prefix
        "/opt/envman/conda",
        "prefix=/opt/envman/conda",
        "libdir=/opt/envman/conda/lib",
        "libz.so.1.2.13",
        *sorted([f"{e['name']}-{e['version']}-{e['build']}.json" for e in locked] + ["history"]),
        "conda",  # nothing but the prefix: no py-rattler, no package files, nothing in /tmp
    ]
    labels = docker_client.images.get(TAG).labels
    assert labels["org.envman.conda"] == "/opt/envman/conda"
    record = json.loads(run_in(TAG, "cat /opt/envman/conda/conda-meta/libz-*.json"))
    libz = next(e for e in locked if e["name"] == "libz")
    assert (record["url"], record["sha256"], record["md5"]) == (libz["url"], libz["sha256"], libz["md5"])
    assert not {"extracted_package_dir", "link"} & set(record)  # nothing of the builder stage's package cache


def test_check_finds_the_image_in_sync_with_the_lock(built: dict, project: Path) -> None:
    for deep in ((), ("--deep",)):
        done = run_envman("check", *deep, "--format", "json", f"image:{TAG}", cwd=project)
        assert done.returncode == 0, done.stdout + done.stderr
        report = json.loads(done.stdout)
        assert report["in_sync"] is True and report["targets"][0]["findings"] == []
        assert report["targets"][0]["target"] == f"image:{TAG}"


def test_two_builds_without_the_cache_give_the_same_image_id(built: dict, project: Path) -> None:
    again = build(project, "--tag", TAG + "-again", "--no-cache")
    assert again["cached"] == []
    assert again["image"] == built["image"]
    assert [layer["diff_id"] for layer in again["layers"]] == [layer["diff_id"] for layer in built["layers"]]


def test_render_puts_conda_lowest_and_its_bin_after_the_venv_on_path(tmp_path: Path, channel_url: str, repos_url: str,
                                                                     base_image: str) -> None:
    project = write_manifest(tmp_path / "project", (
        "version: 1\npython:\n  version: '3.11'\n"
        f"  index-url: {repos_url}/pypi/simple\n  packages: [zeta]\n"
        f'conda:\n  channels: ["{channel_url}"]\n  packages: [tools]\n'
        f"image:\n  base: {base_image}\n"
    ))
    assert run_envman("lock", cwd=project).returncode == 0
    done = run_envman("render", "-o", "ctx", cwd=project)
    assert done.returncode == 0, done.stderr
    dockerfile = (project / "ctx" / "Dockerfile").read_text()
    assert dockerfile.index("AS envman-conda") < dockerfile.index("AS envman-python")
    assert dockerfile.index("COPY --from=envman-conda") < dockerfile.index("COPY --from=envman-python")
    assert 'PATH="/opt/envman/venv/bin:/opt/envman/conda/bin:$PATH"' in dockerfile  # one ENV instruction
    assert 'CONDA_PREFIX="/opt/envman/conda"' in dockerfile
    context = project / "ctx" / "conda"
    listing = json.loads((context / "packages.json").read_text())
    [tools] = listing["packages"]
    assert (context / tools["file"]).is_file() and tools["file"] == f"pkgs/{tools['url'].rsplit('/', 1)[1]}"
    assert (context / "install.py").is_file() and (context / "lib" / "rattler" / "__init__.py").is_file()
    assert not list((context / "lib").rglob("__pycache__"))


def test_a_tampered_package_stops_the_render_before_any_build(tmp_path: Path, serve, base_image: str) -> None:
    root = build_channel(tmp_path / "channel", standard_packages())
    project = write_manifest(tmp_path / "project", f'version: 1\nconda:\n  channels: ["{serve(root)}"]\n  packages: [tools]\n'
                                                   f"image:\n  base: {base_image}\n")
    env = {"ENVMAN_CACHE_DIR": str(tmp_path / "cache")}
    assert run_envman("lock", cwd=project, env=env).returncode == 0
    [entry] = read_lock(project)["environments"]["default"]["linux-64"]["conda"]
    served = root / "noarch" / entry["url"].rsplit("/", 1)[1]
    data = bytearray(served.read_bytes())
    data[len(data) // 2] ^= 0xFF
    served.write_bytes(bytes(data))
    done = run_envman("render", "-o", "ctx", cwd=project, env=env)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "sha256 mismatch" in done.stderr and "tools" in done.stderr
    assert not (project / "ctx").exists()
