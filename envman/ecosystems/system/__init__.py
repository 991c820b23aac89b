"""The system ecosystem: Debian packages (`system.apt`) locked with apt's own answer.

Modules: section (manifest section, Debian relations), entry (lock entry), container (the
throwaway container of the base that runs apt, I/O), apt_script.sh (what runs there),
aptout (parsers of apt's answer, pure), resolve (manifest -> lock entries), fragment (the
image's system layer: the locked .debs installed offline), probe_target (stdlib: the dpkg
database and md5sums, in the target and here).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envman.ecosystems.base import Ecosystem, InstalledPackage, ProbedSection

if TYPE_CHECKING:
    from envman.ecosystems.base import Fragment, FragmentContext, LockedEntries, ResolveRequest, Services

__all__ = ["ECOSYSTEM", "SystemEcosystem"]

_DPKG = "/var/lib/dpkg"


class SystemEcosystem(Ecosystem):
    name = "system"
    title = "Debian"
    items_key = "apt"
    section_class = "section:SystemSection"
    overlay_class = "section:SystemOverlay"
    entry_class = "entry:SystemEntry"
    probe_module = "probe_target.py"
    probe_function = "system_section"
    needs_image = True  # resolved for image.base: `lock` passes its pin and resolves again when it moves

    # -- manifest and names --------------------------------------------------------------
    def root_names(self, requirements: Sequence[Any]) -> set[str]:
        from envman.ecosystems.system.section import parse_apt_spec

        return {parse_apt_spec(str(item)).name for item in requirements}

    def required_names(self, requirements: Sequence[Any], platform: str, section: Any) -> set[str]:
        """None by name: a relation the base already satisfies, or one a package satisfies
        through Provides, is rightly absent from the lock (apt said so)."""
        return set()

    def compare_versions(self, a: str, b: str) -> int:
        from envman.ecosystems.system.versions import compare_debian

        return compare_debian(a, b)

    # -- resolution, SBOM, image --------------------------------------------------------------
    def resolve(self, request: ResolveRequest, services: Services) -> LockedEntries:
        from envman.ecosystems.system.resolve import resolve_request

        return resolve_request(request, services)

    def purl(self, entry: Any) -> str:
        from urllib.parse import quote

        return f"pkg:deb/debian/{quote(entry.name)}@{quote(entry.version, safe='')}?arch={quote(entry.architecture)}"

    def sbom_hashes(self, entry: Any) -> list[str]:
        sha = getattr(entry, "sha256", None)
        return [sha] if sha else []

    def fragment(self, entries: list[Any], context: FragmentContext) -> Fragment:
        from envman.ecosystems.system.fragment import system_fragment

        return system_fragment(self.name, entries)

    # -- probing ----------------------------------------------------------------------------
    def probe_options(self, places: tuple[str, ...], label: str | None, where: str) -> dict[str, Any] | None:
        if where == "local" and not os.path.isfile(os.path.join(_DPKG, "status")):
            return None
        return {"root": "/"}

    def file_folders(self, places: tuple[str, ...], label: str | None, env: Sequence[str]) -> list[str]:
        return [_DPKG]

    def wanted_file(self, folder: str, rel_parts: Sequence[str], deep: bool) -> bool:
        return list(rel_parts) == ["status"]

    def files_options(self, folders: list[str], copied_root: Path) -> dict[str, Any] | None:
        return {"root": str(copied_root), "files": "0"}

    def empty_section(self) -> dict[str, Any] | None:
        return {"packages": [], "dpkg": False}

    def read_probe(self, section: Mapping[str, Any], known: Mapping[str, tuple[str, str]]) -> ProbedSection:
        from envman.ecosystems.system.scope import scoped_rows

        return ProbedSection(scoped_rows(self.name, section.get("packages", []), known))

    def installed_from_entry(self, entry: Any) -> InstalledPackage:
        # a lock entry or the lock's read-only view of it (fields left out when empty)
        extra = {"base": True} if getattr(entry, "base", None) else {}
        return InstalledPackage(self.name, entry.name, entry.version, None, getattr(entry, "sha256", None), extra)

    def modified_detail(self, expected: InstalledPackage, actual: InstalledPackage) -> str | None:
        """Files of the packages envman installed; the base's runtime packages are the base's
        (images trim their docs and locales by hand, which is not drift)."""
        if expected.extra.get("base"):
            return None
        return super().modified_detail(expected, actual)

    def ignorable_extra(self, pkg: InstalledPackage) -> bool:
        """The base's own packages: nothing the lock names depends on them being absent."""
        return bool(pkg.extra.get("base"))

    def extra_detail(self, pkg: InstalledPackage) -> str | None:
        above = pkg.extra.get("depends-on-locked")
        return f"installed on top of the locked {above}" if above else None


ECOSYSTEM = SystemEcosystem()
