"""The grammar of conda package names, versions and build strings: the one place the conda
code checks what a package's info/index.json or a lock names. Standard library only.

Names: ASCII letters, digits, `_`, `.` and `-`, not starting with `.` or `-` (conda-build
makes them lowercase; old channels have a few capitals). Versions and build strings:
letters, digits, `_`, `.`, `+` and `!` (an epoch), not starting with `.`; conda forbids `-`
in both, since `name-version-build` is how a package file and its conda-meta record are
named. At most MAX_TEXT characters each. No `/`, `..`, NUL or control character can pass.
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_TEXT",
    "name_problem",
    "version_problem",
    "build_problem",
    "url_problem",
    "spec_text_problem",
    "is_sha256",
    "is_md5",
    "shown",
]

MAX_TEXT = 200

_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*")
_VERSION = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.+!]*")
_URL = re.compile(r"(?:https?|file)://[!-~]+")  # printable ASCII, no space: one word on one line
_SPEC_TEXT = re.compile(r"[!-~](?:[ -~]*[!-~])?")  # printable ASCII, no newline, not padded
_SHA256 = re.compile(r"(?:sha256:)?[0-9a-f]{64}")
_MD5 = re.compile(r"[0-9a-f]{32}")


def shown(value: object) -> str:
    """value for a message: quoted with control characters escaped, cut to 80 characters."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _problem(value: object, pattern: re.Pattern[str], what: str) -> str | None:
    if not isinstance(value, str) or len(value) > MAX_TEXT or not pattern.fullmatch(value):
        return f"{shown(value)} is not a valid conda {what}"
    return None


def name_problem(value: object) -> str | None:
    return _problem(value, _NAME, "package name")


def version_problem(value: object) -> str | None:
    return _problem(value, _VERSION, "version")


def build_problem(value: object) -> str | None:
    return _problem(value, _VERSION, "build string")


def url_problem(value: object) -> str | None:
    if not isinstance(value, str) or len(value) > 4 * MAX_TEXT or not _URL.fullmatch(value):
        return f"{shown(value)} is not an http(s):// or file:// URL of printable characters without spaces"
    return None


def spec_text_problem(value: object) -> str | None:
    """A dependency as a channel lists it (a match spec): one line of printable ASCII."""
    if not isinstance(value, str) or len(value) > 2 * MAX_TEXT or not _SPEC_TEXT.fullmatch(value):
        return f"{shown(value)} is not a conda dependency (one line of printable text)"
    return None


def is_sha256(value: str) -> bool:
    return bool(_SHA256.fullmatch(value))


def is_md5(value: str) -> bool:
    return bool(_MD5.fullmatch(value))
