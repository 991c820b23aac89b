"""What is installed in R libraries: `rlib:DIR` (read DESCRIPTION files, no R needed) and
`rscript:PATH` (ask that R for its version and `.libPaths()`)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from envman.ecosystems.base import InstalledPackage
from envman.ecosystems.r.dcf import DcfError, decode_dcf_bytes, parse_dcf_record
from envman.errors import UnreachableError

__all__ = ["parse_description", "probe_rlib", "probe_rscript", "PROBE_SCRIPT"]


def parse_description(text: str) -> dict[str, str]:
    """A DESCRIPTION file's fields (DCF; continuation lines joined with newlines)."""
    return parse_dcf_record(text)


def _package(name: str, version: str, location: str, priority: str | None, library: str | None = None) -> InstalledPackage:
    extra: dict[str, Any] = {}
    if priority in ("base", "recommended"):
        extra["priority"] = priority
    if library is not None:
        extra["library"] = library
    return InstalledPackage(ecosystem="r", name=name, version=version, location=location, extra=extra)


def probe_rlib(directory: Path) -> list[InstalledPackage]:
    """Installed packages of one library folder, sorted by name.

    A package is a sub-folder whose DESCRIPTION has Package (equal to the folder name, as R
    requires) and Version; `00LOCK-*` leftovers of interrupted installs are ignored.
    """
    directory = Path(directory)
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except FileNotFoundError:
        raise UnreachableError(f"rlib:{directory}: no such R library folder") from None
    except NotADirectoryError:
        raise UnreachableError(f"rlib:{directory}: not a folder") from None
    except OSError as exc:
        raise UnreachableError(f"rlib:{directory}: cannot read the folder ({exc.strerror})") from None
    found: list[InstalledPackage] = []
    for entry in entries:
        if entry.name.startswith((".", "00LOCK")):
            continue
        try:
            data = Path(entry.path, "DESCRIPTION").read_bytes()
        except OSError:
            continue
        try:
            fields = parse_description(decode_dcf_bytes(data))
        except DcfError:
            continue
        name, version = fields.get("Package", "").strip(), fields.get("Version", "").strip()
        if not name or not version or name != entry.name:
            continue
        found.append(_package(name, version, entry.path, fields.get("Priority", "").strip() or None))
    return found


PROBE_SCRIPT = r"""local({
  out <- function(...) cat(..., "\n", sep = "")
  out("ENVMAN-R-VERSION\t", paste(R.version$major, R.version$minor, sep = "."))
  for (lib in .libPaths()) {
    out("ENVMAN-LIB\t", normalizePath(lib, mustWork = FALSE))
    for (d in sort(list.dirs(lib, recursive = FALSE, full.names = TRUE))) {
      f <- file.path(d, "DESCRIPTION")
      if (!file.exists(f)) next
      x <- tryCatch(read.dcf(f, fields = c("Package", "Version", "Priority")), error = function(e) NULL)
      if (is.null(x) || is.na(x[1, "Package"]) || is.na(x[1, "Version"])) next
      if (x[1, "Package"] != basename(d)) next
      p <- x[1, "Priority"]; if (is.na(p)) p <- ""
      out("ENVMAN-PKG\t", normalizePath(lib, mustWork = FALSE), "\t", normalizePath(d, mustWork = FALSE), "\t",
          x[1, "Package"], "\t", x[1, "Version"], "\t", p)
    }
  }
})"""


def probe_rscript(runner: Any, rscript: str) -> tuple[str, list[InstalledPackage]]:
    """(R version, packages R would load) for that Rscript: every library of `.libPaths()`;
    when a package is in several libraries the first one wins, as for `library()`."""
    try:
        result = runner.run([rscript, "-e", PROBE_SCRIPT], timeout=120)
    except FileNotFoundError:
        raise UnreachableError(f"rscript:{rscript}: no such program") from None
    except PermissionError:
        raise UnreachableError(f"rscript:{rscript}: not executable") from None
    except OSError as exc:
        raise UnreachableError(f"rscript:{rscript}: cannot run it ({exc})") from None
    stdout = result.stdout.decode("utf-8", "replace")
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-3:]
        raise UnreachableError(f"rscript:{rscript}: exited with {result.returncode}: {' / '.join(detail) or 'no message'}")
    version = None
    found: dict[str, InstalledPackage] = {}
    for line in stdout.splitlines():
        parts = line.split("\t")
        if parts[0] == "ENVMAN-R-VERSION" and len(parts) == 2:
            version = parts[1].strip()
        elif parts[0] == "ENVMAN-PKG" and len(parts) == 6:
            _, library, location, name, version_, priority = parts
            if name not in found:
                found[name] = _package(name, version_.strip(), location, priority.strip() or None, library)
    if version is None:
        raise UnreachableError(f"rscript:{rscript}: did not answer like R (no version in its output)")
    return version, [found[n] for n in sorted(found)]
