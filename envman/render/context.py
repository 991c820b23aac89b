"""Write an ImagePlan as a build context folder: Dockerfile, each ecosystem's scripts and
generated files, and every locked artifact fetched on the host (sha256-verified, from the
shared cache). Same lock, same bytes: fixed file times, sorted inputs; the folder is replaced
atomically, and only when it is empty or an earlier envman context."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath
from typing import Any

from envman.errors import BadInputError, ResolutionError, SyncError
from envman.render.plan import ImagePlan
from envman.render.templating import render_template, template_environment

__all__ = ["render_text", "write_context", "MARKER", "CA_FILE"]

MARKER = ".envman-context"  # present in every folder render writes; lets -o DIR be replaced
CA_FILE = "envman-ca.crt"
INSTALL_EPOCH = 315532800  # 1980-01-01, SOURCE_DATE_EPOCH inside the install steps
_SAFE_DIR = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-/")


def render_text(plan: ImagePlan, ca_cert: bool = False) -> dict[str, str]:
    """Context-relative path -> text of the Dockerfile and every ecosystem script (pure)."""
    env = template_environment(plan.templates)
    for fragment in plan.fragments:
        _check_install_dir(fragment)
    values: dict[str, Any] = {
        "base": plan.base,
        "apt_options": f"-o Acquire::https::CAInfo=/tmp/{CA_FILE} " if ca_cert else "",
        "ca_cert": ca_cert,
        "builder": plan.builder,
        "fragments": plan.fragments,
        "env": plan.env,
        "env_one_step": _env_one_step(plan.env),
        "labels": plan.labels,
        "lock_name": plan.lock_path.name,
        "lock_sha256": plan.lock_sha256,
        "environment": plan.environment,
        "platform": plan.platform,
        "epoch": plan.epoch,
        # what the install steps see: fixed, not the lock's commit time, so committing a lock
        # does not change every step's text (and re-run them all); the rewrite clamps the
        # image's times to `epoch`
        "install_epoch": INSTALL_EPOCH,
        "built_timestamp": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(INSTALL_EPOCH)),
    }
    dockerfile = render_template(env, "Dockerfile.j2", values)
    texts = {"Dockerfile": re.sub(r"\n(?:[ \t]*\n){2,}", "\n\n", re.sub(r"^(FROM .*)\n[ \t]*\n", r"\1\n", dockerfile, flags=re.M))}
    names = env.list_templates()
    for fragment in plan.fragments:
        prefix = f"ecosystems/{fragment.template}/"
        for name in sorted(n for n in names if n.startswith(prefix) and n.endswith(".j2") and n != prefix + "Dockerfile.j2"):
            target = f"{fragment.template}/{name[len(prefix):-3]}"
            texts[target] = render_template(env, name, {**values, "f": fragment})
    return texts


def _env_one_step(env: list[tuple[str, str]]) -> bool:
    """True when no value names another variable of the list (one ENV instruction substitutes
    with the values from before it, separate ones with the earlier lines')."""
    names = {name for name, _ in env}
    return not any(re.search(rf"\$\{{?{re.escape(other)}\b", value) for name, value in env for other in names if other != name)


def write_context(plan: ImagePlan, out: Path, services: Any, ca_cert: bytes | None = None) -> Path:
    """Fetch the artifacts, write everything under a temporary sibling of `out`, then swap it in."""
    texts = render_text(plan, ca_cert=ca_cert is not None)
    _may_replace(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        files: dict[str, bytes | Path] = {name: text.encode() for name, text in texts.items()}
        for fragment in plan.fragments:
            for name, content in fragment.files.items():
                files[_relative(name)] = content
        for artifact, path in _fetch_all(plan, services):
            files[_relative(artifact.path)] = path
        if ca_cert is not None:
            files[CA_FILE] = ca_cert
        files[MARKER] = b"written by `envman render`; replaced as a whole by the next render\n"
        for name in sorted(files):
            _place(staging / name, files[name])
        _fix_times(staging, plan.epoch)
        if out.exists():
            old = out.with_name(f".{out.name}.old-{os.getpid()}")
            out.rename(old)
            staging.rename(out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _fetch_all(plan: ImagePlan, services: Any) -> list[tuple[Any, Path]]:
    """Every artifact of every fragment from the cache (downloaded and verified when missing);
    a file that does not match its locked sha256 stops the render before any build (exit 3)."""
    from envman.fetch import fetch_verified

    artifacts = sorted({a.path: a for f in plan.fragments for a in f.artifacts}.values(), key=lambda a: a.path)

    def one(artifact: Any) -> tuple[Any, Path]:
        try:
            return artifact, fetch_verified(artifact.url, artifact.sha256, services.http, services.cache)
        except SyncError as exc:
            raise ResolutionError(f"{artifact.path}: {exc}") from None

    if not artifacts:
        return []
    services.progress(f"fetching {len(artifacts)} artifacts")
    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(one, artifacts))


def _place(target: Path, content: bytes | Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        target.write_bytes(content)
        return
    try:
        os.link(content, target)  # the cache's verified file; a copy only across file systems
    except OSError:
        shutil.copyfile(content, target)


def _fix_times(root: Path, epoch: int) -> None:
    for folder, _dirs, files in os.walk(root):
        for name in files:
            os.utime(os.path.join(folder, name), (epoch, epoch), follow_symlinks=False)
    for folder, _dirs, _files in os.walk(root, topdown=False):
        os.utime(folder, (epoch, epoch))


def _relative(name: str) -> str:
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or not path.parts or name in (MARKER, "Dockerfile"):
        raise BadInputError(f"refusing to write {name!r} into the build context")
    return str(path)


def _check_install_dir(fragment: Any) -> None:
    folder = fragment.install_dir
    if not folder.startswith("/") or not set(folder) <= _SAFE_DIR or ".." in folder.split("/"):
        raise BadInputError(f"{fragment.ecosystem}: unusable image folder {folder!r}")


def _may_replace(out: Path) -> None:
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise BadInputError(f"{out}: exists and is not a folder; choose another -o")
    if out.is_dir() and any(out.iterdir()) and not (out / MARKER).is_file():
        raise BadInputError(f"{out}: a folder that envman did not write; choose an empty or new folder for -o")
