"""Issue 15: a platform's hashes cover every wheel any machine of that platform may pick (and
the sdist), nothing for other platforms; pip-tools refuses platforms it cannot resolve for.

The differential test locks real PyPI for linux-64 and osx-arm64, exports each platform and
asks pip (dry runs with --platform/--python-version/--implementation/--abi, for several glibc
and macOS levels) which files it installs: with the export's --require-hashes, and from
PyPI's full listing without hashes. Both must be the same files (the best wheel, not a
fallback to an older one or to the sdist)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from envman.ecosystems.python.entry import PythonEntry
from envman.ecosystems.python.hashes import file_installs, narrow_entries, pin_layers
from envman.ecosystems.python.platforms import host_platform
from envman.ecosystems.python.resolve import check_piptools_platforms
from envman.errors import BadInputError
from tests.python.conftest import run_envman

PY = f"{sys.version_info.major}.{sys.version_info.minor}"


# -- which files a platform's machines may install (pure) -----------------------------------------
@pytest.mark.parametrize(("filename", "platform", "installs"), [
    ("cryptography-46.0.3-cp311-abi3-manylinux_2_34_x86_64.whl", "linux-64", True),  # glibc 2.34+ machines pick this one
    ("cryptography-46.0.3-cp311-abi3-manylinux_2_28_x86_64.whl", "linux-64", True),
    ("cryptography-46.0.3-cp311-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl", "linux-64", True),
    ("cffi-2.1.1-cp311-cp311-manylinux1_i686.manylinux2014_i686.manylinux_2_17_i686.manylinux_2_5_i686.whl", "linux-64", False),
    ("numpy-2.3.5-cp311-cp311-musllinux_1_2_x86_64.whl", "linux-64", False),  # linux-64 is glibc
    ("numpy-2.3.5-cp311-cp311-linux_x86_64.whl", "linux-64", False),  # not portable
    ("numpy-2.3.5-cp312-cp312-manylinux_2_28_x86_64.whl", "linux-64", False),  # other Python
    ("numpy-2.3.5-cp311-cp311-manylinux_2_28_aarch64.whl", "linux-64", False),
    ("numpy-2.3.5-cp311-cp311-manylinux_2_28_aarch64.whl", "linux-aarch64", True),
    ("x-1.0-cp39-abi3-manylinux_2_39_x86_64.whl", "linux-64", True),  # any newer glibc level
    ("numpy-2.3.5-cp311-cp311-macosx_14_0_arm64.whl", "osx-arm64", True),  # macOS 14 machines pick this one
    ("numpy-2.3.5-cp311-cp311-macosx_11_0_arm64.whl", "osx-arm64", True),
    ("cryptography-46.0.3-cp311-abi3-macosx_10_9_universal2.whl", "osx-arm64", True),
    ("cryptography-46.0.3-cp311-abi3-macosx_10_9_universal2.whl", "osx-64", True),
    ("numpy-2.3.5-cp311-cp311-macosx_10_9_x86_64.whl", "osx-arm64", False),
    ("numpy-2.3.5-cp311-cp311-macosx_15_0_x86_64.whl", "osx-64", True),
    ("numpy-2.3.5-cp311-cp311-win_amd64.whl", "win-64", True),
    ("numpy-2.3.5-cp311-cp311-win32.whl", "win-64", False),
    ("numpy-2.3.5-cp311-cp311-win_arm64.whl", "win-64", False),
    ("numpy-2.3.5-cp311-cp311-win_amd64.whl", "linux-64", False),
    ("tqdm-4.70.1-py3-none-any.whl", "win-64", True),
    ("numpy-2.3.5.tar.gz", "osx-64", True),  # the sdist, for every platform
    ("not a wheel.whl", "linux-64", False),
])
def test_file_installs(filename, platform, installs):
    assert file_installs(filename, "3.11.7", platform) is installs


def test_narrowing_keeps_only_the_platforms_files_and_leaves_unknown_entries_alone():
    names = {"a" * 64: "p-1.0-cp311-cp311-manylinux_2_34_x86_64.whl", "b" * 64: "p-1.0-cp311-cp311-win_amd64.whl",
             "c" * 64: "p-1.0.tar.gz", "d" * 64: "p-1.0-cp311-cp311-musllinux_1_2_x86_64.whl"}
    entry = PythonEntry(name="p", version="1.0", hashes=[f"sha256:{c * 64}" for c in "abcde"])  # e: a file the index no longer lists
    other = PythonEntry(name="q", version="2", hashes=["sha256:" + "f" * 64])
    [linux, q] = narrow_entries([entry, other], {("p", "1.0"): names}, "3.11", "linux-64")
    assert linux.hashes == ["sha256:" + "a" * 64, "sha256:" + "c" * 64]
    assert q.hashes == other.hashes  # not listed: as resolved
    [windows, _] = narrow_entries([entry, other], {("p", "1.0"): names}, "3.11", "win-64")
    assert windows.hashes == ["sha256:" + "b" * 64, "sha256:" + "c" * 64]


def test_pin_layers_never_name_a_project_twice():
    entries = [
        PythonEntry(name="numpy", version="2.2.6", hashes=["sha256:1"]), PythonEntry(name="numpy", version="2.3.5", hashes=["sha256:2"]),
        PythonEntry(name="six", version="1.17.0", hashes=["sha256:3"]), PythonEntry(name="six", version="1.17.0", hashes=["sha256:3"]),
        PythonEntry(name="unhashed", version="1", hashes=[]),
    ]
    assert pin_layers(entries) == [["numpy==2.2.6", "six==1.17.0"], ["numpy==2.3.5"]]


# -- pip-tools: only the host's platform ------------------------------------------------------------
def test_piptools_platform_check():
    check_piptools_platforms(["linux-64"], "linux-64")
    with pytest.raises(BadInputError, match="win-64"):
        check_piptools_platforms(["linux-64", "win-64"], "linux-64")
    with pytest.raises(BadInputError, match="osx-arm64"):
        check_piptools_platforms(["osx-arm64"], "linux-64")
    with pytest.raises(BadInputError, match="none of envman's platforms"):
        check_piptools_platforms(["linux-64"], None)


@pytest.mark.parametrize("platforms", ["[linux-64, win-64]", "[win-64]"])
def test_piptools_refuses_other_platforms_exit_2(tmp_path, simple_index, platforms):
    assert host_platform() == "linux-64"  # (this suite runs on linux-64)
    (tmp_path / "envman.yaml").write_text(
        f'version: 1\nplatforms: {platforms}\npython:\n  version: "{PY}"\n  resolver: pip-tools\n'
        f"  index-url: {simple_index}\n  packages: [zeta]\n"
    )
    done = run_envman("lock", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "win-64" in done.stderr and "pip-tools" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "envman.lock").exists()


# -- against pip, on real PyPI ---------------------------------------------------------------------
PINS = ["cryptography==46.0.3", "numpy==2.3.5", "scipy==1.17.1", "markupsafe==3.0.3", "tqdm==4.67.1"]


@pytest.fixture(scope="session")
def real_lock(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hashes-real")
    (root / "envman.yaml").write_text(
        "version: 1\nplatforms: [linux-64, osx-arm64, win-64]\npython:\n  version: \"3.11.9\"\n  packages: "
        + json.dumps(PINS) + "\n"
    )
    done = run_envman("lock", cwd=root, timeout=600)
    assert done.returncode == 0, done.stderr
    for platform in ("linux-64", "osx-arm64", "win-64"):
        out = run_envman("export", "--format", "requirements", "--platform", platform, "-o", f"{platform}.txt", cwd=root)
        assert out.returncode == 0, out.stderr
    return root


def _pip_picks(requirements: Path, platforms: list[str], work: Path) -> list[str]:
    report = work / "report.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env["PIP_CONFIG_FILE"] = os.devnull
    done = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--isolated", "--index-url", "https://pypi.org/simple", "--dry-run",
         "--ignore-installed", "--no-deps", "--only-binary=:all:", *[a for p in platforms for a in ("--platform", p)],
         "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
         *(["--require-hashes"] if "--hash" in requirements.read_text() else []),
         "-r", str(requirements), "--report", str(report), "-q", "--cert", "/etc/ssl/certs/ca-certificates.crt"],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert done.returncode == 0, done.stderr
    picked = json.loads(report.read_text())["install"]
    return sorted(item["download_info"]["url"].rpartition("/")[2] for item in picked)


def _glibc(level: int, arch: str = "x86_64") -> list[str]:
    """The platform tags pip accepts on a machine with glibc 2.<level> (pip takes them literally)."""
    legacy = [f"manylinux{name}_{arch}" for name, minor in (("2014", 17), ("2010", 12), ("1", 5)) if minor <= level]
    return [f"manylinux_2_{m}_{arch}" for m in range(level, 4, -1)] + legacy


def _macos(major: int) -> list[str]:
    from packaging.tags import mac_platforms

    return list(mac_platforms((major, 0), "arm64"))


@pytest.mark.network
@pytest.mark.parametrize(("platform", "machine", "tags", "expect"), [
    ("linux-64", "glibc 2.39", _glibc(39), "cryptography-46.0.3-cp311-abi3-manylinux_2_34_x86_64.whl"),
    ("linux-64", "glibc 2.36 (Debian 12)", _glibc(36), "cryptography-46.0.3-cp311-abi3-manylinux_2_34_x86_64.whl"),
    ("linux-64", "glibc 2.31", _glibc(31), "cryptography-46.0.3-cp311-abi3-manylinux_2_28_x86_64.whl"),
    ("osx-arm64", "macOS 15", _macos(15), "numpy-2.3.5-cp311-cp311-macosx_14_0_arm64.whl"),
    ("osx-arm64", "macOS 12", _macos(12), "numpy-2.3.5-cp311-cp311-macosx_11_0_arm64.whl"),
    ("win-64", "Windows", ["win_amd64"], "numpy-2.3.5-cp311-cp311-win_amd64.whl"),
])
def test_pip_picks_the_best_wheel_from_the_export(real_lock, tmp_path, platform, machine, tags, expect):
    """pip with --require-hashes on the export picks what pip picks from all of PyPI."""
    export = real_lock / f"{platform}.txt"
    bare = tmp_path / "pins.txt"
    bare.write_text("".join(line.split(" ;")[0].rstrip(" \\") + "\n" for line in export.read_text().splitlines()
                            if line and not line.startswith((" ", "#", "-"))))
    with_hashes = _pip_picks(export, tags, tmp_path)
    assert with_hashes == _pip_picks(bare, tags, tmp_path), machine
    assert expect in with_hashes, machine


@pytest.mark.network
def test_hashes_are_the_platforms_files_and_the_sdist(real_lock):
    """Checked against PyPI's own listing (PEP 691): each platform's hashes are exactly the sdist
    and the release's wheels for CPython 3.11 (cp311, abi3, py3) on that platform's OS and
    architecture (manylinux, not musllinux)."""
    from envman.http import HttpClient

    lock = yaml.safe_load((real_lock / "envman.lock").read_text())
    http = HttpClient()
    endings = {"linux-64": ("manylinux", ("x86_64",)), "osx-arm64": ("macosx", ("arm64", "universal2")), "win-64": ("win", ("amd64",))}
    for name in ("cryptography", "numpy", "markupsafe"):
        version = next(p.split("==")[1] for p in PINS if p.startswith(name + "=="))
        page = json.loads(http.get(f"https://pypi.org/simple/{name}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"}))
        release = [f for f in page["files"] if f["filename"].startswith((f"{name}-{version}-", f"{name}-{version}.tar.gz"))]
        assert release
        for platform, (os_word, arches) in endings.items():
            entry = next(e for e in lock["environments"]["default"][platform]["python"] if e["name"] == name)
            expected = set()
            for file in release:
                filename = file["filename"]
                if filename.endswith(".whl"):
                    python, abi, plat = filename[:-4].split("-")[-3:]
                    python_ok = (python, abi) in (("cp311", "cp311"), ("py3", "none")) or (abi == "abi3" and int(python[3:]) <= 11)
                    plat_ok = any(p.startswith(os_word) and p.endswith(arches) for p in plat.split("."))
                    if not (python_ok and plat_ok):
                        continue
                expected.add("sha256:" + file["hashes"]["sha256"])
            assert set(entry["hashes"]) == expected, (name, platform)


def test_a_failing_platform_among_concurrent_ones_is_one_clear_error(tmp_path, simple_index):
    """Platforms resolve at once; a requirement nobody has fails the lock once (exit 3), nothing written."""
    (tmp_path / "envman.yaml").write_text(
        f'version: 1\nplatforms: [linux-64, osx-arm64, win-64]\npython:\n  version: "3.11.7"\n  index-url: {simple_index}\n'
        "  packages: [zeta, no-such-project-anywhere]\n"
    )
    done = run_envman("lock", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "no-such-project-anywhere" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "envman.lock").exists()


def test_concurrent_platforms_lock_like_one_at_a_time(project):
    """The same lock whether the platforms are resolved together or each alone."""
    both = project('version: 1\nplatforms: [linux-64, win-64]\npython:\n  version: "3.11.7"\n  index-url: INDEX\n'
                   "  packages: [zeta, beta]\n")
    assert run_envman("lock", cwd=both).returncode == 0
    together = yaml.safe_load((both / "envman.lock").read_text())["environments"]["default"]
    for platform in ("linux-64", "win-64"):
        (both / "envman.lock").unlink()
        text = (both / "envman.yaml").read_text()
        (both / "envman.yaml").write_text(text.replace("[linux-64, win-64]", f"[{platform}]"))
        assert run_envman("lock", cwd=both).returncode == 0
        alone = yaml.safe_load((both / "envman.lock").read_text())["environments"]["default"]
        assert alone[platform] == together[platform]
        (both / "envman.yaml").write_text(text)
