"""The R ecosystem: CRAN-like repositories, resolved in Python (no R needed to lock).

Modules: section (manifest section, specs), entry (lock entry), dcf (DCF parser), versions
(R versions/constraints), index (PACKAGES -> candidates), resolver (pure resolution),
repository (HTTP/cache I/O), solve (lock entries per environment), renv (renv.lock
export), fragment (image data), probe_target (stdlib: R libraries, in the target and
here), sync (R CMD INSTALL), importers (renv.lock, DESCRIPTION).
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envman.ecosystems.base import Ecosystem, InstalledPackage, ProbedSection
from envman.ecosystems.r.constants import BASE_PACKAGES

if TYPE_CHECKING:
    from envman.ecosystems.base import Fragment, FragmentContext, Importer, LockedEntries, ResolveRequest, Services, SyncRequest

__all__ = ["ECOSYSTEM", "REcosystem", "R_BASE"]

# R's own packages (shipped with R itself; `translations` carries no Priority field).
R_BASE = BASE_PACKAGES | {"translations"}
_R_ENV_KEYS = ("R_LIBS=", "R_LIBS_SITE=", "R_LIBS_USER=")


class REcosystem(Ecosystem):
    name = "r"
    title = "R"
    export_formats = ("renv",)
    runtime = "r"
    runtime_label = "R"
    target_forms = ("rlib:DIR", "rscript:PATH")
    target_kinds = ("rlib", "rscript")
    syncable_kinds = ("rlib",)
    place_flag = "--rlib"
    place_help = "R library folder to probe (repeatable; default: R's .libPaths())."
    image_labels = ("org.envman.r-libs", "org.envman.r-library", "envman.r.library", "envman.r.libs")
    probe_module = "probe_target.py"
    section_class = "section:RSection"
    overlay_class = "section:ROverlay"
    entry_class = "entry:REntry"
    probe_function = "r_section"

    # -- manifest and lock -------------------------------------------------------------
    def root_names(self, requirements: Sequence[Any]) -> set[str]:
        from envman.ecosystems.r.section import parse_r_spec

        return {parse_r_spec(str(item))[0] for item in requirements}

    def same_version(self, a: InstalledPackage, b: InstalledPackage) -> bool:
        return _version_key(a.version) == _version_key(b.version)

    # -- resolution, export, import ------------------------------------------------------
    def resolve(self, request: ResolveRequest, services: Services) -> LockedEntries:
        from envman.ecosystems.r.solve import resolve_request

        return resolve_request(request, services)

    def expected_runtime(self, section: Mapping[str, Any] | None, platform_lock: Any) -> str | None:
        value = section.get("version") if isinstance(section, Mapping) else None
        return str(value).strip() if value is not None and str(value).strip() else None

    def export(self, entries: list[Any], fmt: str, context: dict[str, Any]) -> str:
        if fmt != "renv":
            return super().export(entries, fmt, context)
        from envman.ecosystems.r.renv import to_renv_lock
        from envman.ecosystems.r.solve import repositories_of

        manifest = context.get("manifest")
        section = manifest.section(self.name) if manifest is not None else None
        return to_renv_lock(entries, getattr(section, "version", None), repositories_of(section))

    def importers(self) -> list[Importer]:
        from envman.ecosystems.base import Importer
        from envman.ecosystems.r.importers import import_description, import_renv_lock, read_description, read_renv_lock

        return [
            Importer("renv.lock", lambda name: name == "renv.lock", read_renv_lock, read_in=import_renv_lock),
            Importer("DESCRIPTION (an R package)", lambda name: name == "description", read_description, read_in=import_description),
        ]

    def purl(self, entry: Any) -> str:
        from urllib.parse import quote

        return f"pkg:cran/{quote(entry.name)}@{quote(entry.version)}"

    def claims_spec(self, spec: str) -> bool:
        import re

        return bool(re.search(r"\(\s*(>=|<=|==|>|<|!=)", spec))

    def compare_versions(self, a: str, b: str) -> int:
        from envman.ecosystems.r.versions import VersionError, version_key

        try:
            left, right = version_key(a), version_key(b)
        except VersionError:
            return super().compare_versions(a, b)
        return (left > right) - (left < right)

    def fragment(self, entries: list[Any], context: FragmentContext) -> Fragment:
        from envman.ecosystems.r.fragment import to_fragment
        from envman.ecosystems.r.remotes import ensure_cached

        for entry in entries:  # packages from git remotes: tarballs made from their commits, into the cache
            if str(getattr(entry, "url", "")).startswith("git+"):
                ensure_cached(entry, context.services.cache)
        return to_fragment(entries)

    # -- probing ----------------------------------------------------------------------------
    def probe_options(self, places: tuple[str, ...], label: str | None, where: str) -> dict[str, Any] | None:
        if where == "local":
            rscript = shutil.which("Rscript")
            return {"libs": list(places), "rscript": rscript, "max_bytes": _max_bytes()} if rscript or places else None
        libs = list(places) or _split(label)
        # R's own .libPaths() (and its version) too, unless the libraries were given explicitly
        return {"libs": libs or "auto", "rscript": None if places else "auto", "max_bytes": _max_bytes()}

    def target_options(self, kind: str, value: str, what: str) -> dict[str, Any]:
        from envman.errors import UnreachableError

        if kind == "rlib":
            if not os.path.isdir(value):
                raise UnreachableError(f"{what}: no such folder {value}")
            return {"libs": [value], "max_bytes": _max_bytes()}
        exe = value if os.path.isfile(value) else shutil.which(value)
        if not exe:
            raise UnreachableError(f"{what}: no Rscript at {value}")
        return {"rscript": exe, "max_bytes": _max_bytes()}

    def local_target(self, project_dir: Path) -> str | None:
        return f"rlib:{project_dir / '.envman' / 'r-library'}"

    def run_environment(self, location: str, entries: list[Any]) -> dict[str, str]:
        return {"R_LIBS": f"{location}:$R_LIBS"}

    def create_target(self, kind: str, value: str, section: Mapping[str, Any] | None, dry_run: bool) -> str | None:
        if kind != "rlib" or os.path.exists(value):
            return None
        if not dry_run:
            os.makedirs(value)
        return f"create the R library {value}"

    def check_probe(self, kind: str, options: Mapping[str, Any], data: Mapping[str, Any], what: str) -> None:
        from envman.errors import UnreachableError

        if kind == "rscript" and not (data.get(self.name) or {}).get("version"):
            problems = "; ".join(data.get("problems") or []) or "no answer"
            raise UnreachableError(f"{what}: cannot run {options.get('rscript')}: {problems}")

    def file_folders(self, places: tuple[str, ...], label: str | None, env: Sequence[str]) -> list[str]:
        from envman.ecosystems.r.probe_target import R_AUTO_LIBS

        from_env = [p for item in env for key in _R_ENV_KEYS if item.startswith(key) for p in _split(item[len(key):])]
        return list(places) or _split(label) or (from_env + list(R_AUTO_LIBS))

    def wanted_file(self, folder: str, rel_parts: Sequence[str], deep: bool) -> bool:
        return deep or (len(rel_parts) == 2 and rel_parts[-1] == "DESCRIPTION")

    def files_options(self, folders: list[str], copied_root: Path) -> dict[str, Any] | None:
        return {"libs": [str(copied_root / d.lstrip("/")) for d in folders], "max_bytes": _max_bytes()}

    def empty_section(self) -> dict[str, Any] | None:
        return {"version": None, "libraries": [], "packages": []}

    def read_probe(self, section: Mapping[str, Any], known: Mapping[str, tuple[str, str]]) -> ProbedSection:
        rows = []
        for row in section.get("packages", []):
            extra = {k: row[k] for k in ("priority",) if row.get(k)}
            if row.get("modified"):
                extra["modified"] = list(row["modified"])
                extra["modified-count"] = int(row.get("modified_count", len(row["modified"])))
            rows.append(InstalledPackage(self.name, str(row["name"]), str(row.get("version", "")), row.get("location"), None, extra))
        return ProbedSection(_mark_shadowed(rows), section.get("version") or None, {"r-libraries": section.get("libraries", [])})

    # -- drift and sync ---------------------------------------------------------------------
    def ignorable_extra(self, pkg: InstalledPackage) -> bool:
        return pkg.extra.get("priority") in ("base", "recommended") or pkg.name in R_BASE

    def sync(self, request: SyncRequest) -> None:
        from envman.ecosystems.r.sync import sync_rlib

        sync_rlib(request)


def _max_bytes() -> int:
    """The size limit of one DESCRIPTION read in a target (member_bytes, envman.limits)."""
    from envman.limits import limit

    return limit("member_bytes")


def _split(value: str | None) -> list[str]:
    return [p for p in (value or "").split(":") if p]


def _version_key(value: str) -> tuple[int, ...] | str:
    """R's `1.2-3` equals `1.2.3`, and trailing zeros do not count."""
    parts = re.split(r"[.\-]", value.strip())
    # ASCII digits of sane length only: "²".isdigit() is true and int() refuses 4,300 digits
    if all(p.isascii() and p.isdecimal() and len(p) <= 100 for p in parts):
        numbers = [int(p) for p in parts]
        while len(numbers) > 1 and numbers[-1] == 0:
            numbers.pop()
        return tuple(numbers)
    return value


def _mark_shadowed(rows: list[InstalledPackage]) -> list[InstalledPackage]:
    """Later copies of a package on the library path are marked `shadowed-by` the first."""
    seen: dict[str, str] = {}
    out = []
    for pkg in rows:
        if pkg.name in seen and "shadowed-by" not in pkg.extra:
            extra = {**pkg.extra, "shadowed-by": seen[pkg.name]}
            pkg = InstalledPackage(pkg.ecosystem, pkg.name, pkg.version, pkg.location, pkg.sha256, extra)
        else:
            seen.setdefault(pkg.name, pkg.location or "")
        out.append(pkg)
    return out


ECOSYSTEM = REcosystem()
