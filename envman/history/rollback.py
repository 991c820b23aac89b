"""Rollback: act on the lock of an earlier revision without checking it out.

- `envman lock --at REV [--with-manifest]` writes REV's lock (and manifest) back as the
  current files, atomically, for a rollback commit;
- `envman sync TARGET --at REV` syncs against `lock:ENV@REV` (envman.targets.Project reads
  it with `git show`);
- `envman build --at REV` builds from REV's manifest and lock, put in a scratch folder of the
  project's name (with links to the project's other files, so relative paths still resolve),
  with REV's provenance: the commit that last changed the lock at REV and its time, which are
  the image's revision label and SOURCE_DATE_EPOCH. The same lock, base and artifacts then
  give the image ID the image had when it was first built.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from envman.errors import BadInputError
from envman.history.git import Commit, GitRepo, open_repo

__all__ = ["AtRevision", "at_revision", "materialized", "restore_lock"]


@dataclass(frozen=True)
class AtRevision:
    repo: GitRepo
    rev: str  # as the user wrote it
    commit: Commit  # what it names
    lock_change: Commit  # the commit at or before it that last changed the lock (its provenance)

    def describe(self) -> str:
        from envman.history.timeline import iso_date

        return f"{self.commit.short} ({iso_date(self.commit.time)[:10]}, {self.commit.subject!r})"


def at_revision(manifest_path: Path, rev: str) -> AtRevision:
    """REV checked: a git repository, a known revision, a lock at it (else exit 2)."""
    repo = open_repo(manifest_path)
    commit = repo.commit(rev)
    repo.lock_text(commit.sha)  # raises when REV has no lock
    change = repo.last_change(commit.sha)
    if change is None:  # cannot happen when the lock exists at REV, but never guess
        raise BadInputError(f"revision {rev!r}: git log finds no commit of {repo.path}")
    return AtRevision(repo, rev, commit, change)


def restore_lock(manifest_path: Path, rev: str, with_manifest: bool) -> tuple[AtRevision, str, str | None, str | None]:
    """Write REV's lock (and manifest) over the current ones, atomically; returns (the
    revision, the old lock's text, the current lock's text before, the manifest written)."""
    from envman.atomic import atomic_write_text
    from envman.lockfile.canonical import parse_lock
    from envman.lockfile.paths import lock_path_for

    at = at_revision(manifest_path, rev)
    text = at.repo.lock_text(at.commit.sha)
    parse_lock(text, f"{at.repo.path}@{at.commit.short}")  # a broken old lock is refused, nothing written
    manifest_text = None
    if with_manifest:
        manifest_text = at.repo.file_text(at.commit.sha, at.repo.manifest_path)
        if manifest_text is None:
            raise BadInputError(f"revision {rev!r} ({at.commit.short}) has no {at.repo.manifest_path}")
        from envman.manifest import parse_manifest

        parse_manifest(manifest_text, f"{at.repo.manifest_path}@{at.commit.short}")
    lock_path = lock_path_for(manifest_path)
    before = lock_path.read_text(encoding="utf-8") if lock_path.is_file() else None
    old_manifest = manifest_path.read_text(encoding="utf-8") if manifest_text is not None and manifest_path.is_file() else None
    try:
        if manifest_text is not None:
            atomic_write_text(manifest_path, manifest_text)
        try:
            atomic_write_text(lock_path, text)
        except OSError:
            if old_manifest is not None:  # never the old manifest beside the new lock, or the reverse
                atomic_write_text(manifest_path, old_manifest)
            raise
    except OSError as exc:
        raise BadInputError(f"{lock_path}: cannot write: {exc.strerror or exc}") from None
    return at, text, before, manifest_text


@contextmanager
def materialized(manifest_path: Path, rev: str) -> Iterator[tuple[Path, AtRevision]]:
    """REV's envman.yaml and envman.lock in a scratch folder named as the project folder;
    every other entry of the project folder is linked there. Yields (manifest path, REV)."""
    at = at_revision(manifest_path, rev)
    manifest_text = at.repo.file_text(at.commit.sha, at.repo.manifest_path)
    if manifest_text is None:
        raise BadInputError(f"revision {rev!r} ({at.commit.short}) has no {at.repo.manifest_path}: an image needs the manifest too")
    lock_text = at.repo.lock_text(at.commit.sha)
    project = manifest_path.resolve().parent
    scratch = Path(tempfile.mkdtemp(prefix="envman-at-"))
    try:
        folder = scratch / project.name
        folder.mkdir()
        for entry in os.listdir(project):
            if entry in (manifest_path.name, "envman.lock", ".git"):
                continue
            os.symlink(project / entry, folder / entry)
        (folder / manifest_path.name).write_text(manifest_text, encoding="utf-8")
        (folder / "envman.lock").write_text(lock_text, encoding="utf-8")
        yield folder / manifest_path.name, at
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
