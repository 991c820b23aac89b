"""`envman sync python:VENV`: uv pip install/uninstall with the lock's hashes enforced."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from envman.ecosystems.base import SyncRequest
from envman.ecosystems.python.probe import normalize_name
from envman.errors import SyncError
from envman.fetch import run_installer

__all__ = ["sync_venv", "is_venv", "is_conda_python", "create_venv"]


def is_venv(executable: str) -> bool:
    path = Path(executable)
    return any((parent / "pyvenv.cfg").is_file() for parent in (path.parent.parent, path.parent))


def is_conda_python(executable: str) -> bool:
    """The interpreter of a conda prefix (PREFIX/bin/python, PREFIX/conda-meta/): conda and
    PyPI together install the PyPI part into the prefix, as pixi does."""
    path = Path(executable)
    return path.parent.name in ("bin", "Scripts") and (path.parent.parent / "conda-meta").is_dir()


def create_venv(interpreter: str, version: str, dry_run: bool) -> str | None:
    """`VENV/bin/python` that does not exist yet: make VENV with uv for the interpreter that
    matches python.version on PATH (or one of uv's managed Pythons when UV_PYTHON_DOWNLOADS
    allows downloads; never by default). None when there is nothing to create."""
    import os

    import uv

    path = Path(interpreter)
    if path.exists() or path.parent.name not in ("bin", "Scripts") or not path.name.startswith("python"):
        return None
    venv = path.parent.parent
    if venv.exists() and any(venv.iterdir()):
        raise SyncError(f"python:{interpreter}: {venv} exists but is not a virtual environment; refusing to touch it")
    what = f"create the virtual environment {venv} (Python {version})"
    if dry_run:
        return what
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": os.environ.get("UV_PYTHON_DOWNLOADS", "never")}
    argv = [uv.find_uv_bin(), "venv", "--quiet", "--no-config", "--python", version, str(venv)]
    run_installer(argv, f"python:{interpreter}: uv venv", env=env)
    if not path.exists():
        raise SyncError(f"python:{interpreter}: uv made {venv}, but it has no {path.name}")
    return what


def sync_venv(request: SyncRequest) -> None:
    import uv

    base = [uv.find_uv_bin(), "pip"]
    py = ["--python", request.location]
    by_key = {normalize_name(e.name): e for e in request.entries}
    removals = [a.name for a in request.actions if a.op == "remove"]
    wanted = [a for a in request.actions if a.op in ("install", "change", "reinstall")]
    _refuse_provided(wanted, by_key, request)
    if wanted:
        _install(base, py, wanted, by_key, request)
    if removals:  # after the installs: a failed (unverified) install leaves the venv as it was
        run_installer(base + ["uninstall"] + py + removals, f"{request.target}: uv pip uninstall")


def _refuse_provided(wanted: list[Any], by_key: dict[str, Any], request: SyncRequest) -> None:
    """Packages another ecosystem installs (`manager: conda`) are never installed by uv: when
    they are missing or differ, that ecosystem's target is synced first."""
    from envman.ecosystems.python.provided import installed_by_other

    theirs = [by_key[normalize_name(a.name)] for a in wanted if installed_by_other(by_key.get(normalize_name(a.name)))]
    if theirs:
        listed = ", ".join(f"{e.name} {e.version} ({e.manager}: {e.provider})" for e in theirs)
        raise SyncError(
            f"{request.target}: {listed} must come from {theirs[0].manager}, not uv; "
            f"sync the {theirs[0].manager} prefix first (envman sync {theirs[0].manager}:PREFIX)"
        )


def _install(base: list[str], py: list[str], wanted: list[Any], by_key: dict[str, Any], request: SyncRequest) -> None:
    from envman.ecosystems.python.export import requirements_text

    entries = [by_key[normalize_name(a.name)] for a in wanted]
    by_commit = [e for e in entries if getattr(e, "commit", None) and not e.hashes]  # VCS: the full commit is its check
    entries = [e for e in entries if e not in by_commit]
    missing_hashes = [e.name for e in entries if not e.hashes]
    if missing_hashes:
        raise SyncError(
            f"{request.target}: the lock has no hashes for {', '.join(missing_hashes)}; refusing to install unverified artifacts"
        )
    entries = [_absolute(e) for e in entries]
    section = request.section
    text = requirements_text(
        entries,
        index_url=getattr(section, "index_url", None),
        extra_index_urls=list(getattr(section, "extra_index_urls", []) or []),
        find_links=list(getattr(section, "find_links", []) or []),
    )
    with tempfile.TemporaryDirectory(prefix="envman-sync-") as tmp:
        req = Path(tmp) / "requirements.txt"
        req.write_text(text, encoding="utf-8")
        argv = base + ["install"] + py + ["--require-hashes", "--no-deps", "--link-mode", "copy", "-r", str(req)]
        reinstall = [a.name for a in wanted if a.op == "reinstall"]
        for name in reinstall:
            argv += ["--reinstall-package", name]
        if reinstall:
            # uv may hard-link its cache into environments; an edited file could be the
            # cached one, so reinstalls unpack the verified wheels afresh.
            argv += ["--no-cache"]
        if entries:
            request.services.progress(f"python: installing {len(entries)} package(s) with uv")
            run_installer(argv, f"{request.target}: uv pip install")
        if by_commit:
            _install_commits(base, py, by_commit, {a.name for a in wanted if a.op == "reinstall"}, request)


def _absolute(entry: Any) -> Any:
    """An archive referenced by a relative `file:` path (relative to the manifest, where
    envman runs) with that path made absolute: the installer reads a temporary file."""
    url = getattr(entry, "url", None) or ""
    if not url.startswith("file:") or url.startswith("file://"):
        return entry
    path = Path(url[len("file:"):]).resolve()
    if not path.is_file():
        raise SyncError(f"{entry.name}: {url} is not a file here ({path}); run envman from the manifest's folder")
    return entry.model_copy(update={"url": path.as_uri()})


def _install_commits(base: list[str], py: list[str], entries: list[Any], reinstall: set[str], request: SyncRequest) -> None:
    """VCS references, each pinned to its full commit (git checks the commit's content, so no
    file hash applies; uv's --require-hashes mode refuses them). Anything else is refused."""
    from envman.ecosystems.python.export import requirements_text

    for entry in entries:
        url = str(entry.url)
        if not url.endswith("@" + str(entry.commit)) and f"@{entry.commit}#" not in url:
            raise SyncError(f"{request.target}: {entry.name}: the locked URL {url} is not pinned to its commit {entry.commit}")
    text = requirements_text(entries)
    with tempfile.TemporaryDirectory(prefix="envman-sync-") as tmp:
        req = Path(tmp) / "vcs-requirements.txt"
        req.write_text(text, encoding="utf-8")
        argv = base + ["install"] + py + ["--no-deps", "--link-mode", "copy", "-r", str(req)]
        for name in sorted(reinstall & {e.name for e in entries}):
            argv += ["--reinstall-package", name]
        request.services.progress(f"python: installing {len(entries)} package(s) from git at their locked commits")
        run_installer(argv, f"{request.target}: uv pip install (VCS at locked commits)")
