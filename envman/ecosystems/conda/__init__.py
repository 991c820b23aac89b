"""The conda ecosystem: `conda:` sections solved with py-rattler for every platform, prefixes
probed, checked, diffed and synced, images with a conda layer.

Modules: section (manifest section, match specs validated with py-rattler), grammar (names,
versions, builds, URLs in a lock), entry (lock entry), channels (channel names and URLs,
credentials kept out of the lock), platforms (virtual packages per platform), resolve (the
solve: py-rattler, one gateway, all platforms), export (conda-lock.yml, @EXPLICIT,
environment.yml), importers (`init --from environment.yml | conda-lock.yml`),
probe_target (stdlib: conda-meta records, in the target and here), install (py-rattler
links packages into a prefix: sync and the image's builder stage), verify (a package
checked whole before it is linked), sync (`sync conda:PREFIX`), image (the image's layer).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envman.ecosystems.base import Ecosystem, InstalledPackage, ProbedSection

if TYPE_CHECKING:
    from envman.ecosystems.base import (
        Fragment,
        FragmentContext,
        Importer,
        LockedEntries,
        Provided,
        ResolveRequest,
        Services,
        SyncRequest,
    )

__all__ = ["ECOSYSTEM", "CondaEcosystem", "record_bytes"]

_AUTO_ROOT = "/opt"  # without a place or label, prefixes are looked for under /opt


class CondaEcosystem(Ecosystem):
    name = "conda"
    title = "conda"
    export_formats = ("conda-lock", "explicit", "environment")
    target_forms = ("conda:PREFIX",)
    target_kinds = ("conda",)
    syncable_kinds = ("conda",)
    place_flag = "--conda"
    place_help = "Conda prefix to probe (repeatable; default: labels, /opt/*)."
    image_labels = ("org.envman.conda", "envman.conda.prefix", "envman.conda")
    probe_module = "probe_target.py"
    section_class = "section:CondaSection"
    overlay_class = "section:CondaOverlay"
    entry_class = "entry:CondaEntry"
    probe_function = "conda_section"
    provider = True  # its solution's python and Python packages are the Python section's ground (pypi.py)

    # -- manifest and lock -------------------------------------------------------------
    def root_names(self, requirements: Sequence[Any]) -> set[str]:
        import re

        return {re.split(r"[\s=<>!~\[]", str(item).split("::")[-1].strip(), maxsplit=1)[0] for item in requirements}

    def manifest_problems(self, manifest: Any) -> list[tuple[tuple[Any, ...], str]]:
        """A spec that names a channel (`ch::name`, `name[channel=ch]`) must name one of
        `conda.channels` (the solve reads only those)."""
        from envman.ecosystems.conda.channels import channels_of, named_channel
        from envman.ecosystems.conda.section import spec_channel

        section = manifest.section(self.name)
        if section is None:
            return []
        channels = channels_of(section)
        places: list[tuple[tuple[Any, ...], list[str]]] = [((self.name, "packages"), list(section.packages))]
        for env, overlay in sorted(manifest.overlays().items()):
            extra = getattr(overlay, self.name, None) if overlay is not None else None
            if extra is not None:
                places.append((("environments", env, self.name, "packages"), list(extra.packages)))
        problems: list[tuple[tuple[Any, ...], str]] = []
        for loc, specs in places:
            for index, spec in enumerate(specs):
                channel, _rest = spec_channel(spec)
                if channel is not None and named_channel(channel, channels) is None:
                    listed = ", ".join(ref.label for ref in channels)
                    where = ".".join(str(part) for part in (*loc, index))
                    message = f"{where}: {spec!r} names channel {channel!r}, which conda.channels does not list ({listed})"
                    problems.append(((*loc, index), message))
        return problems

    def claims_spec(self, spec: str) -> bool:
        return "::" in spec

    def same_version(self, a: InstalledPackage, b: InstalledPackage) -> bool:
        build_a, build_b = a.extra.get("build"), b.extra.get("build")
        return a.version == b.version and (not build_a or not build_b or build_a == build_b)

    def shown(self, pkg: InstalledPackage) -> str:
        build = pkg.extra.get("build")
        return f"{pkg.version} {build}" if build else pkg.version

    def resolve(self, request: ResolveRequest, services: Services) -> LockedEntries:
        from envman.ecosystems.conda.resolve import resolve_request

        return dict(resolve_request(request, services))

    def provides(self, entries: list[Any]) -> Provided | None:
        from envman.ecosystems.conda.pypi import provided_by

        return provided_by(entries, self.name)

    def compare_versions(self, a: str, b: str) -> int:
        from rattler import Version
        from rattler.exceptions import InvalidVersionError

        try:
            left, right = Version(a), Version(b)
        except InvalidVersionError:
            return super().compare_versions(a, b)
        return (left > right) - (left < right)

    # -- export, import, SBOM -----------------------------------------------------------------
    def export(self, entries: list[Any], fmt: str, context: dict[str, Any]) -> str:
        from envman.ecosystems.conda import export

        writers = {"conda-lock": export.to_conda_lock, "explicit": export.to_explicit, "environment": export.to_environment_yml}
        if fmt not in writers:
            return super().export(entries, fmt, context)
        return writers[fmt](entries, context)

    def importers(self) -> list[Importer]:
        from envman.ecosystems.base import Importer
        from envman.ecosystems.conda.importers import import_environment_yml, read_conda_lock, read_environment_yml

        return [
            Importer("conda-lock.yml", lambda name: "conda-lock" in name and name.endswith((".yml", ".yaml")), read_conda_lock),
            Importer("environment.yml (conda)", lambda name: name.endswith((".yml", ".yaml")), read_environment_yml,
                     read_in=import_environment_yml),
        ]

    def purl(self, entry: Any) -> str:
        from urllib.parse import quote

        return f"pkg:conda/{quote(entry.name)}@{quote(entry.version)}?build={quote(entry.build)}"

    # -- probing ----------------------------------------------------------------------------
    def probe_options(self, places: tuple[str, ...], label: str | None, where: str) -> dict[str, Any] | None:
        if where == "local":
            prefixes = list(places) or ([os.environ["CONDA_PREFIX"]] if os.environ.get("CONDA_PREFIX") else [])
            return {"prefixes": prefixes, "max_bytes": _max_bytes()} if prefixes else None
        return {"prefixes": list(places) or _split(label) or "auto", "max_bytes": _max_bytes()}

    def target_options(self, kind: str, value: str, what: str) -> dict[str, Any]:
        from envman.errors import UnreachableError

        meta = os.path.join(value, "conda-meta")
        if not os.path.isdir(meta):
            raise UnreachableError(f"{what}: not a conda prefix (no {meta})")
        return {"prefixes": [value], "max_bytes": _max_bytes()}

    def file_folders(self, places: tuple[str, ...], label: str | None, env: Sequence[str]) -> list[str]:
        return list(places) or _split(label) or [_AUTO_ROOT]

    def wanted_file(self, folder: str, rel_parts: Sequence[str], deep: bool) -> bool:
        record = len(rel_parts) >= 2 and rel_parts[-2] == "conda-meta" and rel_parts[-1].endswith(".json")
        return record or (deep and folder != _AUTO_ROOT)

    def files_options(self, folders: list[str], copied_root: Path) -> dict[str, Any] | None:
        if folders != [_AUTO_ROOT]:
            return {"prefixes": [str(copied_root / d.lstrip("/")) for d in folders], "max_bytes": _max_bytes()}
        from envman.ecosystems.conda.probe_target import CONDA_AUTO

        candidates = [d for d in CONDA_AUTO if (copied_root / d.lstrip("/") / "conda-meta").is_dir()]
        opt = copied_root / _AUTO_ROOT.lstrip("/")
        if opt.is_dir():
            candidates += [f"{_AUTO_ROOT}/{p.name}" for p in sorted(opt.iterdir()) if (p / "conda-meta").is_dir()]
        return {"prefixes": [str(copied_root / d.lstrip("/")) for d in dict.fromkeys(candidates)], "max_bytes": _max_bytes()}

    def empty_section(self) -> dict[str, Any] | None:
        return {"prefixes": [], "packages": []}

    def read_probe(self, section: Mapping[str, Any], known: Mapping[str, tuple[str, str]]) -> ProbedSection:
        out = []
        for row in section.get("packages", []):
            extra: dict[str, Any] = {key: row[key] for key in ("build", "channel", "md5", "subdir") if row.get(key)}
            if row.get("modified"):
                extra["modified"] = list(row["modified"])
                extra["modified-count"] = int(row.get("modified_count", len(row["modified"])))
            out.append(
                InstalledPackage(self.name, str(row["name"]), str(row.get("version", "")), row.get("location"), row.get("sha256"), extra)
            )
        return ProbedSection(out, None, {"conda-prefixes": section.get("prefixes", [])})

    def installed_from_entry(self, entry: Any) -> InstalledPackage:
        return InstalledPackage(self.name, entry.name, entry.version, None, entry.sha256, {"build": entry.build})

    # -- image ------------------------------------------------------------------------------
    def fragment(self, entries: list[Any], context: FragmentContext) -> Fragment:
        """The prefix /opt/envman/conda, made by rattler in a builder stage from the locked
        package files (fetched and checked on the host); the final image gets the prefix only."""
        from envman.ecosystems.conda.image import to_fragment

        return to_fragment(entries, context, self.image_labels[0])

    # -- sync -------------------------------------------------------------------------------
    def sync(self, request: SyncRequest) -> None:
        """rattler links the verified packages (envman.ecosystems.conda.sync): every package
        is fetched by sha256, checked whole and extracted before the prefix is changed."""
        from envman.ecosystems.conda.sync import sync_prefix

        sync_prefix(request)

    def local_target(self, project_dir: Path) -> str | None:
        return f"conda:{project_dir / '.envman' / 'conda'}"

    def runtime_targets(self, location: str) -> dict[str, str]:
        python = os.path.join(location, "bin", "python")
        return {"python": f"python:{python}"} if os.path.exists(python) else {}

    def run_environment(self, location: str, entries: list[Any]) -> dict[str, str]:
        return {"CONDA_PREFIX": location, "PATH": f"{location}/bin:$PATH"}

    def create_target(self, kind: str, value: str, section: Mapping[str, Any] | None, dry_run: bool) -> str | None:
        """A missing (or empty) folder becomes an empty prefix (its conda-meta/); a folder
        with other content is never made a prefix."""
        if kind != "conda" or os.path.isdir(os.path.join(value, "conda-meta")):
            return None
        if os.path.lexists(value) and not (os.path.isdir(value) and not os.path.islink(value) and not os.listdir(value)):
            return None
        if not dry_run:
            os.makedirs(os.path.join(value, "conda-meta"), exist_ok=True)
        return f"create the conda prefix {value}"

def record_bytes() -> int:
    """The size limit of one conda-meta record (in a target, or removed by sync):
    member_bytes (envman.limits), but never under CONDA_MAX_RECORD_BYTES, 64 MiB (a record
    lists every file of its package: python's is several MB)."""
    from envman.ecosystems.conda.probe_target import CONDA_MAX_RECORD_BYTES
    from envman.limits import limit

    return max(limit("member_bytes"), CONDA_MAX_RECORD_BYTES)


_max_bytes = record_bytes


def _split(value: str | None) -> list[str]:
    return [p for p in (value or "").split(":") if p]


ECOSYSTEM = CondaEcosystem()
