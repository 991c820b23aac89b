"""Builds Maven-layout fixture repositories (POMs, stub jars, checksums, metadata) in tests."""

from __future__ import annotations

import hashlib
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

__all__ = ["FixtureRepo", "stub_jar", "dep_xml"]


def stub_jar(group: str, artifact: str, version: str, classifier: str = "", with_pom_properties: bool = True) -> bytes:
    """A small valid jar; carries META-INF/maven/g/a/pom.properties like real Maven jars."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        info = zipfile.ZipInfo("META-INF/MANIFEST.MF", date_time=(2020, 1, 1, 0, 0, 0))
        zf.writestr(info, "Manifest-Version: 1.0\nCreated-By: envman-tests\n")
        if with_pom_properties:
            info = zipfile.ZipInfo(f"META-INF/maven/{group}/{artifact}/pom.properties", date_time=(2020, 1, 1, 0, 0, 0))
            zf.writestr(info, f"groupId={group}\nartifactId={artifact}\nversion={version}\n")
        info = zipfile.ZipInfo(f"{group.replace('.', '/')}/{artifact.replace('-', '_')}/Marker{classifier.replace('-', '_')}.txt",
                               date_time=(2020, 1, 1, 0, 0, 0))
        zf.writestr(info, f"{group}:{artifact}:{version}:{classifier}\n")
    return buffer.getvalue()


def dep_xml(spec: str | dict, tag: str = "dependency") -> str:
    """`g:a[:v]` or a dict with g,a,v,type,classifier,scope,optional,exclusions."""
    if isinstance(spec, str):
        parts = spec.split(":")
        spec = {"g": parts[0], "a": parts[1], "v": parts[2] if len(parts) > 2 and parts[2] else None}
    out = [f"<{tag}><groupId>{escape(spec['g'])}</groupId><artifactId>{escape(spec['a'])}</artifactId>"]
    if spec.get("v"):
        out.append(f"<version>{escape(spec['v'])}</version>")
    for key, xml in (("type", "type"), ("classifier", "classifier"), ("scope", "scope")):
        if spec.get(key):
            out.append(f"<{xml}>{escape(spec[key])}</{xml}>")
    if spec.get("optional"):
        out.append("<optional>true</optional>")
    if spec.get("exclusions"):
        out.append("<exclusions>")
        for exclusion in spec["exclusions"]:
            g, a = exclusion.split(":")
            out.append(f"<exclusion><groupId>{g}</groupId><artifactId>{a}</artifactId></exclusion>")
        out.append("</exclusions>")
    out.append(f"</{tag}>")
    return "".join(out)


@dataclass
class FixtureRepo:
    root: Path
    versions: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    checksums: str = "sha1"  # "sha1", "sha256", "both", "none"

    def path(self, group: str, artifact: str, version: str, ext: str, classifier: str = "") -> Path:
        suffix = f"-{classifier}" if classifier else ""
        return self.root / group.replace(".", "/") / artifact / version / f"{artifact}-{version}{suffix}.{ext}"

    def write(self, path: Path, data: bytes) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        if self.checksums in ("sha1", "both"):
            path.with_name(path.name + ".sha1").write_text(hashlib.sha1(data).hexdigest())
        if self.checksums in ("sha256", "both"):
            path.with_name(path.name + ".sha256").write_text(hashlib.sha256(data).hexdigest())

    def pom_text(self, gav: str, deps=(), managed=(), parent: str | None = None, properties: dict | None = None,
                 packaging: str | None = None, relocation: dict | None = None, extra: str = "") -> str:
        g, a, v = (gav.split(":") + ["", "", ""])[:3]
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n<project xmlns="http://maven.apache.org/POM/4.0.0">',
               "<modelVersion>4.0.0</modelVersion>"]
        if parent:
            pg, pa, pv = parent.split(":")
            out.append(f"<parent><groupId>{pg}</groupId><artifactId>{pa}</artifactId><version>{pv}</version></parent>")
        if g:
            out.append(f"<groupId>{g}</groupId>")
        out.append(f"<artifactId>{a}</artifactId>")
        if v:
            out.append(f"<version>{v}</version>")
        if packaging:
            out.append(f"<packaging>{packaging}</packaging>")
        if properties:
            out.append("<properties>" + "".join(f"<{k}>{escape(val)}</{k}>" for k, val in properties.items()) + "</properties>")
        if managed:
            out.append("<dependencyManagement><dependencies>" + "".join(dep_xml(d) for d in managed)
                       + "</dependencies></dependencyManagement>")
        if deps:
            out.append("<dependencies>" + "".join(dep_xml(d) for d in deps) + "</dependencies>")
        if relocation is not None:
            inner = "".join(f"<{k}>{val}</{k}>" for k, val in relocation.items())
            out.append(f"<distributionManagement><relocation>{inner}</relocation></distributionManagement>")
        out.append(extra)
        out.append("</project>\n")
        return "\n".join(out)

    def add(self, gav: str, deps=(), managed=(), parent: str | None = None, properties: dict | None = None,
            packaging: str | None = None, relocation: dict | None = None, extra: str = "",
            classifiers: tuple[str, ...] = (), jar: bool | None = None, pom_bytes: bytes | None = None) -> None:
        """Publish one artifact: its POM, and (unless packaging pom) a stub jar per classifier."""
        g, a, v = gav.split(":")
        if pom_bytes is None:
            text = self.pom_text(gav, deps, managed, parent, properties, packaging, relocation, extra)
            pom_bytes = text.encode()
        self.write(self.path(g, a, v, "pom"), pom_bytes)
        if jar is None:
            jar = packaging not in ("pom",) and relocation is None
        if jar:
            self.write(self.path(g, a, v, "jar"), stub_jar(g, a, v))
            for classifier in classifiers:
                self.write(self.path(g, a, v, "jar", classifier), stub_jar(g, a, v, classifier))
        self.versions.setdefault((g, a), []).append(v)

    def finish(self) -> None:
        """Write maven-metadata.xml for every group:artifact published."""
        for (g, a), versions in self.versions.items():
            body = "".join(f"<version>{v}</version>" for v in versions)
            xml = (f'<?xml version="1.0" encoding="UTF-8"?>\n<metadata><groupId>{g}</groupId><artifactId>{a}</artifactId>'
                   f"<versioning><latest>{versions[-1]}</latest><release>{versions[-1]}</release>"
                   f"<versions>{body}</versions></versioning></metadata>\n")
            target = self.root / g.replace(".", "/") / a / "maven-metadata.xml"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(xml)

    @property
    def url(self) -> str:
        return self.root.resolve().as_uri()
