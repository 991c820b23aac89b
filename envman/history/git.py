"""git as the lock's history: the commits that touched envman.lock and their blobs.

Four processes whatever the length of the history: `git rev-parse` (where the repository
is, whether it is shallow), `git log` (the commits), `git cat-file --batch-check` (the blob
behind each commit's lock) and one `git cat-file --batch` that reads each distinct blob once
through one pipe. Revisions given by users are checked with
`git rev-parse --verify` before anything reads them; errors are BadInputError (exit 2).
"""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from envman.errors import BadInputError, UnreachableError

__all__ = ["Commit", "GitRepo", "open_repo", "iso_date"]

_SEP = "\x1f"  # between fields of one commit in `git log --format`
_END = "\x1e"  # after each commit
_TIMEOUT = 120


@dataclass(frozen=True)
class Commit:
    sha: str
    time: int  # committer time, seconds since the epoch (UTC)
    author: str
    subject: str
    parents: tuple[str, ...]

    @property
    def short(self) -> str:
        return self.sha[:7]

    def to_data(self) -> dict[str, str]:
        """The commit as the JSON outputs of history and identify name it."""
        return {"commit": self.sha, "short": self.short, "date": iso_date(self.time), "author": self.author, "subject": self.subject}


def iso_date(stamp: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))


def _git(folder: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    try:
        return subprocess.run(["git", "-C", str(folder), *args], input=stdin, capture_output=True, timeout=_TIMEOUT, check=False)
    except FileNotFoundError:
        raise UnreachableError("git is not installed (history needs it on PATH)") from None
    except subprocess.TimeoutExpired:
        raise UnreachableError(f"git {args[0]} did not answer within {_TIMEOUT} s in {folder}") from None


def _last_line(proc: subprocess.CompletedProcess[bytes]) -> str:
    lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    return lines[-1] if lines else "git failed"


@dataclass(frozen=True)
class GitRepo:
    """The repository that holds a project's lock; `path` is the lock's path in it (posix)."""

    folder: Path  # the project folder (where envman.yaml is)
    top: Path
    path: str
    manifest_path: str
    shallow: bool

    # -- revisions ------------------------------------------------------------------------
    def resolve(self, rev: str) -> str:
        """The full commit id of REV; unknown revisions are bad input (exit 2)."""
        if not rev or rev.startswith("-") or any(c in rev for c in "\n\r\0"):
            raise BadInputError(f"{rev!r} is not a git revision")
        proc = _git(self.top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
        if proc.returncode != 0:
            raise BadInputError(f"unknown revision {rev!r} in {self.top}")
        return proc.stdout.decode().strip()

    def commits(self, since: str | None = None, path: str | None = None) -> list[Commit]:
        """Commits that changed `path` (the lock), newest first, following HEAD; `since`: a
        date as `git log --since` takes it (2026-10-01, "2 weeks ago")."""
        fmt = _SEP.join(("%H", "%ct", "%an", "%s", "%P")) + _END
        if since is not None and re.fullmatch(r"\d{4}-\d{2}-\d{2}", since.strip()):
            since = since.strip() + " 00:00:00"  # a day means from its start (git alone takes the time of day now)
        limit = [f"--since={since}"] if since else []
        if since is not None and (not since.strip() or any(c in since for c in "\n\r\0")):
            raise BadInputError(f"--since {since!r}: not a date")
        proc = _git(self.top, "log", f"--format={fmt}", "--no-color", *limit, "HEAD", "--", path or self.path)
        if proc.returncode != 0:
            if b"does not have any commits" in proc.stderr or b"unknown revision" in proc.stderr:
                return []
            raise BadInputError(f"git log in {self.top}: {_last_line(proc)}")
        out: list[Commit] = []
        for record in proc.stdout.decode("utf-8", "replace").split(_END):
            record = record.strip("\n")
            if not record:
                continue
            sha, stamp, author, subject, parents = (record.split(_SEP) + [""] * 5)[:5]
            out.append(Commit(sha, int(stamp), author, subject, tuple(parents.split())))
        return out

    def commit(self, rev: str) -> Commit:
        """One commit's facts (REV checked first)."""
        sha = self.resolve(rev)
        fmt = _SEP.join(("%H", "%ct", "%an", "%s", "%P"))
        proc = _git(self.top, "log", "-1", f"--format={fmt}", sha)
        sha, stamp, author, subject, parents = (proc.stdout.decode("utf-8", "replace").strip("\n").split(_SEP) + [""] * 5)[:5]
        return Commit(sha, int(stamp), author, subject, tuple(parents.split()))

    def last_change(self, rev: str, path: str | None = None) -> Commit | None:
        """The newest commit at or before REV that changed `path` (the lock): its commit time is
        the SOURCE_DATE_EPOCH of an image built from that lock."""
        sha = self.resolve(rev)
        fmt = _SEP.join(("%H", "%ct", "%an", "%s", "%P"))
        proc = _git(self.top, "log", "-1", f"--format={fmt}", sha, "--", path or self.path)
        text = proc.stdout.decode("utf-8", "replace").strip("\n")
        if proc.returncode != 0 or not text:
            return None
        sha, stamp, author, subject, parents = (text.split(_SEP) + [""] * 5)[:5]
        return Commit(sha, int(stamp), author, subject, tuple(parents.split()))

    # -- blobs ----------------------------------------------------------------------------
    def read(self, objects: Iterable[str]) -> list[tuple[str, bytes] | None]:
        """(blob id, contents) of each object (`COMMIT:PATH` or a blob id), None where it is
        missing or not a file. Two processes however many objects: `git cat-file
        --batch-check` names the blob behind each, then ONE `git cat-file --batch` reads each
        distinct blob once (neighbouring commits often share the lock's blob)."""
        names = list(objects)
        if not names:
            return []
        for name in names:
            if "\n" in name or "\r" in name:
                raise BadInputError(f"{name!r} is not a git object name")
        check = _git(self.top, "cat-file", "--batch-check", stdin="".join(n + "\n" for n in names).encode())
        if check.returncode != 0:
            raise BadInputError(f"git cat-file in {self.top}: {_last_line(check)}")
        oids: list[str | None] = []
        for line in check.stdout.decode("utf-8", "replace").split("\n")[: len(names)]:
            parts = line.split(" ")
            oids.append(parts[0] if len(parts) == 3 and parts[1] == "blob" else None)
        unique = list(dict.fromkeys(o for o in oids if o is not None))
        contents: dict[str, bytes] = {}
        if unique:
            proc = _git(self.top, "cat-file", "--batch", stdin="".join(o + "\n" for o in unique).encode())
            if proc.returncode != 0:
                raise BadInputError(f"git cat-file in {self.top}: {_last_line(proc)}")
            data = proc.stdout
            pos = 0
            for oid in unique:
                eol = data.index(b"\n", pos)
                header = data[pos:eol].split(b" ")
                pos = eol + 1
                if len(header) == 3 and header[2].isdigit():
                    size = int(header[2])
                    contents[oid] = data[pos : pos + size]
                    pos += size + 1
        return [(o, contents[o]) if o is not None and o in contents else None for o in oids]

    def lock_text(self, rev: str) -> str:
        """envman.lock as committed at REV; bad input when REV is unknown or has no lock."""
        sha = self.resolve(rev)
        (blob,) = self.read([f"{sha}:{self.path}"])
        if blob is None:
            raise BadInputError(f"revision {rev!r} ({sha[:7]}) has no {self.path}")
        return blob[1].decode("utf-8", "replace")

    def file_text(self, rev: str, path: str) -> str | None:
        sha = self.resolve(rev)
        (blob,) = self.read([f"{sha}:{path}"])
        return None if blob is None else blob[1].decode("utf-8", "replace")

    def shallow_boundary(self) -> list[str]:
        """The commits where a shallow clone's history stops (their parents are not here)."""
        if not self.shallow:
            return []
        proc = _git(self.top, "rev-parse", "--git-path", "shallow")
        if proc.returncode != 0:
            return []
        path = Path(proc.stdout.decode().strip())
        if not path.is_absolute():
            path = self.top / path
        try:
            return [line.strip() for line in path.read_text().splitlines() if line.strip()]
        except OSError:
            return []


def open_repo(manifest_path: Path, lock_name: str = "envman.lock") -> GitRepo:
    """The git repository around the project; not one: bad input (exit 2)."""
    folder = manifest_path.resolve().parent
    if not folder.is_dir():
        raise BadInputError(f"{folder}: no such folder")
    proc = _git(folder, "rev-parse", "--show-toplevel", "--show-prefix", "--is-shallow-repository")
    if proc.returncode != 0:
        raise BadInputError(f"{folder} is not in a git repository (history, identify and --at read the lock's git history)")
    lines = proc.stdout.decode("utf-8", "replace").split("\n")
    top, prefix, shallow = Path(lines[0]), lines[1], lines[2].strip() == "true"
    return GitRepo(folder, top, prefix + lock_name, prefix + manifest_path.name, shallow)
