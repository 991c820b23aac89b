"""Build real artifacts for the drift tests: wheels, R source packages, jars (deterministic bytes)."""

from __future__ import annotations

import base64
import hashlib
import io
import tarfile
import zipfile
from pathlib import Path

from tests.python.servers import serve_directory

__all__ = ["make_wheel", "make_r_package", "make_jar", "make_conda_package", "sha256_file", "serve_directory", "CONDA_PLACEHOLDER"]

_EPOCH = (2020, 1, 1, 0, 0, 0)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _zip(path: Path, files: dict[str, bytes]) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, files[name])


def make_wheel(folder: Path, name: str, version: str, requires: list[str] | None = None) -> Path:
    """A pure-Python wheel with one module; name may use any case/separators."""
    dist = name.replace("-", "_").replace(".", "_")
    module = dist.lower()
    info = f"{dist}-{version}.dist-info"
    meta = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
    for req in requires or []:
        meta += f"Requires-Dist: {req}\n"
    files = {
        f"{module}/__init__.py": f"__version__ = {version!r}\n".encode(),
        f"{module}/data.txt": f"{name} {version}\n".encode() * 4,
        f"{info}/METADATA": meta.encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: envman-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, data in sorted(files.items()):
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    record.append(f"{info}/RECORD,,")
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dist}-{version}-py3-none-any.whl"
    _zip(path, files)
    return path


def make_r_package(folder: Path, name: str, version: str, imports: list[str] | None = None) -> Path:
    """A source tarball of a pure R package (no compilation), as CRAN serves them."""
    desc = (
        f"Package: {name}\nVersion: {version}\nTitle: Test Package {name}\n"
        f"Description: A package built by the envman drift tests.\nLicense: MIT\n"
        "Authors@R: person('Test', 'Author', email = 'test@example.org', role = c('aut', 'cre'))\n"
        "Encoding: UTF-8\n"
    )
    if imports:
        desc += "Imports: " + ", ".join(imports) + "\n"
    files = {
        f"{name}/DESCRIPTION": desc.encode(),
        f"{name}/NAMESPACE": f"export(hello_{name.replace('.', '_')})\n".encode(),
        f"{name}/R/hello.R": f"hello_{name.replace('.', '_')} <- function() {version!r}\n".encode(),
    }
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}_{version}.tar.gz"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", format=tarfile.USTAR_FORMAT) as archive:
        for member in sorted(files):
            data = files[member]
            info = tarfile.TarInfo(member)
            info.size = len(data)
            info.mtime = 1577836800
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    path.write_bytes(buffer.getvalue())
    return path


def make_jar(folder: Path, group: str, artifact: str, version: str, classifier: str | None = None, pom_properties: bool = True) -> Path:
    """A jar with META-INF/maven/G/A/pom.properties (as Maven writes it) and one class-like file."""
    files = {
        "META-INF/MANIFEST.MF": b"Manifest-Version: 1.0\nCreated-By: envman-tests\n",
        f"{group.replace('.', '/')}/{artifact}/Marker.txt": f"{group}:{artifact}:{version}\n".encode(),
    }
    if pom_properties:
        files[f"META-INF/maven/{group}/{artifact}/pom.properties"] = (
            f"artifactId={artifact}\ngroupId={group}\nversion={version}\n".encode()
        )
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{artifact}-{version}" + (f"-{classifier}" if classifier else "") + ".jar"
    path = folder / name
    _zip(path, files)
    return path


# conda-build pads the build prefix to 255 characters so that binaries can be relocated
CONDA_PLACEHOLDER = ("/opt/conda-bld/test_1577836800/h_env" + "_placehold" * 30)[:255]


def make_conda_package(folder: Path, name: str, version: str, build: str, files: dict[str, bytes],
                       text_placeholders: tuple[str, ...] = (), binary_placeholders: tuple[str, ...] = ()) -> Path:
    """A `.tar.bz2` conda package as conda-build lays it out (info/index.json, info/paths.json, info/files)."""
    import json

    paths = []
    for rel in sorted(files):
        item = {"_path": rel, "path_type": "hardlink", "sha256": hashlib.sha256(files[rel]).hexdigest(), "size_in_bytes": len(files[rel])}
        if rel in text_placeholders or rel in binary_placeholders:
            item["prefix_placeholder"] = CONDA_PLACEHOLDER
            item["file_mode"] = "text" if rel in text_placeholders else "binary"
        paths.append(item)
    index = {"name": name, "version": version, "build": build, "build_number": 0, "subdir": "linux-64", "depends": [], "license": "MIT"}
    members = dict(files)
    members["info/index.json"] = json.dumps(index, indent=2, sort_keys=True).encode()
    members["info/paths.json"] = json.dumps({"paths": paths, "paths_version": 1}, indent=2, sort_keys=True).encode()
    members["info/files"] = ("\n".join(sorted(files)) + "\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}-{build}.tar.bz2"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:bz2", format=tarfile.USTAR_FORMAT) as archive:
        for member in sorted(members):
            info = tarfile.TarInfo(member)
            info.size = len(members[member])
            info.mtime = 1577836800
            info.mode = 0o755 if member.startswith("bin/") else 0o644
            archive.addfile(info, io.BytesIO(members[member]))
    path.write_bytes(buffer.getvalue())
    return path


