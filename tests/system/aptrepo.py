"""A small apt repository made by the tests: tiny packages built with `dpkg-deb --build`,
Packages and Release files written deterministically (sorted stanzas, a fixed Date), laid
out as Debian's archive is (dists/SUITE/main/binary-ARCH/Packages, pool/main/…)."""

from __future__ import annotations

import gzip
import hashlib
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["Deb", "build_repo", "SUITE", "RELEASE_DATE"]

SUITE = "envtest"
RELEASE_DATE = "Sat, 01 Jun 2024 12:00:00 UTC"


@dataclass(frozen=True)
class Deb:
    name: str
    version: str
    depends: str = ""
    conflicts: str = ""
    provides: str = ""
    files: dict[str, str] = field(default_factory=dict)  # path in the package -> text
    arch: str = "all"


def _build(deb: Deb, work: Path, pool: Path) -> Path:
    root = work / f"{deb.name}_{deb.version}"
    (root / "DEBIAN").mkdir(parents=True)
    control = [f"Package: {deb.name}", f"Version: {deb.version}", f"Architecture: {deb.arch}",
               "Maintainer: envman tests <tests@envman.invalid>", "Section: misc", "Priority: optional"]
    for key, value in (("Depends", deb.depends), ("Conflicts", deb.conflicts), ("Provides", deb.provides)):
        if value:
            control.append(f"{key}: {value}")
    control.append(f"Description: envman test package {deb.name}\n tiny package built by the tests")
    (root / "DEBIAN" / "control").write_text("\n".join(control) + "\n")
    files = deb.files or {f"usr/share/envman-test/{deb.name}.txt": f"{deb.name} {deb.version}\n"}
    sums = []
    for rel, text in sorted(files.items()):
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        if rel.startswith("usr/bin/"):
            path.chmod(0o755)
        sums.append(f"{hashlib.md5(text.encode()).hexdigest()}  {rel}")
    (root / "DEBIAN" / "md5sums").write_text("\n".join(sums) + "\n")
    out = pool / f"{deb.name}_{deb.version}_{deb.arch}.deb"
    subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "--build", str(root), str(out)],
                   check=True, capture_output=True, env={"SOURCE_DATE_EPOCH": "1717243200", "PATH": "/usr/bin:/bin:/usr/sbin:/sbin"})
    return out


def _stanza(deb_path: Path, rel: str) -> str:
    control = subprocess.run(["dpkg-deb", "--field", str(deb_path)], check=True, capture_output=True, text=True).stdout.rstrip("\n")
    data = deb_path.read_bytes()
    return (f"{control}\nFilename: {rel}\nSize: {len(data)}\nMD5sum: {hashlib.md5(data).hexdigest()}\n"
            f"SHA256: {hashlib.sha256(data).hexdigest()}\n")


def build_repo(root: Path, debs: list[Deb], arch: str = "amd64") -> Path:
    """Write the repository under root; returns root (serve it over http)."""
    pool = root / "pool" / "main"
    pool.mkdir(parents=True, exist_ok=True)
    work = root.parent / f".{root.name}-build"
    stanzas = []
    for deb in sorted(debs, key=lambda d: (d.name, d.version)):
        path = _build(deb, work, pool)
        stanzas.append(_stanza(path, f"pool/main/{path.name}"))
    packages = "\n".join(stanzas).encode()
    binary = root / "dists" / SUITE / "main" / f"binary-{arch}"
    binary.mkdir(parents=True, exist_ok=True)
    (binary / "Packages").write_bytes(packages)
    (binary / "Packages.gz").write_bytes(gzip.compress(packages, mtime=0))
    lines = []
    for rel in (f"main/binary-{arch}/Packages", f"main/binary-{arch}/Packages.gz"):
        data = (root / "dists" / SUITE / rel).read_bytes()
        lines.append(f" {hashlib.sha256(data).hexdigest()} {len(data)} {rel}")
    release = (f"Origin: envman-test\nLabel: envman-test\nSuite: {SUITE}\nCodename: {SUITE}\nDate: {RELEASE_DATE}\n"
               f"Architectures: {arch}\nComponents: main\nSHA256:\n" + "\n".join(lines) + "\n")
    (root / "dists" / SUITE / "Release").write_text(release)
    return root
