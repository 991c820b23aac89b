"""A conda channel with a working Python and Python libraries, and a PyPI-style index that
builds on them: the world of the conda + PyPI tests (tests/conda/test_pypi.py).

The conda `python` for linux-64 is this machine's interpreter (Debian's python3.11, which the
test images have too) made into a prefix the way `python -m venv --copies` does it (its binary copied into `bin/`, a `pyvenv.cfg` naming its
home), so a prefix that rattler links from it runs real Python whose site-packages is the
prefix's own; for osx-arm64 it is a package without files (locked, never installed).
Python libraries in the channel install a `*.dist-info` into that site-packages, as conda
packages do (INSTALLER: conda).
"""

from __future__ import annotations

import base64
import hashlib
import os
import platform
import subprocess
import sys
from pathlib import Path

from tests.conda.channel import PackageSpec
from tests.python.wheelhouse import write_simple_index

__all__ = ["HOST_PYTHON", "OSX_PYTHON", "conda_packages", "pypi_packages", "write_index"]

def _interpreter() -> tuple[Path, str]:
    """Debian's python3.11 when the machine has it (the test images have the same one, so a
    prefix made from it runs in a container too), else the interpreter running the tests."""
    for candidate in (Path("/usr/bin/python3.11"), Path(os.path.realpath(sys._base_executable))):  # type: ignore[attr-defined]
        if candidate.is_file():
            done = subprocess.run([str(candidate), "-c", "import platform; print(platform.python_version())"],
                                  capture_output=True, text=True, check=True)
            return candidate, done.stdout.strip()
    raise RuntimeError("no Python interpreter to make the conda python package from")


PYTHON_EXE, HOST_PYTHON = _interpreter()  # the linux-64 conda python is this interpreter
# another interpreter on osx-arm64 (one this machine has, so uv finds it fast): Python resolves for it there
OSX_PYTHON = platform.python_version() if platform.python_version() != HOST_PYTHON else "3.11.7"
_MINOR = ".".join(HOST_PYTHON.split(".")[:2])
_SITE = f"lib/python{_MINOR}/site-packages"
_OSX_SITE = f"lib/python{'.'.join(OSX_PYTHON.split('.')[:2])}/site-packages"


def _dist(name: str, version: str, site: str, module: str) -> dict[str, bytes | str]:
    """Files of a Python distribution as conda installs it (dist-info with RECORD)."""
    info = f"{site}/{name.replace('-', '_')}-{version}.dist-info"
    files: dict[str, bytes | str] = {
        f"{site}/{module}/__init__.py": f"__version__ = {version!r}\n",
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{info}/INSTALLER": "conda\n",
    }
    record = []
    for path, data in sorted(files.items()):
        raw = data.encode() if isinstance(data, str) else data
        digest = base64.urlsafe_b64encode(hashlib.sha256(raw).digest()).rstrip(b"=").decode()
        record.append(f"{path.removeprefix(site + '/')},sha256={digest},{len(raw)}")
    record.append(f"{info.removeprefix(site + '/')}/RECORD,,")
    files[f"{info}/RECORD"] = "\n".join(record) + "\n"
    return files


def _python_files() -> dict[str, bytes | str]:
    name = f"python{_MINOR}"
    return {
        f"bin/{name}": PYTHON_EXE.read_bytes(),
        "pyvenv.cfg": f"home = {PYTHON_EXE.parent}\ninclude-system-site-packages = false\nversion = {HOST_PYTHON}\n",
        f"{_SITE}/.keep": "",
    }


def conda_packages() -> list[PackageSpec]:
    """python (linux-64: this interpreter), numpy (a Python library on a native one),
    pytorch (PyPI's `torch`, named by its purl), libblas (native, no Python)."""
    linux, osx = ("linux-64",), ("osx-arm64",)
    name = f"python{_MINOR}"
    numpy_needs = ("python >=3.11", "libblas >=3.9")
    return [
        PackageSpec(
            "python", HOST_PYTHON, subdirs=linux, depends=("__glibc >=2.17",), files=_python_files(),
            symlinks={"bin/python": name, "bin/python3": name}, executables=(f"bin/{name}",),
        ),
        PackageSpec("python", OSX_PYTHON, subdirs=osx, files={f"{_OSX_SITE}/.keep": ""}),
        PackageSpec("libblas", "3.9.0", subdirs=linux + osx),
        PackageSpec("numpy", "1.26.4", subdirs=linux, depends=numpy_needs, files=_dist("numpy", "1.26.4", _SITE, "numpy")),
        PackageSpec("numpy", "1.26.4", subdirs=osx, depends=numpy_needs, files=_dist("numpy", "1.26.4", _OSX_SITE, "numpy")),
        PackageSpec("numpy", "1.25.2", subdirs=linux + osx, depends=("python >=3.11", "libblas >=3.9")),
        PackageSpec(
            "pytorch", "2.1.0", subdirs=linux, depends=("python >=3.11", "numpy >=1.24"), purls=("pkg:pypi/torch",),
            files=_dist("torch", "2.1.0", _SITE, "torch"),
        ),
        PackageSpec("pytorch", "2.1.0", subdirs=osx, depends=("python >=3.11", "numpy >=1.24"), purls=("pkg:pypi/torch",)),
    ]


def pypi_packages() -> list[tuple[str, str, list[str]]]:
    """The index: newer numpy and torch than conda's exist (never chosen), pandas needs numpy,
    lightning needs torch, needs-numpy-2 cannot be had on top of conda's numpy."""
    return [
        ("numpy", "1.26.4", []),
        ("numpy", "2.1.0", []),
        ("torch", "2.5.0", ["numpy>=2"]),
        ("python-dateutil", "2.9.0", []),
        ("pandas", "2.2.0", ["numpy>=1.22", "python-dateutil>=2.8"]),
        ("lightning", "2.0.0", ["torch>=2.0"]),
        ("needs-numpy-2", "1.0", ["numpy>=2"]),
    ]


def write_index(root: Path) -> Path:
    return write_simple_index(root, pypi_packages())
