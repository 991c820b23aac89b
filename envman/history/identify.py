"""`envman identify TARGET`: which revision of the lock a live target matches.

Every revision that changed envman.lock is a candidate, in every environment (or --env's).
A quick pass compares (ecosystem, name, version) sets of the target and of each revision's
lock (read as envman.history.lockdata reads them: one git process, each blob parsed once);
the closest few are then checked exactly as `envman check` would check the target against
`lock:ENV@PLATFORM@REV` (envman.drift.check, runtimes included). A revision with no finding
is an exact match; the newest exact match is the answer, with the oldest revision from which
that environment's lock has been the same ("since").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envman import ecosystems
from envman.errors import BadInputError
from envman.history.git import Commit, open_repo
from envman.history.lockdata import HistoryLock, Section, row_entry
from envman.history.timeline import iso_date, read_locks
from envman.snapshot import Snapshot

__all__ = ["Candidate", "Identification", "identify", "CLOSEST"]

CLOSEST = 3  # revisions shown when none matches exactly
_CHECKED = 5  # revisions checked in full after the quick pass (the first exact one ends it)


@dataclass
class Candidate:
    commit: Commit
    environment: str
    platform: str
    findings: list[Any]  # envman.drift.Finding
    since: Commit | None = None  # the oldest commit from which this environment's lock is the same

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            **self.commit.to_data(),
            "environment": self.environment,
            "platform": self.platform,
            "target": f"lock:{self.environment}@{self.platform}@{self.commit.short}",
            "differences": [f.to_data() for f in self.findings],
        }
        if self.since is not None:
            data["since"] = {"commit": self.since.sha, "short": self.since.short, "date": iso_date(self.since.time),
                             "subject": self.since.subject}
        return data


@dataclass
class Identification:
    target: str
    revisions: int  # how many were compared
    exact: Candidate | None
    closest: list[Candidate] = field(default_factory=list)
    shallow: bool = False

    def to_data(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "exact": self.exact is not None,
            "match": self.exact.to_data() if self.exact is not None else None,
            "closest": [c.to_data() for c in self.closest],
            "revisions": self.revisions,
            "shallow": self.shallow,
        }


def _quick_key(eco: str, name: str, version: str) -> tuple[str, str, str]:
    return (eco, ecosystems.get(eco).normalize_name(name), version)


class _Keys:
    """(ecosystem, normalized name, version) of each revision's section, computed from the
    previous revision's by the rows that differ (neighbouring locks share most entries)."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str, str], tuple[frozenset[str], frozenset[tuple[str, str, str]]]] = {}

    def of(self, where: tuple[str, str, str], eco: str, section: Section | None) -> frozenset[tuple[str, str, str]]:
        if section is None:
            return frozenset()
        rows = section.rows()
        try:
            if rows is None:
                raise ValueError("read from YAML")
            last = self._last.get(where)
            if last is None:
                keys = frozenset(_row_key(eco, row) for row in rows)
            elif last[0] is rows or last[0] == rows:
                keys = last[1]
            else:
                gone = {_row_key(eco, row) for row in last[0] - rows}
                came = {_row_key(eco, row) for row in rows - last[0]}
                keys = frozenset((last[1] - gone) | came)
        except ValueError:  # read from YAML, or a list edited by hand
            self._last.pop(where, None)
            return frozenset(_quick_key(eco, e.name, e.version) for e in section.entries())
        self._last[where] = (rows, keys)
        return keys


def _row_key(eco: str, row: str) -> tuple[str, str, str]:
    entry = row_entry(row)
    return _quick_key(eco, entry.name, entry.version)


def _target_keys(snap: Snapshot) -> dict[str, set[tuple[str, str, str]]]:
    out: dict[str, set[tuple[str, str, str]]] = {}
    for eco in snap.ecosystems:
        rules = ecosystems.get(eco)
        out[eco] = {_quick_key(eco, p.name, p.version) for p in snap.of(eco) if not rules.ignorable_extra(p)}
    return out


def identify(manifest_path: Path, snap: Snapshot, environment: str | None = None, platform: str | None = None) -> Identification:
    """Compare the target's snapshot with the lock at every revision (see the module doc)."""
    from envman.drift import check
    from envman.targets import Project
    from envman.targets.context import DEFAULT_PLATFORM, platform_of
    from envman.targets.reading import snapshot_from_platform_lock

    repo = open_repo(manifest_path)
    commits = repo.commits()
    if not commits:
        raise BadInputError(f"{repo.path} has no committed revision in {repo.top}")
    locks = read_locks(repo, [c.sha for c in commits])
    have = _target_keys(snap)
    guess = platform or platform_of(snap.environment.get("python-markers") or {})
    scored: list[tuple[int, int, str, str]] = []  # (quick distance, age, environment, platform)
    envs_seen: set[str] = set()
    content: dict[tuple[int, str, str], frozenset[tuple[str, str, str]]] = {}
    keys_of = _Keys()
    for age in reversed(range(len(locks))):  # oldest first: each revision's keys from the one before
        lock = locks[age]
        if not isinstance(lock, HistoryLock):
            continue
        envs_seen.update(lock.environments)
        for env, platforms in lock.environments.items():
            if environment is not None and env != environment:
                continue
            fallback = DEFAULT_PLATFORM if DEFAULT_PLATFORM in platforms else sorted(platforms)[0]
            plat = platform or (guess if guess in platforms else fallback)
            body = platforms.get(plat)
            if body is None:
                continue
            expected: set[tuple[str, str, str]] = set()
            distance = 0
            for eco in have:
                keys = keys_of.of((env, plat, eco), eco, body.sections.get(eco))
                expected |= keys
                distance += len(keys ^ have[eco])
            content[(age, env, plat)] = frozenset(expected)
            scored.append((distance, age, env, plat))
    if environment is not None and environment not in envs_seen:
        known = ", ".join(sorted(envs_seen)) or "none"
        raise BadInputError(f"--env {environment!r}: no revision of {repo.path} has it (environments: {known})")
    if not scored:
        raise BadInputError(f"no revision of {repo.path} has an environment for {snap.target} to match")
    scored.sort()
    project = Project(manifest_path)
    checked: list[tuple[int, int, Candidate]] = []
    for _distance, age, env, plat in scored[:_CHECKED]:
        commit = commits[age]
        lock = locks[age]
        assert isinstance(lock, HistoryLock)
        manifest = project.manifest_data(commit.sha) or {}  # runtime versions of that revision
        expected_snap = snapshot_from_platform_lock(
            f"lock:{env}@{plat}@{commit.short}", lock.platform_lock(env, plat), env, plat, manifest, commit.sha
        )
        findings = check(expected_snap, snap)
        checked.append((len(findings), age, Candidate(commit, env, plat, findings)))
        if not findings:
            break
    checked.sort(key=lambda item: (item[0], item[1]))
    best = checked[0][2] if checked and checked[0][0] == 0 else None
    if best is not None:
        age = commits.index(best.commit)
        same = content[(age, best.environment, best.platform)]
        oldest = age
        while oldest + 1 < len(commits) and content.get((oldest + 1, best.environment, best.platform)) == same:
            oldest += 1
        best.since = commits[oldest]
        return Identification(snap.target, len(commits), best, [], repo.shallow)
    return Identification(snap.target, len(commits), None, [c for _, _, c in checked[:CLOSEST]], repo.shallow)
