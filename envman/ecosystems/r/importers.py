"""`envman init --from renv.lock|DESCRIPTION` -> the r section."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from envman.ecosystems.base import ImportResult, Note, Skipped
from envman.ecosystems.r.grammar import name_problem, version_problem
from envman.errors import LocatedError

__all__ = ["read_renv_lock", "import_renv_lock", "read_description", "import_description"]


def _of(value: Any, kind: type, default: Any) -> Any:
    return value if isinstance(value, kind) else default


def read_renv_lock(path: Path, text: str) -> dict[str, Any]:
    """The sections only (the older importer interface)."""
    return import_renv_lock(path, text, None).sections


_REMOTE_KINDS = {"github": "GitHub", "gitlab": "GitLab", "bitbucket": "Bitbucket", "git": "git", "url": "URL", "local": "local"}


def import_renv_lock(path: Path, text: str, context: Any) -> ImportResult:
    """renv.lock -> the r section. Packages from CRAN-like repositories and Bioconductor are
    pinned (the lock's Bioconductor release becomes `r.bioconductor`, its repositories ahead
    of CRAN); a package from a remote envman cannot lock (GitHub, git, URL, local) is listed
    as not carried over, never turned into a CRAN pin. Names and versions are held to R's
    grammar; a file of another shape is exit 2 naming it (never a traceback)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise LocatedError(str(path), exc.lineno, exc.colno, f"invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise LocatedError(str(path), None, None, "invalid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise LocatedError(str(path), 1, 1, "not a renv.lock (expected a JSON object)")
    result = ImportResult(files=[str(path)])
    r = _of(data.get("R"), dict, {})
    repo_list = _of(r.get("Repositories"), list, [])
    repos = {
        str(repo["Name"]): str(repo["URL"])
        for repo in repo_list
        if isinstance(repo, dict) and isinstance(repo.get("Name"), str) and isinstance(repo.get("URL"), str)
    }
    bioc = _of(_of(data.get("Bioconductor"), dict, {}).get("Version"), str, None)
    if bioc is not None and not re.fullmatch(r"\d+\.\d+", bioc):
        result.skipped.append(Skipped(str(path), None, f"Bioconductor.Version {bioc!r}", "not a Bioconductor release number"))
        bioc = None
    if bioc:
        result.notes.append(Note(str(path), None, f"Bioconductor {bioc} -> r.bioconductor: {bioc!r} (its repositories ahead of CRAN)"))
    records = _of(data.get("Packages"), dict, {})
    packages = []
    for name, info in sorted(records.items()):
        if not isinstance(info, dict) or "Version" not in info:
            continue
        version = str(info["Version"])
        problem = name_problem(str(name)) or version_problem(version)
        if problem:
            raise LocatedError(str(path), None, None, f"Packages: {problem}")
        where = f"Packages.{name} {version}"
        source = str(info.get("Source") or "Repository")
        remote = str(info.get("RemoteType") or "").lower()
        carried = _remote_spec(str(name), info)
        if carried is not None:
            packages.append(carried)
            result.notes.append(Note(str(path), None, f"{where} -> {carried} (locked to that commit and its tarball's sha256)"))
            continue
        if remote in _REMOTE_KINDS or source in ("GitHub", "GitLab", "Bitbucket", "Git", "URL", "Local"):
            kind = _REMOTE_KINDS.get(remote, source)
            detail = "/".join(str(info[k]) for k in ("RemoteUsername", "RemoteRepo") if isinstance(info.get(k), str))
            sha = str(info.get("RemoteSha") or "")[:12]
            shown = f"{kind} remote {detail}@{sha}" if detail else f"{kind} remote"
            result.skipped.append(Skipped(str(path), None, where, f"{shown}: envman locks R packages from CRAN-like repositories "
                                          "and Bioconductor, GitHub and git remotes only; not replaced by a CRAN version"))
            continue
        if source == "Bioconductor" and not bioc:
            result.skipped.append(Skipped(str(path), None, where, "a Bioconductor package, but the lock names no Bioconductor release"))
            continue
        if source not in ("Repository", "Bioconductor", "CRAN"):
            result.skipped.append(Skipped(str(path), None, where, f"source {source!r} is not a repository envman can lock from"))
            continue
        packages.append(f"{name} (== {version})")
    section: dict[str, Any] = {}
    if r.get("Version"):
        section["version"] = str(r["Version"])
    if repos:
        section["repositories"] = repos
    if bioc:
        section["bioconductor"] = bioc
    section["packages"] = packages
    result.sections = {"r": section}
    return result


def _remote_spec(name: str, info: dict[str, Any]) -> str | None:
    """`name (github: owner/repo@sha)` / `name (git: URL@sha)` for a GitHub or git remote of
    renv.lock (pinned to its RemoteSha), when the fields are well-formed; else None."""
    from envman.ecosystems.r.section import validate_r_spec

    remote = str(info.get("RemoteType") or "").lower()
    sha = str(info.get("RemoteSha") or "")
    if not re.fullmatch(r"[0-9a-f]{40}", sha):
        return None
    subdir = info.get("RemoteSubdir")
    host = str(info.get("RemoteHost") or "api.github.com")
    if remote == "github" and host == "api.github.com" and (subdir is None or isinstance(subdir, str)):
        inside = f"/{str(subdir).strip('/')}" if subdir else ""
        spec = f"{name} (github: {info.get('RemoteUsername')}/{info.get('RemoteRepo')}{inside}@{sha})"
    elif remote == "git" and isinstance(info.get("RemoteUrl"), str) and not subdir:
        spec = f"{name} (git: {info['RemoteUrl']}@{sha})"
    else:
        return None
    try:
        return validate_r_spec(spec)
    except ValueError:
        return None


def read_description(path: Path, text: str) -> dict[str, Any]:
    """The sections only (the older importer interface)."""
    return import_description(path, text, None).sections


_REMOTE = re.compile(r"^(?:(?P<kind>[a-z]+)::)?(?P<where>[^\s@]+)(?:@(?P<ref>[^\s@]+))?$")


def import_description(path: Path, text: str, context: Any) -> ImportResult:
    """A package's DESCRIPTION: Depends, Imports and LinkingTo; a package its `Remotes:` field
    names on GitHub or git becomes that remote's spec (never a CRAN requirement of the same
    name), other remotes are listed as not carried over."""
    from envman.ecosystems.r.section import validate_r_spec

    result = ImportResult(files=[str(path)])
    fields: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if line[:1].isspace() and key:
            fields[key] += " " + line.strip()
        elif ":" in line:
            key, value = line.split(":", 1)
            fields[key.strip()] = value.strip()
    remotes: dict[str, str] = {}  # package name (the repository's) -> its spec
    for item in filter(None, (p.strip() for p in fields.get("Remotes", "").split(","))):
        match = _REMOTE.match(item)
        kind = (match.group("kind") if match else None) or "github"
        where = match.group("where") if match else item
        ref = match.group("ref") if match else None
        name = where.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
        spec = None
        if kind == "github" and where.count("/") >= 1:  # owner/repo[/subdir]
            spec = f"{name} (github: {where}{'@' + ref if ref else ''})"
        elif kind == "git":
            spec = f"{name} (git: {where}{'@' + ref if ref else ''})"
        try:
            remotes[name] = validate_r_spec(spec) if spec else ""
        except ValueError:
            remotes[name] = ""
        if not remotes[name]:
            result.skipped.append(Skipped(str(path), None, f"Remotes: {item}", "a remote envman cannot lock (GitHub and git remotes only)"))
    packages = []
    for field_name in ("Depends", "Imports", "LinkingTo"):
        for item in filter(None, (p.strip() for p in fields.get(field_name, "").split(","))):
            name = item.split("(")[0].strip()
            if name == "R":
                continue
            if remotes.get(name):
                packages.append(remotes[name])
                result.notes.append(Note(str(path), None, f"{field_name}: {name} -> {remotes[name]} (its Remotes: entry)"))
                continue
            packages.append(re.sub(r"\s+", " ", item))
    result.sections = {"r": {"packages": packages}}
    return result
