"""The grammar of what an R repository, a source tarball or a lock may name: the one place
the R code checks package names, versions, file names and digests.

Everything read from outside (a repository's PACKAGES, an archived DESCRIPTION, an Archive/
listing, envman.lock) is held to these before it can be part of a URL, a file name or a
cache key: ASCII letters, digits and a few separators, never `/`, `..`, NUL, control
characters or shell metacharacters, at most MAX_TEXT characters. Standard library only.
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_TEXT",
    "R_NAME",
    "R_VERSION",
    "name_problem",
    "version_problem",
    "file_problem",
    "path_problem",
    "is_md5",
    "is_sha256",
    "shown",
]

MAX_TEXT = 200  # characters of one name, version or file name (a file name must fit 255 bytes)

# CRAN package names: letters, digits and dots, start with a letter, not end with a dot.
R_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9]$|^[A-Za-z]$")
# R package versions: integers separated by `.` or `-` (CRAN's own have two or more; a
# single integer, which R's numeric_version also reads, is accepted). ASCII digits only.
R_VERSION = re.compile(r"[0-9]+(?:[.\-][0-9]+)*")
# one file name (File field, tarball names): no leading dot, no `/`
_FILE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+\-]*")
_MD5 = re.compile(r"[0-9a-f]{32}")
_SHA256 = re.compile(r"(?:sha256:)?[0-9a-f]{64}")


def shown(value: str) -> str:
    """value for a message: quoted with control characters escaped, cut to 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def name_problem(name: str) -> str | None:
    """Why name is not an R package name, or None."""
    if len(name) > MAX_TEXT or not R_NAME.fullmatch(name):
        return f"{shown(name)} is not a valid R package name"
    return None


def version_problem(version: str) -> str | None:
    """Why version is not an R package version, or None."""
    if len(version) > MAX_TEXT or not R_VERSION.fullmatch(version):
        return f"invalid R version {shown(version)}"
    return None


def file_problem(filename: str) -> str | None:
    """Why filename is not a plain file name (one path segment, no leading dot), or None."""
    if len(filename) > MAX_TEXT or not _FILE.fullmatch(filename):
        return f"unsafe file name {shown(filename)}"
    return None


def path_problem(path: str) -> str | None:
    """Why path (relative to src/contrib/) is not a plain relative path, or None: every
    segment a plain file name, so no `.`, `..`, empty or absolute segment."""
    if not path or len(path) > 4 * MAX_TEXT or any(file_problem(part) for part in path.split("/")):
        return f"unsafe file path {shown(path)}"
    return None


def is_md5(value: str) -> bool:
    return bool(_MD5.fullmatch(value))


def is_sha256(value: str) -> bool:
    return bool(_SHA256.fullmatch(value))
