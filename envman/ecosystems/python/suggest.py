"""When the resolver says a project "was not found in the package registry": is the index
itself wrong (its root does not answer as a PEP 503/691 index), or is the name mistyped
(close names from the index's own project list, as `envman lock` does for R)? Asked only on
that error; the project list is cached like any index page."""

from __future__ import annotations

import difflib
import html
import json
import re
from typing import Any

from packaging.utils import canonicalize_name

__all__ = ["missing_projects", "advice"]

_MISSING = re.compile(r"Because ([A-Za-z0-9][A-Za-z0-9._-]*) was not found in the package registry")
_ANCHOR = re.compile(r"<a\b[^>]*>([^<]+)</a>", re.IGNORECASE)
_ACCEPT = "application/vnd.pypi.simple.v1+json, text/html;q=0.1"


def missing_projects(text: str) -> list[str]:
    return sorted({m.group(1) for m in _MISSING.finditer(text)})


def _project_names(body: bytes) -> list[str]:
    text = body.decode("utf-8", "replace")
    if text.lstrip().startswith("{"):
        data = json.loads(text)
        return [str(p.get("name", "")) for p in data.get("projects", []) if isinstance(p, dict)]
    # PEP 503's root page is one anchor per project (PyPI's: 40 MB, ~900,000 anchors): a
    # regular expression reads it in about a second where html.parser takes twenty
    return [html.unescape(name).strip() for name in _ANCHOR.findall(text)]


def advice(missing: list[str], index_url: str, http: Any) -> str:
    """Lines to add to the error: what to check about the index, or names close to each
    missing one. Empty when nothing useful can be said (the index is unreachable too)."""
    from envman.errors import EnvmanError
    from envman.http import NotFound
    from envman.redact import redact_url

    root = index_url.rstrip("/") + "/"
    try:
        body = http.get(root, headers={"Accept": _ACCEPT})
    except NotFound:
        return (f"\n{redact_url(index_url)} does not answer as a package index (HTTP 404 at its root); "
                "check python.index-url (PyPI's is https://pypi.org/simple)")
    except EnvmanError:
        return ""
    try:
        names = _project_names(body)
    except ValueError:
        return ""
    if not names:
        return f"\n{redact_url(index_url)} lists no projects; check python.index-url"
    by_key = {str(canonicalize_name(n)): n for n in names}
    lines = []
    for name in missing:
        key = str(canonicalize_name(name))
        near = [k for k in by_key if abs(len(k) - len(key)) <= 2]  # a ratio >= 0.8 needs similar lengths
        close = difflib.get_close_matches(key, near, n=3, cutoff=0.8)
        if close:
            lines.append(f"\n{name!r} is not on {redact_url(index_url)}; did you mean {', '.join(repr(by_key[c]) for c in close)}?")
    return "".join(lines)
