"""A Python package with only an sdist: built in the builder stage from its locked sdist,
with its build requirements fetched on the host; the final image has the package, not the
build tools."""

from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from tests.python.conftest import run_envman
from tests.python.servers import serve_directory

pytestmark = pytest.mark.timeout(600)


def make_sdist(folder: Path, name: str, version: str) -> Path:
    """A real setuptools sdist of one pure-Python module."""
    root = f"{name}-{version}"
    files = {
        "pyproject.toml": f'[build-system]\nrequires = ["setuptools>=68"]\nbuild-backend = "setuptools.build_meta"\n\n'
                          f'[project]\nname = "{name}"\nversion = "{version}"\n',
        "PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{name}.py": f"VALUE = 'built from the {version} sdist'\n",
    }
    target = folder / f"{root}.tar.gz"
    with tarfile.open(target, "w:gz") as archive:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(f"{root}/{path}")
            info.size, info.mtime = len(data), 1700000000
            archive.addfile(info, io.BytesIO(data))
    return target


def test_an_sdist_only_package_is_built_in_the_builder_stage(tmp_path, runtime_image, builder_image, docker_client):
    index = tmp_path / "index"
    files = index / "files"
    files.mkdir(parents=True)
    sdist = make_sdist(files, "sdonly", "1.0")
    digest = hashlib.sha256(sdist.read_bytes()).hexdigest()
    (index / "simple" / "sdonly").mkdir(parents=True)
    (index / "simple" / "sdonly" / "index.html").write_text(f'<a href="../../files/{sdist.name}#sha256={digest}">{sdist.name}</a>\n')
    project = tmp_path / "p"
    project.mkdir()
    with serve_directory(index) as url:
        (project / "envman.yaml").write_text(
            f'version: 1\nname: sdist-test\npython:\n  version: "3.11"\n  index-url: {url}/simple\n'
            f"  extra-index-urls: [https://pypi.org/simple]\n  packages: [sdonly]\n"
            f"image:\n  base: {runtime_image}\n  builder: {builder_image}\n"
        )
        assert run_envman("lock", cwd=project).returncode == 0
        assert f"sha256:{digest}" in (project / "envman.lock").read_text()
        tag = "envman-e2e/sdist:1"
        done = run_envman("build", "--tag", tag, "--json", cwd=project, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout)["tag"] == tag
    ran = subprocess.run(["docker", "run", "--rm", "--network", "none", tag, "python3", "-c", "import sdonly; print(sdonly.VALUE)"],
                         capture_output=True, text=True)
    assert ran.stdout.strip() == "built from the 1.0 sdist", ran.stderr
    tools = subprocess.run(["docker", "run", "--rm", tag, "sh", "-c", "command -v gcc; ls /opt/envman/venv/lib/python3.11/site-packages"],
                           capture_output=True, text=True)
    assert "gcc" not in tools.stdout and "setuptools" not in tools.stdout
    check = run_envman("check", f"image:{tag}", cwd=project)
    assert check.returncode == 0, check.stdout + check.stderr
    docker_client.images.remove(tag, force=True)
