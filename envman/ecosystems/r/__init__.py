"""The R ecosystem: CRAN-like repositories, resolved in Python (no R needed to lock).

Modules: dcf (DCF parser), versions (R versions/constraints), index (PACKAGES ->
candidates), resolver (pure resolution), repository (HTTP/cache I/O), solve (lock entries
per environment), renv (renv.lock export), fragment (image data), probe (rlib:/rscript:).
"""

from __future__ import annotations

from typing import Any

from envman.ecosystems.base import Fragment, ResolveRequest, Services
from envman.errors import BadInputError

__all__ = ["ECOSYSTEM", "REcosystem"]


class REcosystem:
    name = "r"
    export_formats = ("renv",)

    def resolve(self, request: ResolveRequest, services: Services) -> dict[str, dict[str, list[Any]]]:
        from envman.ecosystems.r.solve import resolve_request

        return resolve_request(request, services)

    def export(self, entries: list[Any], fmt: str, context: dict[str, Any]) -> str:
        if fmt != "renv":
            raise BadInputError(f"the R ecosystem exports {', '.join(self.export_formats)}, not {fmt!r}")
        from envman.ecosystems.r.renv import to_renv_lock
        from envman.ecosystems.r.solve import repositories_of

        manifest = context.get("manifest")
        section = getattr(manifest, "r", None)
        return to_renv_lock(entries, getattr(section, "version", None), repositories_of(section))

    def fragment(self, entries: list[Any]) -> Fragment:
        from envman.ecosystems.r.fragment import to_fragment

        return to_fragment(entries)

    def probe_rlib(self, directory: Any) -> list[Any]:
        from pathlib import Path

        from envman.ecosystems.r.probe import probe_rlib

        return probe_rlib(Path(directory))

    def probe_rscript(self, runner: Any, rscript: str) -> tuple[str, list[Any]]:
        from envman.ecosystems.r.probe import probe_rscript

        return probe_rscript(runner, rscript)


ECOSYSTEM = REcosystem()
