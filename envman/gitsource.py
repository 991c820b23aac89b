"""Package sources from git, shared by every ecosystem that locks a git commit (R remotes,
Python VCS references): git itself, run without a terminal prompt, with only the http,
https, ssh and file transports and without the user's or system's config and hooks; and a
commit's source tarball with stable bytes (`git archive` of the commit, gzip without a
timestamp), so the same commit always gives the same sha256."""

from __future__ import annotations

import gzip
import os
import re
import subprocess
import tempfile
from pathlib import Path

from envman.errors import UnreachableError

__all__ = ["FULL_COMMIT", "run_git", "clone_bare", "archive_tar", "commit_tarball"]

FULL_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_GIT_TIMEOUT = 300.0
_KEPT = ("SSL_CERT_FILE", "GIT_SSL_CAINFO", "SSH_AUTH_SOCK", "http_proxy", "https_proxy", "HTTPS_PROXY", "no_proxy")


def run_git(args: list[str], cwd: Path | None = None, what: str = "git", needed_for: str = "git sources") -> bytes:
    """git's stdout; exit 4 (UnreachableError) when git is missing, slow or fails."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", "/nonexistent"),
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ALLOW_PROTOCOL": "http:https:ssh:file",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "LC_ALL": "C",
    }
    env.update({keep: os.environ[keep] for keep in _KEPT if keep in os.environ})
    env.setdefault("GIT_SSL_CAINFO", env.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"))
    try:
        done = subprocess.run(["git", "-c", "core.hooksPath=/dev/null", *args], cwd=cwd, env=env, capture_output=True,
                              timeout=_GIT_TIMEOUT, check=False)
    except FileNotFoundError:
        raise UnreachableError(f"git is not installed; it is needed for {needed_for}") from None
    except subprocess.TimeoutExpired:
        raise UnreachableError(f"{what}: git did not answer within {_GIT_TIMEOUT:g} s") from None
    if done.returncode != 0:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise UnreachableError(f"{what}: {message[-1] if message else 'git failed'}")
    return done.stdout


def clone_bare(url: str, into: Path, what: str, needed_for: str = "git sources") -> None:
    run_git(["clone", "--quiet", "--bare", "--no-tags", "--", url, str(into)], what=f"{what}: git clone {url}", needed_for=needed_for)


def archive_tar(clone: Path, commit: str, prefix: str, what: str, subdirectory: str | None = None,
                needed_for: str = "git sources") -> bytes:
    """The tar of `commit` (or of its `subdirectory`) under `prefix/`, with stable bytes.

    git archive dates every entry with the commit's time when given a commit, but with the
    current time when given a tree (`COMMIT:path`), so a folder's archive is re-dated to the
    commit's committer time here."""
    if not subdirectory:
        return run_git(["archive", "--format=tar", f"--prefix={prefix}/", commit], clone, what, needed_for)
    tar = run_git(["archive", "--format=tar", f"--prefix={prefix}/", f"{commit}:{subdirectory.strip('/')}"], clone, what, needed_for)
    when = int(run_git(["show", "-s", "--format=%ct", commit], clone, what, needed_for).strip() or 0)
    return _dated(tar, when)


def _dated(tar: bytes, when: int) -> bytes:
    import io
    import tarfile

    out = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(tar), mode="r:") as source, \
            tarfile.open(fileobj=out, mode="w:", format=tarfile.PAX_FORMAT) as target:
        for member in source:
            member.mtime = when
            member.pax_headers = {}
            target.addfile(member, source.extractfile(member) if member.isfile() else None)
    return out.getvalue()


def commit_tarball(url: str, commit: str, prefix: str, what: str, subdirectory: str | None = None,
                   needed_for: str = "git sources") -> bytes:
    """The .tar.gz of `commit` (or of its `subdirectory`) under `prefix/`, cloned from url."""
    if not FULL_COMMIT.match(commit):
        raise UnreachableError(f"{what}: {commit!r} is not a full commit")
    with tempfile.TemporaryDirectory(prefix="envman-git-") as tmp:
        clone = Path(tmp) / "clone"
        clone_bare(url, clone, what, needed_for)
        tar = archive_tar(clone, commit, prefix, what, subdirectory, needed_for)
    return gzip.compress(tar, compresslevel=9, mtime=0)
