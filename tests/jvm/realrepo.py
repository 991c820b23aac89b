"""A repository of real published POMs (harvested byte for byte from a Maven cache) with stub jars."""

from __future__ import annotations

import re
import tarfile
from pathlib import Path

from tests.jvm.mavenrepo import FixtureRepo, stub_jar

_CLASSIFIED = re.compile(
    r"<dependency>\s*<groupId>(?P<g>[^<$]+)</groupId>\s*<artifactId>(?P<a>[^<$]+)</artifactId>"
    r"(?:(?!</dependency>).)*?<classifier>(?P<c>[^<$]+)</classifier>",
    re.S,
)

__all__ = ["FIXTURES", "REAL_ROOTS", "build_real_repo", "real_roots"]

FIXTURES = Path(__file__).parent / "fixtures"
REAL_ROOTS = FIXTURES / "real-roots.txt"
JAR_ONLY = FIXTURES / "real-jar-only.txt"


def real_roots() -> list[str]:
    """274 roots (latest version of each artifact in the harvested cache) whose closure resolves."""
    return REAL_ROOTS.read_text().split()


def build_real_repo(root: Path, checksums: str = "sha1") -> FixtureRepo:
    root.mkdir(parents=True, exist_ok=True)
    with tarfile.open(FIXTURES / "real-poms.tar.xz") as archive:
        archive.extractall(root, filter="data")
    repo = FixtureRepo(root, checksums=checksums)
    for pom in sorted(root.rglob("*.pom")):
        version_dir = pom.parent
        version, artifact = version_dir.name, version_dir.parent.name
        group = ".".join(version_dir.parent.parent.relative_to(root).parts)
        if pom.name != f"{artifact}-{version}.pom":
            continue
        repo.write(pom, pom.read_bytes())  # adds the checksum files next to the original bytes
        repo.write(repo.path(group, artifact, version, "jar"), stub_jar(group, artifact, version))
        repo.versions.setdefault((group, artifact), []).append(version)
    # classifier jars named literally by some dependency declaration
    for pom in sorted(root.rglob("*.pom")):
        for match in _CLASSIFIED.finditer(pom.read_text(errors="replace")):
            group, artifact, classifier = match.group("g"), match.group("a"), match.group("c")
            for version in repo.versions.get((group, artifact), []):
                target = repo.path(group, artifact, version, "jar", classifier)
                if not target.exists():
                    repo.write(target, stub_jar(group, artifact, version, classifier))
    # artifacts published without a POM (Maven: no dependency information, a warning)
    for line in JAR_ONLY.read_text().split():
        group, artifact, version = line.split(":")
        target = repo.path(group, artifact, version, "jar")
        if not target.exists() and not repo.path(group, artifact, version, "pom").exists():
            repo.write(target, stub_jar(group, artifact, version))
    repo.finish()
    return repo
