"""`envman history`: the commits that changed envman.lock, newest first, each with what it
changed per environment and ecosystem (added, removed, upgraded, downgraded in each
ecosystem's version order: envman.lockchanges, as `envman lock` reports it).

Each commit is compared with the lock of its first parent. All blobs (each commit's lock and
its parent's) come from one `git cat-file --batch`; a blob is parsed once however many
commits share it (envman.history.lockdata). In a shallow clone the oldest commit git has is
a boundary: what it changed is not known, and the timeline says history stops there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envman.errors import BadInputError
from envman.history.git import Commit, GitRepo, iso_date, open_repo
from envman.history.lockdata import HistoryLock, HistoryLockError, changed_only, read_history_lock
from envman.lockchanges import Change, lock_changes

__all__ = ["Revision", "Timeline", "KINDS", "load_timeline", "read_locks", "iso_date"]

KINDS = ("added", "removed", "upgraded", "downgraded", "changed")


@dataclass
class Revision:
    commit: Commit
    changes: list[Change] = field(default_factory=list)
    error: str | None = None  # the lock at this commit cannot be read
    deleted: bool = False  # the commit removed envman.lock
    boundary: bool = False  # shallow clone: the parent is not here, changes unknown
    created: bool = False  # the lock's first commit

    def counts(self) -> dict[str, dict[str, dict[str, int]]]:
        """{environment: {ecosystem: {kind: packages}}}; a package changed the same way on
        several platforms counts once."""
        seen: dict[str, dict[str, dict[str, set[str]]]] = {}
        for c in self.changes:
            seen.setdefault(c.environment, {}).setdefault(c.ecosystem, {}).setdefault(c.kind, set()).add(c.name)
        return {
            env: {eco: {k: len(kinds[k]) for k in KINDS if k in kinds} for eco, kinds in sorted(ecos.items())}
            for env, ecos in sorted(seen.items())
        }

    def to_data(self, packages: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            **self.commit.to_data(),
            "created": self.created,
            "deleted": self.deleted,
            "boundary": self.boundary,
            "error": self.error,
            "counts": self.counts(),
        }
        if packages:
            data["changes"] = [c.as_dict() for c in self.changes]
        return data


@dataclass
class Timeline:
    lock_path: str  # the lock's path in the repository
    revisions: list[Revision]
    shallow: bool
    stops_at: Commit | None  # shallow clone: the oldest commit here
    environment: str | None
    since: str | None

    def to_data(self, packages: bool = True) -> dict[str, Any]:
        return {
            "lock": self.lock_path,
            "environment": self.environment,
            "since": self.since,
            "shallow": self.shallow,
            "stops_at": None
            if self.stops_at is None
            else {"commit": self.stops_at.sha, "short": self.stops_at.short, "date": iso_date(self.stops_at.time)},
            "revisions": [r.to_data(packages) for r in self.revisions],
        }


def read_locks(repo: GitRepo, revs: Sequence[str]) -> list[HistoryLock | HistoryLockError | None]:
    """The lock at each of `revs` (commit ids), None where it has none; each distinct blob
    read once (envman.history.git.GitRepo.read) and parsed once."""
    blobs = repo.read(f"{rev}:{repo.path}" for rev in revs)
    parsed: dict[str, HistoryLock | HistoryLockError] = {}
    out: list[HistoryLock | HistoryLockError | None] = []
    for rev, blob in zip(revs, blobs, strict=True):
        if blob is None:
            out.append(None)
            continue
        oid, data = blob
        if oid not in parsed:
            try:
                parsed[oid] = read_history_lock(data.decode("utf-8", "replace"), f"{repo.path}@{rev[:7]}")
            except BadInputError as exc:
                parsed[oid] = HistoryLockError(str(exc))
        out.append(parsed[oid])
    return out


def load_timeline(manifest_path: Path, environment: str | None = None, since: str | None = None, limit: int | None = None) -> Timeline:
    """The lock's timeline (newest first), optionally one environment's changes only."""
    repo = open_repo(manifest_path)
    commits = repo.commits(since)
    if limit is not None:
        commits = commits[:limit]
    boundary = set(repo.shallow_boundary())
    parents = [c.parents[0] if c.parents else None for c in commits]
    wanted: list[str] = []
    for commit, parent in zip(commits, parents, strict=True):
        wanted.append(commit.sha)
        if parent is not None:
            wanted.append(parent)
    wanted = list(dict.fromkeys(wanted))
    locks = dict(zip(wanted, read_locks(repo, wanted), strict=True))
    revisions: list[Revision] = []
    environments: set[str] = set()
    for commit, parent in zip(commits, parents, strict=True):
        now = locks[commit.sha]
        before = locks.get(parent) if parent is not None else None
        rev = Revision(commit)
        if commit.sha in boundary and not commit.parents:
            rev.boundary = True
        elif before is None and isinstance(now, HistoryLock):
            rev.created = True
        if isinstance(now, HistoryLockError):
            rev.error = str(now)
        elif isinstance(before, HistoryLockError):
            rev.error = f"the lock before this commit cannot be read: {before}"
        elif now is None:
            rev.deleted = True
        elif not rev.boundary:
            rev.changes = lock_changes(*changed_only(before, now))
        if isinstance(now, HistoryLock):
            environments.update(now.environments)
        if environment is not None:
            rev.changes = [c for c in rev.changes if c.environment == environment]
            if not rev.changes and not (rev.error or rev.deleted or rev.boundary):
                continue  # a commit that changed other environments only
        revisions.append(rev)
    if environment is not None and commits and environment not in environments:
        known = ", ".join(sorted(environments)) or "none"
        raise BadInputError(f"--env {environment!r}: no revision of {repo.path} has it (environments: {known})")
    stops = None
    if repo.shallow and boundary:
        here = [c for c in commits if c.sha in boundary]
        stops = here[-1] if here else repo.commit(sorted(boundary)[0])
    return Timeline(repo.path, revisions, repo.shallow, stops, environment, since)
