"""Resolution of R package requirements over CRAN-like indexes. Pure logic.

One version per package, chosen by depth-first search with backtracking:
- candidates of a package come from the repositories in priority order (first repository
  that offers a satisfying version wins; newest satisfying version within it), then from
  the repositories' Archive/ folders (newest first) when no current version fits;
- a preferred version (the previous lock's pin) is tried first while it still satisfies;
- every constraint on a package (from the manifest and from each Depends/Imports/LinkingTo
  that names it) must hold, and so must a candidate's `R (>= x)` against r.version;
- base packages are never resolved; recommended ones only when a repository has them.

I/O (archive listings, reading an archived tarball's DESCRIPTION) is behind the
`CandidateSource` protocol, so tests drive the resolver with indexes built from text.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator, Sequence, Set
from dataclasses import dataclass, field
from typing import Protocol

from envman.ecosystems.r.constants import BASE_PACKAGES, RECOMMENDED_PACKAGES
from envman.ecosystems.r.index import Candidate, IndexReadError, RepoIndex
from envman.ecosystems.r.versions import Constraint, VersionError, format_constraints, satisfies, version_key
from envman.errors import ResolutionError

__all__ = [
    "Root",
    "CandidateSource",
    "ArchiveSource",
    "IndexSource",
    "Resolution",
    "resolve",
    "closure",
    "install_order",
]


@dataclass(frozen=True)
class Root:
    """A requirement from the manifest: name, constraints and where it was written."""

    name: str
    constraints: tuple[Constraint, ...] = ()
    origin: str = "envman.yaml"


class CandidateSource(Protocol):
    def current(self, name: str) -> list[Candidate]:
        """Candidates from the current indexes: repository priority order, newest first."""

    def archived_versions(self, name: str, wanted: Sequence[str] = ()) -> list[tuple[str, str]]:
        """(repository, version) pairs in Archive/, repository order, newest first (may do I/O)."""

    def load_archived(self, name: str, repository: str, version: str) -> Candidate | None:
        """The archived candidate with its dependencies (reads its DESCRIPTION), or None."""

    def known_names(self) -> list[str]: ...

    def broken(self, name: str) -> str | None:
        """Why an index entry for name could not be read, if one could not."""


class ArchiveSource(Protocol):
    """Where archived versions are listed and read (I/O), for IndexSource."""

    def archived_versions(self, name: str, wanted: Sequence[str] = ()) -> list[tuple[str, str]]: ...

    def load_archived(self, name: str, repository: str, version: str) -> Candidate | None: ...


class IndexSource:
    """Candidates from parsed indexes; archive lookups are delegated to `archive` (I/O)."""

    def __init__(self, indexes: Sequence[RepoIndex], archive: ArchiveSource | None = None) -> None:
        self.indexes = list(indexes)
        self.archive = archive
        self._current: dict[str, list[Candidate]] = {}

    def current(self, name: str) -> list[Candidate]:
        found = self._current.get(name)
        if found is None:
            found = [c for index in self.indexes for c in index.candidates(name)]
            self._current[name] = found
        return found

    def archived_versions(self, name: str, wanted: Sequence[str] = ()) -> list[tuple[str, str]]:
        if self.archive is None:
            return []
        return self.archive.archived_versions(name, wanted)

    def load_archived(self, name: str, repository: str, version: str) -> Candidate | None:
        if self.archive is None:
            return None
        return self.archive.load_archived(name, repository, version)

    def known_names(self) -> list[str]:
        names: dict[str, None] = {}
        for index in self.indexes:
            names.update(dict.fromkeys(index.names()))
        names.pop("?", None)
        return list(names)

    def broken(self, name: str) -> str | None:
        for index in self.indexes:
            reason = index.broken_reason(name)
            if reason:
                return f"{index.repository}: {reason}"
        return None


@dataclass
class Resolution:
    chosen: dict[str, Candidate]
    edges: dict[str, list[str]]  # package -> resolved dependencies (base/skipped ones left out)
    skipped: dict[str, str] = field(default_factory=dict)  # name -> why (recommended not provided)


@dataclass(frozen=True)
class _Req:
    constraints: tuple[Constraint, ...]
    parent: str | None  # requiring package, None for a manifest root
    origin: str


class _Options:
    """Lazy, ordered candidates of one package under the constraints known at decision time."""

    def __init__(self, name: str, source: CandidateSource, constraints: list[Constraint], r_key: tuple[int, ...] | None,
                 prefer: str | None, os_types: frozenset[str] = frozenset()) -> None:
        self.name = name
        self.os_types = os_types
        self.source = source
        self.constraints = tuple(constraints)
        self.r_key = r_key
        self.prefer = prefer
        self.yielded = 0
        self.rejected: list[str] = []
        self.archived_seen: list[str] = []
        self.archived_listed: list[str] = []
        self._iter = self._generate()

    def _r_ok(self, cand: Candidate) -> bool:
        """Usable here: readable dependency fields and, when r.version is set, R fits."""
        try:
            cand.deps  # noqa: B018 - parses Depends/Imports/LinkingTo once
        except IndexReadError as exc:
            self.rejected.append(f"{cand.version} ({cand.repository}) has an unreadable index entry: {exc}")
            return False
        if cand.os_type and self.os_types and self.os_types != {cand.os_type}:
            self.rejected.append(f"{cand.version} ({cand.repository}) installs on OS_type {cand.os_type} only")
            return False
        if self.r_key is None or satisfies(self.r_key, cand.r_constraints):
            return True
        self.rejected.append(f"{cand.version} ({cand.repository}) needs R ({format_constraints(cand.r_constraints)})")
        return False

    def _generate(self) -> Iterator[Candidate]:
        current = [c for c in self.source.current(self.name) if satisfies(c.key, self.constraints)]
        if self.prefer is not None:
            preferred = [c for c in current if c.version == self.prefer]
            if preferred:
                current = preferred + [c for c in current if c.version != self.prefer]
        seen = {(c.repository, c.version) for c in current}
        prefer_archived = self.prefer is not None and not any(c.version == self.prefer for c in current)
        archived_done = False
        if prefer_archived:
            try:
                pkey = version_key(self.prefer)
            except VersionError:
                pkey = None
            if pkey is not None and satisfies(pkey, self.constraints):
                archived_done = True
                yield from self._archived(seen, only=self.prefer)
        for cand in current:
            if self._r_ok(cand):
                yield cand
        yield from self._archived(seen, only=None, skip_versions=({self.prefer} if archived_done else set()))

    def _archived(self, seen: set[tuple[str, str]], only: str | None, skip_versions: Set[str | None] = frozenset()) -> Iterator[Candidate]:
        wanted = [c.version for c in self.constraints if c.op == "=="]
        if self.prefer:
            wanted.append(self.prefer)
        for repository, version in self.source.archived_versions(self.name, wanted):
            label = f"{version} ({repository})"
            if version not in wanted and label not in self.archived_listed:
                self.archived_listed.append(label)  # versions asked for by name count once found
            if (repository, version) in seen or version in skip_versions:
                continue
            if only is not None and version != only:
                continue
            try:
                key = version_key(version)
            except VersionError:
                continue
            if not satisfies(key, self.constraints):
                continue
            seen.add((repository, version))
            cand = self.source.load_archived(self.name, repository, version)
            if cand is None:
                continue
            self.archived_seen.append(label)
            if label not in self.archived_listed:
                self.archived_listed.append(label)
            if self._r_ok(cand):
                yield cand

    def next(self) -> Candidate | None:
        cand = next(self._iter, None)
        if cand is not None:
            self.yielded += 1
        return cand


@dataclass
class _Frame:
    name: str
    options: _Options
    trail_len: int
    order_len: int
    cursor: int


def _suggest(name: str, names: list[str]) -> str:
    lower = {n.lower(): n for n in names}
    if name.lower() in lower:
        return f"; did you mean `{lower[name.lower()]}`? (R package names are case-sensitive)"
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.6)
    if not close:
        close = [lower[c] for c in difflib.get_close_matches(name.lower(), list(lower), n=3, cutoff=0.6)]
    if close:
        return "; did you mean " + " or ".join(f"`{c}`" for c in close) + "?"
    return ""


def resolve(
    roots: Sequence[Root],
    source: CandidateSource,
    *,
    r_version_key: tuple[int, ...] | None = None,
    preferences: dict[str, str] | None = None,
    repositories: Sequence[str] = (),
    os_types: frozenset[str] = frozenset(),
    max_steps: int = 100_000,
) -> Resolution:
    """Choose one candidate per needed package so that every constraint holds.

    os_types: R's OS_type values ("unix", "windows") the lock must install on; a package
    limited to another OS_type is not a candidate.

    Raises ResolutionError naming the package, its requirement chains and what exists.
    """
    preferences = preferences or {}
    reqs: dict[str, list[_Req]] = {}
    order: list[str] = []
    chosen: dict[str, Candidate] = {}
    trail: list[tuple[str, str]] = []
    skipped: dict[str, str] = {}
    repo_text = ", ".join(repositories) or "the repositories"

    def chain(parent: str | None, origin: str) -> str:
        parts: list[str] = []
        seen: set[str] = set()
        while parent is not None and parent not in seen and len(parts) < 12:
            seen.add(parent)
            cand = chosen.get(parent)
            parts.append(cand.label if cand else parent)
            first = reqs.get(parent, [None])[0]
            if first is None:
                break
            parent, origin = first.parent, first.origin
        parts.append(origin)
        return " <- ".join(parts)

    def is_skipped(name: str) -> bool:
        if name in BASE_PACKAGES or name == "R":
            return True
        if name in skipped:
            return True
        if name in RECOMMENDED_PACKAGES and not source.current(name):
            skipped[name] = "recommended package not provided by any repository: the R installation's copy is used"
            return True
        return False

    def unknown(name: str, req: _Req) -> ResolutionError:
        why = source.broken(name)
        if why:
            return ResolutionError(f"R package `{name}` (required by {chain(req.parent, req.origin)}) has an unreadable index entry: {why}")
        hint = _suggest(name, source.known_names())
        return ResolutionError(f"unknown R package `{name}`: not in {repo_text} (required by {chain(req.parent, req.origin)}){hint}")

    def add_req(name: str, req: _Req) -> None:
        if name not in reqs:
            if not source.current(name) and not source.archived_versions(name, [c.version for c in req.constraints if c.op == "=="]):
                raise unknown(name, req)
            reqs[name] = []
            order.append(name)
        reqs[name].append(req)
        trail.append(("req", name))

    def undo_to(trail_len: int, order_len: int) -> None:
        while len(trail) > trail_len:
            kind, name = trail.pop()
            if kind == "req":
                reqs[name].pop()
                if not reqs[name]:
                    del reqs[name]
            else:
                del chosen[name]
        del order[order_len:]

    # roots are permanent (below the trail's base)
    for root in roots:
        if root.name == "R":
            if r_version_key is not None and not satisfies(r_version_key, root.constraints):
                raise ResolutionError(
                    f"{root.origin} needs R ({format_constraints(root.constraints)}) but r.version is {'.'.join(map(str, r_version_key))}"
                )
            continue
        if is_skipped(root.name):
            continue
        add_req(root.name, _Req(root.constraints, None, root.origin))
    trail.clear()

    no_version: list[str] = []
    conflicts: list[str] = []
    steps = 0  # candidates tried (try_next counts them)

    def describe_reqs(name: str) -> list[str]:
        return [
            f"  - {name} ({format_constraints(req.constraints)}), required by {chain(req.parent, req.origin)}"
            for req in reqs.get(name, [])
        ]

    def describe_no_version(name: str, options: _Options) -> str:
        lines = [f"no version of R package `{name}` satisfies every requirement:", *describe_reqs(name)]
        available = [f"{c.version} ({c.repository})" for c in source.current(name)]
        archived = f"; archived: {', '.join(options.archived_listed)}" if options.archived_listed else ""
        lines.append(f"  available: {', '.join(available) or 'none'}" + archived)
        for reason in options.rejected:
            lines.append(f"  rejected: {reason}")
        return "\n".join(lines)

    def describe_clash(name: str, chosen_now: Candidate) -> str:
        all_constraints = [c for req in reqs.get(name, []) for c in req.constraints]
        fits = [c for c in source.current(name) if satisfies(c.key, all_constraints)]
        head = (
            f"no version of R package `{name}` satisfies every requirement:"
            if not fits
            else f"R package `{name}`: {chosen_now.label} was chosen before a later requirement excluded it:"
        )
        available = [f"{c.version} ({c.repository})" for c in source.current(name)]
        return "\n".join([head, *describe_reqs(name), f"  available: {', '.join(available) or 'none'}"])

    def try_next(frame: _Frame) -> bool:
        nonlocal steps
        while True:
            undo_to(frame.trail_len, frame.order_len)
            cand = frame.options.next()
            if cand is None:
                if frame.options.yielded == 0:
                    no_version.append(describe_no_version(frame.name, frame.options))
                return False
            steps += 1
            if steps > max_steps:
                raise ResolutionError(
                    f"gave up after {max_steps} attempts to resolve the R packages; add version constraints to narrow the search"
                )
            chosen[frame.name] = cand
            trail.append(("choose", frame.name))
            clash = None
            for dep in cand.deps:
                if dep.name == cand.name or is_skipped(dep.name):
                    continue
                add_req(dep.name, _Req(dep.constraints, cand.name, f"{cand.label}"))
                other = chosen.get(dep.name)
                if other is not None and not satisfies(other.key, dep.constraints):
                    clash = describe_clash(dep.name, other)
                    break
            if clash is None:
                return True
            conflicts.append(clash)

    frames: list[_Frame] = []
    cursor = 0
    while cursor < len(order):
        name = order[cursor]
        constraints = [c for req in reqs[name] for c in req.constraints]
        options = _Options(name, source, constraints, r_version_key, preferences.get(name), os_types)
        frame = _Frame(name, options, len(trail), len(order), cursor)
        frames.append(frame)
        while not try_next(frames[-1]):
            failed = frames.pop()
            undo_to(failed.trail_len, failed.order_len)
            if not frames:
                detail = no_version[-1] if no_version else (conflicts[-1] if conflicts else f"cannot resolve `{failed.name}`")
                raise ResolutionError(detail)
        cursor = frames[-1].cursor + 1

    edges: dict[str, list[str]] = {}
    for name, cand in chosen.items():
        edges[name] = sorted({d.name for d in cand.deps if d.name in chosen and d.name != name})
    return Resolution(chosen=dict(chosen), edges=edges, skipped=dict(skipped))


def closure(roots: Sequence[str], resolution: Resolution) -> list[str]:
    """Names reachable from roots within a resolution (roots that were skipped are left out)."""
    seen: set[str] = set()
    stack = [r for r in roots if r in resolution.chosen]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        stack.extend(resolution.edges.get(name, ()))
    return sorted(seen, key=str.lower)


def install_order(names: Sequence[str], edges: dict[str, list[str]]) -> list[str]:
    """Dependencies before dependents (cycles, which CRAN forbids, are broken by name order)."""
    wanted = set(names)
    done: set[str] = set()
    visiting: set[str] = set()
    result: list[str] = []

    def visit(name: str) -> None:
        stack: list[tuple[str, Iterator[str]]] = [(name, iter(sorted(d for d in edges.get(name, ()) if d in wanted)))]
        visiting.add(name)
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                visiting.discard(node)
                if node not in done:
                    done.add(node)
                    result.append(node)
                continue
            if child in done or child in visiting:
                continue
            visiting.add(child)
            stack.append((child, iter(sorted(d for d in edges.get(child, ()) if d in wanted))))

    for name in sorted(wanted, key=str.lower):
        if name not in done:
            visit(name)
    return result
