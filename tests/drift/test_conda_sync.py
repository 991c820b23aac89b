"""A conda prefix synced from verified .tar.bz2 packages, drifted, checked deep, synced back."""

from __future__ import annotations

import json
from pathlib import Path

from envman.ecosystems.conda.entry import CondaEntry
from envman.lockfile import PlatformLock
from tests.drift.builders import CONDA_PLACEHOLDER, make_conda_package, sha256_file
from tests.drift.conftest import run_envman, write_project


def _entry(path: Path, name: str, version: str, build: str) -> CondaEntry:
    return CondaEntry(name=name, version=version, build=build, url=path.as_uri(), sha256=sha256_file(path),
                      channel="local", subdir="linux-64")


def test_conda_prefix_sync_check_deep_and_back(tmp_path):
    channel = tmp_path / "channel"
    zlib = make_conda_package(channel, "zlib", "1.3.1", "h0_0", {"lib/libz.so.1": b"\x7fELF zlib"})
    tool_cfg = f"#!/bin/sh\nexec {CONDA_PLACEHOLDER}/bin/real-tool \"$@\"\n".encode()
    tool = make_conda_package(channel, "tool", "2.0", "h1_0",
                              {"bin/tool": tool_cfg, "lib/libtool.so": b"\0pre" + CONDA_PLACEHOLDER.encode() + b"/share\0post"},
                              text_placeholders=("bin/tool",), binary_placeholders=("lib/libtool.so",))
    tool_old = make_conda_package(channel, "tool", "1.9", "h0_0", {"bin/tool": b"#!/bin/sh\necho old\n"})
    junk = make_conda_package(channel, "junk", "0.1", "h0_0", {"share/junk/readme": b"junk"})
    entries = [_entry(zlib, "zlib", "1.3.1", "h0_0"), _entry(tool, "tool", "2.0", "h1_0")]
    manifest = write_project(tmp_path / "project", "version: 1\nconda:\n  packages: [zlib, tool]\n",
                             {"linux-64": PlatformLock(conda=entries)})
    prefix = tmp_path / "env"
    (prefix / "conda-meta").mkdir(parents=True)

    check = ("check", "-f", str(manifest), "--deep", "--format", "json", f"conda:{prefix}")
    assert run_envman(*check).returncode == 1
    first = run_envman("sync", "-f", str(manifest), f"conda:{prefix}")
    assert first.returncode == 0, first.stdout + first.stderr
    assert run_envman(*check).returncode == 0
    assert (prefix / "bin" / "tool").read_text() == f"#!/bin/sh\nexec {prefix}/bin/real-tool \"$@\"\n"
    lib = (prefix / "lib" / "libtool.so").read_bytes()
    assert lib.startswith(b"\0pre" + str(prefix).encode() + b"/share\0")
    assert len(lib) == len(b"\0pre" + CONDA_PLACEHOLDER.encode() + b"/share\0post")

    # drift: an older tool and an extra package (synced from another lock), an edited file
    other = write_project(tmp_path / "other", "version: 1\nconda:\n  packages: [zlib, tool, junk]\n",
                          {"linux-64": PlatformLock(conda=[entries[0], _entry(tool_old, "tool", "1.9", "h0_0"),
                                                           _entry(junk, "junk", "0.1", "h0_0")])})
    assert run_envman("sync", "-f", str(other), f"conda:{prefix}").returncode == 0
    assert not (prefix / "conda-meta" / "tool-2.0-h1_0.json").exists()
    (prefix / "lib" / "libz.so.1").write_bytes(b"patched")
    proc = run_envman(*check)
    assert proc.returncode == 1
    got = sorted((f["name"], f["kind"]) for f in json.loads(proc.stdout)["targets"][0]["findings"])
    assert got == [("junk", "extra"), ("tool", "changed"), ("zlib", "modified")]

    plan = run_envman("sync", "--dry-run", "-f", str(manifest), f"conda:{prefix}")
    assert plan.returncode == 1 and "remove    junk 0.1 h0_0" in plan.stdout
    synced = run_envman("sync", "-f", str(manifest), f"conda:{prefix}")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert run_envman(*check).returncode == 0
    assert not (prefix / "share" / "junk").exists()
    assert (prefix / "lib" / "libz.so.1").read_bytes() == b"\x7fELF zlib"
