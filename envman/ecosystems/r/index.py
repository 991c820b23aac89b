"""CRAN-like repository indexes (src/contrib/PACKAGES) as candidates for the resolver. Pure."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cached_property

from envman.ecosystems.r.constants import DEP_FIELDS
from envman.ecosystems.r.dcf import DcfError, parse_dcf_record
from envman.ecosystems.r.grammar import file_problem, is_md5, name_problem, path_problem, shown, version_problem
from envman.ecosystems.r.versions import Constraint, Dependency, VersionError, parse_dependencies, version_key
from envman.errors import ResolutionError

__all__ = ["Candidate", "RepoIndex", "IndexReadError", "parse_packages", "candidate_from_description"]


class IndexReadError(ResolutionError, ValueError):  # envman's hierarchy (exit 3); ValueError for the catch sites
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


class RepoIndex:
    """The packages one repository offers now.

    Records are split and keyed by name up front; a record is parsed into Candidates only
    when its package is asked for, so an index of 20,000 packages costs little when a lock
    visits a few hundred. Records that cannot be read are reported by `broken_reason`.
    """

    def __init__(self, repository: str, url: str = "", records: dict[str, list[str]] | None = None) -> None:
        self.repository = repository
        self.url = url
        self._records = records or {}
        self._candidates: dict[str, list[Candidate]] = {}
        self._broken: dict[str, str] = {}

    def names(self) -> list[str]:
        return list(self._records)

    def __contains__(self, name: str) -> bool:
        return name in self._records

    def candidates(self, name: str) -> list[Candidate]:
        """Readable versions of name, newest first."""
        found = self._candidates.get(name)
        if found is None:
            found = []
            for text in self._records.get(name, ()):
                try:
                    found.append(_candidate(parse_dcf_record(text), self.repository, archived=False, path=None))
                except (IndexReadError, DcfError) as exc:
                    self._broken.setdefault(name, str(exc))
            found.sort(key=lambda c: c.key, reverse=True)
            self._candidates[name] = found
        return found

    def broken_reason(self, name: str) -> str | None:
        self.candidates(name)
        return self._broken.get(name)

    @property
    def packages(self) -> dict[str, list[Candidate]]:
        """Every readable package (parses the whole index: for tests and small indexes)."""
        return {name: cands for name in self._records if (cands := self.candidates(name))}

    @property
    def broken(self) -> dict[str, str]:
        """Every unreadable record, by package name (parses the whole index)."""
        for name in self._records:
            self.candidates(name)
        return dict(self._broken)


def _candidate(record: dict[str, str], repository: str, *, archived: bool, path: str | None) -> Candidate:
    """One record as a Candidate, its name, version and file path held to the grammar
    (grammar.py) before they can reach a URL, a file name or the cache."""
    name = record.get("Package", "").strip()
    version = record.get("Version", "").strip()
    if not name:
        raise IndexReadError("a record has no Package field")
    problem = name_problem(name)
    if problem:
        raise IndexReadError(problem)
    if not version:
        raise IndexReadError(f"{name}: no Version field")
    problem = version_problem(version)
    if problem:
        raise IndexReadError(f"{name}: {problem}")
    try:
        key = version_key(version)
    except VersionError as exc:
        raise IndexReadError(f"{name}: {exc}") from None
    dep_fields = tuple((f, record[f]) for f in DEP_FIELDS if record.get(f))
    if path is None:
        subdir = record.get("Path", "").strip().strip("/")
        filename = record.get("File", "").strip() or f"{name}_{version}.tar.gz"
        if file_problem(filename):
            raise IndexReadError(f"{name} {version}: unsafe file path {shown(filename)} (File field)")
        path = f"{subdir}/{filename}" if subdir else filename
    if path_problem(path):
        raise IndexReadError(f"{name} {version}: unsafe file path {shown(path)} (File/Path fields)")
    md5 = record.get("MD5sum", "").strip().lower() or None
    if md5 is not None and not is_md5(md5):
        raise IndexReadError(f"{name} {version}: MD5sum {shown(md5)} is not an MD5 digest")
    needs = record.get("NeedsCompilation", "").strip().lower()
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


_RECORD_SEPARATOR = re.compile(r"\n[ \t]*\n")
_PACKAGE_FIELD = re.compile(r"^Package:[ \t]*(\S*)", re.M)


def parse_packages(text: str, repository: str, url: str = "") -> RepoIndex:
    """A PACKAGES document -> RepoIndex (records are parsed lazily, per package).

    Raises IndexReadError when the text has no `Package:` record at all (an HTML error
    page, say); a single unreadable record only matters when its package is needed.
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    records: dict[str, list[str]] = {}
    seen_any = False
    for chunk in _RECORD_SEPARATOR.split(text):
        if chunk.startswith("Package:"):
            line_end = chunk.find("\n")
            name = (chunk[8:] if line_end < 0 else chunk[8:line_end]).strip()
        else:
            match = _PACKAGE_FIELD.search(chunk)
            if match is None:
                if chunk.strip():
                    records.setdefault("?", []).append(chunk)
                continue
            name = match.group(1).strip()
        seen_any = True
        records.setdefault(name or "?", []).append(chunk)
    if not seen_any and text.strip():
        raise IndexReadError("no `Package:` record found: not a PACKAGES index")
    return RepoIndex(repository=repository, url=url, records=records)


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
