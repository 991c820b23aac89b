"""What is installed in R libraries: `rlib:DIR` (read DESCRIPTION files, no R needed) and
`rscript:PATH` (ask that R for its version and `.libPaths()`, then read those libraries).

Thin host-side wrappers: the reading itself is probe_target.py beside this file, the same
code the in-target probe script runs inside containers.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from envman.ecosystems.base import InstalledPackage
from envman.ecosystems.r.probe_target import R_ASK, parse_description, parse_r_answer, read_rlib
from envman.errors import UnreachableError

__all__ = ["parse_description", "probe_rlib", "probe_rscript", "PROBE_SCRIPT"]

PROBE_SCRIPT = R_ASK  # the R code run by probe_rscript (kept under its old name)


def _packages(rows: list[dict[str, Any]], library: bool = False) -> list[InstalledPackage]:
    found = []
    for row in rows:
        extra: dict[str, Any] = {}
        if row.get("priority") in ("base", "recommended"):
            extra["priority"] = row["priority"]
        if library:
            extra["library"] = row["location"]
        found.append(InstalledPackage(ecosystem="r", name=row["name"], version=row["version"],
                                      location=os.path.join(row["location"], row["name"]), extra=extra))
    return found


def _unreachable(what: str, exc: OSError, meanings: dict[type, str], otherwise: str) -> UnreachableError:
    """The OSError met reaching a target, as the exit-4 error naming it."""
    for kind, meaning in meanings.items():
        if isinstance(exc, kind):
            return UnreachableError(f"{what}: {meaning}")
    return UnreachableError(f"{what}: {otherwise} ({exc.strerror or exc})")


def _read(directory: Path | str, what: str) -> list[dict[str, Any]]:
    try:
        return read_rlib(str(directory))
    except OSError as exc:
        meanings = {FileNotFoundError: "no such R library folder", NotADirectoryError: "not a folder"}
        raise _unreachable(what, exc, meanings, "cannot read the folder") from None


def probe_rlib(directory: Path) -> list[InstalledPackage]:
    """Installed packages of one library folder, sorted by name (rules in probe_target)."""
    return _packages(_read(directory, f"rlib:{directory}"))


def probe_rscript(runner: Any, rscript: str) -> tuple[str, list[InstalledPackage]]:
    """(R version, packages R would load) for that Rscript: every library of `.libPaths()`;
    when a package is in several libraries the first one wins, as for `library()`.

    The libraries are read from this machine's file system: the runner runs here (a
    container is probed with the whole probe script, see envman.targets.containers)."""
    try:
        result = runner.run([rscript, "-e", R_ASK], timeout=120)
    except OSError as exc:
        meanings = {FileNotFoundError: "no such program", PermissionError: "not executable"}
        raise _unreachable(f"rscript:{rscript}", exc, meanings, "cannot run it") from None
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise UnreachableError(f"rscript:{rscript}: exited with {result.returncode}: {' / '.join(detail) or 'no message'}")
    version, libraries = parse_r_answer(result.stdout.decode("utf-8", "replace"))
    if version is None:
        raise UnreachableError(f"rscript:{rscript}: did not answer like R (no version in its output)")
    found: dict[str, InstalledPackage] = {}
    for library in libraries:
        if not os.path.isdir(library):
            continue
        for package in _packages(_read(library, f"rscript:{rscript}: library {library}"), library=True):
            found.setdefault(package.name, package)
    return version, [found[n] for n in sorted(found)]
