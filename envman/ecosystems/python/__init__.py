"""The Python ecosystem: uv (or pip-tools) resolution, requirements export, probing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from envman.ecosystems.base import Fragment, ResolveRequest, Services
from envman.errors import BadInputError

if TYPE_CHECKING:  # annotations only: `envman check` imports the probe without the lock models
    from envman.lock import PythonEntry

__all__ = ["ECOSYSTEM", "PythonEcosystem", "VENV_DIR"]

# Where images built by envman keep the Python packages (Debian refuses system-wide pip).
VENV_DIR = "/opt/envman/venv"


class PythonEcosystem:
    name = "python"
    export_formats = ("requirements",)

    def resolve(self, request: ResolveRequest, services: Services) -> dict[str, dict[str, list[PythonEntry]]]:
        from envman.ecosystems.python.resolve import resolve_python

        return resolve_python(request, services)

    def export(self, entries: list[PythonEntry], fmt: str, context: dict[str, Any]) -> str:
        if fmt != "requirements":
            raise BadInputError(f"the python ecosystem exports {', '.join(self.export_formats)}, not {fmt!r}")
        from envman.ecosystems.python.export import requirements_text
        from envman.redact import redact_url

        section = context["manifest"].python
        header = (
            f"envman export --format requirements --env {context['environment']} --platform {context['platform']}\n"
            "install with: pip install --require-hashes --no-deps -r THIS_FILE"
        )
        return requirements_text(
            entries,
            index_url=redact_url(section.index_url) if section and section.index_url else None,
            extra_index_urls=[redact_url(u) for u in section.extra_index_urls] if section else [],
            find_links=list(section.find_links) if section else [],
            header=header,
        )

    def fragment(self, entries: list[PythonEntry]) -> Fragment:
        from envman.ecosystems.python.export import requirements_text

        return Fragment(
            ecosystem="python",
            files={"python/requirements.txt": requirements_text(entries).encode()},
            env={"VIRTUAL_ENV": VENV_DIR, "PATH": f"{VENV_DIR}/bin:$PATH"},
            labels={"org.envman.python": f"{VENV_DIR}/bin/python"},  # where envman.targets probes
        )


ECOSYSTEM = PythonEcosystem()
