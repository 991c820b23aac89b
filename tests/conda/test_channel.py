"""The test channel generator makes real channels: rattler-index writes the same repodata for
its files, conda-package-streaming reads both formats, and py-rattler installs them (the
prefix placeholder replaced, the symlink kept)."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import rattler
from conda_package_streaming import package_streaming

from tests.conda.channel import PLACEHOLDER, PackageSpec, build_channel, build_channel_files, standard_packages

SUBDIRS = ("noarch", "linux-64", "osx-arm64")


def test_same_specs_same_bytes(tmp_path: Path) -> None:
    first = build_channel(tmp_path / "a", standard_packages())
    second = build_channel(tmp_path / "b", standard_packages())
    files = sorted(p.relative_to(first) for p in first.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(second) for p in second.rglob("*") if p.is_file())
    assert any(str(f).endswith(".conda") for f in files) and any(str(f).endswith(".tar.bz2") for f in files)
    for rel in files:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel


def test_rattler_index_writes_the_same_records(tmp_path: Path) -> None:
    ours = build_channel(tmp_path / "ours", standard_packages())
    theirs = tmp_path / "theirs"
    shutil.copytree(ours, theirs)
    for subdir in SUBDIRS:
        (theirs / subdir / "repodata.json").unlink()
    asyncio.run(rattler.index.index_fs(theirs, write_zst=False, write_shards=False, force=True))
    compared = 0
    for subdir in SUBDIRS:
        mine = json.loads((ours / subdir / "repodata.json").read_text())
        indexed = json.loads((theirs / subdir / "repodata.json").read_text())
        for key in ("packages", "packages.conda"):
            assert set(mine[key]) == set(indexed[key])
            for name, record in mine[key].items():
                other = dict(indexed[key][name])
                other.pop("indexed_timestamp", None)
                assert record == other, (subdir, name)
                compared += 1
    assert compared == 2 * sum(len(spec.subdirs) for spec in standard_packages())


def test_both_formats_hold_the_info_files(tmp_path: Path) -> None:
    built = build_channel_files(tmp_path / "c", standard_packages())
    for package in built:
        with open(package.path, "rb") as handle:
            members = {
                member.name: tar.extractfile(member).read() if member.isfile() else None  # type: ignore[union-attr]
                for tar, member in package_streaming.stream_conda_component(
                    str(package.path), handle, package_streaming.CondaComponent.info
                )
            }
        index = json.loads(members["info/index.json"])
        assert (index["name"], index["subdir"]) == (package.record["name"], package.subdir)
        paths = json.loads(members["info/paths.json"])["paths"]
        assert members["info/files"].decode().split() == [p["_path"] for p in paths]
        if package.record["name"] == "libz" and package.subdir == "linux-64":
            conf = next(p for p in paths if p["_path"] == "etc/libz.conf")
            assert conf["prefix_placeholder"] == PLACEHOLDER and conf["file_mode"] == "text"
            assert b"etc/libz.conf" in members["info/has_prefix"]


def test_rattler_installs_the_packages(tmp_path: Path, serve) -> None:
    url = serve(build_channel(tmp_path / "c", standard_packages()))
    glibc = rattler.GenericVirtualPackage(rattler.PackageName("__glibc"), rattler.Version("2.28"), rattler.BuildString("0"))
    gateway = rattler.Gateway(cache_dir=tmp_path / "cache")
    records = asyncio.run(rattler.solve([url], ["plugin", "tools"], gateway=gateway, platforms=["linux-64", "noarch"],
                                        virtual_packages=[glibc]))
    prefix = tmp_path / "prefix"
    asyncio.run(rattler.install(records, prefix, cache_dir=tmp_path / "pkgs", show_progress=False))
    conf = (prefix / "etc" / "libz.conf").read_text()
    assert PLACEHOLDER not in conf and f"prefix={prefix}" in conf
    assert (prefix / "lib" / "libz.so.1").is_symlink() and (prefix / "lib" / "libz.so.1").read_bytes().startswith(b"\x7fELF")
    assert str(prefix) in (prefix / "bin" / "tool").read_text()
    assert sorted(p.name for p in (prefix / "conda-meta").glob("*.json")) == sorted(
        f"{r.name.normalized}-{r.version}-{r.build}.json" for r in records
    )


def test_repodata_only_channels_for_benchmarks(tmp_path: Path) -> None:
    root = build_channel(tmp_path / "c", [PackageSpec("a", "1.0", depends=("b",)), PackageSpec("b", "1.0", subdirs=("linux-64",))],
                         archives=False)
    assert not list(root.rglob("*.conda")) and not list(root.rglob("*.tar.bz2"))
    linux = json.loads((root / "linux-64" / "repodata.json").read_text())
    assert [r["name"] for r in linux["packages.conda"].values()] == ["b"] and len(linux["packages"]) == 1
    empty = json.loads((root / "osx-arm64" / "repodata.json").read_text())
    assert empty["packages"] == {} and empty["packages.conda"] == {}
