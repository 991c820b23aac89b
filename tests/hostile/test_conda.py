"""Hostile conda packages, prefixes and locks (issue 9), through the real CLI.

`sync conda:PREFIX` of a package whose index.json, paths.json or archive members try to
leave the prefix (`..`, absolute paths, symlinks and hard links leading out, links through
links, devices, FIFOs, a decompression bomb) is exit 5 with one line, and nothing is
written anywhere: every package is checked whole before the prefix is touched. The probe
skips special and oversized conda-meta records with a problem line.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tarfile
from pathlib import Path

import pytest

from envman.ecosystems.conda.entry import CondaEntry
from envman.lockfile import Lock, PlatformLock, dump_lock
from envman.lockfile.fastpath import manifest_data, manifest_hashes_from_data
from tests.hostile.test_r import envman, one_error_line, tree, zeros

MANIFEST = "version: 1\nconda:\n  packages: [pkg]\n"


def _info(name: str, kind: bytes = tarfile.REGTYPE, link: str = "", size: int = 0) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname, info.size, info.mtime, info.mode = kind, link, size, 1577836800, 0o644
    return info


def conda_package(folder: Path, name: str = "pkg", version: str = "1.0", build: str = "h0_0", *,
                  index: dict | None = None, paths: list[dict] | None = None,
                  extra: list[tuple[tarfile.TarInfo, bytes | None]] = (), files: dict[str, bytes] | None = None,
                  big: int = 0) -> tuple[Path, CondaEntry]:
    """A .tar.bz2 conda package: info/index.json, info/paths.json, files, and extra members as given."""
    files = {"lib/libpkg.so": b"\x7fELF pkg"} if files is None else files
    listed = paths if paths is not None else [
        {"_path": rel, "path_type": "hardlink", "sha256": hashlib.sha256(data).hexdigest()} for rel, data in sorted(files.items())
    ]
    meta = {"name": name, "version": version, "build": build, "build_number": 0, "subdir": "linux-64", "depends": [], **(index or {})}
    members: list[tuple[tarfile.TarInfo, bytes | None]] = [
        (_info("info/index.json"), json.dumps(meta).encode()),
        (_info("info/paths.json"), json.dumps({"paths": listed, "paths_version": 1}).encode()),
        *((_info(rel), data) for rel, data in sorted(files.items())),
        *extra,
    ]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name.replace('/', '_')}-{version.replace('/', '_')}-{build.replace('/', '_')}.tar.bz2"
    with tarfile.open(path, mode="w:bz2", format=tarfile.GNU_FORMAT) as archive:
        for info, data in members:
            if data is not None:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
            else:
                archive.addfile(info)
        if big:  # a member of `big` zero bytes, streamed (bzip2 makes it a few hundred bytes)
            archive.addfile(_info("share/zeros.bin", size=big), _Zeros(big))
    entry = CondaEntry(name="pkg", version="1.0", build="h0_0", url=path.as_uri(),
                       sha256=hashlib.sha256(path.read_bytes()).hexdigest(), channel="local", subdir="linux-64")
    return path, entry


class _Zeros(io.RawIOBase):
    def __init__(self, total: int) -> None:
        self.chunks, self.pending = zeros(total), b""

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while len(self.pending) < max(size, 1):
            chunk = next(self.chunks, b"")
            if not chunk:
                break
            self.pending += chunk
        out, self.pending = self.pending[:size], self.pending[size:]
        return out


def lock_project(folder: Path, entries: list[CondaEntry], manifest: str = MANIFEST) -> Path:
    """envman.yaml + a lock with the right manifest hashes and content digest."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "envman.yaml").write_text(manifest)
    lock = Lock(version=1, manifest_hash=manifest_hashes_from_data(manifest_data(manifest)),
                environments={"default": {"linux-64": PlatformLock(conda=entries)}})
    (folder / "envman.lock").write_text(dump_lock(lock))
    return folder / "envman.yaml"


@pytest.fixture
def place(tmp_path):
    """(prefix, outside): an empty conda prefix and a folder beside it that must stay as it is."""
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("keep")
    return prefix, outside


def sync(tmp_path: Path, prefix: Path, entries: list[CondaEntry]):
    manifest = lock_project(tmp_path / "project", entries)
    return envman("sync", "-f", str(manifest), f"conda:{prefix}", cwd=tmp_path, env={"ENVMAN_CACHE_DIR": str(tmp_path / "cache")})


def _cases(outside: Path) -> dict[str, dict]:
    sym, lnk, fifo, chr_ = tarfile.SYMTYPE, tarfile.LNKTYPE, tarfile.FIFOTYPE, tarfile.CHRTYPE
    return {
        "index-name-traversal": {"index": {"name": "../../outside/pkg"}},
        "index-version-slash": {"index": {"version": "1.0/../../../x"}},
        "index-build-absolute": {"index": {"build": str(outside / "x")}},
        "index-name-escape": {"index": {"name": "pkg\x1b]0;owned\x07"}},
        "paths-traversal": {"paths": [{"_path": "../outside/x", "path_type": "hardlink"}]},
        "paths-absolute": {"paths": [{"_path": str(outside / "x"), "path_type": "hardlink"}]},
        "paths-conda-meta": {"paths": [{"_path": "conda-meta/other-1.0-0.json", "path_type": "hardlink"}]},
        "paths-not-a-list": {"paths": {"_path": "x"}},
        "member-traversal": {"extra": [(_info("../outside/x"), b"pwned")]},
        "member-absolute": {"extra": [(_info(str(outside / "x")), b"pwned")]},
        "symlink-out": {"extra": [(_info("lib/esc", sym, "../../outside"), None)],
                        "paths": [{"_path": "lib/esc", "path_type": "softlink"}]},
        "symlink-absolute": {"extra": [(_info("lib/esc", sym, str(outside)), None)],
                             "paths": [{"_path": "lib/esc", "path_type": "softlink"}]},
        "symlink-through-symlink": {"extra": [(_info("lib/a", sym, "."), None), (_info("lib/b", sym, "a/../.."), None)],
                                    "paths": [{"_path": "lib/a", "path_type": "softlink"}, {"_path": "lib/b", "path_type": "softlink"}]},
        "member-under-symlink": {"extra": [(_info("lib/up", sym, ".."), None), (_info("lib/up/x"), b"x")]},
        "hardlink-out": {"extra": [(_info("lib/h", lnk, "../outside/keep"), None)]},
        "hardlink-absolute": {"extra": [(_info("lib/h", lnk, str(outside / "keep")), None)]},
        "fifo": {"extra": [(_info("lib/fifo", fifo), None)], "paths": [{"_path": "lib/fifo", "path_type": "hardlink"}]},
        "device": {"extra": [(_info("lib/zero", chr_), None)]},
        "bomb": {"big": 40 << 20},
    }


CASES = sorted(_cases(Path("/x")))


@pytest.mark.parametrize("case", CASES)
def test_hostile_package_writes_nothing(tmp_path, place, case):
    prefix, outside = place
    _good_path, good = conda_package(tmp_path / "channel" / "good", "good", "2.0", "h1_0")
    good = CondaEntry(**{**good.model_dump(), "name": "good", "version": "2.0", "build": "h1_0"})
    package, entry = conda_package(tmp_path / "channel", **_cases(outside)[case])
    if case == "bomb":
        assert package.stat().st_size < 64 << 10
    done = sync(tmp_path, prefix, [good, entry])
    assert done.returncode == 5, done.stdout + done.stderr
    one_error_line(done, "conda:", package.name)
    assert "\x1b" not in done.stderr
    assert tree(prefix) == ["conda-meta"]  # not even the good package: all are checked before any is linked
    assert tree(outside) == ["keep"] and (outside / "keep").read_text() == "keep"
    assert not (tmp_path / "x").exists() and not (tmp_path / "pkg").exists()


def test_a_symlink_already_in_the_prefix_does_not_lead_writes_out(tmp_path, place):
    prefix, outside = place
    (prefix / "lib").symlink_to(outside)
    _package, entry = conda_package(tmp_path / "channel")
    done = sync(tmp_path, prefix, [entry])
    assert done.returncode == 5, done.stdout + done.stderr
    one_error_line(done, "writes outside the prefix", "lib/libpkg.so")
    assert tree(outside) == ["keep"]
    assert sorted(p.name for p in (prefix / "conda-meta").iterdir()) == []


def test_a_package_that_is_not_the_locked_one_is_refused(tmp_path, place):
    prefix, _outside = place
    package, entry = conda_package(tmp_path / "channel", "other", "1.0", "h0_0")
    done = sync(tmp_path, prefix, [entry])  # the lock says pkg 1.0 h0_0; the package says other
    assert done.returncode == 5, done.stdout + done.stderr
    one_error_line(done, package.name, "not pkg 1.0 h0_0")
    assert tree(prefix) == ["conda-meta"]


def test_a_valid_package_with_inside_links_still_installs(tmp_path, place):
    prefix, outside = place
    extra = [(_info("lib/libpkg.so.1", tarfile.SYMTYPE, "libpkg.so"), None)]
    paths = [{"_path": "lib/libpkg.so", "path_type": "hardlink"}, {"_path": "lib/libpkg.so.1", "path_type": "softlink"}]
    _package, entry = conda_package(tmp_path / "channel", extra=extra, paths=paths)
    done = sync(tmp_path, prefix, [entry])
    assert done.returncode == 0, done.stdout + done.stderr
    assert os.readlink(prefix / "lib" / "libpkg.so.1") == "libpkg.so"
    assert (prefix / "conda-meta" / "pkg-1.0-h0_0.json").is_file()
    assert tree(outside) == ["keep"]


def test_a_lock_naming_a_path_is_refused(tmp_path, place):
    prefix, _outside = place
    evil = CondaEntry.model_construct(name="../../x", version="1.0", build="h0_0", url=(tmp_path / "x.tar.bz2").as_uri(),
                                      sha256="0" * 64, md5=None, subdir=None, channel=None, requires=[])
    done = sync(tmp_path, prefix, [evil])
    assert done.returncode == 2, done.stdout + done.stderr
    one_error_line(done, "envman.lock", "not a valid conda package name")
    assert tree(prefix) == ["conda-meta"] and not (tmp_path / "x").exists()


# -- the probe ------------------------------------------------------------------------------------

def test_special_and_oversized_records_are_skipped_with_a_problem(tmp_path, place):
    prefix, _outside = place
    meta = prefix / "conda-meta"
    (prefix / "lib").mkdir()
    os.mkfifo(prefix / "lib" / "fifo")
    (prefix / "lib" / "zero").symlink_to("/dev/zero")
    record = {"name": "good", "version": "1.0", "build": "h0_0",
              "paths_data": {"paths": [{"_path": "lib/fifo", "path_type": "hardlink", "sha256": "0" * 64},
                                       {"_path": "lib/zero", "path_type": "softlink", "sha256": "0" * 64}]}}
    (meta / "good-1.0-h0_0.json").write_text(json.dumps(record))
    os.mkfifo(meta / "fifo-1.0-0.json")
    (meta / "zero-1.0-0.json").symlink_to("/dev/zero")
    with open(meta / "huge-1.0-0.json", "wb") as handle:  # sparse, over the 64 MiB record limit
        handle.truncate(65 << 20)
    (meta / "deep-1.0-0.json").write_text("[" * 100_000)
    done = envman("snapshot", "--deep", f"conda:{prefix}", cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    packages = data["packages"]["conda"]
    assert [p["name"] for p in packages] == ["good"]
    assert sorted(packages[0]["extra"]["modified"]) == ["lib/fifo (not a regular file)", "lib/zero (not a regular file)"]
    problems = "\n".join(data["problems"])
    expected = {"fifo": "not a regular file", "zero": "not a regular file", "huge": "68157440 bytes, over the limit of 67108864"}
    for name, why in expected.items():
        assert f"skipped {meta / f'{name}-1.0-0.json'}: {why}" in problems, problems
    assert f"unreadable {meta / 'deep-1.0-0.json'}" in problems
