"""What a user reads when a conda lock cannot be made: exit codes 2, 3 and 4, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conda.conftest import run_envman
from tests.conda.helpers import closed_port_url, write_manifest


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("numpy >>=1.2", "not a valid conda match spec"),
        ("numpy[foo=bar]", "not a valid conda match spec"),
        ("numpy*", "not a valid conda match spec"),
        ("numpy|scipy", "'|' is not allowed"),
        ("numpy; rm -rf /", "not a valid conda match spec"),
        ("$(curl x)", "'$' is not allowed"),
        ("https://example.org/noarch/x-1.0-0.conda", "is not a conda match spec"),
    ],
)
def test_a_bad_spec_is_exit_2_at_its_place(tmp_path: Path, spec: str, reason: str) -> None:
    project = write_manifest(tmp_path, f"version: 1\nconda:\n  channels: [conda-forge]\n  packages:\n    - tools\n    - '{spec}'\n")
    for command in ("validate", "lock"):
        done = run_envman(command, cwd=project)
        assert done.returncode == 2, done.stderr
        assert "envman.yaml:6:7:" in done.stderr and reason in done.stderr, done.stderr
        assert "Traceback" not in done.stderr
    assert not (project / "envman.lock").exists()


def test_good_specs_validate(tmp_path: Path) -> None:
    specs = ["gdal>=3.8", "numpy 1.26.*", "python=3.11", "pkg=1.2=build_0", "conda-forge::numpy", 'x[version=">=1,<2"]', "x >=1,<2"]
    body = "version: 1\nconda:\n  packages:\n" + "".join(f"    - '{s}'\n" for s in specs)
    done = run_envman("validate", cwd=write_manifest(tmp_path, body))
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("snippet", "place"),
    [
        ("channels: ['conda forge']", "3:14"),
        ("channels: ['ftp://example.org/c']", "3:14"),
        ("channel-priority: sometimes", "3:21"),
        ("virtual-packages: {cuda: twelve}", "3:28"),
        ("virtual-packages: {gpu: '12'}", "3:22"),
    ],
)
def test_bad_section_keys_are_exit_2(tmp_path: Path, snippet: str, place: str) -> None:
    project = write_manifest(tmp_path, f"version: 1\nconda:\n  {snippet}\n  packages: [tools]\n")
    done = run_envman("validate", cwd=project)
    assert done.returncode == 2 and f"envman.yaml:{place}:" in done.stderr, done.stderr


def test_unsatisfiable_is_exit_3_naming_the_conflict(tmp_path: Path, channel_url: str) -> None:
    project = write_manifest(tmp_path, f'version: 1\nconda:\n  channels: ["{channel_url}"]\n  packages: ["app >=3"]\n')
    done = run_envman("lock", cwd=project)
    assert done.returncode == 3, done.stderr
    assert "linux-64" in done.stderr and "app >=3" in done.stderr and "app <3" in done.stderr and "helper" in done.stderr
    assert "Traceback" not in done.stderr and not (project / "envman.lock").exists()


def test_a_missing_virtual_package_is_exit_3_naming_it(tmp_path: Path, channel_url: str) -> None:
    project = write_manifest(
        tmp_path, f'version: 1\nconda:\n  channels: ["{channel_url}"]\n  virtual-packages: {{glibc: "2.12"}}\n  packages: [libz]\n'
    )
    done = run_envman("lock", cwd=project)
    assert done.returncode == 3, done.stderr
    assert "__glibc >=2.17" in done.stderr and "__glibc=2.12" in done.stderr


def test_an_unknown_package_is_exit_3(tmp_path: Path, channel_url: str) -> None:
    project = write_manifest(tmp_path, f'version: 1\nconda:\n  channels: ["{channel_url}"]\n  packages: [no-such-package]\n')
    done = run_envman("lock", cwd=project)
    assert done.returncode == 3 and "no-such-package" in done.stderr, done.stderr


def test_an_unreachable_channel_is_exit_4_naming_it(tmp_path: Path) -> None:
    url = closed_port_url()
    project = write_manifest(tmp_path, f'version: 1\nconda:\n  channels: ["{url}"]\n  packages: [tools]\n')
    done = run_envman("lock", cwd=project, env={"ENVMAN_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 4, done.stderr
    assert url in done.stderr and "Traceback" not in done.stderr


def test_a_folder_that_is_no_channel_is_exit_4(tmp_path: Path, serve) -> None:
    (tmp_path / "empty").mkdir()
    url = serve(tmp_path / "empty")
    project = write_manifest(tmp_path / "p", f'version: 1\nconda:\n  channels: ["{url}/nothing"]\n  packages: [tools]\n')
    done = run_envman("lock", cwd=project)
    assert done.returncode == 4, done.stderr
    assert f"{url}/nothing" in done.stderr and "Traceback" not in done.stderr
