"""Build tiny real wheels and a PEP 503 simple index for offline, deterministic tests."""

from __future__ import annotations

import hashlib
import html
from pathlib import Path

from tests.drift.builders import make_wheel

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
