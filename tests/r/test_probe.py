"""`rlib:DIR` probing without R, on library folders the tests write (through probe_target,
the path `envman check/snapshot rlib:DIR` runs)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from envman.errors import UnreachableError
from tests.probe_helpers import packages


def probe_rlib(lib: Path) -> list:
    return packages(f"rlib:{lib}", "r")


def install(lib: Path, name: str, version: str, **fields: str) -> Path:
    pkg = lib / name
    pkg.mkdir(parents=True)
    text = f"Package: {name}\nVersion: {version}\n" + "".join(f"{k}: {v}\n" for k, v in fields.items())
    (pkg / "DESCRIPTION").write_text(text + "Built: R 4.2.2; ; 2024-01-01 00:00:00 UTC; unix\n")
    return pkg


def test_probe_reads_descriptions(tmp_path):
    lib = tmp_path / "lib"
    install(lib, "ggplot2", "3.5.1", Imports="cli,\n    glue")
    install(lib, "MASS", "7.3-60", Priority="recommended")
    install(lib, "stats", "4.2.2", Priority="base")
    (lib / "00LOCK-broken").mkdir()
    (lib / "00LOCK-broken" / "DESCRIPTION").write_text("Package: broken\nVersion: 1\n")
    (lib / "notapkg").mkdir()
    install(lib, "renamed", "1.0")
    (lib / "renamed" / "DESCRIPTION").write_text("Package: other\nVersion: 1.0\n")
    (lib / "garbage").mkdir()
    (lib / "garbage" / "DESCRIPTION").write_text("  not dcf\n")
    latin = lib / "latin"
    latin.mkdir()
    (latin / "DESCRIPTION").write_bytes("Package: latin\nVersion: 0.1\nAuthor: Fran\xe7ois\n".encode("latin-1"))
    found = probe_rlib(lib)
    assert [(p.name, p.version) for p in found] == [("MASS", "7.3-60"), ("ggplot2", "3.5.1"), ("latin", "0.1"), ("stats", "4.2.2")]
    by = {p.name: p for p in found}
    assert by["MASS"].extra == {"priority": "recommended"} and by["stats"].extra == {"priority": "base"}
    assert by["ggplot2"].extra == {} and by["ggplot2"].location == str(lib)
    assert all(p.ecosystem == "r" for p in found)


def test_probe_missing_folder(tmp_path):
    with pytest.raises(UnreachableError):
        probe_rlib(tmp_path / "nope")
    (tmp_path / "file").write_text("")
    with pytest.raises(UnreachableError):
        probe_rlib(tmp_path / "file")


def test_probe_300_packages_is_fast(tmp_path):
    lib = tmp_path / "lib"
    for i in range(300):
        install(lib, f"pkg{i}", f"1.{i}", Imports="a, b, c", Description="x " * 200)
    started = time.perf_counter()
    found = probe_rlib(lib)
    elapsed = time.perf_counter() - started
    assert len(found) == 300
    assert elapsed < 1.0  # goal 0.2 s; benchmarks/r_lock measures it
