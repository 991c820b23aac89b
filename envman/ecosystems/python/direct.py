"""Python direct references: `name @ URL` requirements (VCS, archive URLs, local paths).

uv resolves them; this module pins what it resolved (PEP 751 pylock.toml from uv, for the
exact version, the full VCS commit and the archive's sha256), keeps paths relative to the
manifest as they were written, and says how an installed copy (its `direct_url.json`,
PEP 610) compares with the locked reference.

- VCS (`git+https://host/repo@tag`): locked to the full commit uv checked out; the lock's
  `url` ends in `@<commit>`, so a later resolution or install gets exactly that commit.
- Archive URL or path (`name @ https://…/x.whl`, `name @ file:./dist/x.tar.gz`): locked to
  the file's sha256 (`hashes`).
- Local folder (`name @ file:./pkg`, `-e .`): locked by path, with its static version; a
  folder has no single hash (as in uv.lock).
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from envman.ecosystems.python.entry import PythonEntry
from envman.errors import ResolutionError

__all__ = [
    "direct_url_of",
    "for_resolver",
    "lock_direct_references",
    "locked_reference",
    "installed_reference",
    "same_reference",
    "describe_reference",
    "pin_of",
    "pylock_with_uv",
]

_VCS_SCHEMES = ("git+", "hg+", "svn+", "bzr+")


def direct_url_of(spec: str) -> str | None:
    """The URL of a `name @ URL` requirement, else None."""
    from packaging.requirements import Requirement

    return Requirement(spec).url


def _relative_path(url: str) -> str | None:
    """The path of a `file:` URL or bare path that is relative (`file:./pkg`, `./pkg`)."""
    if url.startswith("file://"):
        return None
    if url.startswith("file:"):
        return url[len("file:"):]
    if "://" in url or url.startswith(_VCS_SCHEMES):
        return None
    return None if os.path.isabs(url) else url


def for_resolver(requirements: list[str], project_dir: str) -> tuple[list[str], dict[str, str]]:
    """The requirements as the resolver gets them (relative paths made absolute: the
    resolver reads a requirements file in a temporary folder) and absolute URL -> the URL as
    written, to give the lock back its portable, relative spelling."""
    from packaging.requirements import Requirement

    out: list[str] = []
    written: dict[str, str] = {}
    for spec in requirements:
        requirement = Requirement(spec)
        url = requirement.url
        relative = _relative_path(url) if url else None
        if url is None or relative is None:
            out.append(spec)
            continue
        absolute = Path(project_dir, relative).resolve().as_uri()
        written[absolute] = f"file:{relative}" if not relative.startswith("file:") else relative
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        marker = f" ; {requirement.marker}" if requirement.marker else ""
        out.append(f"{requirement.name}{extras} @ {absolute}{marker}")
    return out, written


def pin_of(entry: PythonEntry, project_dir: str) -> str:
    """The requirement that keeps an entry as locked, as the resolver reads it (constraints)."""
    return f"{entry.name} @ {_resolver_url(entry.url, project_dir)}" if entry.url else f"{entry.name}=={entry.version}"


def _resolver_url(url: str, project_dir: str) -> str:
    relative = _relative_path(url)
    return Path(project_dir, relative).resolve().as_uri() if relative is not None else url


def lock_direct_references(
    packages: list[PythonEntry], run_pylock: Any, written: Mapping[str, str], project_dir: str
) -> list[PythonEntry]:
    """Entries of the resolution with their direct references pinned: version, VCS commit,
    archive sha256 (from uv's pylock.toml of just those references, `--no-deps`).

    run_pylock(requirements) -> the pylock.toml text. Entries from an index pass through."""
    direct = [e for e in packages if e.url]
    if not direct:
        return packages
    lines = [f"{e.name} @ {_resolver_url(e.url or '', project_dir)}" for e in direct]
    try:
        data = tomllib.loads(run_pylock(lines))
    except tomllib.TOMLDecodeError as exc:
        raise ResolutionError(f"uv wrote an unreadable pylock.toml for the direct references: {exc}") from None
    from packaging.utils import canonicalize_name

    found = {str(canonicalize_name(p.get("name", ""))): p for p in data.get("packages", []) if isinstance(p, dict)}
    out: list[PythonEntry] = []
    for entry in packages:
        if not entry.url:
            out.append(entry)
            continue
        package = found.get(entry.name)
        if package is None:
            raise ResolutionError(f"uv did not lock the direct reference {entry.name} @ {entry.url}")
        out.append(_pinned(entry, package, written, project_dir))
    return out


def _pinned(entry: PythonEntry, package: Mapping[str, Any], written: Mapping[str, str], project_dir: str) -> PythonEntry:
    url = entry.url or ""
    update: dict[str, Any] = {"source": None}
    vcs = package.get("vcs")
    archive = package.get("archive")
    directory = package.get("directory")
    if isinstance(vcs, dict):
        commit = str(vcs.get("commit-id") or "")
        if len(commit) < 40:
            raise ResolutionError(f"{entry.name}: the resolver gave no full commit for {url}")
        main, _, fragment = url.partition("#")
        base = main.rsplit("@", 1)[0] if "@" in urlsplit(main).path else main
        update.update(url=f"{base}@{commit}" + (f"#{fragment}" if fragment else ""), commit=commit, hashes=[])
    elif isinstance(archive, dict):
        digest = (archive.get("hashes") or {}).get("sha256")
        if not digest:
            raise ResolutionError(f"{entry.name}: the resolver gave no sha256 for {url}")
        update["hashes"] = [f"sha256:{digest}"]
    elif isinstance(directory, dict):
        update["hashes"] = []
    version = package.get("version")
    if not version and isinstance(directory, dict):
        version = _static_version(Path(_local_path(url, project_dir)))
    if not version:
        raise ResolutionError(
            f"{entry.name}: cannot tell the version of {url} (a local project with a dynamic version); "
            "give it a static `version` in its pyproject.toml"
        )
    update["version"] = str(version)
    for absolute, spelled in written.items():  # back to the manifest's relative spelling
        if url == absolute or url.startswith(absolute + "/"):
            update["url"] = spelled + url[len(absolute):]
    return entry.model_copy(update=update)


def _local_path(url: str, project_dir: str) -> str:
    if url.startswith("file://"):
        return unquote(urlsplit(url).path)
    relative = _relative_path(url)
    return str(Path(project_dir, relative)) if relative is not None else url


def _static_version(folder: Path) -> str | None:
    try:
        data = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    project = data.get("project")
    version = project.get("version") if isinstance(project, dict) else None
    return str(version) if isinstance(version, str) else None


def pylock_with_uv(job: Any, requirements: list[str]) -> str:
    """uv's pylock.toml (PEP 751) of exactly these requirements (`--no-deps`), for the job's
    interpreter, platform and indexes."""
    import tempfile
    from dataclasses import replace

    from envman.ecosystems.python.compilers import _run, _uv_common

    with tempfile.TemporaryDirectory(prefix="envman-uv-") as tmp:
        work = Path(tmp)
        output = work / "pylock.toml"
        pinned = replace(job, requirements=requirements, constraints=[], preferences=[], upgrade=False, upgrade_packages=[])

        def build(this: Any) -> list[str]:
            return [*_uv_common(this, output, work), "--format", "pylock.toml", "--no-deps"]

        _run(build, "uv", pinned)
        return output.read_text(encoding="utf-8")


# -- comparing with an installed copy (check) ------------------------------------------


def _reference(kind: str, *parts: str) -> str:
    """A reference as one string (snapshot extras are strings): `vcs COMMIT`, `archive FILE
    [SHA256 …]`, `dir`. File names from URLs are unquoted and hold no spaces."""
    return " ".join([kind, *(p.replace(" ", "%20") for p in parts)])


def locked_reference(entry: Any) -> str | None:
    """How a lock entry's direct reference is recognised installed; None: from an index."""
    url = getattr(entry, "url", None)
    if not url:
        return None
    commit = getattr(entry, "commit", None)
    if commit:
        return _reference("vcs", str(commit))
    hashes = [str(h).removeprefix("sha256:") for h in getattr(entry, "hashes", None) or []]
    if hashes:
        return _reference("archive", _basename(str(url)), *hashes)
    return _reference("dir")


def installed_reference(data: Any) -> str | None:
    """The same from an installed `direct_url.json` (untrusted: wrong shapes give None)."""
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        return None
    vcs = data.get("vcs_info")
    if isinstance(vcs, dict):
        return _reference("vcs", str(vcs.get("commit_id") or "?"))
    archive = data.get("archive_info")
    if isinstance(archive, dict):
        listed = archive.get("hashes")
        hashes: dict[str, Any] = listed if isinstance(listed, dict) else {}
        digest = hashes.get("sha256") or str(archive.get("hash") or "").removeprefix("sha256=") or None
        return _reference("archive", _basename(data["url"]), *([str(digest)] if digest else []))
    if isinstance(data.get("dir_info"), dict):
        return _reference("dir")
    return None


def same_reference(expected: Any, actual: Any) -> bool:
    if not isinstance(expected, str) or not isinstance(actual, str):
        return expected is None and actual is None
    want, have = expected.split(), actual.split()
    if not want or not have or want[0] != have[0]:
        return False
    if want[0] == "vcs":
        return len(want) > 1 and want[1:2] == have[1:2]
    if want[0] == "archive":
        if len(have) > 2:  # pip records the file's hash; uv does not, then the file name decides
            return bool(set(have[2:]) & set(want[2:]))
        return want[1:2] == have[1:2]
    return True


def describe_reference(reference: Any) -> str:
    """` (commit 494cb70226961)`, ` (x-1.0.whl)`, ` (local folder)`; '' for an index install."""
    if not isinstance(reference, str) or not reference:
        return ""
    parts = reference.split()
    if parts[0] == "vcs":
        return f" (commit {(parts[1] if len(parts) > 1 else '?')[:12]})"
    if parts[0] == "archive":
        return f" ({parts[1] if len(parts) > 1 else 'archive'})"
    return " (local folder)"


def _basename(url: str) -> str:
    return unquote(urlsplit(url).path.rstrip("/").rsplit("/", 1)[-1]) if "://" in url else os.path.basename(url.rstrip("/"))
