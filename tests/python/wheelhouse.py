"""Build tiny real wheels and a PEP 503 simple index for offline, deterministic tests."""

from __future__ import annotations

import base64
import hashlib
import html
import zipfile
from pathlib import Path

__all__ = ["make_wheel", "write_simple_index", "PACKAGES"]

# name, version, requirements
PACKAGES: list[tuple[str, str, list[str]]] = [
    ("alpha", "1.0", []),
    ("alpha", "2.0", []),
    ("beta", "1.0", ["alpha<2"]),
    ("gamma", "1.0", ["alpha"]),
    ("delta", "1.0", []),
    ("delta", "1.1", []),
    ("eps", "1.0", ["alpha>=2"]),
    ("zeta", "1.0", ["gamma", "delta"]),
]


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(directory: Path, name: str, version: str, requires: list[str]) -> Path:
    """A valid pure-Python wheel: one module, METADATA, WHEEL, RECORD (fixed timestamps)."""
    module = name.replace("-", "_")
    dist_info = f"{module}-{version}.dist-info"
    files = {
        f"{module}/__init__.py": f"__version__ = {version!r}\n".encode(),
        f"{dist_info}/METADATA": (
            "Metadata-Version: 2.1\n"
            f"Name: {name}\nVersion: {version}\n"
            + "".join(f"Requires-Dist: {r}\n" for r in requires)
        ).encode(),
        f"{dist_info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: envman-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record_lines = [f"{path},{_record_hash(data)},{len(data)}" for path, data in files.items()]
    record_lines.append(f"{dist_info}/RECORD,,")
    files[f"{dist_info}/RECORD"] = ("\n".join(record_lines) + "\n").encode()
    path = directory / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name_in_zip, data in files.items():
            info = zipfile.ZipInfo(name_in_zip, date_time=(2020, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            archive.writestr(info, data)
    return path


def write_simple_index(root: Path, packages=PACKAGES) -> Path:
    """root/files/*.whl and root/simple/<name>/index.html; returns root."""
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    by_name: dict[str, list[Path]] = {}
    for name, version, requires in packages:
        by_name.setdefault(name, []).append(make_wheel(files, name, version, requires))
    simple = root / "simple"
    simple.mkdir(exist_ok=True)
    links = []
    for name, wheels in sorted(by_name.items()):
        (simple / name).mkdir(exist_ok=True)
        anchors = []
        for wheel in wheels:
            digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
            anchors.append(f'<a href="../../files/{html.escape(wheel.name)}#sha256={digest}">{html.escape(wheel.name)}</a><br/>')
        (simple / name / "index.html").write_text("<!DOCTYPE html><html><body>\n" + "\n".join(anchors) + "\n</body></html>\n")
        links.append(f'<a href="{name}/">{name}</a><br/>')
    (simple / "index.html").write_text("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n")
    return root
