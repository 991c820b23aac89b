"""The JVM (Maven) ecosystem: own resolver with Maven 3's semantics, checked against Maven.

Modules: pom (XML -> raw model), activation (profiles), model (inheritance, interpolation,
dependencyManagement, BOM import), versions (ordering, ranges), graph (collection and
nearest-wins mediation, pure), descriptor (relocations), repository (HTTP/cache I/O),
resolve (manifest -> lock entries), export (maven JSON + classpath), probe (jars:DIR).
"""

from __future__ import annotations

from typing import Any

from envman.ecosystems.base import Fragment, ResolveRequest, Services

__all__ = ["ECOSYSTEM", "JvmEcosystem", "JARS_DIR"]

JARS_DIR = "/opt/envman/jars"


class JvmEcosystem:
    name = "jvm"
    export_formats = ("maven",)

    def resolve(self, request: ResolveRequest, services: Services) -> dict[str, dict[str, list[Any]]]:
        from envman.ecosystems.jvm.resolve import resolve_request

        return resolve_request(request, services)

    def export(self, entries: list[Any], fmt: str, context: dict[str, Any]) -> str:
        from envman.ecosystems.jvm.export import check_format, export_maven

        check_format(fmt)
        return export_maven(entries, context)

    def fragment(self, entries: list[Any]) -> Fragment:
        """Data for an image: download each jar (verified by sha256) into JARS_DIR/lib/…"""
        from envman.ecosystems.jvm.export import classpath_order, library_path

        ordered = classpath_order(entries, [])
        downloads = [
            {"url": e.url, "sha256": e.sha256, "path": f"{JARS_DIR}/{library_path(e)}"} for e in ordered
        ]
        classpath = ":".join(d["path"] for d in downloads if d["path"].endswith(".jar"))
        return Fragment(
            ecosystem="jvm",
            steps=[{"kind": "download", "artifacts": downloads}] if downloads else [],
            env={"CLASSPATH": classpath} if classpath else {},
            labels={"org.envman.jars": JARS_DIR},  # the label envman.targets probes
        )

    def probe_jars(self, directory: Any, known: dict[str, tuple[str, str]] | None = None, deep: bool = False) -> list[Any]:
        from envman.ecosystems.jvm.probe import probe_jars

        return probe_jars(directory, known, deep=deep)


ECOSYSTEM = JvmEcosystem()
