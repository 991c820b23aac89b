"""Hostile R repositories, libraries, caches and locks (issue 9), through the real CLI.

Each case is generated here, small on disk, served from 127.0.0.1 where a repository is
needed; each run has memory and file-size limits (setrlimit in the child) and asserts the
exit code, a one-line `envman: error:` message without traceback, and that nothing was
written outside its place.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import random
import resource
import string
import subprocess
import sys
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from envman.ecosystems.r.entry import REntry
from envman.lockfile import Lock, PlatformLock, dump_lock
from envman.lockfile.fastpath import manifest_data, manifest_hashes_from_data
from tests.r.r_helpers import RepoBuilder, Server, dcf

REPO = Path(__file__).resolve().parents[2]
MEMORY = 2 << 30  # address space of one envman run: a bomb fails the test instead of the machine


def envman(*args: str, cwd: Path, env: dict[str, str] | None = None, fsize: int | None = None,
           timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`python -m envman ARGS` in a child with memory (and optionally file size) limits."""

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))
        if fsize is not None:  # Python ignores SIGXFSZ: a write past it fails with EFBIG, like a full disk
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    return subprocess.run([sys.executable, "-m", "envman", *args], cwd=cwd, capture_output=True, text=True,
                          env=full_env, timeout=timeout, preexec_fn=limits)


def one_error_line(done: subprocess.CompletedProcess[str], *needles: str) -> None:
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("envman: error: "), done.stderr
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])


def tree(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture
def serve() -> Iterator:
    servers: list[Server] = []

    def start(root: Path) -> Server:
        servers.append(Server(root))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def r_project(folder: Path, url: str, packages: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    specs = ", ".join(f"'{p}'" for p in packages)
    (folder / "envman.yaml").write_text(f"version: 1\nr:\n  version: '4.3.3'\n  repositories: {{CRAN: '{url}'}}\n  packages: [{specs}]\n")
    return folder


def lock_in(tmp_path: Path, url: str, packages: list[str], **kwargs) -> tuple[subprocess.CompletedProcess[str], Path]:
    project = r_project(tmp_path / "project", url, packages)
    cache = tmp_path / "cache"
    done = envman("lock", cwd=project, env={"ENVMAN_CACHE_DIR": str(cache), **kwargs.pop("env", {})}, **kwargs)
    return done, cache


def gz_tarball(members: dict[str, bytes | Iterator[bytes]], sizes: dict[str, int] | None = None) -> bytes:
    """A .tar.gz of members (a member given as chunks is streamed, so big ones stay small in memory)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.USTAR_FORMAT, compresslevel=9) as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(data, bytes):
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                info.size = (sizes or {})[name]
                tar.addfile(info, _Chunks(data))
    return buffer.getvalue()


class _Chunks(io.RawIOBase):
    def __init__(self, chunks: Iterator[bytes]) -> None:
        self.chunks, self.pending = chunks, b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while len(self.pending) < max(size, 1):
            chunk = next(self.chunks, b"")
            if not chunk:
                break
            self.pending += chunk
        out, self.pending = (self.pending, b"") if size < 0 else (self.pending[:size], self.pending[size:])
        return out


def zeros(total: int) -> Iterator[bytes]:
    block = bytes(1 << 20)
    while total > 0:
        yield block[: min(total, len(block))]
        total -= len(block)


# -- 1. decompression bombs ------------------------------------------------------------------

def test_packages_gz_bomb_is_refused_with_exit_3(tmp_path, serve):
    contrib = tmp_path / "repo" / "src" / "contrib"
    contrib.mkdir(parents=True)
    compressor = gzip.compress(b"Package: a\nVersion: 1.0\n\n" + bytes(48 << 20), compresslevel=9)
    (contrib / "PACKAGES.gz").write_bytes(compressor)  # ~48 KB on disk, 48 MB expanded: over 200x
    assert len(compressor) < 100_000
    server = serve(tmp_path / "repo")
    done, cache = lock_in(tmp_path, server.url, ["a"])
    assert done.returncode == 3, done.stderr
    one_error_line(done, "repository CRAN", "PACKAGES.gz", "decompression bomb", "ENVMAN_MAX_DECOMPRESS_RATIO")
    assert not (tmp_path / "project" / "envman.lock").exists()
    assert not any("index" in p for p in tree(cache)), tree(cache)  # the bomb is not cached


def test_archived_tarball_bomb_and_huge_description_are_refused(tmp_path, serve):
    repo = RepoBuilder(tmp_path / "repo")
    repo.add("a", "2.0")
    repo.write()
    archive = repo.contrib / "Archive" / "a"
    archive.mkdir(parents=True)
    # a tarball of ~40 KB that expands to 40 MB before its DESCRIPTION
    (archive / "a_1.0.tar.gz").write_bytes(gz_tarball({"a/data.bin": zeros(40 << 20), "a/DESCRIPTION": b"Package: a\nVersion: 1.0\n"},
                                                      {"a/data.bin": 40 << 20}))
    # a DESCRIPTION of 3 MiB (over member_bytes, 1 MiB)
    huge = b"Package: a\nVersion: 1.1\nDescription: " + b"x" * (3 << 20) + b"\n"
    (archive / "a_1.1.tar.gz").write_bytes(gz_tarball({"a/DESCRIPTION": huge}))
    server = serve(tmp_path / "repo")
    done, _cache = lock_in(tmp_path, server.url, ["a (== 1.0)"])
    assert done.returncode == 3, done.stderr
    one_error_line(done, "Archive/a/a_1.0.tar.gz", "decompression bomb")
    done, _cache = lock_in(tmp_path, server.url, ["a (== 1.1)"])
    assert done.returncode == 3, done.stderr
    one_error_line(done, "a/DESCRIPTION", "ENVMAN_MAX_MEMBER_BYTES")
    assert not (tmp_path / "project" / "envman.lock").exists()


# -- 2. names, versions and file names from PACKAGES ---------------------------------------------

HOSTILE_RECORDS = {
    "file-traversal": {"File": "../../../../../tmp/PWN.tar.gz"},
    "path-traversal": {"Path": "../../../../tmp"},
    "file-absolute": {"File": "/etc/passwd"},
    "file-hidden": {"File": ".hidden.tar.gz"},
    "version-slash": {"Version": "1.0/../../../x"},
    "version-escape": {"Version": "1.0\x1b[2K"},
    "version-unicode-digits": {"Version": "\u0661.\u0660"},
    "version-huge": {"Version": "1." + "9" * 5000},
    "md5-traversal": {"MD5sum": "../../../../x"},
    "dependency-name": {"Imports": "b_c"},
}


@pytest.mark.parametrize("case", sorted(HOSTILE_RECORDS))
def test_hostile_index_fields_are_refused_before_any_url(tmp_path, serve, case):
    contrib = tmp_path / "repo" / "src" / "contrib"
    contrib.mkdir(parents=True)
    record = {"Package": "a", "Version": "1.0", **HOSTILE_RECORDS[case]}
    (contrib / "PACKAGES.gz").write_bytes(gzip.compress(dcf([record]).encode()))
    server = serve(tmp_path / "repo")
    done, cache = lock_in(tmp_path, server.url, ["a"])
    assert done.returncode == 3, done.stderr
    if case == "dependency-name":  # the resolver's usual report: what was asked, what exists, why it was rejected
        assert done.stderr.startswith("envman: error: no version of R package `a`") and "Traceback" not in done.stderr
        assert "(CRAN) has an unreadable index entry" in done.stderr and "not a valid R package name" in done.stderr
    else:
        one_error_line(done, "`a`", "CRAN", "unreadable index entry")
    assert "\x1b" not in done.stderr
    assert [r for r in server.requests if r.endswith(".tar.gz") or ".." in r or "PWN" in r] == []  # no tarball URL was built
    assert not (cache / "artifacts").exists()
    assert not (tmp_path / "project" / "envman.lock").exists()
    assert not Path("/tmp/PWN.tar.gz").exists()


def test_hostile_package_name_is_never_a_candidate(tmp_path, serve):
    contrib = tmp_path / "repo" / "src" / "contrib"
    contrib.mkdir(parents=True)
    records = [{"Package": "../../x", "Version": "1.0"}, {"Package": "a.", "Version": "1.0"}, {"Package": "ok", "Version": "1.0"}]
    (contrib / "PACKAGES.gz").write_bytes(gzip.compress(dcf(records).encode()))
    server = serve(tmp_path / "repo")
    done, _cache = lock_in(tmp_path, server.url, ["ok"])
    assert done.returncode == 4, done.stderr  # `ok` is listed but has no tarball (404): the hostile records were never visited
    one_error_line(done, "ok_1.0.tar.gz")
    assert all("x" not in r.split("/")[-1] or r.endswith("ok_1.0.tar.gz") for r in server.requests), server.requests


# -- 4. a read-only or full cache --------------------------------------------------------------

@pytest.mark.parametrize("how", ["unwritable", "full"])
def test_lock_works_without_a_writable_cache(tmp_path, serve, how):
    repo = RepoBuilder(tmp_path / "repo")
    rng = random.Random(0)
    noise = "".join(rng.choice(string.ascii_letters) for _ in range(20000))
    repo.add("a", "1.0", Description=noise)  # a tarball over the 8 KB "disk" of the full case
    assert (repo.contrib / "a_1.0.tar.gz").stat().st_size > 8192
    repo.add("b", "2.0", Imports="a")
    repo.add("b", "1.0", archived=True)
    repo.write()
    server = serve(tmp_path / "repo")
    (tmp_path / "afile").write_text("")
    if how == "unwritable":  # every write into the cache fails (ENOTDIR), even as root
        env, fsize = {"ENVMAN_CACHE_DIR": str(tmp_path / "afile" / "cache")}, None
    else:  # every file write past 8 KB fails (EFBIG), as on a full disk
        env, fsize = {}, 8192
    done, _cache = lock_in(tmp_path, server.url, ["b (== 1.0)", "a"], env=env, fsize=fsize)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    text = (tmp_path / "project" / "envman.lock").read_text()
    assert "name: a" in text and "Archive/b/b_1.0.tar.gz" in text
    assert (tmp_path / "afile").read_text() == ""


def test_special_files_in_the_cache_are_not_read(tmp_path, serve):
    """The cache is untrusted too: a FIFO or /dev/zero where a cached index was is skipped."""
    from envman.cachepaths import index_file

    repo = RepoBuilder(tmp_path / "repo")
    repo.add("a", "1.0")
    repo.write()
    server = serve(tmp_path / "repo")
    done, cache = lock_in(tmp_path, server.url, ["a"])
    assert done.returncode == 0, done.stderr
    cached = Path(index_file(str(cache), f"{server.url}/src/contrib/PACKAGES.gz"))
    assert cached.is_file()
    cached.unlink()
    os.mkfifo(cached)  # within the index TTL: it would be read instead of the network
    (tmp_path / "project" / "envman.lock").unlink()
    done = envman("lock", cwd=tmp_path / "project", env={"ENVMAN_CACHE_DIR": str(cache)}, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "name: a" in (tmp_path / "project" / "envman.lock").read_text()


# -- 3. special files in a library ---------------------------------------------------------------

def _lib_with_specials(tmp_path: Path) -> Path:
    lib = tmp_path / "lib"
    (lib / "good").mkdir(parents=True)
    (lib / "good" / "DESCRIPTION").write_text("Package: good\nVersion: 1.0\n")
    (lib / "fifo").mkdir()
    os.mkfifo(lib / "fifo" / "DESCRIPTION")  # nobody writes: opening it blocking would hang
    (lib / "zero").mkdir()
    (lib / "zero" / "DESCRIPTION").symlink_to("/dev/zero")  # endless
    (lib / "huge").mkdir()
    with open(lib / "huge" / "DESCRIPTION", "wb") as handle:  # sparse: 2 MiB, over member_bytes
        handle.write(b"Package: huge\nVersion: 1.0\n")
        handle.truncate(2 << 20)
    return lib


def _lock_project(folder: Path, manifest: str, entries: list[REntry]) -> Path:
    """envman.yaml + a lock whose manifest hashes and content digest are right (entries as given)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "envman.yaml").write_text(manifest)
    hashes = manifest_hashes_from_data(manifest_data(manifest))
    lock = Lock(version=1, manifest_hash=hashes, environments={"default": {"linux-64": PlatformLock(r=entries)}})
    (folder / "envman.lock").write_text(dump_lock(lock))
    return folder / "envman.yaml"


def test_special_descriptions_are_skipped_with_a_problem(tmp_path):
    lib = _lib_with_specials(tmp_path)
    for deep in ([], ["--deep"]):
        done = envman("snapshot", *deep, f"rlib:{lib}", cwd=tmp_path, timeout=60)
        assert done.returncode == 0, done.stderr
        data = json.loads(done.stdout)
        assert [(p["name"], p["version"]) for p in data["packages"]["r"]] == [("good", "1.0")], data
        problems = "\n".join(data["problems"])
        expected = {"fifo": "not a regular file", "zero": "not a regular file", "huge": "2097152 bytes, over the limit of 1048576"}
        for name, why in expected.items():
            assert f"skipped {lib / name / 'DESCRIPTION'}: {why}" in problems, problems


def test_deep_md5_never_reads_special_files_or_leaves_the_package(tmp_path):
    lib = tmp_path / "lib"
    pkg = lib / "good"
    (pkg / "R").mkdir(parents=True)
    (pkg / "DESCRIPTION").write_text("Package: good\nVersion: 1.0\n")
    os.mkfifo(pkg / "R" / "fifo")
    (pkg / "R" / "zero").symlink_to("/dev/zero")
    (tmp_path / "secret").write_text("secret")
    (pkg / "MD5").write_text("0" * 32 + " *R/fifo\n" + "0" * 32 + " *R/zero\n" + "0" * 32 + " *../../secret\n")
    entry = REntry(name="good", version="1.0", sha256="0" * 64, repository="CRAN", url="https://example.invalid/good_1.0.tar.gz")
    manifest = _lock_project(tmp_path / "project", "version: 1\nr:\n  packages: [good]\n", [entry])
    done = envman("check", "-f", str(manifest), "--deep", "--format", "json", f"rlib:{lib}", cwd=tmp_path, timeout=60)
    assert done.returncode == 1, done.stderr
    assert "R/fifo (not a regular file)" in done.stdout and "R/zero (not a regular file)" in done.stdout
    assert "../../secret (outside the package)" in done.stdout


# -- 5. sync rlib:DIR stays in DIR -----------------------------------------------------------------

def test_sync_refuses_a_lock_naming_a_path(tmp_path):
    lib = tmp_path / "lib"
    lib.mkdir()
    evil = REntry.model_construct(name="../x", version="1.0", sha256="0" * 64, repository="CRAN",
                                  url="https://example.invalid/x.tar.gz", md5=None, requires=[], needs_compilation=None)
    manifest = _lock_project(tmp_path / "project", "version: 1\nr:\n  packages: [x]\n", [evil])
    done = envman("sync", "-f", str(manifest), f"rlib:{lib}", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    one_error_line(done, "envman.lock", "not a valid R package name")
    assert tree(lib) == [] and not (tmp_path / "x").exists()


def test_sync_removes_a_symlinked_package_without_following_it(tmp_path):
    outside = tmp_path / "outside" / "evil"
    outside.mkdir(parents=True)
    (outside / "DESCRIPTION").write_text("Package: evil\nVersion: 1.0\n")
    (outside / "keep.R").write_text("# must survive\n")
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "evil").symlink_to(outside)
    manifest = _lock_project(tmp_path / "project", "version: 1\nr:\n  packages: []\n", [])
    done = envman("sync", "-f", str(manifest), f"rlib:{lib}", cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (lib / "evil").exists() and not (lib / "evil").is_symlink()
    assert tree(outside) == ["DESCRIPTION", "keep.R"]


def test_sync_refuses_to_install_through_a_symlink_out_of_the_library(tmp_path):
    outside = tmp_path / "outside" / "pkgA"
    outside.mkdir(parents=True)
    (outside / "DESCRIPTION").write_text("Package: pkgA\nVersion: 0.9\n")
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "pkgA").symlink_to(outside)
    entry = REntry(name="pkgA", version="1.0", sha256="0" * 64, repository="CRAN", url=(tmp_path / "nope.tar.gz").as_uri())
    manifest = _lock_project(tmp_path / "project", "version: 1\nr:\n  packages: [pkgA]\n", [entry])
    done = envman("sync", "-f", str(manifest), f"rlib:{lib}", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    one_error_line(done, "pkgA", "outside")
    assert tree(outside) == ["DESCRIPTION"] and (lib / "pkgA").is_symlink()
