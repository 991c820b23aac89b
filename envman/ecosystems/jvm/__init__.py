"""The JVM (Maven) ecosystem: own resolver with Maven 3's semantics, checked against Maven.

Modules: section (manifest section, coordinates), entry (lock entry), pom (XML -> raw
model), activation (profiles), model (inheritance, interpolation, dependencyManagement, BOM
import), versions (ordering, ranges), graph/collect/mediate (collection and nearest-wins
mediation, pure), descriptor (relocations), repository (HTTP/cache I/O), resolve (manifest ->
lock entries), export (maven JSON + classpath), probe_target (stdlib: jar folders, in the
target and here), sync (jar folders), project/importers (`init --from pom.xml`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envman.ecosystems.base import Ecosystem, InstalledPackage, ProbedSection

if TYPE_CHECKING:
    from envman.ecosystems.base import Fragment, FragmentContext, Importer, LockedEntries, ResolveRequest, Services, SyncRequest

__all__ = ["ECOSYSTEM", "JvmEcosystem", "JARS_DIR", "DEFAULT_JAR_DIRS"]

JARS_DIR = "/opt/envman/jars"
DEFAULT_JAR_DIRS = ("/opt", "/usr/share/java")


class JvmEcosystem(Ecosystem):
    name = "jvm"
    title = "JVM"
    items_key = "dependencies"
    export_formats = ("maven",)
    runtime = "java"
    runtime_label = "java"
    target_forms = ("jars:DIR",)
    target_kinds = ("jars",)
    syncable_kinds = ("jars",)
    place_flag = "--jars"
    place_help = "Jar folder to probe (repeatable; default: labels, /opt, /usr/share/java)."
    image_labels = ("org.envman.jars", "envman.jvm.jars", "envman.jars")
    probe_module = "probe_target.py"
    section_class = "section:JvmSection"
    overlay_class = "section:JvmOverlay"
    entry_class = "entry:JvmEntry"
    probe_function = "jvm_section"

    # -- manifest and lock -------------------------------------------------------------
    def root_names(self, requirements: Sequence[Any]) -> set[str]:
        from envman.ecosystems.jvm.section import parse_jvm_coordinates

        return {parse_jvm_coordinates(item if isinstance(item, str) else item.artifact).key for item in requirements}

    def runtime_matches(self, expected: str, actual: str) -> bool:
        """`17` matches `17.0.9`; `1.8` and `8` are the same Java."""
        return super().runtime_matches(_java(expected), _java(actual))

    # -- resolution, export, import ------------------------------------------------------
    def resolve(self, request: ResolveRequest, services: Services) -> LockedEntries:
        from envman.ecosystems.jvm.resolve import resolve_request

        return resolve_request(request, services)

    def expected_runtime(self, section: Mapping[str, Any] | None, platform_lock: Any) -> str | None:
        value = section.get("java") if isinstance(section, Mapping) else None
        return str(value).strip() if value is not None and str(value).strip() else None

    def export(self, entries: list[Any], fmt: str, context: dict[str, Any]) -> str:
        if fmt != "maven":
            return super().export(entries, fmt, context)
        from envman.ecosystems.jvm.export import export_maven

        return export_maven(entries, context)

    def importers(self) -> list[Importer]:
        from envman.ecosystems.base import Importer
        from envman.ecosystems.jvm.importers import import_pom_file, read_pom

        return [Importer("pom.xml (Maven)", lambda name: name.endswith(".xml"), read_pom, read_in=import_pom_file)]

    def purl(self, entry: Any) -> str:
        from urllib.parse import quote

        parts = entry.name.split(":")
        base = f"pkg:maven/{quote(parts[0])}/{quote(parts[1])}@{quote(entry.version)}"
        qualifiers = []
        if len(parts) > 2:
            qualifiers.append(f"classifier={quote(parts[2])}")
        if getattr(entry, "type", "jar") != "jar":
            qualifiers.append(f"type={quote(entry.type)}")
        return base + ("?" + "&".join(qualifiers) if qualifiers else "")

    def claims_spec(self, spec: str) -> bool:
        import re

        return bool(re.match(r"^[A-Za-z0-9_.\-]+:[A-Za-z0-9_.\-]+(:[A-Za-z0-9_.\-]+){1,3}$", spec))

    def compare_versions(self, a: str, b: str) -> int:
        from envman.ecosystems.jvm.versions import Version

        return Version(a).compare(Version(b))

    def fragment(self, entries: list[Any], context: FragmentContext) -> Fragment:
        """Every jar (verified by sha256) under JARS_DIR/lib/, a `classpath` file and CLASSPATH;
        no builder stage: the context folder is the layer."""
        from envman.ecosystems.base import Artifact, Fragment
        from envman.ecosystems.jvm.export import classpath_order, library_path

        ordered = classpath_order(entries, [])
        if not ordered:
            return Fragment(ecosystem=self.name)
        artifacts = [Artifact(url=e.url, sha256=e.sha256, path=f"jvm/{library_path(e)}") for e in ordered]
        jars = [f"{JARS_DIR}/{a.path.removeprefix('jvm/')}" for a in artifacts if a.path.endswith(".jar")]
        classpath = ":".join(jars)
        return Fragment(
            ecosystem=self.name,
            template="jvm",
            rank=20,  # a JVM stack moves more slowly than the Python and R packages on top
            install_dir=JARS_DIR,
            artifacts=artifacts,
            files={"jvm/classpath": (classpath + "\n").encode()},
            data={"folder": JARS_DIR, "count": len(artifacts)},
            env={"CLASSPATH": classpath} if classpath else {},
            labels={self.image_labels[0]: JARS_DIR},  # the label envman.targets probes
        )

    # -- probing ----------------------------------------------------------------------------
    def probe_options(self, places: tuple[str, ...], label: str | None, where: str) -> dict[str, Any] | None:
        if where == "local":
            dirs = list(places) or [d for d in os.environ.get("ENVMAN_JARS", "").split(os.pathsep) if d]
            return {"dirs": dirs, "java": "auto", "max_bytes": _max_bytes()} if dirs else None
        return {"dirs": list(places) or _split(label) or list(DEFAULT_JAR_DIRS), "java": "auto", "max_bytes": _max_bytes()}

    def local_target(self, project_dir: Path) -> str | None:
        return f"jars:{project_dir / '.envman' / 'jars'}"

    def run_environment(self, location: str, entries: list[Any]) -> dict[str, str]:
        from envman.ecosystems.jvm.export import classpath_order
        from envman.ecosystems.jvm.sync import jar_filename

        paths = (os.path.join(location, jar_filename(e.name, e.version)) for e in classpath_order(entries, []))
        jars = [path for path in paths if os.path.isfile(path)]  # in the lock's classpath order
        return {"CLASSPATH": ":".join(jars) + ":$CLASSPATH"} if jars else {}

    def create_target(self, kind: str, value: str, section: Mapping[str, Any] | None, dry_run: bool) -> str | None:
        if kind != "jars" or os.path.exists(value):
            return None
        if not dry_run:
            os.makedirs(value)
        return f"create the jar folder {value}"

    def target_options(self, kind: str, value: str, what: str) -> dict[str, Any]:
        from envman.errors import UnreachableError

        if not os.path.isdir(value):
            raise UnreachableError(f"{what}: no such folder {value}")
        return {"dirs": [value], "max_bytes": _max_bytes()}

    def file_folders(self, places: tuple[str, ...], label: str | None, env: Sequence[str]) -> list[str]:
        return list(places) or _split(label) or list(DEFAULT_JAR_DIRS)

    def wanted_file(self, folder: str, rel_parts: Sequence[str], deep: bool) -> bool:
        return rel_parts[-1].endswith(".jar")

    def files_options(self, folders: list[str], copied_root: Path) -> dict[str, Any] | None:
        return {"dirs": [str(copied_root / d.lstrip("/")) for d in folders], "max_bytes": _max_bytes()}

    def read_probe(self, section: Mapping[str, Any], known: Mapping[str, tuple[str, str]]) -> ProbedSection:
        rows = []
        for row in section.get("packages", []):
            sha = row.get("sha256")
            name, version = row.get("name"), row.get("version")
            extra: dict[str, Any] = {}
            if not name and sha and sha in known:
                name, version = known[sha]
                extra["identified-by"] = "sha256"
            if not name:
                name, version = os.path.basename(row["file"]), ""
                extra["unidentified"] = True
                if row.get("problem"):
                    extra["problem"] = row["problem"]
            rows.append(InstalledPackage(self.name, str(name), str(version or ""), row.get("file"), sha, extra))
        return ProbedSection(rows, section.get("java") or None)

    # -- drift and sync ---------------------------------------------------------------------
    def primary(self, rows: list[InstalledPackage], want: InstalledPackage | None) -> InstalledPackage:
        """In a jar folder the locked version is the copy in effect when it is there."""
        if want is not None:
            for row in rows:
                if row.version == want.version:
                    return row
        return super().primary(rows, want)

    def modified_detail(self, expected: InstalledPackage, actual: InstalledPackage) -> str | None:
        detail = super().modified_detail(expected, actual)
        if detail is None and expected.sha256 and actual.sha256 and expected.sha256 != actual.sha256:
            return f"jar sha256 {actual.sha256[:16]}… is not the locked {expected.sha256[:16]}…"
        return detail

    def extra_detail(self, pkg: InstalledPackage) -> str | None:
        if pkg.extra.get("unidentified"):
            return f"jar with no Maven coordinates and a sha256 the lock does not know: {pkg.location}"
        return None

    def sync(self, request: SyncRequest) -> None:
        from envman.ecosystems.jvm.sync import sync_jars

        sync_jars(request)


def _max_bytes() -> int:
    """The size limit of one pom.properties read in a jar (member_bytes, envman.limits)."""
    from envman.limits import limit

    return limit("member_bytes")


def _split(value: str | None) -> list[str]:
    return [p for p in (value or "").split(":") if p]


def _java(value: str) -> str:
    value = value.strip()
    return value[2:] if value.startswith("1.") else value


ECOSYSTEM = JvmEcosystem()
