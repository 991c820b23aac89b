"""The cached lock view used by check gives the same answers as the validated lock models."""

from __future__ import annotations

from pathlib import Path

import pytest

from envman.ecosystems.conda.entry import CondaEntry
from envman.ecosystems.jvm.entry import JvmEntry
from envman.ecosystems.python.entry import PythonEntry
from envman.ecosystems.r.entry import REntry
from envman.errors import BadInputError
from envman.lockfile import Lock, PlatformLock, dump_lock, read_lock
from envman.lockfile.view import LockView, read_lock_fast


def _lock() -> Lock:
    plock = PlatformLock(
        python_version="3.11",
        python=[PythonEntry(name="requests", version="2.32.3", hashes=["sha256:" + "a" * 64], marker="python_version >= '3.8'")],
        r=[REntry(name="cli", version="3.6.3", sha256="b" * 64, repository="CRAN", url="https://x/cli_3.6.3.tar.gz", requires=["utils"])],
        jvm=[JvmEntry(name="g:a:tests", version="1.0", sha256="c" * 64, url="https://x/a-1.0-tests.jar")],
        conda=[CondaEntry(name="gdal", version="3.9.1", build="h1_0", url="https://x/gdal.conda", sha256="d" * 64)],
    )
    return Lock(version=1, manifest_hash={"all": "sha256:" + "0" * 64}, environments={"production": {"linux-64": plock}})


def test_view_matches_models(tmp_path: Path):
    path = tmp_path / "envman.lock"
    path.write_text(dump_lock(_lock()))
    first = read_lock_fast(path, read_lock)
    assert isinstance(first, Lock)  # cold: the full, validated parse
    view = read_lock_fast(path, read_lock)
    assert isinstance(view, LockView)  # warm: the cached copy of these bytes
    full, fast = first.platform_lock("production", "linux-64"), view.platform_lock("production", "linux-64")
    assert fast.python_version == full.python_version
    for eco, fields in {"python": ("name", "version", "hashes", "marker"), "r": ("name", "version", "sha256", "url", "requires"),
                        "jvm": ("name", "version", "sha256", "url"),
                        "conda": ("name", "version", "build", "sha256", "md5", "channel")}.items():
        for a, b in zip(getattr(full, eco), getattr(fast, eco), strict=True):
            assert [getattr(a, f) for f in fields] == [getattr(b, f) for f in fields]
    with pytest.raises(BadInputError, match="production@linux-64"):
        view.platform_lock("design", "linux-64")


def test_changed_or_broken_lock_is_read_again(tmp_path: Path, envman_cache_dir: Path):
    path = tmp_path / "envman.lock"
    path.write_text(dump_lock(_lock()))
    read_lock_fast(path, read_lock)
    path.write_text(path.read_text().replace("2.32.3", "2.31.0"))
    fresh = read_lock_fast(path, read_lock)
    assert isinstance(fresh, Lock) and fresh.platform_lock("production", "linux-64").python[0].version == "2.31.0"
    path.write_text("version: 1\nmanifest-hash: {}\nenvironments: {production: {linux-64: {python: [{name: x}]}}}\n")
    with pytest.raises(BadInputError):
        read_lock_fast(path, read_lock)
