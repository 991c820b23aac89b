"""`envman sync conda:PREFIX`: make a conda prefix hold exactly the lock's packages, with
py-rattler doing the linking (install.py).

1. Every package an action needs (install, change, reinstall) is taken from envman's
   content-addressed cache, or downloaded by the lock's url into it, and its sha256
   checked: offline when the cache has them. A mismatch is exit 3.
2. Each is checked whole and extracted by rattler into a private package cache of this run
   (verify.py: corrupt is exit 3, a package that would leave its prefix or is not the
   locked one exit 5), and every path it writes is confined to the prefix as it is now.
3. Only then does rattler change the prefix: it is given the lock's packages, the records
   of the packages the plan acts on (read by envman, paths outside the prefix dropped) and,
   as `ignored`, everything the plan leaves alone, so it installs, changes, reinstalls and
   removes exactly what drift.plan lists and nothing else (nothing is downloaded by it).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from envman.ecosystems.base import SyncRequest
from envman.ecosystems.conda.install import link_prefix, stem
from envman.ecosystems.conda.probe_target import read_conda_record as _untyped_read_record
from envman.ecosystems.conda.verify import check_destinations, inside, unpack_checked
from envman.errors import EnvmanError, ResolutionError, SyncError

__all__ = ["sync_prefix", "package_data", "platform_of"]

_CHANGING = ("install", "change", "reinstall")
# probe_target is untyped by design (Python 3.6, standard library only)
read_conda_record: Callable[[str, int], tuple[bytes | None, str | None]] = _untyped_read_record


def package_data(entry: Any, file: Path | str | None) -> dict[str, Any]:
    """The install.py description of one lock entry (file: the verified package file)."""
    data: dict[str, Any] = {
        "name": entry.name,
        "version": entry.version,
        "build": entry.build,
        "build_number": entry.build_number or 0,
        "subdir": entry.subdir or "noarch",
        "url": entry.url,
        "sha256": entry.sha256.removeprefix("sha256:"),
        "md5": entry.md5,
        "depends": list(entry.depends) if entry.depends else None,
    }
    if file is not None:
        data["file"] = str(file)
    return data


def platform_of(entries: list[Any]) -> str | None:
    """The lock's platform, from its packages' subdirs (None: only noarch packages)."""
    return next((e.subdir for e in entries if e.subdir and e.subdir != "noarch"), None)


def fetch_package(entry: Any, services: Any, what: str) -> Path:
    """The verified package file from the cache (downloaded when missing); exit 3 when it is
    not the locked one."""
    from envman.fetch import fetch_verified

    try:
        return fetch_verified(entry.url, entry.sha256, services.http, services.cache)
    except SyncError as exc:
        raise ResolutionError(f"{what}: {entry.name} {entry.version} {entry.build}: {exc}") from None


def sync_prefix(request: SyncRequest) -> None:
    root = Path(request.location)
    what = request.target
    by_name = {e.name: e for e in request.entries}
    acted = {a.name for a in request.actions}
    wanted = [by_name[a.name] for a in request.actions if a.op in _CHANGING and a.name in by_name]
    files = {e.name: fetch_package(e, request.services, what) for e in wanted}
    with tempfile.TemporaryDirectory(prefix="envman-conda-") as tmp:
        cache = Path(tmp) / "pkgs"
        checked = [unpack_checked(files[e.name], e, cache / stem(package_data(e, None)), what) for e in wanted]
        for package in checked:
            check_destinations(root, package)
        installed, names = _installed_records(root, acted, Path(tmp) / "records", what)
        ignored = (set(by_name) | names) - acted
        try:
            link_prefix(
                root,
                [package_data(e, files.get(e.name)) for e in request.entries],
                cache,
                platform=platform_of(request.entries),
                reinstall=[a.name for a in request.actions if a.op == "reinstall"],
                ignored=ignored,
                installed=installed,
            )
        except EnvmanError:
            raise
        except Exception as exc:  # rattler's errors (exceptions.* and OSError)
            raise SyncError(f"{what}: rattler could not install into {root}: {str(exc)[:500]}") from None


def _installed_records(prefix: Path, acted: set[str], scratch: Path, what: str) -> tuple[list[Any], set[str]]:
    """rattler PrefixRecords of the prefix's conda-meta records, and their package names.
    Records are read safely (regular files within the record limit); paths that are
    absolute, have `..` or lie under a symlink leading out of the prefix are dropped, so
    rattler never removes anything outside. A record rattler cannot read is left out (and
    alone), unless the plan acts on its package: then nothing is changed (exit 5)."""
    from rattler import PrefixRecord

    from envman.ecosystems.conda import record_bytes

    meta = prefix / "conda-meta"
    if not meta.is_dir():
        return [], set()
    scratch.mkdir(parents=True, exist_ok=True)
    base = prefix.resolve()
    found: list[Any] = []
    names: set[str] = set()

    def safe(rel: Any) -> bool:
        if not inside(rel):
            return False
        parent = (prefix / rel).parent.resolve()
        return parent == base or base in parent.parents

    for path in sorted(meta.glob("*.json")):
        try:
            data, _why = read_conda_record(str(path), record_bytes())
            record = json.loads(data.decode("utf-8")) if data is not None else None
        except (OSError, ValueError, RecursionError):
            continue  # unreadable: not envman's to change
        if not isinstance(record, dict) or not isinstance(record.get("name"), str):
            continue
        files = record.get("files")
        record["files"] = [rel for rel in files if safe(rel)] if isinstance(files, list) else []
        paths_data = record.get("paths_data")
        if isinstance(paths_data, dict) and isinstance(paths_data.get("paths"), list):
            paths_data["paths"] = [p for p in paths_data["paths"] if isinstance(p, dict) and safe(p.get("_path"))]
        if isinstance(record.get("link"), dict) and not isinstance(record["link"].get("source"), str):
            record.pop("link")  # optional, but rattler reads one only with its source
        copy = scratch / path.name
        copy.write_text(json.dumps(record), encoding="utf-8")
        try:
            found.append(PrefixRecord.from_path(copy))
        except Exception as exc:  # rattler cannot read it: it could not remove the package either
            if record["name"] in acted:
                raise SyncError(f"{what}: {path}: not a conda-meta record rattler can read ({str(exc)[:200]})") from None
            continue
        names.add(record["name"])
    return found, names
