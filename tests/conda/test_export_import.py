"""Exports read by the tools they are for (conda-lock's own parser and renderer, rattler's
@EXPLICIT parser), and `init --from` environment.yml / conda-lock.yml back to a lock."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.conda.conftest import run_envman
from tests.conda.helpers import read_lock, write_manifest


@pytest.fixture
def locked(tmp_path: Path, channel_url: str) -> Path:
    project = write_manifest(tmp_path / "p", f"""version: 1
platforms: [linux-64, osx-arm64]
conda:
  channels: ["{channel_url}"]
  packages: [app, plugin]
environments:
  production: {{}}
  design:
    conda: {{packages: [tools]}}
""")
    done = run_envman("lock", cwd=project)
    assert done.returncode == 0, done.stderr
    return project


def _entries(project: Path, env: str, platform: str) -> dict[str, dict]:
    return {e["name"]: e for e in read_lock(project)["environments"][env][platform]["conda"]}


def _export(project: Path, *args: str) -> str:
    done = run_envman("export", *args, cwd=project)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_conda_lock_reads_the_export(locked: Path, tmp_path: Path) -> None:
    from conda_lock.conda_lock import render_lockfile_for_platform
    from conda_lock.lockfile import parse_conda_lock_file

    path = tmp_path / "conda-lock.yml"
    path.write_text(_export(locked, "--format", "conda-lock", "--env", "design", "--platform", "osx-arm64"))
    lockfile = parse_conda_lock_file(path)
    expected = _entries(locked, "design", "osx-arm64")
    assert {p.name: p.version for p in lockfile.package} == {name: e["version"] for name, e in expected.items()}
    for package in lockfile.package:
        entry = expected[package.name]
        assert (package.url, package.hash.sha256, package.hash.md5) == (entry["url"], entry["sha256"], entry["md5"])
        assert package.platform == "osx-arm64"
        assert package.manager == "conda" and package.categories == {"main"}
    assert set(lockfile.package[0].dependencies) <= set(expected) | {"__osx", "__glibc"}
    # conda-lock renders installable files from it: @EXPLICIT with every url, env with exact pins
    explicit = render_lockfile_for_platform(lockfile=lockfile, include_dev_dependencies=False, extras=None, kind="explicit",
                                            platform="osx-arm64")
    urls = [line.split("#")[0] for line in explicit if line.startswith("http")]
    assert sorted(urls) == sorted(e["url"] for e in expected.values())
    env = render_lockfile_for_platform(lockfile=lockfile, include_dev_dependencies=False, extras=None, kind="env", platform="osx-arm64")
    assert f"  - app=2.0={expected['app']['build']}" in env
    # conda-lock orders the explicit file so that dependencies come first, as envman does
    text = _export(locked, "--format", "explicit", "--env", "design", "--platform", "osx-arm64")
    ours = [line.split("#")[0] for line in text.splitlines() if line.startswith("http")]
    assert ours.index(expected["libz"]["url"]) < ours.index(expected["core"]["url"]) < ours.index(expected["app"]["url"])


def test_conda_lock_export_holds_every_platform(locked: Path, tmp_path: Path) -> None:
    """Without --platform, one conda-lock.yml for every platform of the environment, as
    `conda-lock lock -p linux-64 -p osx-arm64` writes it; conda-lock parses it and renders each
    platform's packages from it."""
    from conda_lock.conda_lock import render_lockfile_for_platform
    from conda_lock.lockfile import parse_conda_lock_file

    path = tmp_path / "conda-lock.yml"
    path.write_text(_export(locked, "--format", "conda-lock", "--env", "design"))
    lockfile = parse_conda_lock_file(path)
    assert lockfile.metadata.platforms == ["linux-64", "osx-arm64"]
    assert set(lockfile.metadata.content_hash) == {"linux-64", "osx-arm64"}
    for platform in ("linux-64", "osx-arm64"):
        expected = _entries(locked, "design", platform)
        mine = {p.name: p for p in lockfile.package if p.platform == platform}
        assert {n: (p.version, p.url, p.hash.sha256) for n, p in mine.items()} == {
            n: (e["version"], e["url"], e["sha256"]) for n, e in expected.items()
        }
        explicit = render_lockfile_for_platform(
            lockfile=lockfile, include_dev_dependencies=False, extras=None, kind="explicit", platform=platform
        )
        assert sorted(line.split("#")[0] for line in explicit if line.startswith("http")) == sorted(e["url"] for e in expected.values())
    # the solutions differ per platform (app 1.5 on linux-64, 2.0 on osx-arm64), both are there
    assert {(p.platform, p.version) for p in lockfile.package if p.name == "app"} == {("linux-64", "1.5"), ("osx-arm64", "2.0")}
    # --platform still writes one platform
    one = yaml.safe_load(_export(locked, "--format", "conda-lock", "--env", "design", "--platform", "osx-arm64"))
    assert one["metadata"]["platforms"] == ["osx-arm64"] and {p["platform"] for p in one["package"]} == {"osx-arm64"}


def test_explicit_export(locked: Path) -> None:
    from rattler.explicit_environment import ExplicitEnvironmentSpec

    text = _export(locked, "--format", "explicit", "--env", "production", "--platform", "linux-64")
    assert "@EXPLICIT" in text.splitlines()
    spec = ExplicitEnvironmentSpec.from_str(text)
    assert str(spec.platform) == "linux-64"
    entries = _entries(locked, "production", "linux-64")
    assert sorted(p.url for p in spec.packages) == sorted(f"{e['url']}#{e['sha256']}" for e in entries.values())
    assert "tools" not in text  # design's package, not production's


def test_environment_export(locked: Path) -> None:
    data = yaml.safe_load(_export(locked, "--format", "environment", "--env", "design", "--platform", "linux-64"))
    entries = _entries(locked, "design", "linux-64")
    assert data["name"] == "design"
    assert data["channels"] == [entries["app"]["channel"]]
    assert data["dependencies"] == [f"{n}={e['version']}={e['build']}" for n, e in sorted(entries.items())]


def test_export_of_a_stale_lock_is_refused(locked: Path) -> None:
    text = (locked / "envman.yaml").read_text().replace("[app, plugin]", "[app, plugin, helper]")
    (locked / "envman.yaml").write_text(text)
    done = run_envman("export", "--format", "explicit", cwd=locked)
    assert done.returncode == 1 and "stale" in done.stderr


def test_init_from_conda_lock_round_trip(locked: Path, tmp_path: Path) -> None:
    (tmp_path / "again").mkdir()
    conda_lock = _export(locked, "--format", "conda-lock", "--env", "production", "--platform", "linux-64")
    (tmp_path / "again" / "conda-lock.yml").write_text(conda_lock)
    done = run_envman("init", "--from", "conda-lock.yml", cwd=tmp_path / "again")
    assert done.returncode == 0, done.stderr
    manifest = yaml.safe_load((tmp_path / "again" / "envman.yaml").read_text())
    original = _entries(locked, "production", "linux-64")
    assert manifest["conda"]["channels"] == [original["app"]["channel"]]
    # the top-level packages, pinned to their version and build; the solve finds the rest
    pinned = sorted(f"{n} =={original[n]['version']} {original[n]['build']}" for n in ("app", "plugin"))
    assert sorted(manifest["conda"]["packages"]) == pinned
    done = run_envman("lock", cwd=tmp_path / "again")
    assert done.returncode == 0, done.stderr
    assert _entries(tmp_path / "again", "default", "linux-64") == original


def test_init_from_environment_yml_round_trip(locked: Path, tmp_path: Path) -> None:
    (tmp_path / "env").mkdir()
    (tmp_path / "env" / "environment.yml").write_text(_export(locked, "--format", "environment", "--env", "design"))
    done = run_envman("init", "--from", "environment.yml", cwd=tmp_path / "env")
    assert done.returncode == 0, done.stderr
    done = run_envman("lock", cwd=tmp_path / "env")
    assert done.returncode == 0, done.stderr
    assert _entries(tmp_path / "env", "default", "linux-64") == _entries(locked, "design", "linux-64")


def test_conda_lock_v2_files_are_read_too(locked: Path, tmp_path: Path) -> None:
    """A version 2 file (`categories` lists), checked with conda-lock's parser, then `init --from` it."""
    from conda_lock.lockfile import parse_conda_lock_file

    document = yaml.safe_load(_export(locked, "--format", "conda-lock", "--env", "production"))
    document["version"] = 2
    for package in document["package"]:
        package["categories"] = [package.pop("category")]
        del package["optional"]
    (tmp_path / "v2").mkdir()
    path = tmp_path / "v2" / "conda-lock.yml"
    path.write_text(yaml.safe_dump(document))
    assert len(parse_conda_lock_file(path).package) == len(document["package"])
    done = run_envman("init", "--from", "conda-lock.yml", cwd=tmp_path / "v2")
    assert done.returncode == 0, done.stderr
    packages = yaml.safe_load((tmp_path / "v2" / "envman.yaml").read_text())["conda"]["packages"]
    assert sorted(p.split()[0] for p in packages) == ["app", "plugin"]


def test_environment_yml_importer(tmp_path: Path) -> None:
    from envman.ecosystems.conda.importers import read_environment_yml

    path = tmp_path / "environment.yml"
    text = "channels: [conda-forge, nodefaults]\ndependencies: [python=3.11, 'numpy>=1.26', {pip: [requests==2.32.3]}]\n"
    assert read_environment_yml(path, text) == {
        "conda": {"channels": ["conda-forge"], "packages": ["python=3.11", "numpy>=1.26"]},
        "python": {"packages": ["requests==2.32.3"]},
    }


def test_multi_platform_conda_lock_pins_what_platforms_share(tmp_path: Path) -> None:
    from envman.ecosystems.conda.importers import read_conda_lock

    def package(name: str, version: str, build: str, platform: str, deps: dict[str, str] | None = None) -> dict:
        return {"name": name, "version": version, "manager": "conda", "platform": platform, "dependencies": deps or {},
                "url": f"https://x/{platform}/{name}-{version}-{build}.conda", "hash": {"md5": "0" * 32}, "build": build,
                "category": "main", "optional": False}

    metadata = {"channels": [{"url": "conda-forge", "used_env_vars": []}], "platforms": ["linux-64", "osx-arm64"], "content_hash": {},
                "sources": []}
    document = {"version": 1, "metadata": metadata,
                "package": [package("app", "1.5", "h0_0", "linux-64", {"libz": "1.*"}), package("app", "2.0", "h0_0", "osx-arm64"),
                            package("libz", "1.2", "ha_0", "linux-64"), package("tools", "1.2", "h1_0", "linux-64"),
                            package("tools", "1.2", "h1_0", "osx-arm64"), package("cli", "3.0", "h2_0", "linux-64"),
                            package("cli", "3.0", "h3_0", "osx-arm64")]}
    sections = read_conda_lock(tmp_path / "conda-lock.yml", yaml.safe_dump(document))
    assert sections == {"conda": {"channels": ["conda-forge"], "packages": ["app", "cli ==3.0", "tools ==1.2 h1_0"]}}
