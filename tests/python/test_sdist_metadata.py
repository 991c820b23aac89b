"""Issue 15: an sdist-only version's metadata is built once and given to every platform's uv run.

A real sdist-only project (an in-tree PEP 517 backend that writes its metadata and logs
each build) on an index served on 127.0.0.1, with wheels beside it. The lock of three
platforms must pin, per platform, exactly what bare `uv pip compile --python-platform X`
pins on the same inputs; the sdist is built once for the first lock and not at all for the
next; an sdist replaced under the same version (a new sha256) is built again and never
resolved with the old metadata.
"""

from __future__ import annotations

import hashlib
import html
import io
import subprocess
import tarfile
from pathlib import Path

import pytest
import yaml

from envman.cache import ArtifactCache
from envman.ecosystems.python.compilers import _clean_env, _uv_bin
from envman.ecosystems.python.sdist_metadata import MetadataStore, StaticMetadata, checked, stale_entries, uv_toml
from tests.python.conftest import run_envman
from tests.python.servers import serve_directory
from tests.python.wheelhouse import make_wheel

PLATFORMS = {"linux-64": "x86_64-manylinux_2_28", "osx-arm64": "aarch64-apple-darwin", "win-64": "x86_64-pc-windows-msvc"}
PYTHON = "3.11.7"

BACKEND = '''
import os


def _log():
    with open({log!r}, "a") as handle:
        handle.write("built\\n")

def get_requires_for_build_wheel(config_settings=None):
    return []

def prepare_metadata_for_build_wheel(metadata_directory, config_settings=None):
    _log()
    info = os.path.join(metadata_directory, "sdonly-1.0.dist-info")
    os.makedirs(info)
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "deps.txt")) as handle:
        deps = [line.strip() for line in handle if line.strip()]
    with open(os.path.join(info, "METADATA"), "w") as handle:
        handle.write("Metadata-Version: 2.1\\nName: sdonly\\nVersion: 1.0\\n")
        for dep in deps:
            handle.write("Requires-Dist: " + dep + "\\n")
    return "sdonly-1.0.dist-info"

def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    raise RuntimeError("metadata only in these tests")
'''


def _sdist(folder: Path, deps: list[str], log: Path) -> Path:
    """sdonly-1.0.tar.gz: PKG-INFO 2.1 (not static for uv), an in-tree backend, deps.txt."""
    files = {
        "PKG-INFO": b"Metadata-Version: 2.1\nName: sdonly\nVersion: 1.0\n",
        "pyproject.toml": b'[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n',
        "backend.py": BACKEND.format(log=str(log)).encode(),
        "deps.txt": "".join(d + "\n" for d in deps).encode(),
    }
    path = folder / "sdonly-1.0.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(f"sdonly-1.0/{name}")
            info.size, info.mtime = len(data), 1_700_000_000
            archive.addfile(info, io.BytesIO(data))
    return path


def _write_index(root: Path, deps: list[str], log: Path) -> None:
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    dists: dict[str, list[Path]] = {}
    for name, version, requires in [("alpha", "1.0", []), ("alpha", "2.0", []), ("delta", "1.0", []), ("gamma", "1.0", ["alpha"])]:
        dists.setdefault(name, []).append(make_wheel(files, name, version, requires))
    dists["sdonly"] = [_sdist(files, deps, log)]
    for name, paths in dists.items():
        (root / "simple" / name).mkdir(parents=True, exist_ok=True)
        anchors = [f'<a href="../../files/{html.escape(p.name)}#sha256={hashlib.sha256(p.read_bytes()).hexdigest()}">'
                   f"{html.escape(p.name)}</a><br/>" for p in paths]
        (root / "simple" / name / "index.html").write_text("<html><body>\n" + "\n".join(anchors) + "\n</body></html>\n")


def _bare_uv(requirements: list[str], index: str, platform: str, cache: Path, work: Path) -> dict[str, str]:
    """name -> version that bare uv pins for platform."""
    (work / "requirements.in").write_text("".join(r + "\n" for r in requirements))
    out = work / f"bare-{platform}.txt"
    done = subprocess.run(
        [_uv_bin(), "pip", "compile", str(work / "requirements.in"), "-o", str(out), "--python-version", PYTHON,
         "--python-platform", PLATFORMS[platform], "--generate-hashes", "--no-header", "--quiet", "--index-url", index,
         "--cache-dir", str(cache)],
        capture_output=True, text=True, env=_clean_env(), timeout=120,
    )
    assert done.returncode == 0, done.stderr
    pins = [line.split(" ")[0] for line in out.read_text().splitlines() if "==" in line and not line.startswith(" ")]
    return dict(pin.split("==") for pin in pins)


def _locked(project: Path) -> dict[str, dict[str, str]]:
    lock = yaml.safe_load((project / "envman.lock").read_text())["environments"]["default"]
    return {platform: {e["name"]: e["version"] for e in lock[platform]["python"]} for platform in PLATFORMS}


def _builds(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


@pytest.fixture()
def sdist_index(tmp_path):
    root, log = tmp_path / "index", tmp_path / "builds.log"
    _write_index(root, ["alpha<2", "delta ; sys_platform == 'win32'"], log)
    with serve_directory(root, caching=False) as url:  # no caching headers, as PyPI through this machine's proxy
        yield root, f"{url}/simple", log


def test_sdist_metadata_is_built_once_and_pins_match_bare_uv_per_platform(tmp_path, sdist_index):
    root, index, log = sdist_index
    requirements = ["sdonly", "gamma"]
    project = tmp_path / "project"
    project.mkdir()
    (project / "envman.yaml").write_text(
        f"version: 1\nplatforms: [{', '.join(PLATFORMS)}]\npython:\n  version: \"{PYTHON}\"\n  index-url: {index}\n"
        f"  packages: [{', '.join(requirements)}]\n"
    )
    env = {"ENVMAN_CACHE_DIR": str(tmp_path / "cache")}

    def lock() -> dict[str, dict[str, str]]:
        (project / "envman.lock").unlink(missing_ok=True)
        done = run_envman("lock", "-q", cwd=project, env=env)
        assert done.returncode == 0, done.stderr
        return _locked(project)

    def bare() -> dict[str, dict[str, str]]:
        cache = tmp_path / f"bare-cache-{_builds(log)}"  # a fresh cache each time: uv builds for itself
        return {p: _bare_uv(requirements, index, p, cache, tmp_path) for p in PLATFORMS}

    first = lock()
    assert _builds(log) == 1  # the first platform built it; the other two were given its metadata
    expected = bare()
    assert first == expected
    assert first["win-64"]["alpha"] == "1.0" and "delta" in first["win-64"] and "delta" not in first["linux-64"]
    stored = MetadataStore(ArtifactCache(tmp_path / "cache")).entries(["sdonly", "alpha", "gamma"])
    assert [(e.name, e.version, e.requires_dist) for e in stored] == [("sdonly", "1.0", ("alpha<2", "delta ; sys_platform == 'win32'"))]

    builds = _builds(log)
    assert lock() == first
    assert _builds(log) == builds  # a warm lock builds nothing

    # Another requirement set over the same cache (no plan for it yet): the kept entry serves it too.
    other = tmp_path / "other"
    other.mkdir()
    (other / "envman.yaml").write_text((project / "envman.yaml").read_text().replace("[sdonly, gamma]", "[sdonly]"))
    done = run_envman("lock", "-q", cwd=other, env=env)
    assert done.returncode == 0, done.stderr
    assert _builds(log) == builds
    assert _locked(other) == {p: _bare_uv(["sdonly"], index, p, tmp_path / "bare-other", tmp_path) for p in PLATFORMS}
    builds = _builds(log)  # (bare uv built it once per platform)
    # The manifest edited, its old lock kept (all platforms at once): nothing built either.
    (other / "envman.yaml").write_text((other / "envman.yaml").read_text().replace("[sdonly]", "[sdonly, delta]"))
    done = run_envman("lock", "-q", cwd=other, env=env)
    assert done.returncode == 0, done.stderr
    assert _builds(log) == builds
    assert _locked(other) == {p: _bare_uv(["sdonly", "delta"], index, p, tmp_path / "bare-other", tmp_path) for p in PLATFORMS}
    builds = _builds(log)

    # The same version's sdist replaced (new sha256, other requirements): never the old metadata.
    _write_index(root, ["alpha>=2"], log)
    builds = _builds(log)
    changed = lock()
    assert _builds(log) > builds
    assert changed == bare()
    assert changed["linux-64"]["alpha"] == "2.0" and "delta" not in changed["win-64"]
    stored = MetadataStore(ArtifactCache(tmp_path / "cache")).entries(["sdonly"])
    assert [e.requires_dist for e in stored] == [("alpha>=2",)]


# -- pure parts ----------------------------------------------------------------------------------
GOOD = {"name": "Foo_Bar", "version": "1.0", "hashes": ["sha256:" + "a" * 64], "requires_dist": ["six>=1; extra == 'x'"],
        "requires_python": ">=3.8", "provides_extra": ["x"]}


@pytest.mark.parametrize("change", [
    {"name": "foo\nbar"}, {"version": "not a version"}, {"hashes": []}, {"hashes": ["md5:abc"]},
    {"requires_dist": ["six >>> 1"]}, {"requires_dist": "six"}, {"requires_python": ">=three"}, {"provides_extra": ["Not_Normal"]},
])
def test_checked_refuses_what_is_not_metadata(change):
    assert checked({**GOOD, **change}) is None


def test_checked_and_uv_toml():
    entry = checked(GOOD)
    assert entry is not None and entry.name == "foo-bar"
    import tomllib

    table = tomllib.loads(uv_toml([entry]))["dependency-metadata"]
    assert table == [{"name": "foo-bar", "version": "1.0", "requires-dist": ["six>=1; extra == 'x'"],
                      "requires-python": ">=3.8", "provides-extras": ["x"]}]


def test_stale_entries():
    entry = StaticMetadata("foo", "1.0", frozenset({"sha256:" + "a" * 64}), (), None, ())
    same = {"foo": {"1.0": {"sha256:" + "a" * 64}, "2.0": {"sha256:" + "b" * 64}}}
    assert stale_entries([entry], same) == []
    assert stale_entries([entry], {"foo": {"1.0": {"sha256:" + "a" * 64, "sha256:" + "c" * 64}}}) == [entry]  # a wheel appeared
    assert stale_entries([entry], {"foo": {"1.0": {"sha256:" + "c" * 64}}}) == [entry]  # replaced
    assert stale_entries([entry], {"foo": {"2.0": set()}}) == [entry]  # gone
    assert stale_entries([entry], {"foo": None}) == [entry]  # the page could not be read


def test_store_keeps_checked_entries_only(tmp_path):
    cache = ArtifactCache(tmp_path)
    store = MetadataStore(cache)
    entry = checked(GOOD)
    assert entry is not None
    store.update(add=[entry])
    assert store.entries(["foo-bar"]) == [entry]
    cache.put_index("envman-python-sdist-metadata-v1 foo-bar", b'{"entries": [{"name": "foo-bar", "version": "x y"}]}')
    assert store.entries(["foo-bar"]) == []
    assert store.plan(["a"]) is None
    store.remember_plan(["a"], [("foo-bar", "1.0", entry.hashes)])
    assert store.plan(["a"]) == [("foo-bar", "1.0", entry.hashes)]
    assert store.plan(["b"]) is None


def _fake_uv_cache(root: Path, revision: str, sha: str, metadata: list) -> None:
    import msgpack

    folder = root / "sdists-v11" / "pypi" / "foo" / "1.0"
    (folder / "REV").mkdir(parents=True, exist_ok=True)
    (folder / "revision.http").write_bytes(msgpack.packb([revision, [{"Sha256": sha}], 10]) + b"\x00policy")
    (folder / "REV" / "metadata.msgpack").write_bytes(msgpack.packb(metadata))


@pytest.mark.parametrize(("revision", "pin_hashes", "metadata", "found"), [
    ("REV", {"a"}, ["foo", "1.0", ["six"], None, [], False], True),
    ("REV", {"a", "b"}, ["foo", "1.0", ["six"], None, [], False], False),  # the version has a wheel too
    ("REV", {"b"}, ["foo", "1.0", ["six"], None, [], False], False),  # another sdist than the one uv built
    ("../REV", {"a"}, ["foo", "1.0", ["six"], None, [], False], False),  # not a revision folder of uv's
    ("REV", {"a"}, ["foo", "2.0", ["six"], None, [], False], False),  # built metadata of another version
    ("REV", {"a"}, ["foo", "1.0", ["six >>> 1"], None, [], False], False),  # not PEP 508
    ("REV", {"a"}, "garbage", False),
])
def test_built_sdist_metadata_reads_only_what_uv_built_for_that_sdist(tmp_path, revision, pin_hashes, metadata, found):
    from envman.ecosystems.python.uv_cache import built_sdist_metadata

    digest = {"a": "a" * 64, "b": "b" * 64}
    _fake_uv_cache(tmp_path, revision, digest["a"], metadata)
    pins = [("foo", "1.0", frozenset("sha256:" + digest[h] for h in pin_hashes))]
    entries = built_sdist_metadata(str(tmp_path), pins)
    assert bool(entries) is found
    if found:
        assert entries[0].requires_dist == ("six",) and entries[0].hashes == frozenset({"sha256:" + "a" * 64})
