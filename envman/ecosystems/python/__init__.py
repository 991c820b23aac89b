"""The Python ecosystem: uv (or pip-tools) resolution, requirements export, probing, sync.

Modules: section (manifest section, PEP 508 specs), entry (lock entry), resolve/compilers/
compiled/platforms (resolution with uv or pip-tools), export (requirements with hashes),
probe_target (stdlib, runs in the target's interpreter), probe (its result here), sync
(uv pip into a venv), importers (`init --from requirements.txt`).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from envman.ecosystems.base import Ecosystem, InstalledPackage, ProbedSection
from envman.ecosystems.python.probe import normalize_name

if TYPE_CHECKING:
    from pathlib import Path

    from packaging.version import Version

    from envman.ecosystems.base import Fragment, FragmentContext, Importer, LockedEntries, ResolveRequest, Services, SyncRequest

__all__ = ["ECOSYSTEM", "PythonEcosystem", "VENV_DIR"]

# Where images built by envman keep the Python packages (Debian refuses system-wide pip).
VENV_DIR = "/opt/envman/venv"
DEFAULT_PYTHON_VERSION = "3.11"
INSTALLER_TOOLING = frozenset({"pip", "setuptools", "wheel"})


class PythonEcosystem(Ecosystem):
    name = "python"
    title = "Python"
    add_default = True  # `envman add pandas` with several sections declared
    export_formats = ("requirements",)
    runtime = "python"
    runtime_label = "python"
    target_forms = ("python:PATH",)
    target_kinds = ("python",)
    syncable_kinds = ("python",)
    place_flag = "--python"
    place_help = "Interpreter to probe in docker:/image:/local targets."
    place_repeatable = False
    image_labels = ("org.envman.python", "org.envman.venv-python", "envman.python")
    probe_module = "probe_target.py"
    section_class = "section:PythonSection"
    overlay_class = "section:PythonOverlay"
    entry_class = "entry:PythonEntry"
    probe_function = "python_section"
    probe_interpreter = True  # the probe script runs with this ecosystem's interpreter

    # -- manifest and lock -------------------------------------------------------------
    def platform_fields(self) -> dict[str, Any]:
        return {"python_version": (str | None, None)}

    def platform_values(self, section: Any) -> dict[str, Any]:
        return {"python_version": getattr(section, "version", None) or DEFAULT_PYTHON_VERSION}

    def root_names(self, requirements: Sequence[Any]) -> set[str]:
        from packaging.requirements import Requirement

        return {normalize_name(Requirement(str(item)).name) for item in requirements}

    def required_names(self, requirements: Sequence[Any], platform: str, section: Any) -> set[str]:
        from envman.ecosystems.python.roots import required_names

        return required_names(requirements, platform, getattr(section, "version", None) or DEFAULT_PYTHON_VERSION)

    # -- names and versions ------------------------------------------------------------
    def normalize_name(self, name: str) -> str:
        return normalize_name(name)

    def same_version(self, a: InstalledPackage, b: InstalledPackage) -> bool:
        # equal text is the common case and needs no PEP 440 parse; `1.0` == `1.0.0` does
        if "direct" in a.extra or "direct" in b.extra:  # a direct reference: also the same commit or file
            from envman.ecosystems.python.direct import same_reference

            if not same_reference(a.extra.get("direct"), b.extra.get("direct")):
                return False
        return a.version == b.version or _version(a.version) == _version(b.version)

    def shown(self, pkg: InstalledPackage) -> str:
        if "direct" not in pkg.extra:
            return pkg.version
        from envman.ecosystems.python.direct import describe_reference

        return pkg.version + describe_reference(pkg.extra["direct"])

    # -- resolution -----------------------------------------------------------------------
    def resolve(self, request: ResolveRequest, services: Services) -> LockedEntries:
        from envman.ecosystems.python.resolve import resolve_python

        if request.provided:  # another ecosystem's solution has the interpreter or packages
            from envman.ecosystems.python.provided import is_provided_ground, resolve_on_top

            if is_provided_ground(request):
                return resolve_on_top(request, services, resolve_python)
        return resolve_python(request, services)

    def provided_platform_values(self, section: Any, provided: list[Any]) -> dict[str, Any]:
        for given in provided:
            if self.runtime in given.runtimes:
                return {"python_version": given.runtimes[self.runtime]}
        return {}

    def installed_by(self, entry: Any) -> tuple[str, str] | None:
        from envman.ecosystems.python.provided import installed_by_other

        return (str(entry.manager), str(entry.provider)) if installed_by_other(entry) and entry.provider else None

    def expected_runtime(self, section: Mapping[str, Any] | None, platform_lock: Any) -> str | None:
        value = getattr(platform_lock, "python_version", None)
        return str(value) if value else None

    # -- export, import, SBOM, image ---------------------------------------------------
    def export(self, entries: list[Any], fmt: str, context: dict[str, Any]) -> str:
        if fmt != "requirements":
            return super().export(entries, fmt, context)
        from envman.ecosystems.python.export import requirements_text
        from envman.ecosystems.python.provided import installed_by_other
        from envman.redact import redact_url

        entries = [e for e in entries if not installed_by_other(e)]  # conda installs those
        section = context["manifest"].section(self.name)
        header = (
            f"envman export --format requirements --env {context['environment']} --platform {context['platform']}\n"
            "install with: pip install --require-hashes --no-deps -r THIS_FILE"
        )
        return requirements_text(
            entries,
            index_url=redact_url(section.index_url) if section and section.index_url else None,
            extra_index_urls=[redact_url(u) for u in section.extra_index_urls] if section else [],
            find_links=[redact_url(link) for link in section.find_links] if section else [],
            header=header,
        )

    def importers(self) -> list[Importer]:
        from envman.ecosystems.base import Importer
        from envman.ecosystems.python.importers import import_requirements, read_requirements
        from envman.ecosystems.python.pyproject_import import import_pyproject

        return [
            Importer("pyproject.toml (PEP 621, PEP 735)", lambda name: name == "pyproject.toml",
                     lambda path, text: import_pyproject(path, text, _here()).sections, read_in=import_pyproject),
            Importer("requirements.txt (pip)", lambda name: True, read_requirements, fallback=True, read_in=import_requirements),
        ]

    def purl(self, entry: Any) -> str:
        from urllib.parse import quote

        return f"pkg:pypi/{quote(entry.name)}@{quote(entry.version)}"

    def sbom_hashes(self, entry: Any) -> list[str]:
        return [h.removeprefix("sha256:") for h in entry.hashes]

    def compare_versions(self, a: str, b: str) -> int:
        from packaging.version import InvalidVersion, Version

        try:
            left, right = Version(a), Version(b)
        except InvalidVersion:
            return super().compare_versions(a, b)
        return (left > right) - (left < right)

    def fragment(self, entries: list[Any], context: FragmentContext) -> Fragment:
        """The locked files for this platform and interpreter (found in the index on the host),
        a hashed requirements file, and uv to install them offline into VENV_DIR."""
        from envman.ecosystems.python.image import to_fragment
        from envman.ecosystems.python.provided import fragment_on_top, installed_by_other

        if any(installed_by_other(e) for e in entries):  # conda and PyPI together (docs/conda.md)
            on_top = fragment_on_top(entries, context, self.image_labels[0])
            if on_top is not None:
                return on_top
            from envman.ecosystems.base import Fragment

            return Fragment(ecosystem=self.name)
        return to_fragment(entries, context, label=self.image_labels[0])

    # -- probing ----------------------------------------------------------------------------
    def probe_options(self, places: tuple[str, ...], label: str | None, where: str) -> dict[str, Any] | None:
        return {}  # asked for whenever the probe runs with an interpreter

    def local_target(self, project_dir: Path) -> str | None:
        return f"python:{project_dir / '.venv' / 'bin' / 'python'}"

    def run_environment(self, location: str, entries: list[Any]) -> dict[str, str]:
        venv = os.path.dirname(os.path.dirname(location))
        return {"VIRTUAL_ENV": venv, "PATH": f"{venv}/bin:$PATH"}

    def create_target(self, kind: str, value: str, section: Mapping[str, Any] | None, dry_run: bool) -> str | None:
        from envman.ecosystems.python.sync import create_venv

        return create_venv(value, str((section or {}).get("version") or DEFAULT_PYTHON_VERSION), dry_run)

    def target_options(self, kind: str, value: str, what: str) -> dict[str, Any]:
        from envman.errors import UnreachableError

        path = value
        if not (os.path.isfile(path) and os.access(path, os.X_OK)):
            found = shutil.which(path)
            if not found:
                raise UnreachableError(f"{what}: no Python interpreter at {path}")
            path = found
        return {"interpreter": path}

    def empty_section(self) -> dict[str, Any] | None:
        return {"packages": []}

    def read_probe(self, section: Mapping[str, Any], known: Mapping[str, tuple[str, str]]) -> ProbedSection:
        from envman.ecosystems.python.probe import python_packages

        environment: dict[str, Any] = {}
        if section.get("markers"):
            environment["python-markers"] = section["markers"]
        if section.get("executable"):
            environment["python-executable"] = section["executable"]
        return ProbedSection(python_packages(section), section.get("version") or None, environment)

    def installed_from_entry(self, entry: Any) -> InstalledPackage:
        extra: dict[str, Any] = {"marker": entry.marker} if getattr(entry, "marker", None) else {}
        if getattr(entry, "url", None):  # a direct reference: recognised by its direct_url.json
            from envman.ecosystems.python.direct import locked_reference

            extra["direct"] = locked_reference(entry)
        return InstalledPackage(self.name, entry.name, entry.version, None, None, extra)

    # -- drift and sync ---------------------------------------------------------------------
    def ignorable_extra(self, pkg: InstalledPackage) -> bool:
        return normalize_name(pkg.name) in INSTALLER_TOOLING

    def sync_location(self, kind: str, value: str, environment: Mapping[str, Any]) -> str:
        from envman.ecosystems.python.sync import is_conda_python, is_venv
        from envman.errors import BadInputError

        executable = str(environment.get("python-executable") or value)
        if environment.get("python-executable") and not is_venv(executable) and not is_conda_python(executable):
            raise BadInputError(
                f"{kind}:{value}: not a virtual environment or a conda prefix's python; "
                "envman syncs those only (system Python belongs to the OS)"
            )
        return executable

    def sync(self, request: SyncRequest) -> None:
        from envman.ecosystems.python.sync import sync_venv

        sync_venv(request)


def _here() -> Any:
    from pathlib import Path

    from envman.ecosystems.imports import ImportContext

    return ImportContext(manifest_dir=Path.cwd())


def _version(value: str) -> Version | str:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(value)
    except (InvalidVersion, ValueError):  # ValueError: digit runs Python refuses to convert
        return value


ECOSYSTEM = PythonEcosystem()
