"""Direct references (`name @ URL`) in images: their files on the host, into the cache.

The lock pins each one (envman.ecosystems.python.direct); the image installs exactly that:
- a git reference: the locked commit's source tarball (`git archive`, stable bytes, see
  envman.gitsource) under `NAME-VERSION/`, built in the builder stage like any sdist;
- an archive URL: the file, checked against the locked sha256 (exit 3 when it differs);
- an archive path (`file:./dist/x.whl`, relative to the manifest): read from the project
  folder and checked against the locked sha256 the same way.
A local folder has no locked hash, so an image of it would not be the lock: refused (exit 5),
as other VCS kinds (hg, svn, bzr) are.

Installed from files, a package would not say where it came from, so `check image:` could
not tell it from an index copy: the install step writes each one's PEP 610
`direct_url.json` (as pip and uv do when they install the URL), from `direct_urls()`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from envman.ecosystems.python.artifacts import PythonFile
from envman.errors import BuildError, ResolutionError

__all__ = ["direct_files", "direct_urls"]


def direct_files(entries: list[Any], project_dir: Path | None, cache: Any) -> list[PythonFile]:
    """One file per direct reference, already in the artifact cache (verified)."""
    return [_file(entry, project_dir, cache) for entry in sorted(entries, key=lambda e: e.name)]


def _file(entry: Any, project_dir: Path | None, cache: Any) -> PythonFile:
    from envman.redact import redact_url

    url = str(entry.url)
    shown = redact_url(url)
    commit = getattr(entry, "commit", None)
    if url.startswith("git+") and commit:
        data = _git_tarball(entry, url, str(commit))
        digest, _ = cache.put_artifact(data)
        return PythonFile(entry.name, entry.version, _sdist_name(entry, ".tar.gz"), shown, digest, True, None, url)
    if url.startswith(("hg+", "svn+", "bzr+")):
        raise BuildError(f"python: {entry.name} @ {shown}: images of {url.split('+')[0]} references are not supported (git is)")
    hashes = [str(h).removeprefix("sha256:") for h in entry.hashes or []]
    if not hashes:
        raise BuildError(
            f"python: {entry.name} @ {shown} is a local folder, locked without a hash, so an image of it would not be "
            "the lock; build it into a wheel (`uv build`) and name the file instead"
        )
    filename = _archive_name(entry, url)
    local = _local_path(url, project_dir)
    if local is not None:
        try:
            data = local.read_bytes()
        except OSError as exc:
            raise ResolutionError(f"python: {entry.name} @ {shown}: cannot read {local}: {exc.strerror}") from None
        try:
            digest, _ = cache.put_artifact(data, hashes[0])
        except ValueError as exc:
            raise ResolutionError(f"python: {entry.name} @ {shown}: {exc}; the file is not the locked one") from None
        return PythonFile(entry.name, entry.version, filename, shown, digest, not filename.endswith(".whl"), None, local.as_uri())
    return PythonFile(entry.name, entry.version, filename, shown, hashes[0], not filename.endswith(".whl"), None, url.split("#")[0])


def _git_tarball(entry: Any, url: str, commit: str) -> bytes:
    from envman.gitsource import FULL_COMMIT, commit_tarball

    main, _, fragment = url[len("git+"):].partition("#")
    clone_url, _, pinned = main.rpartition("@")
    if not FULL_COMMIT.match(commit) or pinned != commit:
        raise BuildError(f"python: {entry.name}: the locked URL {url} is not pinned to its commit")
    subdirectory = _fragment_value(fragment, "subdirectory")
    if subdirectory and (subdirectory.startswith("/") or ".." in subdirectory.split("/")):
        raise BuildError(f"python: {entry.name}: unusable subdirectory {subdirectory!r} in {url}")
    prefix = f"{_underscored(entry.name)}-{entry.version}"
    return commit_tarball(clone_url, commit, prefix, f"python: {entry.name}", subdirectory, needed_for="images of Python git references")


def _fragment_value(fragment: str, key: str) -> str | None:
    for part in fragment.split("&"):
        name, _, value = part.partition("=")
        if name == key and value:
            return unquote(value)
    return None


def _underscored(name: str) -> str:
    return name.replace("-", "_").replace(".", "_")


def _sdist_name(entry: Any, suffix: str) -> str:
    return f"{_underscored(entry.name)}-{entry.version}{suffix}"


def _archive_name(entry: Any, url: str) -> str:
    """The file's own name when it is a wheel or sdist name of this project (a wheel's tags
    matter), else NAME-VERSION.tar.gz/.zip (a forge's `v1.0.tar.gz`): the bytes stay the same."""
    from envman.ecosystems.python.simple_index import filename_identity

    path = urlsplit(url.split("#")[0]).path if "://" in url else url.removeprefix("file:")
    base = unquote(os.path.basename(path))
    identity = filename_identity(base)
    if identity is not None and identity[0] == entry.name and "/" not in base:
        return base
    if base.endswith(".whl"):
        raise BuildError(f"python: {entry.name}: {base!r} is not a wheel file name of {entry.name}")
    return _sdist_name(entry, ".zip" if base.endswith(".zip") else ".tar.gz")


def _local_path(url: str, project_dir: Path | None) -> Path | None:
    if url.startswith("file://"):
        return Path(unquote(urlsplit(url).path)).resolve()
    if "://" in url:
        return None
    relative = url.removeprefix("file:")
    if os.path.isabs(relative):
        return Path(relative).resolve()
    if project_dir is None:
        raise BuildError(f"python: {url}: a path relative to the manifest, but no project folder is known")
    return (project_dir / relative).resolve()


def direct_urls(entries: list[Any], files: list[PythonFile]) -> bytes:
    """{name: direct_url.json data} of the direct references, for the install step (PEP 610)."""
    by_name = {f.name: f for f in files}
    out: dict[str, Any] = {}
    for entry in entries:
        url = str(entry.url)
        commit = getattr(entry, "commit", None)
        if url.startswith("git+") and commit:
            main, _, fragment = url[len("git+"):].partition("#")
            data: dict[str, Any] = {"url": main.rpartition("@")[0], "vcs_info": {"vcs": "git", "commit_id": str(commit)}}
            subdirectory = _fragment_value(fragment, "subdirectory")
            if subdirectory:
                data["subdirectory"] = subdirectory
        else:
            digest = by_name[entry.name].sha256
            data = {"url": url.split("#")[0], "archive_info": {"hash": f"sha256={digest}", "hashes": {"sha256": digest}}}
        out[entry.name] = data
    return (json.dumps(out, indent=1, sort_keys=True) + "\n").encode()
