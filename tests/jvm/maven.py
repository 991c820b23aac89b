"""Runs real Maven (Debian's maven + maven-dependency-plugin) fully offline over a file:// repo."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from xml.sax.saxutils import escape

from tests.jvm.mavenrepo import dep_xml

__all__ = ["require_maven", "maven_list", "parse_list", "parse_tree", "project_pom", "settings_xml", "PLUGIN"]

PLUGIN = "org.apache.maven.plugins:maven-dependency-plugin:3.5.0"
DEBIAN_REPO = "/usr/share/maven-repo"


def require_maven() -> str:
    mvn = shutil.which("mvn")
    if mvn is None or not Path(DEBIAN_REPO, "org/apache/maven/plugins/maven-dependency-plugin/3.5.0").is_dir():
        raise AssertionError("Maven and libmaven-dependency-plugin-java are required (installed by .ci/run)")
    return mvn


def settings_xml(repo_url: str) -> str:
    return f"""<settings>
  <mirrors><mirror><id>fixture</id><mirrorOf>*,!debian</mirrorOf><url>{escape(repo_url)}</url></mirror></mirrors>
  <profiles><profile><id>debian</id>
    <pluginRepositories><pluginRepository><id>debian</id><url>file://{DEBIAN_REPO}</url></pluginRepository></pluginRepositories>
  </profile></profiles>
  <activeProfiles><activeProfile>debian</activeProfile></activeProfiles>
</settings>
"""


def _item_xml(item) -> str:
    if isinstance(item, str):
        body, _, type_ = item.partition("@")
        parts = body.split(":")
        spec = {"g": parts[0], "a": parts[1], "v": parts[2]}
        if len(parts) > 3:
            spec["classifier"] = parts[3]
        if type_:
            spec["type"] = type_
        return dep_xml(spec)
    spec = dict(item)
    return dep_xml(spec)


def project_pom(artifact: str, items: list) -> str:
    deps = "".join(_item_xml(i) for i in items)
    return (
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        f"<groupId>envman.test</groupId><artifactId>{artifact}</artifactId><version>1</version>"
        f"<packaging>pom</packaging><dependencies>{deps}</dependencies></project>\n"
    )


def parse_list(text: str) -> set[tuple[str, str, str, str, str, str]]:
    """dependency:list output -> {(group, artifact, type, classifier, version, scope)}."""
    found = set()
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("The following") or line == "none":
            continue
        line = line.split(" -- ", 1)[0].strip()
        parts = line.split(":")
        if len(parts) == 5:
            g, a, t, v, s = parts
            c = ""
        elif len(parts) == 6:
            g, a, t, c, v, s = parts
        else:
            continue
        found.add((g, a, t, c, v, s))
    return found


def parse_tree(text: str) -> dict[tuple[str, str, str], tuple[str, str, str] | None]:
    """dependency:tree output -> {(group, artifact, classifier): parent's (…) or None for a root's child}."""
    parents: dict[tuple[str, str, str], tuple[str, str, str] | None] = {}
    stack: list[tuple[str, str, str]] = []
    for line in text.splitlines()[1:]:
        body = line.lstrip("|+\\- ")
        depth = (len(line) - len(body)) // 3
        parts = body.split(" ", 1)[0].split(":")
        if len(parts) == 5:
            key = (parts[0], parts[1], "")
        elif len(parts) == 6:
            key = (parts[0], parts[1], parts[3])
        else:
            continue
        del stack[depth - 1:]
        parents[key] = stack[-1] if stack else None
        stack.append(key)
    return parents


def maven_list(repo_url: str, scenarios: dict[str, list], workdir: Path, goal: str = "list") -> dict[str, set | str]:
    """One reactor build, one module per scenario; module -> resolved set (or Maven's error text)."""
    mvn = require_maven()
    workdir.mkdir(parents=True, exist_ok=True)
    modules = "".join(f"<module>{name}</module>" for name in scenarios)
    (workdir / "pom.xml").write_text(
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>'
        "<groupId>envman.test</groupId><artifactId>aggregate</artifactId><version>1</version>"
        f"<packaging>pom</packaging><modules>{modules}</modules></project>\n"
    )
    for name, items in scenarios.items():
        (workdir / name).mkdir(exist_ok=True)
        (workdir / name / "pom.xml").write_text(project_pom(name, items))
    (workdir / "settings.xml").write_text(settings_xml(repo_url))
    argv = [
        mvn, "-o", "-B", "-fae", "-s", str(workdir / "settings.xml"),
        f"-Dmaven.repo.local={workdir / 'local-repo'}", "-Daether.offline.protocols=file",
        f"{PLUGIN}:{goal}", "-DoutputFile=deps.txt", "-DappendOutput=false",
    ]
    proc = subprocess.run(argv, cwd=workdir, capture_output=True, text=True, timeout=600,
                          env={"PATH": "/usr/bin:/bin", "HOME": str(workdir), "JAVA_HOME": _java_home()})
    results: dict[str, set | str] = {}
    for name in scenarios:
        out = workdir / name / "deps.txt"
        if out.is_file():
            results[name] = parse_tree(out.read_text()) if goal == "tree" else parse_list(out.read_text())
        else:
            results[name] = proc.stdout[-4000:]
    return results


def _java_home() -> str:
    java = shutil.which("java")
    if java is None:
        raise AssertionError("java is required")
    return str(Path(java).resolve().parent.parent)
