"""The layer and config rewrite: overlay semantics, deterministic tars, drop rules, the config;
then two real engine builds of one Dockerfile that end with the same image ID."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import tarfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from envman.build.droprules import DropRules
from envman.build.layers import LayerGroup, RewrittenImage, rewrite_image, write_docker_archive

EPOCH = 1704164645  # 2024-01-02T03:04:05Z
OLD = 1600000000  # before the epoch: kept
NEW = 1800000000  # after it: clamped
EMPTY_LAYER_DIFF_ID = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"  # the engine's own empty layer


# ---------------------------------------------------------------------------------------
# synthetic layers and saved images


@dataclass
class E:
    """One member of a synthetic layer, as the engine writes them (owner names, PAX)."""

    name: str
    data: bytes | None = None
    type: bytes = tarfile.REGTYPE
    mode: int = 0o644
    mtime: float = NEW
    uid: int = 0
    gid: int = 0
    linkname: str = ""
    uname: str = "root"
    pax: dict[str, str] = field(default_factory=dict)
    dev: tuple[int, int] = (0, 0)


def D(name: str, mode: int = 0o755, mtime: float = NEW) -> E:
    return E(name, type=tarfile.DIRTYPE, mode=mode, mtime=mtime)


def WH(name: str) -> E:
    return E(name, data=b"", mode=0o600)


def layer(*entries: E) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for e in entries:
            info = tarfile.TarInfo(e.name)
            info.type, info.mode, info.mtime, info.uid, info.gid = e.type, e.mode, e.mtime, e.uid, e.gid
            info.uname = info.gname = e.uname
            info.linkname = e.linkname
            info.devmajor, info.devminor = e.dev
            info.pax_headers = dict(e.pax)
            data = e.data if e.data is not None else (b"" if e.type == tarfile.REGTYPE else None)
            if data is not None:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)
    return buf.getvalue()


def sha(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def saved_image(
    layers: list[bytes],
    *,
    history: list[dict[str, object]] | None = None,
    config: dict[str, object] | None = None,
    blobs: bool = False,
    gzip_layers: bool = False,
    created: str = "2026-11-27T19:21:46.420889601Z",
) -> bytes:
    """A `docker save` stream: the legacy layout of docker 20.10, or blobs/sha256 (docker 25+)."""
    if history is None:
        # the first entry is the base's (the same in every build), the others the build's
        history = [
            {"created": "2020-01-01T00:00:00Z" if i == 0 else created, "created_by": f"/bin/sh -c step {i}"} for i in range(len(layers))
        ]
    cfg = {
        "architecture": "amd64",
        "os": "linux",
        "created": created,
        "container": "0f7cb24c144ced3f2b7012c1626d4929ea3d69049fc55331468c3175188146e6",
        "docker_version": "20.10.24+dfsg1",
        "container_config": {"Hostname": "0f7cb24c144c", "Cmd": ["/bin/sh", "-c", "true"]},
        "config": {
            "Hostname": "",
            "Env": ["PATH=/usr/bin:/bin"],
            "Cmd": ["bash"],
            "Image": "sha256:32e5ad1b88bb654ec36107ac3d91f122b643810eab1b1d34410ba911df3403e3",
            "Volumes": None,
            "WorkingDir": "",
            "Entrypoint": None,
            "Labels": {"base.label": "b", "shared": "from-build"},
        },
        "history": history,
        "rootfs": {"type": "layers", "diff_ids": [sha(data) for data in layers]},
        **(config or {}),
    }
    config_bytes = json.dumps(cfg).encode()
    stored = [gzip.compress(data, mtime=0) if gzip_layers else data for data in layers]
    members: list[tuple[str, bytes]] = []
    if blobs:
        config_name = "blobs/sha256/" + hashlib.sha256(config_bytes).hexdigest()
        names = ["blobs/sha256/" + hashlib.sha256(data).hexdigest() for data in stored]
        members += [(name, data) for name, data in zip(names, stored, strict=True)]
        members += [(config_name, config_bytes), ("oci-layout", b'{"imageLayoutVersion":"1.0.0"}')]
    else:
        config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
        names = [f"{uuid.uuid4().hex}{uuid.uuid4().hex}/layer.tar" for _ in stored]
        members += [(name, data) for name, data in zip(names, stored, strict=True)]
        members.append((config_name, config_bytes))
    members.sort()
    members.append(("manifest.json", json.dumps([{"Config": config_name, "RepoTags": ["x:1"], "Layers": names}]).encode()))
    members.append(("repositories", b'{"x":{"1":"abc"}}'))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size, info.mtime = len(data), time.time()
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


BASE = layer(
    D("etc", mtime=OLD),
    E("etc/os-release", b"bookworm\n", mtime=OLD),
    E("etc/debian_version", b"12\n", mtime=OLD),
    D("opt", mtime=OLD),
    D("usr", mtime=OLD),
    D("usr/share", mtime=OLD),
    D("usr/share/doc", mtime=OLD),
    E("usr/share/doc/a", b"a", mtime=OLD),
    E("usr/share/doc/b", b"b", mtime=OLD),
    D("tmp", mode=0o1777, mtime=OLD),
    D("var", mtime=OLD),
    D("var/log", mtime=OLD),
    E("var/log/dpkg.log", b"base log", mtime=OLD),
    D("var/lib", mtime=OLD),
    D("var/lib/apt", mtime=OLD),
    D("var/lib/apt/lists", mtime=OLD),
    E("var/lib/apt/lists/old_Packages", b"pkgs", mtime=OLD),
)


def rewrite(
    tmp_path: Path, layers: list[bytes], groups: list[tuple[str, int]] | None = None, *, base: int = 1, **kwargs: object
) -> RewrittenImage:
    if groups is None:
        groups = [("g", len(layers) - base)]
    stream = io.BytesIO(kwargs.pop("stream", None) or saved_image(layers))
    work = tmp_path / f"work-{uuid.uuid4().hex[:8]}"
    options: dict[str, object] = {"epoch": EPOCH, "labels": {}, **kwargs}
    return rewrite_image(stream, work, base_layers=base, groups=[LayerGroup(n, c) for n, c in groups], **options)


def members(path: Path) -> list[tarfile.TarInfo]:
    with tarfile.open(path) as tar:
        return tar.getmembers()


def names(path: Path) -> list[str]:
    return [m.name for m in members(path)]


def content(path: Path, name: str) -> bytes:
    with tarfile.open(path) as tar:
        data = tar.extractfile(name)
        assert data is not None
        return data.read()


def squashed(tmp_path: Path, *group_layers: bytes, base: bytes = BASE, **kwargs: object) -> Path:
    """The one squashed layer of BASE + `group_layers` in one group."""
    image = rewrite(tmp_path, [base, *group_layers], **kwargs)
    assert len(image.layers) == 2
    return image.layers[1]


# ---------------------------------------------------------------------------------------
# base layers and group counts


def test_base_layers_pass_through_byte_identical(tmp_path: Path) -> None:
    base2 = layer(D("srv", mtime=NEW), E("srv/x", b"x", mtime=NEW, uname="someone"))
    image = rewrite(tmp_path, [BASE, base2, layer(E("opt/y", b"y"))], base=2)
    assert image.layers[0].read_bytes() == BASE
    assert image.layers[1].read_bytes() == base2
    assert image.diff_ids[:2] == (sha(BASE), sha(base2))
    assert [sha(p.read_bytes()) for p in image.layers] == list(image.diff_ids)


@pytest.mark.parametrize("counts", [[1], [1, 1, 1], [3]])
def test_group_counts_must_cover_the_added_layers(tmp_path: Path, counts: list[int]) -> None:
    layers = [BASE, layer(E("opt/a", b"a")), layer(E("opt/b", b"b"))]
    groups = [(f"g{i}", c) for i, c in enumerate(counts)]
    with pytest.raises(ValueError, match=r"the layer groups cover \d+ layers .* but the build added 2 to the 1 of the base"):
        rewrite(tmp_path, layers, groups)


def test_more_base_layers_than_the_image_has(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fewer than the 3 of its base"):
        rewrite(tmp_path, [BASE], [], base=3)


def test_several_groups_each_become_one_layer(tmp_path: Path) -> None:
    layers = [BASE, layer(E("opt/a", b"a")), layer(E("opt/b", b"b")), layer(E("opt/c", b"c"))]
    image = rewrite(tmp_path, layers, [("system", 1), ("deps", 2)])
    assert len(image.layers) == 3
    assert names(image.layers[1]) == ["opt/a"]
    assert names(image.layers[2]) == ["opt/b", "opt/c"]
    history = json.loads(image.config)["history"]
    assert [h.get("created_by") for h in history] == ["/bin/sh -c step 0", "envman: system", "envman: deps"]


def test_a_later_group_sees_what_earlier_groups_left(tmp_path: Path) -> None:
    layers = [
        BASE,
        layer(D("opt"), E("opt/x", b"x"), D("tmp"), E("tmp/t", b"t")),
        layer(D("opt"), WH("opt/.wh.x"), D("tmp"), WH("tmp/.wh.t"), D("srv"), E("srv/y", b"y")),
        layer(D("srv"), WH("srv/.wh.y")),
    ]
    image = rewrite(tmp_path, layers, [("first", 1), ("second", 2)])
    assert names(image.layers[1]) == ["opt", "opt/x", "tmp"]
    # opt/x exists below the second group: its whiteout stays; tmp/t was dropped from the
    # first group and srv/y was added inside the second, so their whiteouts go
    assert names(image.layers[2]) == ["opt", "opt/.wh.x", "srv", "tmp"]
    assert sorted(p.name for p in image.layers[0].parent.parent.iterdir()) == ["layers"]  # the spilled stream is gone


def test_empty_group_gives_a_valid_empty_layer(tmp_path: Path) -> None:
    image = rewrite(tmp_path, [BASE, layer(E("tmp/t", b"scratch"))], [("g", 1), ("none", 0)])
    for path in image.layers[1:]:
        assert path.read_bytes() == b"\0" * 1024
        assert members(path) == []
    assert image.diff_ids[1:] == (EMPTY_LAYER_DIFF_ID, EMPTY_LAYER_DIFF_ID)


# ---------------------------------------------------------------------------------------
# overlay semantics inside a group


def test_later_entry_for_a_path_wins(tmp_path: Path) -> None:
    out = squashed(tmp_path, layer(D("opt"), E("opt/x", b"one", mode=0o600)), layer(D("opt"), E("opt/x", b"two", mode=0o755)))
    assert names(out) == ["opt", "opt/x"]
    assert content(out, "opt/x") == b"two"
    assert members(out)[1].mode == 0o755


def test_whiteout_of_a_file_added_in_the_group_disappears_with_it(tmp_path: Path) -> None:
    out = squashed(tmp_path, layer(D("opt"), E("opt/x", b"x"), E("opt/y", b"y")), layer(D("opt"), WH("opt/.wh.x")))
    assert names(out) == ["opt", "opt/y"]


def test_whiteout_of_a_base_file_is_kept(tmp_path: Path) -> None:
    out = squashed(tmp_path, layer(D("etc"), WH("etc/.wh.debian_version")))
    assert names(out) == ["etc", "etc/.wh.debian_version"]
    marker = members(out)[1]
    assert (marker.type, marker.size, marker.mtime) == (tarfile.REGTYPE, 0, EPOCH)


def test_whiteout_of_a_directory_removes_what_the_group_added_under_it(tmp_path: Path) -> None:
    out = squashed(
        tmp_path,
        layer(D("usr"), D("usr/share"), D("usr/share/doc"), E("usr/share/doc/new", b"n")),
        layer(D("usr"), D("usr/share"), WH("usr/share/.wh.doc")),
    )
    assert names(out) == ["usr", "usr/share", "usr/share/.wh.doc"]


def test_whiteout_then_new_file_is_just_the_new_file(tmp_path: Path) -> None:
    out = squashed(tmp_path, layer(D("etc"), WH("etc/.wh.debian_version")), layer(D("etc"), E("etc/debian_version", b"13\n")))
    assert names(out) == ["etc", "etc/debian_version"]
    assert content(out, "etc/debian_version") == b"13\n"


def test_removed_and_recreated_directory_becomes_opaque(tmp_path: Path) -> None:
    out = squashed(
        tmp_path,
        layer(D("usr"), D("usr/share"), WH("usr/share/.wh.doc")),
        layer(D("usr"), D("usr/share"), D("usr/share/doc"), E("usr/share/doc/c", b"c")),
    )
    assert names(out) == ["usr", "usr/share", "usr/share/doc", "usr/share/doc/.wh..wh..opq", "usr/share/doc/c"]


def test_opaque_directory_hides_the_group_and_what_lies_below(tmp_path: Path) -> None:
    out = squashed(
        tmp_path,
        layer(D("usr"), D("usr/share"), D("usr/share/doc"), E("usr/share/doc/added", b"x")),
        layer(D("usr"), D("usr/share"), D("usr/share/doc"), E("usr/share/doc/.wh..wh..opq", b""), E("usr/share/doc/c", b"c")),
    )
    assert names(out) == ["usr", "usr/share", "usr/share/doc", "usr/share/doc/.wh..wh..opq", "usr/share/doc/c"]


def test_opaque_marker_with_nothing_below_is_left_out(tmp_path: Path) -> None:
    out = squashed(
        tmp_path,
        layer(D("srv"), E("srv/a", b"a")),
        layer(D("srv"), E("srv/.wh..wh..opq", b""), E("srv/b", b"b")),
    )
    assert names(out) == ["srv", "srv/b"]


def test_whiteout_under_an_opaque_directory_is_not_repeated(tmp_path: Path) -> None:
    out = squashed(
        tmp_path,
        layer(D("usr"), D("usr/share"), D("usr/share/doc"), E("usr/share/doc/.wh..wh..opq", b""), E("usr/share/doc/c", b"c")),
        layer(D("usr"), D("usr/share"), D("usr/share/doc"), WH("usr/share/doc/.wh.a")),
    )
    assert names(out) == ["usr", "usr/share", "usr/share/doc", "usr/share/doc/.wh..wh..opq", "usr/share/doc/c"]


def test_whiteouts_of_a_layer_apply_below_it_only(tmp_path: Path) -> None:
    # One raw layer may remove a lower path and create it anew: the new entry stays.
    out = squashed(tmp_path, layer(D("opt"), E("opt/x", b"old")), layer(D("opt"), E("opt/x", b"new"), WH("opt/.wh.x")))
    assert names(out) == ["opt", "opt/x"]
    assert content(out, "opt/x") == b"new"


def test_file_replacing_a_directory_drops_what_the_group_put_in_it(tmp_path: Path) -> None:
    out = squashed(tmp_path, layer(D("srv"), D("srv/d"), E("srv/d/f", b"f")), layer(D("srv"), E("srv/d", b"now a file")))
    assert names(out) == ["srv", "srv/d"]


# ---------------------------------------------------------------------------------------
# deterministic tars


def test_members_are_sorted_parents_first(tmp_path: Path) -> None:
    out = squashed(
        tmp_path,
        layer(E("b", b"b"), D("a-b"), E("a-b/z", b""), D("a"), D("a/b"), E("a/b/c", b""), E("a/a", b""), D("A")),
    )
    assert names(out) == ["A", "a", "a/a", "a/b", "a/b/c", "a-b", "a-b/z", "b"]


def test_mtime_is_clamped_to_the_epoch_and_older_ones_are_kept(tmp_path: Path) -> None:
    out = squashed(tmp_path, layer(D("opt", mtime=OLD), E("opt/new", b"n", mtime=NEW + 0.75), E("opt/old", b"o", mtime=OLD + 0.5)))
    assert {m.name: m.mtime for m in members(out)} == {"opt": OLD, "opt/new": EPOCH, "opt/old": OLD}


def test_metadata_is_kept_and_build_noise_is_not(tmp_path: Path) -> None:
    capability = b"\x01\x00\x00\x02\x00\x20\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
    xattr = capability.decode("utf-8", "surrogateescape")
    out = squashed(
        tmp_path,
        layer(
            D("dev"),
            E("dev/null", type=tarfile.CHRTYPE, mode=0o666, dev=(1, 3)),
            E("dev/sda", type=tarfile.BLKTYPE, mode=0o660, gid=6, dev=(8, 0)),
            E("dev/pipe", type=tarfile.FIFOTYPE, mode=0o600),
            D("opt"),
            E("opt/suid", b"#!", mode=0o4755, uid=1000, gid=1001, uname="alice"),
            E("opt/ping", b"elf", pax={"SCHILY.xattr.security.capability": xattr, "atime": "1800000000.5", "ctime": "1800000000.5"}),
            E("opt/link", type=tarfile.SYMTYPE, linkname="../etc/os-release", mode=0o777),
            D("opt/sticky", mode=0o1777),
        ),
    )
    got = {m.name: m for m in members(out)}
    assert (got["dev/null"].type, got["dev/null"].devmajor, got["dev/null"].devminor, got["dev/null"].mode) == (
        tarfile.CHRTYPE,
        1,
        3,
        0o666,
    )
    assert (got["dev/sda"].type, got["dev/sda"].devmajor, got["dev/sda"].gid) == (tarfile.BLKTYPE, 8, 6)
    assert got["dev/pipe"].type == tarfile.FIFOTYPE
    assert (got["opt/suid"].mode, got["opt/suid"].uid, got["opt/suid"].gid) == (0o4755, 1000, 1001)
    assert all(m.uname == "" and m.gname == "" for m in got.values())
    assert (got["opt/link"].type, got["opt/link"].linkname) == (tarfile.SYMTYPE, "../etc/os-release")
    assert got["opt/sticky"].mode == 0o1777
    assert got["opt/ping"].pax_headers["SCHILY.xattr.security.capability"].encode("utf-8", "surrogateescape") == capability
    data = out.read_bytes()
    assert b"atime" not in data and b"ctime" not in data
    assert b"ustar\x0000" in data  # POSIX ustar framing (PAX format)
    # only the member with an xattr has a pax header
    assert [m.name for m in got.values() if m.pax_headers] == ["opt/ping"]


def test_pax_headers_only_where_ustar_cannot_say_it(tmp_path: Path) -> None:
    long_name = "opt/" + "d" * 120 + "/file"
    out = squashed(tmp_path, layer(D("opt"), D("opt/" + "d" * 120), E(long_name, b"x"), E("opt/caf\u00e9", b"y"), E("opt/short", b"z")))
    got = {m.name: m for m in members(out)}
    assert long_name in got and "opt/caf\u00e9" in got
    assert set(got["opt/short"].pax_headers) == set()
    assert "path" in got[long_name].pax_headers
    assert out.read_bytes().count(b"././@PaxHeader") == 3  # the long dir, the long file, the non-ASCII name


def test_hard_links_are_kept_target_first(tmp_path: Path) -> None:
    out = squashed(
        tmp_path,
        layer(D("usr"), D("usr/bin"), E("usr/bin/z", b"elf", mode=0o755), E("usr/bin/a", type=tarfile.LNKTYPE, linkname="usr/bin/z")),
    )
    got = members(out)
    assert [(m.name, m.type) for m in got] == [
        ("usr", tarfile.DIRTYPE),
        ("usr/bin", tarfile.DIRTYPE),
        ("usr/bin/a", tarfile.REGTYPE),
        ("usr/bin/z", tarfile.LNKTYPE),
    ]
    assert got[3].linkname == "usr/bin/a"
    assert got[2].mode == 0o755 and content(out, "usr/bin/a") == b"elf"


def test_hard_link_keeps_its_content_when_the_target_changes_later(tmp_path: Path) -> None:
    out = squashed(
        tmp_path,
        layer(D("opt"), E("opt/t", b"first"), E("opt/l", type=tarfile.LNKTYPE, linkname="opt/t")),
        layer(D("opt"), E("opt/t", b"second")),
    )
    got = {m.name: m for m in members(out)}
    assert got["opt/l"].type == tarfile.REGTYPE and got["opt/t"].type == tarfile.REGTYPE
    assert (content(out, "opt/l"), content(out, "opt/t")) == (b"first", b"second")


def test_hard_link_survives_its_dropped_target(tmp_path: Path) -> None:
    out = squashed(tmp_path, layer(D("tmp"), E("tmp/t", b"data"), D("opt"), E("opt/l", type=tarfile.LNKTYPE, linkname="tmp/t")))
    got = {m.name: m for m in members(out)}
    assert "tmp/t" not in got
    assert got["opt/l"].type == tarfile.REGTYPE and content(out, "opt/l") == b"data"


def test_hard_link_to_a_lower_file_stays_a_link(tmp_path: Path) -> None:
    out = squashed(tmp_path, layer(D("opt"), E("opt/l", type=tarfile.LNKTYPE, linkname="etc/os-release")))
    got = {m.name: m for m in members(out)}
    assert (got["opt/l"].type, got["opt/l"].linkname) == (tarfile.LNKTYPE, "etc/os-release")


# ---------------------------------------------------------------------------------------
# drop rules


def test_build_leftovers_are_dropped_from_squashed_layers_only(tmp_path: Path) -> None:
    base = layer(D("var"), D("var/log"), E("var/log/dpkg.log", b"base"), D("tmp"), E("tmp/base-file", b"kept in base"))
    out = squashed(
        tmp_path,
        layer(
            D("var"),
            D("var/lib"),
            D("var/lib/apt"),
            D("var/lib/apt/lists"),
            D("var/lib/apt/lists/partial"),
            E("var/lib/apt/lists/deb.debian.org_Packages", b"p"),
            E("var/lib/apt/lists/partial/x", b"p"),
            D("var/cache"),
            D("var/cache/apt"),
            E("var/cache/apt/pkgcache.bin", b"c"),
            D("var/cache/debconf"),
            E("var/cache/debconf/config.dat", b"keep"),
            E("var/cache/debconf/config.dat-old", b"drop"),
            D("var/cache/ldconfig"),
            E("var/cache/ldconfig/aux-cache", b"inodes"),
            D("var/log"),
            D("var/log/apt"),
            E("var/log/apt/history.log", b"h"),
            E("var/log/dpkg.log", b"d"),
            E("var/log/alternatives.log", b"a"),
            D("tmp", mode=0o1777),
            E("tmp/t", b"t"),
            D("root"),
            D("root/.cache"),
            D("root/.cache/pip"),
            E("root/.cache/pip/wheel", b"w"),
            D("usr"),
            D("usr/lib"),
            D("usr/lib/pkg"),
            E("usr/lib/pkg/mod.py", b"src"),
            E("usr/lib/pkg/sourceless.pyc", b"pyc"),
            D("usr/lib/pkg/__pycache__"),
            E("usr/lib/pkg/__pycache__/mod.cpython-311.pyc", b"pyc"),
        ),
        base=base,
    )
    assert names(out) == [
        "root",
        "root/.cache",
        "tmp",
        "usr",
        "usr/lib",
        "usr/lib/pkg",
        "usr/lib/pkg/__pycache__",
        "usr/lib/pkg/mod.py",
        "usr/lib/pkg/sourceless.pyc",
        "var",
        "var/cache",
        "var/cache/apt",
        "var/cache/debconf",
        "var/cache/debconf/config.dat",
        "var/cache/ldconfig",
        "var/lib",
        "var/lib/apt",
        "var/lib/apt/lists",
        "var/log",
        "var/log/apt",
    ]


def test_whiteouts_are_never_dropped(tmp_path: Path) -> None:
    out = squashed(
        tmp_path, layer(D("var"), D("var/lib"), D("var/lib/apt"), D("var/lib/apt/lists"), WH("var/lib/apt/lists/.wh.old_Packages"))
    )
    assert names(out) == ["var", "var/lib", "var/lib/apt", "var/lib/apt/lists", "var/lib/apt/lists/.wh.old_Packages"]


def test_a_dropped_directory_that_holds_a_whiteout_is_kept(tmp_path: Path) -> None:
    base = layer(D("tmp"), D("tmp/cache"), E("tmp/cache/x", b"x"), E("tmp/cache/y", b"y"))
    out = squashed(tmp_path, layer(D("tmp"), D("tmp/cache"), E("tmp/cache/new", b"n"), WH("tmp/cache/.wh.x")), base=base)
    assert names(out) == ["tmp", "tmp/cache", "tmp/cache/.wh.x"]


def test_drop_patterns_can_be_replaced(tmp_path: Path) -> None:
    out = squashed(tmp_path, layer(D("tmp"), E("tmp/t", b"t"), D("opt"), E("opt/a.log", b"l"), E("opt/b", b"b")), drop=["opt/*.log"])
    assert names(out) == ["opt", "opt/b", "tmp", "tmp/t"]


@pytest.mark.parametrize(
    ("pattern", "path", "dropped"),
    [
        ("tmp/*", "tmp", False),
        ("tmp/*", "tmp/a/b", True),
        ("**/__pycache__/*.pyc", "__pycache__/m.pyc", True),
        ("**/__pycache__/*.pyc", "a/b/__pycache__/m.cpython-311.opt-1.pyc", True),
        ("**/__pycache__/*.pyc", "a/m.pyc", False),
        ("var/cache/debconf/*-old", "var/cache/debconf/templates.dat-old", True),
        ("var/log/dpkg.log", "var/log/dpkg.log.1", False),
        ("opt/[!b]c", "opt/ac", True),
        ("opt/[!b]c", "opt/bc", False),
        ("opt/?", "opt/xy", False),
    ],
)
def test_drop_pattern_semantics(pattern: str, path: str, dropped: bool) -> None:
    assert DropRules([pattern])(path) is dropped


# ---------------------------------------------------------------------------------------
# config, determinism, input layouts


def test_config_keeps_meaning_and_drops_build_noise(tmp_path: Path) -> None:
    history = [
        {"created": "2020-01-01T00:00:00Z", "created_by": "base layer", "comment": "Imported from -"},
        {"created": "2020-01-01T00:00:01Z", "created_by": '/bin/sh -c #(nop)  CMD ["bash"]', "empty_layer": True},
        {"created": "2026-11-27T19:21:45Z", "created_by": "/bin/sh -c #(nop)  ENV A=1", "empty_layer": True},
        {"created": "2026-11-27T19:21:46Z", "created_by": "/bin/sh -c step"},
    ]
    stream = saved_image([BASE, layer(E("opt/a", b"a"))], history=history)
    image = rewrite(tmp_path, [], [("deps", 1)], stream=stream, labels={"org.envman.lock": "sha256:abc", "shared": "envman"})
    config = json.loads(image.config)
    assert image.config == json.dumps(config, sort_keys=True, separators=(",", ":")).encode()
    assert image.image_id == sha(image.config)
    assert set(config) == {"architecture", "os", "config", "created", "history", "rootfs"}
    assert config["created"] == "2024-01-02T03:04:05Z"
    assert config["config"] == {
        "Env": ["PATH=/usr/bin:/bin"],
        "Cmd": ["bash"],
        "Labels": {"base.label": "b", "shared": "envman", "org.envman.lock": "sha256:abc"},
    }
    assert config["history"] == [
        {"created": "2020-01-01T00:00:00Z", "created_by": "base layer", "comment": "Imported from -"},
        {"created": "2024-01-02T03:04:05Z", "created_by": "envman: deps"},
    ]
    assert config["rootfs"] == {"type": "layers", "diff_ids": list(image.diff_ids)}


def test_same_input_gives_the_same_bytes_and_id(tmp_path: Path) -> None:
    layers = [BASE, layer(D("opt"), E("opt/a", b"a"), WH("opt/.wh.b")), layer(D("etc"), WH("etc/.wh.os-release"), E("etc/x", b"x"))]
    stream = saved_image(layers)
    one = rewrite(tmp_path, [], [("g", 2)], stream=stream)
    two = rewrite(tmp_path, [], [("g", 2)], stream=stream)
    assert one.image_id == two.image_id and one.config == two.config
    assert [p.read_bytes() for p in one.layers] == [p.read_bytes() for p in two.layers]
    assert one.layers[1] != two.layers[1]  # separate work folders


def test_build_times_and_order_do_not_change_the_id(tmp_path: Path) -> None:
    def build(t: float, created: str, reverse: bool) -> RewrittenImage:
        entries = [D("opt", mtime=t), E("opt/a", b"a", mtime=t + 1, uname="root"), E("opt/b", b"b", mtime=t + 2, pax={"atime": str(t)})]
        raw = saved_image([BASE, layer(*(entries[:1] + entries[1:][:: -1 if reverse else 1]))], created=created)
        return rewrite(tmp_path, [], [("g", 1)], stream=raw)

    one = build(NEW, "2026-11-27T19:21:46Z", False)
    two = build(NEW + 3600, "2026-11-27T20:21:46Z", True)
    assert one.image_id == two.image_id


def test_the_newer_save_layout_and_gzip_layers_are_read(tmp_path: Path) -> None:
    layers = [BASE, layer(E("opt/a", b"a"))]
    legacy = rewrite(tmp_path, layers)
    for stream in (
        saved_image(layers, blobs=True),
        saved_image(layers, blobs=True, gzip_layers=True),
        saved_image(layers, gzip_layers=True),
    ):
        assert rewrite(tmp_path, [], [("g", 1)], stream=stream).image_id == legacy.image_id


def test_a_layer_that_does_not_match_its_diff_id_is_refused(tmp_path: Path) -> None:
    stream = saved_image([BASE, layer(E("opt/a", b"a"))], config={"rootfs": {"type": "layers", "diff_ids": [sha(BASE), sha(b"other")]}})
    with pytest.raises(ValueError, match="does not match its diff_id"):
        rewrite(tmp_path, [], [("g", 1)], stream=stream)


def test_not_a_saved_image_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"not a readable tar stream|no file 'manifest\.json'"):
        rewrite(tmp_path, [], [], stream=b"this is not a tar file" * 100)


def test_docker_archive_is_deterministic_and_complete(tmp_path: Path) -> None:
    image = rewrite(tmp_path, [BASE, layer(E("opt/a", b"a"))], [("g", 1), ("empty", 0), ("empty2", 0)])
    one, two = io.BytesIO(), io.BytesIO()
    write_docker_archive(image, one, ["envman/x:1"])
    write_docker_archive(image, two, ["envman/x:1"])
    assert one.getvalue() == two.getvalue()
    one.seek(0)
    with tarfile.open(fileobj=one) as tar:
        got = {m.name: m for m in tar.getmembers()}
        manifest = json.loads(tar.extractfile("manifest.json").read())
        hexes = [d.removeprefix("sha256:") for d in image.diff_ids]
        assert manifest == [
            {"Config": image.image_id[7:] + ".json", "RepoTags": ["envman/x:1"], "Layers": [f"{h}/layer.tar" for h in hexes]}
        ]
        assert tar.extractfile(manifest[0]["Config"]).read() == image.config
        for h, path in zip(hexes, image.layers, strict=True):
            assert tar.extractfile(f"{h}/layer.tar").read() == path.read_bytes()
    assert all(m.mtime == 0 and m.uid == 0 and m.uname == "" for m in got.values())
    assert list(got) == sorted(got)


# ---------------------------------------------------------------------------------------
# the real engine: two builds of one Dockerfile, one image ID

DOCKERFILE = """\
FROM {base}
RUN echo hi > /opt/x && date > /tmp/t && mkdir -p /var/log/apt && date > /var/log/apt/history.log
COPY data.txt /opt/data.txt
RUN mkdir /opt/scratch && date > /opt/scratch/f && rm /etc/debian_version && ln /opt/x /opt/x-link \
 && mkdir /opt/mod && echo 'VALUE = 1' > /opt/mod/m.py && python3 -m compileall -q /opt/mod
LABEL org.example.built=yes
RUN rm -rf /opt/scratch && date > /opt/stamp && rm /opt/stamp && touch /usr/share/doc
"""


def _build(docker_client, context: Path) -> str:
    image, _logs = docker_client.images.build(path=str(context), nocache=True, rm=True, forcerm=True)
    return str(image.id)


def _remove(docker_client, image_id: str) -> None:
    import docker.errors

    try:
        docker_client.images.remove(image_id, force=True)
    except docker.errors.NotFound:
        pass


@pytest.mark.timeout(600)
def test_two_engine_builds_rewrite_to_one_image(docker_client, base_image: str, tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(DOCKERFILE.format(base=base_image))
    (context / "data.txt").write_text("data\n")
    base_layers = docker_client.images.get(base_image).attrs["RootFS"]["Layers"]
    raw_ids: list[str] = []
    loaded: str | None = None
    try:
        raw_ids.append(_build(docker_client, context))
        time.sleep(1.1)
        raw_ids.append(_build(docker_client, context))
        assert raw_ids[0] != raw_ids[1], "the engine gave the same raw image twice; the test proves nothing"

        images = []
        for index, raw_id in enumerate(raw_ids):
            stream = io.BufferedReader(Chunks(docker_client.api.get_image(raw_id, chunk_size=1 << 20)))
            images.append(
                rewrite_image(
                    stream,
                    tmp_path / f"work{index}",
                    base_layers=len(base_layers),
                    groups=[LayerGroup("system", 1), LayerGroup("app", 3)],
                    epoch=EPOCH,
                    labels={"org.envman.lock": "sha256:0123"},
                )
            )
        assert images[0].image_id == images[1].image_id
        assert [p.read_bytes() for p in images[0].layers] == [p.read_bytes() for p in images[1].layers]
        image = images[0]
        assert image.diff_ids[: len(base_layers)] == tuple(base_layers)

        archive = tmp_path / "image.tar"
        with open(archive, "wb") as out:
            write_docker_archive(image, out, [])
        with open(archive, "rb") as data:
            docker_client.images.load(data)
        loaded = image.image_id
        attrs = docker_client.images.get(loaded).attrs
        assert attrs["Id"] == image.image_id
        assert attrs["Created"] == "2024-01-02T03:04:05Z"
        assert attrs["Config"]["Labels"] == {
            **docker_client.images.get(base_image).attrs["Config"]["Labels"],
            "org.example.built": "yes",
            "org.envman.lock": "sha256:0123",
        }
        assert attrs["RootFS"]["Layers"][: len(base_layers)] == base_layers
        assert len(attrs["RootFS"]["Layers"]) == len(base_layers) + 2

        script = (
            "test ! -e /etc/debian_version && test ! -e /tmp/t && test ! -e /var/log/apt/history.log"
            " && test ! -e /opt/scratch && test ! -e /opt/stamp && test -d /tmp && test -d /opt/mod/__pycache__"
            ' && test -z "$(ls /opt/mod/__pycache__)" && test /opt/x -ef /opt/x-link'
            " && cat /opt/x /opt/data.txt && stat -c '%Y' /opt/x /usr/share/doc && stat -c '%a' /tmp"
            " && cd /opt/mod && python3 -c 'import m; print(m.VALUE)'"
        )
        output = docker_client.containers.run(loaded, ["sh", "-c", script], remove=True, network_mode="none")
        assert output.decode().split() == ["hi", "data", str(EPOCH), str(EPOCH), "1777", "1"]
    finally:
        if loaded is not None:
            _remove(docker_client, loaded)
        for raw_id in raw_ids:
            _remove(docker_client, raw_id)


class Chunks(io.RawIOBase):
    """A raw stream over docker-py's generator of chunks."""

    def __init__(self, chunks) -> None:
        self._chunks = iter(chunks)
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


@pytest.mark.timeout(600)
def test_squashed_layers_come_back_from_the_cache_and_the_engine_gets_only_the_layers_it_lacks(
    docker_client, base_image: str, tmp_path: Path
) -> None:
    """A second rewrite of the same raw image takes every group from envman's layer cache
    (same bytes, same image ID); `docker load` of an archive without the base's layer files
    loads the image (the engine holds their chain IDs), and one without a layer the engine
    lacks is refused (the case envman falls back to the whole archive for)."""
    import docker.errors

    from envman.build.layercache import LayerCache
    from envman.build.run import _load, _load_and_tag, chain_ids
    from envman.errors import BuildError

    context = tmp_path / "context"
    context.mkdir()
    (context / "Dockerfile").write_text(DOCKERFILE.format(base=base_image))
    (context / "data.txt").write_text(f"data {uuid.uuid4()}\n")  # a layer no other image has
    base_layers = docker_client.images.get(base_image).attrs["RootFS"]["Layers"]
    raw_id = _build(docker_client, context)
    cache = LayerCache(tmp_path / "squashed")
    groups = [LayerGroup("system", 1), LayerGroup("app", 3)]
    try:
        images = []
        for index in range(2):
            stream = io.BufferedReader(Chunks(docker_client.api.get_image(raw_id, chunk_size=1 << 20)))
            images.append(rewrite_image(stream, tmp_path / f"work{index}", base_layers=len(base_layers), groups=groups,
                                        epoch=EPOCH, labels={}, cache=cache))
        first, again = images
        assert (first.reused, again.reused) == (0, 2)
        assert again.image_id == first.image_id and again.diff_ids == first.diff_ids
        assert [p.read_bytes() for p in again.layers] == [p.read_bytes() for p in first.layers]
        assert chain_ids(first.diff_ids)[: len(base_layers)] == chain_ids(base_layers)

        with pytest.raises(BuildError):  # the app layer is in no image of the engine: refused
            _load(docker_client, first, tmp_path, {len(first.diff_ids) - 1})
        with pytest.raises(docker.errors.ImageNotFound):
            docker_client.images.get(first.image_id)
        messages: list[str] = []
        _load_and_tag(docker_client, first, tmp_path, "envman-test/partial-load:1", messages.append, base_image)
        sent = len(first.diff_ids) - len(base_layers)
        assert messages == [f"loading the image into the engine ({sent} of {len(first.diff_ids)} layers sent)"]
        assert docker_client.images.get("envman-test/partial-load:1").id == first.image_id
    finally:
        for ref in ("envman-test/partial-load:1", raw_id):
            _remove(docker_client, ref)
