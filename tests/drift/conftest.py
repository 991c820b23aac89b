"""Fixtures for the drift tests: a wheelhouse of real wheels, venvs, projects with a lock."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from envman.ecosystems.python.entry import PythonEntry
from envman.lockfile import Lock, PlatformLock, dump_lock
from tests.drift.builders import make_wheel, sha256_file

REPO = Path(__file__).resolve().parents[2]

# (name as published, version): the wheelhouse. The lock pins the first four.
WHEELS = [
    ("Alpha.Pkg", "1.0"),
    ("beta", "2.0"),
    ("beta", "2.1"),
    ("gamma", "0.3"),
    ("delta", "1.0.0"),
    ("extra-pkg", "9.0"),
]
LOCKED = [
    ("alpha-pkg", "1.0", "Alpha.Pkg", "1.0"), ("beta", "2.0", "beta", "2.0"), ("gamma", "0.3", "gamma", "0.3"),
    ("delta", "1", "delta", "1.0.0"),
]


def run_envman(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """`python -m envman ARGS` as a user runs it (a real process, real exit code)."""
    full_env = dict(os.environ)
    full_env["PYTHONPATH"] = str(REPO) + os.pathsep + full_env.get("PYTHONPATH", "")
    full_env.pop("NO_COLOR", None)
    if env:
        full_env.update(env)
    return subprocess.run([sys.executable, "-m", "envman", *args], cwd=cwd, capture_output=True, text=True, env=full_env, timeout=timeout)


def uv_bin() -> str:
    import uv

    return uv.find_uv_bin()


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Path]:
    folder = tmp_path_factory.mktemp("wheelhouse")
    return {(name, version): make_wheel(folder, name, version) for name, version in WHEELS}


def python_entries(wheelhouse: dict[tuple[str, str], Path]) -> list[PythonEntry]:
    entries = [PythonEntry(name=n, version=v, hashes=["sha256:" + sha256_file(wheelhouse[(wn, wv)])]) for n, v, wn, wv in LOCKED]
    # Locked for another platform only: never reported missing here.
    entries.append(PythonEntry(name="winonly", version="1.0", hashes=["sha256:" + "0" * 64], marker="sys_platform == 'win32'"))
    return entries


def write_project(folder: Path, manifest: str, platforms: dict[str, PlatformLock], environment: str = "default") -> Path:
    """envman.yaml + a canonical envman.lock in folder; returns the manifest path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "envman.yaml"
    path.write_text(manifest, encoding="utf-8")
    lock = Lock(version=1, manifest_hash={"all": "sha256:" + "0" * 64}, environments={environment: platforms})
    (folder / "envman.lock").write_text(dump_lock(lock), encoding="utf-8")
    return path


def python_manifest(wheel_dir: Path, extra: str = "") -> str:
    return (
        "version: 1\n"
        "python:\n"
        f"  version: '{sys.version_info.major}.{sys.version_info.minor}'\n"
        f"  find-links: ['{wheel_dir}']\n"
        "  packages: [alpha-pkg, beta, gamma, delta]\n" + extra
    )


def make_venv(path: Path, requirements: list[str], wheel_dir: Path) -> Path:
    """A real venv (with pip, as `python -m venv` makes it) with requirements installed by uv."""
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    python = path / "bin" / "python"
    if requirements:
        subprocess.run(
            [uv_bin(), "pip", "install", "-q", "--python", str(python), "--link-mode", "copy", "--no-index",
             "--find-links", str(wheel_dir), *requirements],
            check=True,
        )
    return python


@pytest.fixture(scope="session")
def synced_venv_template(tmp_path_factory: pytest.TempPathFactory, wheelhouse: dict[tuple[str, str], Path]) -> Path:
    """One real venv in sync with the lock; tests work on copies (a venv finds its site from its own path)."""
    wheel_dir = next(iter(wheelhouse.values())).parent
    folder = tmp_path_factory.mktemp("template") / "venv"
    make_venv(folder, [f"{wn}=={wv}" for _, _, wn, wv in LOCKED], wheel_dir)
    return folder


@pytest.fixture()
def python_project(tmp_path: Path, wheelhouse: dict[tuple[str, str], Path], synced_venv_template: Path) -> dict[str, Any]:
    """A project whose lock pins alpha-pkg 1.0, beta 2.0, gamma 0.3, delta 1 and a venv in sync with it."""
    import shutil

    wheel_dir = next(iter(wheelhouse.values())).parent
    plock = PlatformLock(python_version=f"{sys.version_info.major}.{sys.version_info.minor}", python=python_entries(wheelhouse))
    manifest = write_project(tmp_path / "project", python_manifest(wheel_dir), {"linux-64": plock})
    shutil.copytree(synced_venv_template, tmp_path / "venv", symlinks=True)
    python = tmp_path / "venv" / "bin" / "python"
    return {"manifest": manifest, "dir": manifest.parent, "python": python, "wheel_dir": wheel_dir, "tmp": tmp_path}
