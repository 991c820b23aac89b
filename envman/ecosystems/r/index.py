"""CRAN-like repository indexes (src/contrib/PACKAGES) as candidates for the resolver. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import cached_property

from envman.ecosystems.r.constants import DEP_FIELDS
from envman.ecosystems.r.dcf import DcfError, parse_dcf, parse_dcf_record
from envman.ecosystems.r.versions import Constraint, Dependency, VersionError, parse_dependencies, version_key

__all__ = ["Candidate", "RepoIndex", "IndexReadError", "parse_packages", "candidate_from_description"]


class IndexReadError(ValueError):
    """PACKAGES or DESCRIPTION content that cannot be read."""


@dataclass(frozen=True)
class Candidate:
    """One version of one package in one repository (current index or Archive/).

    Dependency fields are kept as text and parsed on first use: an index of 20,000
    packages is read quickly, and only the few hundred visited pay for parsing.
    """

    name: str
    version: str
    key: tuple[int, ...]
    repository: str
    path: str  # relative to the repository's src/contrib/
    dep_fields: tuple[tuple[str, str], ...] = ()  # (field, text) of Depends/Imports/LinkingTo
    md5: str | None = None
    needs_compilation: bool | None = None
    archived: bool = False
    priority: str | None = None
    os_type: str | None = None  # "unix" or "windows" when the package is limited to one

    @property
    def label(self) -> str:
        return f"{self.name} {self.version}"

    @cached_property
    def _parsed(self) -> tuple[tuple[Dependency, ...], tuple[Constraint, ...]]:
        deps: list[Dependency] = []
        r_constraints: list[Constraint] = []
        for field_name, value in self.dep_fields:
            try:
                parsed = parse_dependencies(value, field_name)
            except VersionError as exc:
                raise IndexReadError(f"{self.label}: {exc}") from None
            for dep in parsed:
                if dep.name == "R":
                    r_constraints.extend(dep.constraints)
                else:
                    deps.append(dep)
        return tuple(deps), tuple(r_constraints)

    @property
    def deps(self) -> tuple[Dependency, ...]:
        """Depends/Imports/LinkingTo other than R; raises IndexReadError when unreadable."""
        return self._parsed[0]

    @property
    def r_constraints(self) -> tuple[Constraint, ...]:
        """The `R (op version)` entries of Depends; raises IndexReadError when unreadable."""
        return self._parsed[1]


@dataclass
class RepoIndex:
    """The packages one repository offers now; `broken` keeps entries that could not be read."""

    repository: str
    url: str
    packages: dict[str, list[Candidate]] = field(default_factory=dict)
    broken: dict[str, str] = field(default_factory=dict)

    def names(self) -> list[str]:
        return list(self.packages)


_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9.]*$")
_SAFE_PATH = re.compile(r"^[A-Za-z0-9._+\-]+(?:/[A-Za-z0-9._+\-]+)*$")


def _candidate(record: dict[str, str], repository: str, *, archived: bool, path: str | None) -> Candidate:
    name = record.get("Package", "").strip()
    version = record.get("Version", "").strip()
    if not name:
        raise IndexReadError("a record has no Package field")
    if not _NAME.match(name):
        raise IndexReadError(f"{name[:60]!r} is not a valid R package name")
    if not version:
        raise IndexReadError(f"{name}: no Version field")
    try:
        key = version_key(version)
    except VersionError as exc:
        raise IndexReadError(f"{name}: {exc}") from None
    dep_fields = tuple((f, record[f]) for f in DEP_FIELDS if record.get(f))
    if path is None:
        subdir = record.get("Path", "").strip().strip("/")
        filename = record.get("File", "").strip() or f"{name}_{version}.tar.gz"
        path = f"{subdir}/{filename}" if subdir else filename
    if not _SAFE_PATH.match(path) or ".." in path.split("/"):
        raise IndexReadError(f"{name} {version}: unsafe file path {path[:80]!r} (File/Path fields)")
    needs = record.get("NeedsCompilation", "").strip().lower()
    md5 = record.get("MD5sum", "").strip().lower() or None
    return Candidate(
        name=name,
        version=version,
        key=key,
        repository=repository,
        path=path,
        dep_fields=dep_fields,
        md5=md5,
        needs_compilation=True if needs == "yes" else False if needs == "no" else None,
        archived=archived,
        priority=(record.get("Priority") or "").strip() or None,
        os_type=(record.get("OS_type") or "").strip() or None,
    )


def parse_packages(text: str, repository: str, url: str = "") -> RepoIndex:
    """A PACKAGES document -> RepoIndex. Raises IndexReadError only when the text is not DCF;
    single unreadable records are kept in `broken` (reported if someone needs them)."""
    try:
        records = parse_dcf(text)
    except DcfError as exc:
        raise IndexReadError(str(exc)) from None
    index = RepoIndex(repository=repository, url=url)
    for record in records:
        try:
            cand = _candidate(record, repository, archived=False, path=None)
        except IndexReadError as exc:
            name = record.get("Package", "").strip() or "?"
            index.broken[name] = str(exc)
            continue
        index.packages.setdefault(cand.name, []).append(cand)
    for versions in index.packages.values():
        versions.sort(key=lambda c: c.key, reverse=True)
    return index


def candidate_from_description(text: str, repository: str, path: str, *, md5: str | None = None) -> Candidate:
    """A package's DESCRIPTION (from an archived tarball) -> Candidate. Raises IndexReadError."""
    try:
        record = parse_dcf_record(text)
    except DcfError as exc:
        raise IndexReadError(f"DESCRIPTION {exc}") from None
    cand = _candidate(record, repository, archived=True, path=path)
    cand.deps  # noqa: B018 - parse now, so errors name the tarball
    if md5:
        cand = replace(cand, md5=md5)
    return cand
