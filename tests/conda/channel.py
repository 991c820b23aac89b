"""Real conda channels for tests, written on disk: packages and repodata.json, byte for byte
the same for the same input.

    from tests.conda.channel import PackageSpec, build_channel, standard_packages

    root = build_channel(tmp_path / "chan", [
        PackageSpec("libz", "1.2.13", subdirs=("linux-64",), depends=("__glibc >=2.17",),
                    files={"etc/libz.conf": "prefix=" + PLACEHOLDER + "\\n"}, prefix_files=("etc/libz.conf",)),
        PackageSpec("app", "2.0", depends=("libz >=1.2",)),   # noarch (generic)
    ])
    url = serve(root)          # tests/conda/conftest.py: the channel over http on 127.0.0.1

`build_channel(root, packages, subdirs=("noarch", "linux-64", "osx-arm64"), formats=(".tar.bz2", ".conda"))`
writes, for every PackageSpec and every one of its `subdirs`, one real package per format:

- `.tar.bz2`: a bzip2 tar holding `info/index.json`, `info/paths.json` (each file's sha256,
  size, and `prefix_placeholder` / `file_mode` where the file holds PLACEHOLDER),
  `info/files`, `info/has_prefix` (when a file holds the placeholder), `info/about.json`,
  then the payload files (and symlinks);
- `.conda`: the v2 format, a stored zip of `metadata.json`, `pkg-<stem>.tar.zst` (payload)
  and `info-<stem>.tar.zst` (the same info/ files);

and `<root>/<subdir>/repodata.json` for every subdir of the channel (empty ones too), with
`packages` (.tar.bz2) and `packages.conda` (.conda) records: build, build_number, depends,
constrains (when any), license, md5, name, sha256, size, subdir, timestamp (fixed), version,
and `noarch` (noarch packages) or `platform` and `arch` -- the records rattler-index writes
for the same files, less its `indexed_timestamp`. Tar members are sorted with fixed times, owners and modes;
zip entries have a fixed date: the same specs always give the same bytes.

`archives=False` writes repodata.json only, with digests of a stand-in content (for
solver benchmarks over thousands of packages that are never installed).

Every package has at least one payload file (`share/<name>/<name>-<version>.txt` by
default). `standard_packages()` is the graph the conda tests lock: its solution needs
backtracking and differs between linux-64 and osx-arm64.
"""

from __future__ import annotations

import bz2
import hashlib
import io
import json
import tarfile
import zipfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

__all__ = [
    "PLACEHOLDER",
    "TIMESTAMP",
    "PackageSpec",
    "BuiltPackage",
    "build_channel",
    "package_bytes",
    "standard_packages",
    "file_name",
]

# conda-build pads the build prefix so that binaries can be relocated into any shorter prefix
PLACEHOLDER = ("/opt/conda-bld/envman-tests_1700000000/h_env" + "_placehold" * 30)[:255]
TIMESTAMP = 1_700_000_000_000  # repodata and index.json timestamps, in milliseconds
_MTIME = TIMESTAMP // 1000
_ZIP_DATE = (2023, 11, 14, 22, 13, 20)
_DEFAULT_SUBDIRS = ("noarch", "linux-64", "osx-arm64")
_DEFAULT_FORMATS = (".tar.bz2", ".conda")


@dataclass(frozen=True)
class PackageSpec:
    """One package version (one build), written into each of `subdirs`.

    files: payload path -> content (str is UTF-8); default one text file.
    prefix_files: payload paths that hold PLACEHOLDER in text mode; binary_prefix_files: the
    same in binary mode (conda pads the replaced prefix with NULs).
    symlinks: payload path -> link target (relative, inside the package).
    build: default `h<7 hex of the metadata>_<build_number>`, like conda-forge's builds.
    noarch: "generic" for packages in the noarch subdir unless set ("python" is allowed,
    no relocation is done by the generator).
    """

    name: str
    version: str
    build: str | None = None
    build_number: int = 0
    subdirs: tuple[str, ...] = ("noarch",)
    depends: tuple[str, ...] = ()
    constrains: tuple[str, ...] = ()
    files: Mapping[str, bytes | str] | None = None
    prefix_files: tuple[str, ...] = ()
    binary_prefix_files: tuple[str, ...] = ()
    symlinks: Mapping[str, str] = field(default_factory=dict)
    executables: tuple[str, ...] = ()  # payload paths written with mode 0o755
    noarch: str | None = None
    license: str = "BSD-3-Clause"
    timestamp: int = TIMESTAMP
    track_features: str = ""
    purls: tuple[str, ...] = ()  # package URLs of the record (`pkg:pypi/torch`), as conda-forge publishes them

    def build_string(self) -> str:
        if self.build is not None:
            return self.build
        digest = hashlib.sha256(
            json.dumps([self.name, self.version, sorted(self.depends), sorted(self.constrains)]).encode()
        ).hexdigest()
        return f"h{digest[:7]}_{self.build_number}"

    def payload(self) -> dict[str, bytes]:
        default = {f"share/{self.name}/{self.name}-{self.version}.txt": f"{self.name} {self.version}\n"}
        files = self.files if self.files is not None else default
        return {path: content.encode() if isinstance(content, str) else bytes(content) for path, content in files.items()}


@dataclass(frozen=True)
class BuiltPackage:
    """One package file written by build_channel (its repodata record is `record`)."""

    path: Path
    subdir: str
    file_name: str
    record: dict[str, object]


def file_name(spec: PackageSpec, fmt: str) -> str:
    return f"{spec.name}-{spec.version}-{spec.build_string()}{fmt}"


def _index(spec: PackageSpec, subdir: str) -> dict[str, object]:
    index: dict[str, object] = {
        "name": spec.name,
        "version": spec.version,
        "build": spec.build_string(),
        "build_number": spec.build_number,
        "depends": list(spec.depends),
        "license": spec.license,
        "subdir": subdir,
        "timestamp": spec.timestamp,
    }
    if spec.constrains:
        index["constrains"] = list(spec.constrains)
    if subdir == "noarch":
        index["noarch"] = spec.noarch or "generic"
    else:
        arch = {"64": "x86_64", "aarch64": "aarch64", "arm64": "arm64", "32": "x86"}
        platform, _, bits = subdir.partition("-")
        index["platform"] = platform
        index["arch"] = arch.get(bits, bits)
    if spec.track_features:
        index["track_features"] = spec.track_features
    if spec.purls:
        index["purls"] = list(spec.purls)
    return index


def _info_files(spec: PackageSpec, subdir: str) -> dict[str, bytes]:
    payload = spec.payload()
    unknown = (set(spec.prefix_files) | set(spec.binary_prefix_files) | set(spec.executables)) - set(payload)
    if unknown:
        raise ValueError(f"{spec.name}: prefix_files/executables name files not in files: {sorted(unknown)}")
    paths: list[dict[str, object]] = []
    has_prefix: list[str] = []
    for rel in sorted(set(payload) | set(spec.symlinks)):
        if rel in spec.symlinks:
            target = spec.symlinks[rel]
            resolved = str(Path(rel).parent / target) if not target.startswith("/") else target
            content = payload.get(resolved.replace("\\", "/"), target.encode())
            digest = hashlib.sha256(content).hexdigest()
            paths.append({"_path": rel, "path_type": "softlink", "sha256": digest, "size_in_bytes": len(content)})
            continue
        data = payload[rel]
        digest = hashlib.sha256(data).hexdigest()
        item: dict[str, object] = {"_path": rel, "path_type": "hardlink", "sha256": digest, "size_in_bytes": len(data)}
        mode = "text" if rel in spec.prefix_files else "binary" if rel in spec.binary_prefix_files else None
        if mode:
            if PLACEHOLDER.encode() not in data:
                raise ValueError(f"{spec.name}: {rel} is listed as holding the prefix but has no PLACEHOLDER")
            item["prefix_placeholder"] = PLACEHOLDER
            item["file_mode"] = mode
            has_prefix.append(f"{PLACEHOLDER} {mode} {rel}")
        paths.append(item)
    info = {
        "info/index.json": _json(_index(spec, subdir)),
        "info/paths.json": _json({"paths": paths, "paths_version": 1}),
        "info/files": ("".join(f"{p['_path']}\n" for p in paths)).encode(),
        "info/about.json": _json({"summary": f"{spec.name}, a package made by envman's tests", "license": spec.license}),
    }
    if has_prefix:
        info["info/has_prefix"] = ("\n".join(has_prefix) + "\n").encode()
    return info


def _json(data: object) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode()


def _tar(members: Mapping[str, bytes], symlinks: Mapping[str, str], executables: Iterable[str]) -> bytes:
    """An uncompressed, deterministic tar (sorted members, fixed owner, time and modes)."""
    buffer = io.BytesIO()
    run = set(executables)
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name in sorted(set(members) | set(symlinks)):
            info = tarfile.TarInfo(name)
            info.mtime = _MTIME
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            if name in symlinks:
                info.type = tarfile.SYMTYPE
                info.linkname = symlinks[name]
                info.mode = 0o777
                archive.addfile(info)
                continue
            data = members[name]
            info.size = len(data)
            info.mode = 0o755 if name in run else 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _zstd(data: bytes) -> bytes:
    import zstandard

    return zstandard.ZstdCompressor(level=3, write_content_size=True, threads=0).compress(data)


def package_bytes(spec: PackageSpec, subdir: str, fmt: str) -> bytes:
    """The package file of spec for subdir, in fmt (".tar.bz2" or ".conda")."""
    info = _info_files(spec, subdir)
    payload = spec.payload()
    if fmt == ".tar.bz2":
        tar = _tar({**info, **payload}, spec.symlinks, spec.executables)
        return bz2.compress(tar, 9)
    if fmt == ".conda":
        stem = f"{spec.name}-{spec.version}-{spec.build_string()}"
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
            for name, data in (
                ("metadata.json", json.dumps({"conda_pkg_format_version": 2}).encode()),
                (f"pkg-{stem}.tar.zst", _zstd(_tar(payload, spec.symlinks, spec.executables))),
                (f"info-{stem}.tar.zst", _zstd(_tar(info, {}, ()))),
            ):
                entry = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
                entry.external_attr = 0o644 << 16
                archive.writestr(entry, data)
        return buffer.getvalue()
    raise ValueError(f"unknown package format {fmt!r} (.tar.bz2 or .conda)")


def _record(spec: PackageSpec, subdir: str, data: bytes) -> dict[str, object]:
    record = _index(spec, subdir)  # as rattler-index writes it (constrains only when there are some)
    record["md5"] = hashlib.md5(data).hexdigest()
    record["sha256"] = hashlib.sha256(data).hexdigest()
    record["size"] = len(data)
    return record


def build_channel(
    root: Path,
    packages: Sequence[PackageSpec],
    subdirs: Sequence[str] = _DEFAULT_SUBDIRS,
    formats: Sequence[str] = _DEFAULT_FORMATS,
    archives: bool = True,
) -> Path:
    """Write a channel into root (created; existing files of the same names are replaced)
    and return root. Every package is written once per format into each of its subdirs,
    which must be among the channel's `subdirs`; `noarch` is always written."""
    build_channel_files(root, packages, subdirs, formats, archives)
    return root


def build_channel_files(
    root: Path,
    packages: Sequence[PackageSpec],
    subdirs: Sequence[str] = _DEFAULT_SUBDIRS,
    formats: Sequence[str] = _DEFAULT_FORMATS,
    archives: bool = True,
) -> list[BuiltPackage]:
    """build_channel, returning what was written (path, subdir, file name, repodata record)."""
    channel_subdirs = list(dict.fromkeys(["noarch", *subdirs]))
    repodata: dict[str, dict[str, dict[str, object]]] = {s: {"packages": {}, "packages.conda": {}} for s in channel_subdirs}
    built: list[BuiltPackage] = []
    seen: set[tuple[str, str]] = set()
    for spec in packages:
        for subdir in spec.subdirs:
            if subdir not in repodata:
                raise ValueError(f"{spec.name} {spec.version}: subdir {subdir!r} is not one of the channel's {channel_subdirs}")
            folder = root / subdir
            folder.mkdir(parents=True, exist_ok=True)
            for fmt in formats:
                name = file_name(spec, fmt)
                if (subdir, name) in seen:
                    raise ValueError(f"{subdir}/{name} is given twice")
                seen.add((subdir, name))
                data = package_bytes(spec, subdir, fmt) if archives else f"stand-in {subdir}/{name}".encode()
                path = folder / name
                if archives:
                    path.write_bytes(data)
                record = _record(spec, subdir, data)
                if not archives:
                    record["size"] = 1000 + len(name)
                repodata[subdir]["packages" if fmt == ".tar.bz2" else "packages.conda"][name] = record
                built.append(BuiltPackage(path, subdir, name, record))
    for subdir, listed in repodata.items():
        folder = root / subdir
        folder.mkdir(parents=True, exist_ok=True)
        document = {
            "info": {"subdir": subdir},
            "packages": listed["packages"],
            "packages.conda": listed["packages.conda"],
            "removed": [],
            "repodata_version": 1,
        }
        (folder / "repodata.json").write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    return built


def standard_packages() -> list[PackageSpec]:
    """The graph the conda tests lock (roots: `app`, `plugin`; add `gpu-kernels` for CUDA).

    - linux-64: `app 2.0` needs `core >=2`, and `core 2.x` needs `libz 2.*`; `plugin`
      (linux-64) needs `libz 1.*`. The solver tries app 2.0 first and must backtrack to
      `app 1.5` (core 1.x, libz 1.2.13).
    - osx-arm64: `plugin` accepts `libz >=1.3` and libz 2.1 exists there: app 2.0, core 2.1,
      libz 2.1 -- another solution on another platform.
    - `libz` is platform-specific and needs `__glibc >=2.17` (linux) or `__osx >=11.0`;
      its linux build holds a prefix placeholder (text) and a symlink.
    - `helper` (noarch) constrains `app <3`; `app 3.0` exists and is never chosen.
    - `gpu-kernels` 1.0 has a `cuda` build (needs `__cuda >=12`, higher build number) and a
      `cpu` build: the cuda build only when the manifest declares CUDA.
    - `tools` 1.0/1.1/1.2 (noarch, no dependencies): a package whose old pin a re-lock keeps.
    """
    linux, osx = ("linux-64",), ("osx-arm64",)
    conf = f"prefix={PLACEHOLDER}\nlibdir={PLACEHOLDER}/lib\n"
    return [
        PackageSpec("app", "1.0", depends=("core >=1,<2", "helper")),
        PackageSpec("app", "1.5", depends=("core >=1,<2", "helper")),
        PackageSpec("app", "2.0", depends=("core >=2", "helper")),
        PackageSpec("app", "3.0", depends=("core >=2", "helper")),
        PackageSpec("helper", "0.9", constrains=("app <3",)),
        PackageSpec("helper", "1.0", constrains=("app <3",)),
        PackageSpec("core", "1.0", subdirs=linux + osx, depends=("libz 1.*",)),
        PackageSpec("core", "1.1", subdirs=linux + osx, depends=("libz 1.*",)),
        PackageSpec("core", "2.0", subdirs=linux + osx, depends=("libz 2.*",)),
        PackageSpec("core", "2.1", subdirs=linux + osx, depends=("libz 2.*",)),
        PackageSpec(
            "libz", "1.2.13", subdirs=linux, depends=("__glibc >=2.17",),
            files={"lib/libz.so.1.2.13": b"\x7fELF libz 1.2.13\n", "etc/libz.conf": conf},
            symlinks={"lib/libz.so.1": "libz.so.1.2.13"}, prefix_files=("etc/libz.conf",),
        ),
        PackageSpec(
            "libz", "2.0.1", subdirs=linux, depends=("__glibc >=2.17",),
            files={"lib/libz.so.2.0.1": b"\x7fELF libz 2.0.1\n", "etc/libz.conf": conf},
            symlinks={"lib/libz.so.2": "libz.so.2.0.1"}, prefix_files=("etc/libz.conf",),
        ),
        PackageSpec("libz", "1.3.1", subdirs=osx, depends=("__osx >=11.0",), files={"lib/libz.1.3.1.dylib": b"\xcf\xfa\xed\xfe libz\n"}),
        PackageSpec("libz", "2.1.0", subdirs=osx, depends=("__osx >=11.0",), files={"lib/libz.2.1.0.dylib": b"\xcf\xfa\xed\xfe libz\n"}),
        PackageSpec("plugin", "1.0", subdirs=linux, depends=("libz 1.*", "helper >=1")),
        PackageSpec("plugin", "1.0", subdirs=osx, depends=("libz >=1.3", "helper >=1")),
        PackageSpec("gpu-kernels", "1.0", build="cuda12_1", build_number=1, subdirs=linux, depends=("__cuda >=12",)),
        PackageSpec("gpu-kernels", "1.0", build="cpu_0", build_number=0, subdirs=linux + osx),
        PackageSpec("tools", "1.0"),
        PackageSpec("tools", "1.1"),
        PackageSpec(
            "tools", "1.2", files={"bin/tool": f"#!/bin/sh\necho {PLACEHOLDER}\n", "share/tools/README": "tools\n"},
            prefix_files=("bin/tool",), executables=("bin/tool",),
        ),
    ]
