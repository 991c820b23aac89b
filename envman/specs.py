"""Validation of package specs per ecosystem, before any spec can reach a shell or a file.

Each ecosystem validates its own specs (envman/ecosystems/NAME/spec.py) and calls
reject_shell_meta first; what is shared by every section lives here. Each validator returns
the spec unchanged or raises ValueError with a short reason; the manifest loader turns that
into a FILE:LINE:COL error.
"""

from __future__ import annotations

import re

__all__ = ["reject_shell_meta", "validate_apt_name", "validate_url"]

# Characters a shell gives meaning to and that no ecosystem's spec grammar needs.
_SHELL_META = re.compile(r"[`$\\|&\x00-\x1f\x7f]")


def reject_shell_meta(spec: str) -> None:
    found = _SHELL_META.search(spec)
    if found:
        raise ValueError(f"character {found.group()!r} is not allowed in a package spec")


_APT_NAME = re.compile(r"^[a-z0-9][a-z0-9+.\-]+(?:=[A-Za-z0-9.+~:\-]+)?$")


def validate_apt_name(name: str) -> str:
    if not _APT_NAME.match(name):
        raise ValueError("not a valid Debian package name")
    return name


_URL = re.compile(r"^(https?|file)://[^\s`$\\|&'\"<>]+$")


def validate_url(url: str) -> str:
    if not _URL.match(url):
        raise ValueError("not an http(s):// or file:// URL")
    return url

