"""`envman sync conda:PREFIX` with py-rattler, through the CLI: prefixes made from real locks of
channels served on 127.0.0.1 (tests/conda/channel.py), probed back to exactly the lock,
repaired after drift, offline from the cache, and refusing tampered or corrupt packages
before anything is installed."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path

import pytest

from envman.lockfile import dump_lock, parse_lock
from tests.conda.channel import PLACEHOLDER, PackageSpec, build_channel, standard_packages
from tests.conda.conftest import run_envman
from tests.conda.helpers import read_lock, write_manifest
from tests.python.servers import serve_directory

pytestmark = pytest.mark.timeout(600)
ROOTS = "[app, plugin, tools]"


def manifest(url: str, roots: str = ROOTS) -> str:
    return f'version: 1\nconda:\n  channels: ["{url}"]\n  packages: {roots}\n'


def locked(folder: Path, url: str, env: dict[str, str], roots: str = ROOTS) -> Path:
    write_manifest(folder, manifest(url, roots))
    done = run_envman("lock", cwd=folder, env=env)
    assert done.returncode == 0, done.stderr
    return folder


def entries(project: Path) -> dict[str, dict]:
    return {e["name"]: e for e in read_lock(project)["environments"]["default"]["linux-64"]["conda"]}


def snapshot(prefix: Path, project: Path, env: dict[str, str]) -> dict[str, tuple[str, str]]:
    done = run_envman("snapshot", f"conda:{prefix}", cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    return {p["name"]: (p["version"], p["extra"]["build"]) for p in json.loads(done.stdout)["packages"]["conda"]}


def check(project: Path, prefix: Path, env: dict[str, str], *more: str) -> tuple[int, list[tuple[str, str]]]:
    done = run_envman("check", "--format", "json", *more, f"conda:{prefix}", cwd=project, env=env)
    assert done.returncode in (0, 1), done.stderr
    findings = json.loads(done.stdout)["targets"][0]["findings"]
    return done.returncode, sorted((f["name"], f["kind"]) for f in findings)


def records(prefix: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text()) for p in sorted((prefix / "conda-meta").glob("*.json"))}


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A cache of this test's own (what it holds decides what sync may use offline)."""
    return {"ENVMAN_CACHE_DIR": str(tmp_path / "cache")}


@pytest.mark.parametrize("fmt", [".conda", ".tar.bz2"])
def test_sync_makes_a_prefix_that_is_exactly_the_lock(tmp_path: Path, serve, env: dict[str, str], fmt: str) -> None:
    url = serve(build_channel(tmp_path / "channel", standard_packages(), formats=(fmt,)))
    project = locked(tmp_path / "project", url, env)
    lock = entries(project)
    assert lock["libz"]["url"].endswith(fmt) and lock["app"]["subdir"] == "noarch"
    prefix = tmp_path / "env"  # does not exist yet: sync creates it
    done = run_envman("sync", f"conda:{prefix}", cwd=project, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"create the conda prefix {prefix}" in done.stdout and "in sync" in done.stdout

    assert snapshot(prefix, project, env) == {name: (e["version"], e["build"]) for name, e in lock.items()}
    assert check(project, prefix, env) == (0, [])
    assert check(project, prefix, env, "--deep") == (0, [])

    # prefix placeholders replaced (text files), links and modes kept
    conf = (prefix / "etc" / "libz.conf").read_text()
    assert PLACEHOLDER not in conf and conf == f"prefix={prefix}\nlibdir={prefix}/lib\n"
    tool = prefix / "bin" / "tool"
    assert tool.read_text() == f"#!/bin/sh\necho {prefix}\n" and os.stat(tool).st_mode & 0o111
    assert os.readlink(prefix / "lib" / "libz.so.1") == "libz.so.1.2.13"

    # the records carry the lock's url and digests, the package's own metadata, nothing of the run
    found = records(prefix)
    assert sorted(found) == sorted(f"{n}-{e['version']}-{e['build']}.json" for n, e in lock.items())
    for name, entry in lock.items():
        record = found[f"{name}-{entry['version']}-{entry['build']}.json"]
        assert (record["url"], record["sha256"], record["md5"]) == (entry["url"], entry["sha256"], entry["md5"])
        assert record["fn"] == entry["url"].rsplit("/", 1)[1] and record["depends"] == entry.get("depends", [])
        assert not {"extracted_package_dir", "package_tarball_full_path", "link"} & set(record)
        assert record["timestamp"] == 1_700_000_000_000  # the package's own, not the install's
    for path in (prefix / "conda-meta").glob("*.json"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_sync_is_offline_when_the_cache_has_the_packages(tmp_path: Path, env: dict[str, str]) -> None:
    with serve_directory(build_channel(tmp_path / "channel", standard_packages())) as url:
        project = locked(tmp_path / "project", url, env)
        first = run_envman("sync", f"conda:{tmp_path / 'one'}", cwd=project, env=env)
        assert first.returncode == 0, first.stderr
    # the channel is gone: the verified files in envman's cache are enough
    second = run_envman("sync", f"conda:{tmp_path / 'two'}", cwd=project, env=env)
    assert second.returncode == 0, second.stdout + second.stderr
    assert check(project, tmp_path / "two", env, "--deep") == (0, [])
    # an empty cache and no channel: unreachable, nothing installed
    third = run_envman("sync", f"conda:{tmp_path / 'three'}", cwd=project, env={"ENVMAN_CACHE_DIR": str(tmp_path / "empty")})
    assert third.returncode == 4, third.stdout + third.stderr
    assert not list((tmp_path / "three" / "conda-meta").glob("*.json"))


def test_sync_repairs_drift(tmp_path: Path, channel_url: str, env: dict[str, str]) -> None:
    project = locked(tmp_path / "project", channel_url, env)
    lock = entries(project)
    prefix = tmp_path / "env"
    # another lock made this prefix: an older tools, no plugin (so libz 2 and app 2.0), an extra gpu-kernels
    other = locked(tmp_path / "other", channel_url, env, roots='[app, "tools ==1.0", "gpu-kernels"]')
    assert run_envman("sync", f"conda:{prefix}", cwd=other, env=env).returncode == 0
    (prefix / "share" / "helper" / "helper-1.0.txt").write_text("edited\n")

    code, found = check(project, prefix, env, "--deep")
    assert code == 1
    assert found == [("app", "changed"), ("core", "changed"), ("gpu-kernels", "extra"), ("helper", "modified"),
                     ("libz", "changed"), ("plugin", "missing"), ("tools", "changed")]
    plan = run_envman("sync", "--dry-run", f"conda:{prefix}", cwd=project, env=env)
    assert plan.returncode == 1
    assert "remove    gpu-kernels 1.0 cpu_0" in plan.stdout and "reinstall helper 1.0" in plan.stdout
    assert f"change    tools 1.0 {entries(other)['tools']['build']} -> 1.2 {lock['tools']['build']}" in plan.stdout

    done = run_envman("sync", f"conda:{prefix}", cwd=project, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert check(project, prefix, env, "--deep") == (0, [])
    assert snapshot(prefix, project, env) == {name: (e["version"], e["build"]) for name, e in lock.items()}
    assert (prefix / "share" / "helper" / "helper-1.0.txt").read_text() == "helper 1.0\n"
    assert not (prefix / "share" / "gpu-kernels").exists() and not (prefix / "lib" / "libz.so.2").exists()
    assert (prefix / "etc" / "libz.conf").read_text() == f"prefix={prefix}\nlibdir={prefix}/lib\n"

    # a package removed by hand (files and record) comes back; the others are not touched
    libz = f"libz-{lock['libz']['version']}-{lock['libz']['build']}.json"
    for rel in records(prefix)[libz]["files"]:
        (prefix / rel).unlink()
    (prefix / "conda-meta" / libz).unlink()
    before = (prefix / "conda-meta" / f"app-{lock['app']['version']}-{lock['app']['build']}.json").stat().st_mtime_ns
    assert check(project, prefix, env) == (1, [("libz", "missing")])
    assert run_envman("sync", f"conda:{prefix}", cwd=project, env=env).returncode == 0
    assert check(project, prefix, env, "--deep") == (0, [])
    assert (prefix / "conda-meta" / f"app-{lock['app']['version']}-{lock['app']['build']}.json").stat().st_mtime_ns == before


def test_deep_check_names_the_modified_file(tmp_path: Path, channel_url: str, env: dict[str, str]) -> None:
    project = locked(tmp_path / "project", channel_url, env)
    prefix = tmp_path / "env"
    assert run_envman("sync", f"conda:{prefix}", cwd=project, env=env).returncode == 0
    (prefix / "etc" / "libz.conf").write_text("prefix=/elsewhere\n")  # a file whose placeholder was replaced
    (prefix / "lib" / "libz.so.1").unlink()
    (prefix / "lib" / "libz.so.1").symlink_to("/etc/hostname")  # a symlink pointing elsewhere
    assert check(project, prefix, env) == (0, [])  # names, versions and builds still match
    done = run_envman("check", "--deep", "--format", "json", f"conda:{prefix}", cwd=project, env=env)
    assert done.returncode == 1
    [finding] = json.loads(done.stdout)["targets"][0]["findings"]
    assert (finding["name"], finding["kind"]) == ("libz", "modified")
    assert "etc/libz.conf" in finding["detail"] and "lib/libz.so.1" in finding["detail"]


def _tampered_channel(tmp_path: Path, env: dict[str, str], serve) -> tuple[Path, Path, dict[str, dict]]:
    root = build_channel(tmp_path / "channel", standard_packages())
    project = locked(tmp_path / "project", serve(root), env)
    return project, root, entries(project)


def test_a_tampered_package_is_refused_and_nothing_is_installed(tmp_path: Path, serve, env: dict[str, str]) -> None:
    project, root, lock = _tampered_channel(tmp_path, env, serve)
    served = root / "linux-64" / lock["libz"]["url"].rsplit("/", 1)[1]
    data = bytearray(served.read_bytes())
    data[len(data) // 2] ^= 0xFF
    served.write_bytes(bytes(data))  # what the channel serves now is not what was locked
    prefix = tmp_path / "env"
    done = run_envman("sync", f"conda:{prefix}", cwd=project, env=env)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "libz" in done.stderr and "sha256" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in prefix.rglob("*")) == ["conda-meta"]  # not even the good packages

    # a prefix made from another lock (app 2.0, libz 2) that the tampered libz would change: it stays as it was
    synced = tmp_path / "synced"
    stale = locked(tmp_path / "stale", serve(build_channel(tmp_path / "old", standard_packages())), env, '[app, "tools ==1.1"]')
    assert run_envman("sync", f"conda:{synced}", cwd=stale, env=env).returncode == 0
    before = sorted((str(p.relative_to(synced)), p.read_bytes() if p.is_file() else b"") for p in synced.rglob("*"))
    done = run_envman("sync", f"conda:{synced}", cwd=project, env=env)
    assert done.returncode == 3, done.stdout + done.stderr
    assert sorted((str(p.relative_to(synced)), p.read_bytes() if p.is_file() else b"") for p in synced.rglob("*")) == before


def test_a_corrupt_package_is_refused_and_nothing_is_installed(tmp_path: Path, serve, env: dict[str, str]) -> None:
    """A package whose sha256 is the locked one but which is no archive (a channel that
    served a truncated file at lock time): exit 3, nothing installed."""
    project, root, lock = _tampered_channel(tmp_path, env, serve)
    name = lock["core"]["url"].rsplit("/", 1)[1]
    served = root / "linux-64" / name
    broken = served.read_bytes()[: len(served.read_bytes()) // 2]
    served.write_bytes(broken)
    digest = hashlib.sha256(broken).hexdigest()
    text = (project / "envman.lock").read_text()
    assert text.count(lock["core"]["sha256"]) == 1
    (project / "envman.lock").write_text(dump_lock(parse_lock(text.replace(lock["core"]["sha256"], digest))))
    prefix = tmp_path / "env"
    done = run_envman("sync", f"conda:{prefix}", cwd=project, env=env)
    assert done.returncode == 3, done.stdout + done.stderr
    assert name in done.stderr and "corrupt" in done.stderr and "Traceback" not in done.stderr
    assert sorted(p.name for p in prefix.rglob("*")) == ["conda-meta"]


def test_noarch_python_packages_and_bytecode(tmp_path: Path, serve, env: dict[str, str]) -> None:
    """rattler relocates a noarch: python package into the prefix's site-packages (the
    interpreter's version from the lock); deep checks pass over bytecode that is gone
    (images leave __pycache__ out) but not over bytecode that changed."""
    pyc = "lib/python3.11/__pycache__/os.cpython-311.pyc"
    url = serve(build_channel(tmp_path / "channel", [
        PackageSpec("python", "3.11.9", subdirs=("linux-64",), files={"bin/python3.11": "#!/bin/sh\n", pyc: b"\xa7\r\r\n pyc"},
                    executables=("bin/python3.11",)),
        PackageSpec("pyfoo", "1.0", noarch="python", depends=("python >=3.8",), files={"site-packages/pyfoo/__init__.py": "X = 1\n"}),
    ]))
    project = locked(tmp_path / "project", url, env, roots="[pyfoo]")
    prefix = tmp_path / "env"
    assert run_envman("sync", f"conda:{prefix}", cwd=project, env=env).returncode == 0
    assert (prefix / "lib" / "python3.11" / "site-packages" / "pyfoo" / "__init__.py").read_text() == "X = 1\n"
    assert check(project, prefix, env, "--deep") == (0, [])
    (prefix / pyc).unlink()
    assert check(project, prefix, env, "--deep") == (0, [])
    (prefix / pyc).write_bytes(b"changed")
    assert check(project, prefix, env, "--deep") == (1, [("python", "modified")])


def test_removing_a_package_never_follows_its_record_out_of_the_prefix(tmp_path: Path, channel_url: str, env: dict[str, str]) -> None:
    project = locked(tmp_path / "project", channel_url, env)
    prefix = tmp_path / "env"
    assert run_envman("sync", f"conda:{prefix}", cwd=project, env=env).returncode == 0
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("keep\n")
    (prefix / "share" / "evil").mkdir(parents=True)
    (prefix / "share" / "evil" / "evil.txt").write_text("evil\n")
    (prefix / "lib" / "out").symlink_to(outside)
    listed = ["share/evil/evil.txt", "../outside/keep", str(outside / "keep"), "lib/out/keep"]
    [helper] = [r for r in records(prefix).values() if r["name"] == "helper"]
    evil = {**helper, "name": "evil", "version": "0.1", "build": "h0_0", "fn": "evil-0.1-h0_0.conda", "files": listed,
            "paths_data": {"paths_version": 1, "paths": [{"_path": rel, "path_type": "hardlink", "sha256": "0" * 64} for rel in listed]}}
    (prefix / "conda-meta" / "evil-0.1-h0_0.json").write_text(json.dumps(evil))
    assert check(project, prefix, env) == (1, [("evil", "extra")])
    done = run_envman("sync", f"conda:{prefix}", cwd=project, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (prefix / "conda-meta" / "evil-0.1-h0_0.json").exists() and not (prefix / "share" / "evil").exists()
    assert (outside / "keep").read_text() == "keep\n"
    assert check(project, prefix, env) == (0, [])
