"""Validation of manifest fields, before any value can reach a shell, a file or an export.

One validator per kind of field; each returns the value unchanged or raises ValueError with
a short reason that never repeats the value (it may hold a token); the manifest loader
turns that into a FILE:LINE:COL error.

    validate_text          any string field (the rule every other validator starts with):
                           no control character (C0, DEL, C1 such as ESC, Unicode format and
                           line/paragraph separators), no surrounding whitespace, and none of
                           the shell metacharacters `` ` $ \\ | & ``
    reject_shell_meta      package specs (PEP 508, R, Maven, conda, exclusions): the text rule
    validate_package_spec  the same, returning the spec (each ecosystem adds its grammar)
    validate_name          names (apt packages, repositories, channels, environments): the
                           text rule, and no whitespace, quote or `; < > ( ) * ? ! [ ] { } #`
    validate_url           index and repository URLs: the name rule, then an http(s):// URL
                           with a host (or a file:// URL), a numeric port, and no `@` after
                           the host (a password holding `/`, `?` or `#` must be percent-encoded)
    validate_find_link     python.find-links: a URL as above, or a local path under the name
                           rule that does not start with `-`
    validate_apt_name      a Debian package name, optionally `=version`

Each ecosystem validates its own spec grammar (envman/ecosystems/NAME/section.py) after
reject_shell_meta; envman.sections.Strict applies validate_text to every string of every
manifest model as a last line, so a field someone forgets is still held to the text rule.
"""

from __future__ import annotations

import re

__all__ = [
    "reject_shell_meta",
    "validate_text",
    "validate_package_spec",
    "validate_name",
    "validate_url",
    "validate_find_link",
    "validate_apt_name",
    "SHELL_META",
]

# Characters a shell gives meaning to and that no field's grammar needs.
SHELL_META = "`$\\|&"
# What names, URLs and paths never hold besides: quotes, whitespace and the rest of the
# shell's syntax (`;` `<` `>` …), so that nothing can be read as two words or a command.
_NAME_EXTRA = "'\"<>;()*?![]{}#"
_URL_EXTRA = "'\"<>;(){}"


def _refuse(value: str, what: str, forbidden: str = SHELL_META, spaces: bool = True) -> None:
    """The text rule: ValueError naming the first offending character (escaped, one line)."""
    if not isinstance(value, str):
        raise ValueError(f"{what} must be text")
    if value != value.strip():
        raise ValueError(f"leading or trailing whitespace is not allowed in {what}")
    if not value.isprintable():  # C0, DEL, C1 (ESC's 8-bit twin CSI too), format chars, separators
        bad = next(ch for ch in value if not ch.isprintable())
        raise ValueError(f"character {bad!r} is not allowed in {what}")
    if not spaces and " " in value:
        raise ValueError(f"whitespace is not allowed in {what}")
    for ch in forbidden:
        if ch in value:
            raise ValueError(f"character {ch!r} is not allowed in {what}")


def validate_text(value: str, what: str = "a manifest field") -> str:
    _refuse(value, what)
    return value


def reject_shell_meta(spec: str) -> None:
    _refuse(spec, "a package spec")


def validate_package_spec(spec: str) -> str:
    _refuse(spec, "a package spec")
    return spec


def validate_name(name: str, what: str = "a name") -> str:
    _refuse(name, what, SHELL_META + _NAME_EXTRA, spaces=False)
    if not name:
        raise ValueError(f"{what} cannot be empty")
    return name


_APT_NAME = re.compile(r"[a-z0-9][a-z0-9+.\-]+(?:=[A-Za-z0-9.+~:\-]+)?")


def validate_apt_name(name: str) -> str:
    _refuse(name, "a Debian package name", SHELL_META + _NAME_EXTRA, spaces=False)
    if not _APT_NAME.fullmatch(name):
        raise ValueError("not a valid Debian package name")
    return name


def validate_url(url: str) -> str:
    from urllib.parse import urlsplit

    _refuse(url, "a URL", SHELL_META + _URL_EXTRA, spaces=False)
    scheme, sep, _rest = url.partition("://")
    if not sep or scheme.lower() not in ("http", "https", "file"):
        raise ValueError("not an http(s):// or file:// URL")
    try:
        parts = urlsplit(url)
        port = parts.port  # ValueError when not a number in 0..65535
        host = parts.hostname
    except ValueError as exc:
        reason = "its port is not a number" if "port" in str(exc).lower() else "its host part cannot be parsed"
        raise ValueError(f"not a valid URL: {reason}") from None
    del port
    if scheme.lower() != "file" and not host:
        raise ValueError("not a valid URL: it names no host")
    if scheme.lower() == "file" and not parts.path:
        raise ValueError("not a valid file:// URL: it names no path")
    if "@" in url[len(scheme) + 3 + len(parts.netloc):]:
        raise ValueError(
            "not a valid URL: an `@` after the host (percent-encode `/`, `?`, `#` and `@` in a user name or password)"
        )
    return url


def validate_find_link(link: str) -> str:
    """python.find-links: a URL (validate_url) or a local folder or file (relative to the manifest)."""
    if "://" in link:
        return validate_url(link)
    _refuse(link, "a find-links path", SHELL_META + _URL_EXTRA, spaces=False)
    if not link:
        raise ValueError("a find-links path cannot be empty")
    if link.startswith("-"):
        raise ValueError("a find-links path cannot start with `-`")
    return link
