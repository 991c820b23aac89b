"""R packages from git remotes: `name (github: owner/repo@ref)` and `name (git: URL@ref)`.

At lock time the ref (branch, tag or commit; HEAD when none) is resolved to its full commit
with git itself, and the package's source tarball is made from that commit the way
`R CMD build` lays one out for a pure source package: `git archive --prefix=NAME/` of the
commit, gzip without a timestamp, so the same commit always gives the same bytes and the
lock records their sha256. The tarballs are laid out as a CRAN-like repository in a
temporary folder that the resolver reads first (dependencies then resolve from the other
repositories as usual); the lock entry names the remote (`repository: github` or `git`,
`url: git+URL@COMMIT`, `commit`). A package in a folder of its repository (remotes'
`owner/repo/subdir`, renv's `RemoteSubdir`) is that folder's tree at the commit, and its URL
ends in `#subdirectory=DIR`.

GitHub's URLs are `https://github.com/OWNER/REPO.git` (`r.github-url` sets another base, a
GitHub Enterprise host or a mirror). git runs as envman.gitsource runs it (no prompt, only
the http, https, ssh and file transports, no user or system config or hooks).
"""

from __future__ import annotations

import gzip
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from envman.errors import BadInputError, ResolutionError, UnreachableError
from envman.gitsource import archive_tar, run_git

__all__ = ["Remote", "parse_remote", "REMOTE_SPEC", "RemoteTarball", "materialize", "ensure_cached", "DEFAULT_GITHUB_URL"]

DEFAULT_GITHUB_URL = "https://github.com"
REMOTE_SPEC = re.compile(
    r"^\s*(?P<name>[A-Za-z][A-Za-z0-9.]*)\s*\(\s*(?P<kind>github|git)\s*:\s*(?P<where>[^\s()@]+(?:@[^\s()@]+)?)"
    r"(?:@(?P<ref>[A-Za-z0-9._/\-]+))?\s*\)\s*$"
)
_OWNER_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9_.\-]+(?:/[A-Za-z0-9_.\-]+)*$")  # owner/repo[/subdir…]
_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/\-]*$")
_SHA = re.compile(r"^[0-9a-f]{40}$")


@dataclass(frozen=True)
class Remote:
    name: str
    kind: str  # "github" | "git"
    where: str  # owner/repo, or the clone URL
    ref: str | None
    subdir: str | None = None  # the package's folder in the repository (remotes' owner/repo/subdir)

    def clone_url(self, github_url: str | None = None) -> str:
        if self.kind == "github":
            return f"{(github_url or DEFAULT_GITHUB_URL).rstrip('/')}/{self.where}.git"
        return self.where


def parse_remote(spec: str) -> Remote | None:
    """The remote of a spec, None for a repository spec; ValueError for a malformed remote."""
    match = REMOTE_SPEC.match(spec)
    if match is None:
        if re.search(r"\(\s*(github|git)\s*:", spec):
            raise ValueError("not a valid R remote (expected `name (github: owner/repo@ref)` or `name (git: URL@ref)`)")
        return None
    kind, where, ref = match.group("kind"), match.group("where"), match.group("ref")
    if kind == "github":
        if "@" in where:
            where, _, ref = where.partition("@")
        if not _OWNER_REPO.match(where) or {".", ".."} & set(where.split("/")):
            raise ValueError(f"not a GitHub owner/repo: {where!r}")
        owner, repo, *inside = where.split("/")
        if inside:
            return _checked_ref(Remote(match.group("name"), kind, f"{owner}/{repo}", ref, "/".join(inside)))
    else:
        if not re.match(r"^(https?|ssh|file)://", where) or where.startswith("-"):
            raise ValueError(f"a git remote is an http(s), ssh or file URL, not {where!r}")
        base, sep, tail = where.rpartition("@")  # URL@ref: the last `@` after the host part
        if sep and "/" not in tail and base.count("/") >= 3:
            where, ref = base, tail
    return _checked_ref(Remote(match.group("name"), kind, where, ref))


def _checked_ref(remote: Remote) -> Remote:
    if remote.ref is not None and not _REF.match(remote.ref):
        raise ValueError(f"not a git ref: {remote.ref!r}")
    return remote


@dataclass(frozen=True)
class RemoteTarball:
    remote: Remote
    url: str  # git+CLONE_URL@COMMIT[#subdirectory=DIR] (as the lock records it)
    commit: str
    filename: str
    sha256: str


def _git(args: list[str], cwd: Path | None = None, what: str = "git") -> bytes:
    return run_git(args, cwd, what, needed_for="R packages from git remotes")


def _tarball(remote: Remote, clone: Path, commit: str) -> tuple[bytes, dict[str, str]]:
    from envman.ecosystems.r.dcf import decode_dcf_bytes, parse_dcf_record

    what = f"{remote.name} ({remote.kind}: {remote.where}{'/' + remote.subdir if remote.subdir else ''})"
    try:
        description = _git(["show", f"{commit}:{remote.subdir + '/' if remote.subdir else ''}DESCRIPTION"], clone, what)
    except UnreachableError:
        place = f"in {remote.subdir}/" if remote.subdir else "at the top of the repository"
        raise ResolutionError(f"{what}: the commit {commit[:12]} has no DESCRIPTION {place}") from None
    record = parse_dcf_record(decode_dcf_bytes(description))
    if record.get("Package") != remote.name:
        raise ResolutionError(f"{what}: its DESCRIPTION is of the package {record.get('Package')!r}, not {remote.name!r}")
    if not record.get("Version"):
        raise ResolutionError(f"{what}: its DESCRIPTION has no Version")
    tar = archive_tar(clone, commit, remote.name, what, remote.subdir, needed_for="R packages from git remotes")
    return gzip.compress(tar, compresslevel=9, mtime=0), record


def materialize(remotes: list[Remote], folder: Path, github_url: str | None = None) -> list[RemoteTarball]:
    """Resolve each remote's ref, make its tarball and lay out folder as a CRAN-like
    repository (src/contrib/NAME_VERSION.tar.gz and PACKAGES)."""
    contrib = folder / "src" / "contrib"
    contrib.mkdir(parents=True, exist_ok=True)
    out: list[RemoteTarball] = []
    records: list[str] = []
    for index, remote in enumerate(remotes):
        url = remote.clone_url(github_url)
        clone = folder / "clones" / str(index)
        _git(["clone", "--quiet", "--bare", "--no-tags", "--", url, str(clone)], what=f"{remote.name}: git clone {url}")
        _git(["fetch", "--quiet", "--tags", "--", url], clone, f"{remote.name}: git fetch {url}")
        ref = remote.ref or "HEAD"
        try:
            commit = _git(["rev-parse", "--verify", "--end-of-options", f"{ref}^{{commit}}"], clone, remote.name).decode().strip()
        except UnreachableError:
            raise ResolutionError(f"{remote.name}: {url} has no branch, tag or commit {ref!r}") from None
        if not _SHA.match(commit):
            raise ResolutionError(f"{remote.name}: git gave no full commit for {ref!r}")
        data, record = _tarball(remote, clone, commit)
        filename = f"{remote.name}_{record['Version']}.tar.gz"
        (contrib / filename).write_bytes(data)
        keys = ("Package", "Version", "Depends", "Imports", "LinkingTo", "NeedsCompilation")
        fields = {key: record[key] for key in keys if key in record}
        fields["MD5sum"] = hashlib.md5(data).hexdigest()  # the index checksum CRAN-like repositories publish
        records.append("".join(f"{k}: {' '.join(v.split())}\n" for k, v in fields.items()))
        locked = f"git+{url}@{commit}" + (f"#subdirectory={remote.subdir}" if remote.subdir else "")
        out.append(RemoteTarball(remote, locked, commit, filename, hashlib.sha256(data).hexdigest()))
    names = [t.remote.name for t in out]
    if len(set(names)) != len(names):
        raise BadInputError(f"r: a package is named by two remotes: {', '.join(sorted(n for n in set(names) if names.count(n) > 1))}")
    (contrib / "PACKAGES").write_text("\n".join(records), encoding="utf-8")
    return out


def ensure_cached(entry: Any, cache: Any) -> None:
    """A locked remote package's tarball in the artifact cache, made again from its commit
    when the cache lacks it and checked against the locked sha256 (sync and build then read
    it from the cache like any downloaded artifact). Not a remote entry: nothing to do."""
    import tempfile

    from envman.errors import SyncError

    url = str(getattr(entry, "url", "") or "")
    if not url.startswith("git+") or cache.get_artifact(entry.sha256) is not None:
        return
    main, _, fragment = url[len("git+"):].partition("#")
    clone_url, _, commit = main.rpartition("@")
    if not _SHA.match(commit) or commit != getattr(entry, "commit", None):
        raise SyncError(f"{entry.name}: the locked URL {url} is not pinned to its commit")
    subdir = fragment.removeprefix("subdirectory=") if fragment.startswith("subdirectory=") else None
    if fragment and (subdir is None or not _OWNER_REPO.match(f"o/r/{subdir}") or {".", ".."} & set(subdir.split("/"))):
        raise SyncError(f"{entry.name}: the locked URL {url} has an unusable fragment")
    remote = Remote(entry.name, "git", clone_url, commit, subdir)
    with tempfile.TemporaryDirectory(prefix="envman-r-remote-") as tmp:
        clone = Path(tmp) / "clone"
        _git(["clone", "--quiet", "--bare", "--no-tags", "--", clone_url, str(clone)], what=f"{entry.name}: git clone {clone_url}")
        data, record = _tarball(remote, clone, commit)
    if record.get("Version") != entry.version:
        raise SyncError(f"{entry.name}: the commit {commit[:12]} holds version {record.get('Version')}, the lock says {entry.version}")
    try:
        cache.put_artifact(data, entry.sha256)
    except ValueError as exc:
        raise SyncError(f"{entry.name}: the tarball made from {url} is not the locked one ({exc}); refusing to install it") from None
