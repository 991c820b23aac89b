"""`envman sync`: make a venv, an R library, a jar folder or a conda prefix match the lock (I/O).

check (deep) -> plan (drift.plan, pure) -> install/upgrade/remove with hash-verified
artifacts -> check again. Installer tooling the lock does not name is never touched.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, TextIO

from envman.errors import BadInputError, BuildError, UnreachableError

__all__ = ["sync_target", "SYNCABLE"]

SYNCABLE = ("python", "rlib", "jars", "conda")


def _fetch_verified(url: str, sha256: str, services: tuple[Any, Any]) -> Path:
    """The artifact from the content-addressed cache, else downloaded and verified; exit 5 on a mismatch."""
    from envman.http import NotFound

    http, cache = services
    found = cache.get_artifact(sha256)
    if found is not None:
        return found
    try:
        data = http.get(url)
    except NotFound:
        raise UnreachableError(f"{url}: not found (404)") from None
    try:
        _, path = cache.put_artifact(data, sha256)
    except ValueError as exc:
        raise BuildError(f"{url}: {exc}; refusing to install it") from None
    return path


def _run(argv: list[str], what: str, env: dict[str, str] | None = None) -> None:
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=env, timeout=1800)
    except FileNotFoundError:
        raise UnreachableError(f"{what}: {argv[0]} not found") from None
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.decode("utf-8", "replace").strip().splitlines()[-12:])
        raise BuildError(f"{what} failed (exit {proc.returncode}):\n{tail}")


# -- python ---------------------------------------------------------------------------


def _sync_python(interpreter: str, actions: list[Any], plock: Any, manifest: Any, what: str) -> None:
    import uv

    from envman.drift import package_key

    uv_bin = uv.find_uv_bin()
    base = [uv_bin, "pip"]
    py = ["--python", interpreter]
    by_key = {package_key("python", e.name): e for e in plock.python}
    removals = [a.name for a in actions if a.op == "remove"]
    wanted = [a for a in actions if a.op in ("install", "change", "reinstall")]
    if wanted:
        _install_python(base, py, wanted, by_key, manifest, what)
    if removals:  # after the installs: a failed (unverified) install leaves the venv as it was
        _run(base + ["uninstall"] + py + removals, f"{what}: uv pip uninstall")


def _install_python(base: list[str], py: list[str], wanted: list[Any], by_key: dict[str, Any], manifest: Any, what: str) -> None:
    from envman.drift import package_key

    try:
        from envman.ecosystems.python.export import requirements_text
    except ImportError:  # pragma: no cover - the Python ecosystem ships it
        raise BuildError("the Python ecosystem's requirements export is not available") from None
    entries = [by_key[package_key("python", a.name)] for a in wanted]
    missing_hashes = [e.name for e in entries if not e.hashes]
    if missing_hashes:
        raise BuildError(f"{what}: the lock has no hashes for {', '.join(missing_hashes)}; refusing to install unverified artifacts")
    section = getattr(manifest, "python", None) if manifest is not None else None
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
        _run(argv, f"{what}: uv pip install")


# -- R --------------------------------------------------------------------------------


def _install_order(entries: list[Any]) -> list[Any]:
    """Dependencies first, among the entries to install (others are already there)."""
    names = {e.name: e for e in entries}
    ordered: list[Any] = []
    state: dict[str, int] = {}

    def visit(name: str) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            return  # a cycle: R allows none among Imports/Depends; keep going
        state[name] = 1
        for dep in names[name].requires:
            dep_name = dep.split("(")[0].split()[0].strip() if dep.strip() else ""
            if dep_name in names:
                visit(dep_name)
        state[name] = 2
        ordered.append(names[name])

    for name in sorted(names):
        visit(name)
    return ordered


def _sync_rlib(directory: str, actions: list[Any], plock: Any, what: str) -> None:
    from envman.cache import ArtifactCache
    from envman.http import HttpClient

    lib = Path(directory)
    by_name = {e.name: e for e in plock.r}
    entries = [by_name[a.name] for a in actions if a.op in ("install", "change", "reinstall")]
    r_bin = shutil.which("R")
    if entries and r_bin is None:
        raise UnreachableError(f"{what}: R is not installed (R CMD INSTALL is needed to install packages)")
    services = (HttpClient(), ArtifactCache())
    with tempfile.TemporaryDirectory(prefix="envman-sync-") as tmp:
        tarballs = []
        for entry in _install_order(entries):  # every artifact verified before anything changes
            cached = _fetch_verified(entry.url, entry.sha256, services)
            tarball = Path(tmp) / f"{entry.name}_{entry.version}.tar.gz"
            shutil.copyfile(cached, tarball)
            tarballs.append(str(tarball))
        for action in actions:
            if action.op == "remove":
                shutil.rmtree(lib / action.name)
        if not tarballs:
            return
        env = dict(os.environ)
        env["R_LIBS"] = str(lib) + (os.pathsep + env["R_LIBS"] if env.get("R_LIBS") else "")
        _run([r_bin, "CMD", "INSTALL", "--no-test-load", "-l", str(lib)] + tarballs, f"{what}: R CMD INSTALL", env=env)


# -- jars -----------------------------------------------------------------------------


def _jar_filename(name: str, version: str) -> str:
    parts = name.split(":")
    artifact = parts[1] if len(parts) > 1 else parts[0]
    classifier = parts[2] if len(parts) > 2 else None
    return f"{artifact}-{version}" + (f"-{classifier}" if classifier else "") + ".jar"


def _sync_jars(directory: str, actions: list[Any], plock: Any, installed: Any, what: str) -> None:
    from envman.cache import ArtifactCache
    from envman.http import HttpClient

    folder = Path(directory)
    files: dict[str, list[str]] = {}
    for pkg in installed.of("jvm"):
        if pkg.location:
            files.setdefault(pkg.name, []).append(pkg.location)
    by_name = {e.name: e for e in plock.jvm}
    services = (HttpClient(), ArtifactCache())
    sources = {
        a.name: _fetch_verified(by_name[a.name].url, by_name[a.name].sha256, services)
        for a in actions
        if a.op in ("install", "change", "reinstall")
    }  # every artifact verified before anything changes
    for action in actions:
        if action.op == "remove":
            for path in files.get(action.name, []):
                Path(path).unlink(missing_ok=True)
    for action in actions:
        if action.op not in ("install", "change", "reinstall"):
            continue
        entry = by_name[action.name]
        source = sources[action.name]
        target = folder / _jar_filename(entry.name, entry.version)
        tmp = target.with_name(f".{target.name}.envman-tmp")
        shutil.copyfile(source, tmp)
        os.replace(tmp, target)
        for path in files.get(action.name, []):
            if Path(path).resolve() != target.resolve():
                Path(path).unlink(missing_ok=True)


# -- conda ----------------------------------------------------------------------------


def _sync_conda(prefix: str, actions: list[Any], plock: Any, what: str) -> None:
    from envman.cache import ArtifactCache
    from envman.http import HttpClient
    from envman.targets.conda_install import install_package, remove_package

    root = Path(prefix)
    by_name = {e.name: e for e in plock.conda}
    services = (HttpClient(), ArtifactCache())
    wanted = [a for a in actions if a.op in ("install", "change", "reinstall")]
    artifacts = {a.name: _fetch_verified(by_name[a.name].url, by_name[a.name].sha256, services) for a in wanted}
    for action in actions:
        if action.op in ("remove", "change", "reinstall"):
            remove_package(root, action.name, what)
    for action in wanted:
        install_package(root, artifacts[action.name], by_name[action.name], what)


# -- driver ---------------------------------------------------------------------------


def sync_target(spec: Any, ctx: Any, dry_run: bool, out: TextIO) -> bool:
    """Sync one target; returns True when drift remains (then exit 1)."""
    from envman.drift import check
    from envman.drift.plan import format_plan, plan_sync
    from envman.targets.probe import probe_target, snapshot_from_lock
    from envman.targets.spec import TargetSpec

    if spec.kind not in SYNCABLE:
        raise BadInputError(f"{spec.text}: sync works on python:PATH (a venv), rlib:DIR, jars:DIR or conda:PREFIX")
    project = ctx.project
    lock = project.lock(full=True)
    environment = project.environment(ctx.environment)
    ctx.environment = environment
    ctx.known_jars = {e.sha256.removeprefix("sha256:"): (e.name, e.version) for e in lock.platform_lock(environment, ctx.platform).jvm}
    ctx.deep = True
    expected = snapshot_from_lock(TargetSpec(f"lock:{environment}", "lock", environment, ctx.platform), ctx)
    plock = lock.platform_lock(environment, ctx.platform)
    installed = probe_target(spec, ctx)
    if spec.kind == "python" and installed.environment.get("python-executable"):
        prefix = installed.environment["python-executable"]
        if not _is_venv(prefix):
            raise BadInputError(f"{spec.text}: not a virtual environment; envman syncs venvs only (system Python belongs to the OS)")
    actions = plan_sync(check(expected, installed, deep=True))
    out.write(format_plan(spec.text, actions, dry_run))
    fixable = [a for a in actions if a.op != "none"]
    if dry_run or not fixable:
        return bool(actions)
    manifest = project.manifest()
    if spec.kind == "python":
        _sync_python(installed.environment.get("python-executable", spec.value), fixable, plock, manifest, spec.text)
    elif spec.kind == "rlib":
        _sync_rlib(spec.value, fixable, plock, spec.text)
    elif spec.kind == "jars":
        _sync_jars(spec.value, fixable, plock, installed, spec.text)
    else:
        _sync_conda(spec.value, fixable, plock, spec.text)
    after = check(expected, probe_target(spec, ctx), deep=True)
    if after:
        out.write(f"{spec.text}: {len(after)} finding(s) remain after sync:\n")
        out.writelines(f"  [{f.ecosystem}] {f.kind} {f.name} (expected {f.expected}, installed {f.actual})\n" for f in after)
        return True
    out.write(f"{spec.text}: in sync\n")
    return False


def _is_venv(executable: str) -> bool:
    path = Path(executable)
    return any((parent / "pyvenv.cfg").is_file() for parent in (path.parent.parent, path.parent))
