"""Conda and PyPI together, as pixi does: the interpreter and the Python packages conda
provides come from the conda solution, the PyPI packages are resolved on top of it (for that
interpreter, conda's packages pinned and never fetched from the index), each Python entry
says who installs it, `why` crosses over, and sync puts the PyPI part into the prefix's
python without installing anything twice.

Everything is served on 127.0.0.1: a conda channel whose linux-64 python is this machine's
interpreter (tests/conda/mixed.py) and a PEP 503 index of tiny wheels."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conda.channel import build_channel
from tests.conda.conftest import run_envman
from tests.conda.helpers import read_lock, write_manifest
from tests.conda.mixed import HOST_PYTHON, OSX_PYTHON, conda_packages, write_index
from tests.python.servers import serve_directory

MANIFEST = """version: 1
platforms: [linux-64, osx-arm64]
conda:
  channels: ["{url}/chan"]
  packages: ["python >=3.11", {conda}]
python:
  index-url: {url}/index/simple
  packages: [{python}]
"""


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    root = tmp_path_factory.mktemp("conda-pypi")
    build_channel(root / "chan", conda_packages())
    write_index(root / "index")
    with serve_directory(root) as url:
        yield url


def _manifest(url: str, conda: str = "pytorch", python: str = "pandas, lightning") -> str:
    return MANIFEST.format(url=url, conda=conda, python=python)


@pytest.fixture(scope="module")
def locked(world: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = write_manifest(tmp_path_factory.mktemp("mixed") / "p", _manifest(world))
    done = run_envman("lock", cwd=project)
    assert done.returncode == 0, done.stderr
    return project


def _python(project: Path, platform: str = "linux-64") -> dict[str, dict[str, Any]]:
    return {e["name"]: e for e in read_lock(project)["environments"]["default"][platform]["python"]}


def test_python_resolves_on_top_of_the_conda_solution(locked: Path) -> None:
    lock = read_lock(locked)["environments"]["default"]
    # the interpreter is conda's, per platform, and uv resolved for its full version
    assert lock["linux-64"]["python-version"] == HOST_PYTHON
    assert lock["osx-arm64"]["python-version"] == OSX_PYTHON
    for platform in ("linux-64", "osx-arm64"):
        python = _python(locked, platform)
        conda = {e["name"]: e for e in lock[platform]["conda"]}
        assert set(conda) == {"python", "pytorch", "numpy", "libblas"}
        # numpy (same name) and torch (pytorch's purl) are conda's, at conda's versions, although
        # the index has numpy 2.1.0 and torch 2.5.0; pandas, lightning, python-dateutil are uv's
        assert {n: (e["version"], e["manager"], e.get("provider")) for n, e in python.items()} == {
            "numpy": ("1.26.4", "conda", "numpy"),
            "torch": ("2.1.0", "conda", "pytorch"),
            "pandas": ("2.2.0", "pypi", None),
            "lightning": ("2.0.0", "pypi", None),
            "python-dateutil": ("2.9.0", "pypi", None),
        }
        assert not python["numpy"].get("hashes") and not python["torch"].get("hashes")
        assert python["pandas"]["hashes"] and python["pandas"]["source"].endswith("/index/simple")
        assert conda["pytorch"]["purls"] == ["pkg:pypi/torch"]
        assert python["pandas"]["requires"] == ["numpy", "python-dateutil"]


def test_why_crosses_from_pypi_into_conda(locked: Path) -> None:
    done = run_envman("why", "libblas", "--json", cwd=locked)
    assert done.returncode == 0, done.stderr
    (found,) = json.loads(done.stdout)["ecosystems"]
    assert found["ecosystem"] == "conda"
    assert ["pytorch", "numpy", "libblas"] in found["chains"]
    assert ["python:pandas", "python:numpy", "numpy", "libblas"] in found["chains"]
    text = run_envman("why", "numpy", cwd=locked).stdout
    assert "python: numpy 1.26.4\n  envman.yaml -> pandas -> numpy\n" in text
    assert "envman.yaml -> python:pandas -> python:numpy -> numpy" in text
    # tree draws the conda package under the Python entry it installs
    lines = run_envman("tree", "--platform", "linux-64", cwd=locked).stdout.splitlines()
    python = lines[lines.index("python") + 1:]
    assert python[:3] == ["├── lightning v2.0.0", "│   └── torch v2.1.0", "│       └── conda:pytorch v2.1.0"], lines
    assert python[3:6] == ["└── pandas v2.2.0", "    ├── numpy v1.26.4", "    │   └── conda:numpy v1.26.4"], lines


def test_exports_leave_conda_packages_to_conda(locked: Path) -> None:
    done = run_envman("export", "--format", "requirements", "--platform", "linux-64", cwd=locked)
    assert done.returncode == 0, done.stderr
    pins = sorted(line.split(" ")[0] for line in done.stdout.splitlines() if "==" in line)
    assert pins == ["lightning==2.0.0", "pandas==2.2.0", "python-dateutil==2.9.0"]


def test_environment_yml_holds_the_pypi_part_and_reads_back(locked: Path, world: str, tmp_path: Path) -> None:
    """`--format environment`: conda's exact pins, and a `pip:` list of uv's packages (conda's
    numpy and torch are conda's); `init --from` it and lock gives the same lock entries."""
    import yaml

    done = run_envman("export", "--format", "environment", "--platform", "linux-64", cwd=locked)
    assert done.returncode == 0, done.stderr
    document = yaml.safe_load(done.stdout)
    *conda, pip = document["dependencies"]
    assert sorted(d.split("=")[0] for d in conda) == ["libblas", "numpy", "python", "pytorch"]
    assert pip == {"pip": [f"--index-url {world}/index/simple", "lightning==2.0.0", "pandas==2.2.0", "python-dateutil==2.9.0"]}
    again = tmp_path / "again"
    again.mkdir()
    (again / "environment.yml").write_text(done.stdout)
    done = run_envman("init", "--from", "environment.yml", cwd=again)
    assert done.returncode == 0, done.stderr
    manifest = yaml.safe_load((again / "envman.yaml").read_text())
    assert manifest["python"]["index-url"] == f"{world}/index/simple"
    assert manifest["python"]["packages"] == ["lightning==2.0.0", "pandas==2.2.0", "python-dateutil==2.9.0"]
    done = run_envman("lock", cwd=again)
    assert done.returncode == 0, done.stderr
    assert _python(again) == _python(locked)


def test_sync_installs_each_package_once_into_the_prefix(locked: Path, tmp_path: Path) -> None:
    prefix = tmp_path / "env"
    python = prefix / "bin" / "python"
    # before conda's part is there, the Python part refuses to install conda's packages
    done = run_envman("sync", "conda:" + str(prefix), cwd=locked)
    assert done.returncode == 0, done.stderr
    done = run_envman("sync", f"python:{python}", cwd=locked)
    assert done.returncode == 0, done.stderr + done.stdout
    assert "numpy" not in done.stdout and "torch" not in done.stdout  # uv installed pandas, lightning, dateutil only
    site = next((prefix / "lib").glob("python3.*/site-packages"))
    infos = sorted(p.name for p in site.glob("*.dist-info"))
    assert infos == [
        "lightning-2.0.0.dist-info", "numpy-1.26.4.dist-info", "pandas-2.2.0.dist-info",
        "python_dateutil-2.9.0.dist-info", "torch-2.1.0.dist-info",
    ]
    assert (site / "numpy-1.26.4.dist-info" / "INSTALLER").read_text() == "conda\n"
    assert (site / "pandas-2.2.0.dist-info" / "INSTALLER").read_text().strip() == "uv"
    done = run_envman("check", f"conda:{prefix}", f"python:{python}", "--format", "json", cwd=locked)
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["in_sync"] is True
    # conda's numpy gone: the Python sync does not replace it from PyPI, it says whose it is
    import shutil

    shutil.rmtree(site / "numpy-1.26.4.dist-info")
    done = run_envman("sync", f"python:{python}", cwd=locked)
    assert done.returncode == 5, done.stdout + done.stderr
    assert "numpy 1.26.4 (conda: numpy) must come from conda" in done.stderr


def test_a_pypi_package_conda_cannot_satisfy_is_a_conflict(world: str, tmp_path: Path) -> None:
    project = write_manifest(tmp_path / "p", _manifest(world, python="pandas, needs-numpy-2"))
    done = run_envman("lock", cwd=project)
    assert done.returncode == 3, done.stderr
    assert "numpy" in done.stderr and "Traceback" not in done.stderr
    assert not (project / "envman.lock").exists()


def test_a_conda_change_resolves_python_again(locked: Path, world: str, tmp_path: Path) -> None:
    project = write_manifest(tmp_path / "p", _manifest(world))
    (project / "envman.lock").write_text((locked / "envman.lock").read_text())
    (project / "envman.yaml").write_text(_manifest(world, conda="pytorch, numpy 1.25.*"))
    done = run_envman("lock", cwd=project)
    assert done.returncode == 0, done.stderr
    assert _python(project)["numpy"]["version"] == "1.25.2"  # the python section did not change
    # python.version that conda's python does not match: exit 3 naming both
    (project / "envman.yaml").write_text(_manifest(world).replace("  index-url:", '  version: "3.10"\n  index-url:'))
    done = run_envman("lock", cwd=project)
    assert done.returncode == 3 and "python.version is 3.10" in done.stderr and HOST_PYTHON in done.stderr, done.stderr


IMAGE_TAG = f"envman-conda-pypi/image:{os.getpid()}"  # one per test process


def test_the_image_installs_each_package_once_into_the_prefix(world: str, tmp_path: Path, base_image: str, docker_client) -> None:
    """The image: conda's layer is the prefix (python, numpy, pytorch), the Python layer adds
    only uv's packages to the prefix's own site-packages (installed with its python), and the
    image is in sync with the lock through its labels."""
    body = _manifest(world).replace("platforms: [linux-64, osx-arm64]", "platforms: [linux-64]") + f"image:\n  base: {base_image}\n"
    project = write_manifest(tmp_path / "p", body)
    done = run_envman("lock", cwd=project)
    assert done.returncode == 0, done.stderr
    try:
        done = run_envman("build", "--tag", IMAGE_TAG, cwd=project, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        script = (
            "cd /opt/envman/conda/lib/python3.*/site-packages && ls -d *.dist-info && for d in numpy pandas; do "
            "cat $d-*.dist-info/INSTALLER; echo; done && /opt/envman/conda/bin/python -c 'import sys, numpy, pandas, torch; "
            "print(sys.prefix, numpy.__version__, pandas.__version__, torch.__version__)' && ls /opt/envman"
        )
        run = subprocess.run(["docker", "run", "--rm", "--network", "none", IMAGE_TAG, "sh", "-c", script],
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        lines = run.stdout.split()
        assert lines[:5] == [
            "lightning-2.0.0.dist-info", "numpy-1.26.4.dist-info", "pandas-2.2.0.dist-info",
            "python_dateutil-2.9.0.dist-info", "torch-2.1.0.dist-info",
        ], run.stdout
        assert lines[5:7] == ["conda", "uv"], run.stdout  # numpy is conda's, not reinstalled by uv
        assert lines[7:11] == ["/opt/envman/conda", "1.26.4", "2.2.0", "2.1.0"], run.stdout
        assert lines[11:] == ["conda"], run.stdout  # no venv beside the prefix
        check = run_envman("check", f"image:{IMAGE_TAG}", "--format", "json", cwd=project, timeout=600)
        assert check.returncode == 0, check.stdout + check.stderr
        report = json.loads(check.stdout)
        assert report["in_sync"] is True, check.stdout
    finally:
        try:
            docker_client.images.remove(IMAGE_TAG, force=True)
        except Exception:
            pass


def test_the_sbom_lists_conda_provided_python_packages_once(locked: Path) -> None:
    done = run_envman("export", "--format", "cyclonedx", "--platform", "linux-64", cwd=locked)
    assert done.returncode == 0, done.stderr
    sbom = json.loads(done.stdout)
    by_name: dict[str, list[dict[str, Any]]] = {}
    for component in sbom["components"]:
        by_name.setdefault(component["name"], []).append(component)
    # numpy is conda's package (installed once, by conda): one component, the conda one;
    # torch is pytorch's Python name, so it is not a component of its own either
    assert len(by_name["numpy"]) == 1, by_name["numpy"]
    assert by_name["numpy"][0]["purl"].startswith("pkg:conda/") and by_name["numpy"][0]["version"] == "1.26.4"
    assert [p["value"] for p in by_name["numpy"][0]["properties"]] == ["conda"]
    assert "torch" not in by_name and "pytorch" in by_name
    refs = {c["bom-ref"] for c in sbom["components"]}
    pandas = next(c for c in by_name["pandas"])
    depends = next(d["dependsOn"] for d in sbom["dependencies"] if d["ref"] == pandas["bom-ref"])
    # pandas' dependency on numpy points at conda's numpy component; every reference resolves
    assert by_name["numpy"][0]["bom-ref"] in depends
    assert all(ref in refs for d in sbom["dependencies"] for ref in [d["ref"], *d["dependsOn"]])


def test_tree_invert_climbs_from_conda_into_python(locked: Path) -> None:
    done = run_envman("tree", "--invert", "libblas", "--platform", "linux-64", cwd=locked)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "conda",
        "└── libblas v3.9.0",
        "    └── numpy v1.26.4",
        "        ├── pytorch v2.1.0",
        "        │   └── python:torch v2.1.0",
        "        │       └── python:lightning v2.0.0",
        "        └── python:numpy v1.26.4",
        "            └── python:pandas v2.2.0",
    ]


def test_run_uses_the_conda_prefix_with_the_pypi_part_inside(locked: Path, tmp_path: Path) -> None:
    import shutil

    project = tmp_path / "p"
    shutil.copytree(locked, project)
    code = "import sys, pandas, numpy; print(sys.prefix); print(pandas.__file__); print(numpy.__file__)"
    done = run_envman("run", "--", "python", "-c", code, cwd=project)
    assert done.returncode == 0, done.stdout + done.stderr
    prefix = str(project / ".envman" / "conda")
    lines = done.stdout.splitlines()
    assert lines[0] == prefix, lines
    assert lines[1].startswith(prefix + "/lib/") and lines[2].startswith(prefix + "/lib/"), lines
    assert not (project / ".venv").exists()  # nothing installed twice, no venv beside the prefix
    site = next((project / ".envman" / "conda" / "lib").glob("python3.*/site-packages"))
    assert (site / "numpy-1.26.4.dist-info" / "INSTALLER").read_text() == "conda\n"
    assert (site / "pandas-2.2.0.dist-info" / "INSTALLER").read_text().strip() == "uv"
    # a second run has nothing to do and says nothing about syncing
    again = run_envman("run", "--", "python", "-c", "import pandas", cwd=project)
    assert again.returncode == 0 and again.stdout == "" and again.stderr == "", again.stdout + again.stderr


def test_conda_lock_export_holds_the_pypi_part_as_pip_packages(locked: Path, tmp_path: Path) -> None:
    """conda-lock.yml has conda's packages and the PyPI part as `manager: pip` packages, one
    file each per platform with its sha256 (one of the lock's hashes); conda-lock's own
    parser reads it and its renderer puts them in the environment's pip list."""
    from conda_lock.conda_lock import render_lockfile_for_platform
    from conda_lock.lockfile import parse_conda_lock_file

    path = tmp_path / "conda-lock.yml"
    done = run_envman("export", "--format", "conda-lock", cwd=locked)
    assert done.returncode == 0, done.stderr
    path.write_text(done.stdout)
    lockfile = parse_conda_lock_file(path)
    for platform in ("linux-64", "osx-arm64"):
        pip = {p.name: p for p in lockfile.package if p.manager == "pip" and p.platform == platform}
        python = _python(locked, platform)
        assert {n: p.version for n, p in pip.items()} == {n: e["version"] for n, e in python.items() if e["manager"] == "pypi"}
        for name, package in pip.items():
            assert f"sha256:{package.hash.sha256}" in python[name]["hashes"], name
            assert package.url.startswith("http://127.0.0.1:") and package.url.split("/")[-1].startswith(name.replace("-", "_"))
        assert set(pip["pandas"].dependencies) == {"numpy", "python-dateutil"}
        conda = {p.name for p in lockfile.package if p.manager == "conda" and p.platform == platform}
        assert "numpy" in conda and "numpy" not in pip  # conda's numpy stays conda's
    env = render_lockfile_for_platform(lockfile=lockfile, include_dev_dependencies=False, extras=None, kind="env", platform="linux-64")
    text = "\n".join(env)
    pandas = next(p for p in lockfile.package if p.manager == "pip" and p.name == "pandas" and p.platform == "linux-64")
    assert "- pip:" in text and f"- pandas == 2.2.0 --hash=sha256:{pandas.hash.sha256}" in text, text
