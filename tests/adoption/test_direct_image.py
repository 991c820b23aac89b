"""Images of Python direct references: a git reference is built from its locked commit's
tarball in the builder stage, archive URLs and paths are installed from the locked files
(sha256 checked on the host), each gets its PEP 610 direct_url.json, so `check image:`
finds the image in sync; a local folder (no locked hash) is refused. Real engine, real uv."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.adoption.conftest import Sources, run_envman

pytestmark = pytest.mark.timeout(900)

TAG = "envman-e2e/direct-refs:1"


def _project(sources: Sources, name: str, packages: list[str], runtime_image: str, builder_image: str) -> Path:
    project = sources.root / name
    project.mkdir(exist_ok=True)
    manifest = {"version": 1, "name": name, "python": {"version": "3.11", "packages": packages},
                "image": {"base": runtime_image, "builder": builder_image}}
    (project / "envman.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    done = run_envman("lock", cwd=project)
    assert done.returncode == 0, done.stderr
    return project


def test_an_image_installs_direct_references_as_locked(sources: Sources, runtime_image: str, builder_image: str, docker_client) -> None:
    project = _project(sources, "image-direct", [
        f"gitpkg @ git+{sources.git_url}@v1",
        f"urlpkg @ {sources.wheel_url}",
        "pathwheel @ file:../dist/pathwheel-3.0-py3-none-any.whl",
        "pathsdist @ file:../dist/pathsdist-4.0.tar.gz",
    ], runtime_image, builder_image)
    try:
        done = run_envman("build", "--tag", TAG, cwd=project, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        code = ("import gitpkg, urlpkg, pathwheel, pathsdist, os; print(gitpkg.__version__); "
                "print(os.path.exists(os.path.join(os.path.dirname(gitpkg.__file__), 'extra.py')))")
        ran = subprocess.run(["docker", "run", "--rm", "--network", "none", TAG, "python3", "-c", code],
                             capture_output=True, text=True, timeout=300)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.split() == ["1.0", "False"]  # the v1 commit: extra.py came one commit later
        shown = subprocess.run(["docker", "run", "--rm", "--network", "none", TAG, "sh", "-c",
                                "cat /opt/envman/venv/lib/python3.11/site-packages/gitpkg-1.0.dist-info/direct_url.json"],
                               capture_output=True, text=True, timeout=300)
        assert json.loads(shown.stdout) == {"url": sources.git_url, "vcs_info": {"vcs": "git", "commit_id": sources.v1_commit}}
        check = run_envman("check", f"image:{TAG}", "--format", "json", cwd=project, timeout=600)
        assert check.returncode == 0, check.stdout + check.stderr
        assert json.loads(check.stdout)["in_sync"] is True
        # the image is the lock: another commit of gitpkg locked is drift against this image
        moved = _project(sources, "image-direct-moved", [
            f"gitpkg @ git+{sources.git_url}@{sources.head_commit}",
            f"urlpkg @ {sources.wheel_url}",
            "pathwheel @ file:../dist/pathwheel-3.0-py3-none-any.whl",
            "pathsdist @ file:../dist/pathsdist-4.0.tar.gz",
        ], runtime_image, builder_image)
        check = run_envman("check", f"image:{TAG}", "--format", "json", cwd=moved, timeout=600)
        assert check.returncode == 1, check.stdout + check.stderr
        (finding,) = json.loads(check.stdout)["targets"][0]["findings"]
        assert finding["name"] == "gitpkg" and sources.head_commit[:12] in finding["expected"], finding
    finally:
        try:
            docker_client.images.remove(TAG, force=True)
        except Exception:
            pass


def test_a_local_folder_reference_is_refused_for_images(sources: Sources, runtime_image: str, builder_image: str, tmp_path: Path) -> None:
    project = _project(sources, "image-folder", ["localpkg @ file:../localpkg"], runtime_image, builder_image)
    done = run_envman("render", "-o", str(tmp_path / "ctx"), cwd=project)
    assert done.returncode == 5, done.stdout + done.stderr
    assert "localpkg @ file:../localpkg is a local folder, locked without a hash" in done.stderr
    assert "Traceback" not in done.stderr and not (tmp_path / "ctx").exists()


def test_a_changed_local_archive_is_refused_before_the_build(
    sources: Sources, runtime_image: str, builder_image: str, tmp_path: Path
) -> None:
    from tests.adoption.conftest import sdist

    (sources.root / "dist-moving").mkdir(exist_ok=True)
    sdist(sources.root / "dist-moving", "movingpkg", "1.0")
    project = _project(sources, "image-moving", ["movingpkg @ file:../dist-moving/movingpkg-1.0.tar.gz"], runtime_image, builder_image)
    archive = sources.root / "dist-moving" / "movingpkg-1.0.tar.gz"
    archive.write_bytes(archive.read_bytes() + b"\0")  # someone rebuilt the file after the lock
    done = run_envman("render", "-o", str(tmp_path / "ctx"), cwd=project)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "movingpkg" in done.stderr and "not the locked one" in done.stderr and "Traceback" not in done.stderr
