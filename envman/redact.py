"""Remove credentials from URLs before they reach a lock, a log or any output."""

from __future__ import annotations

import re

__all__ = ["redact_url", "redact_text"]

_CREDENTIALS = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^/@\s]+)@")


def redact_url(url: str) -> str:
    """`https://user:token@host/x` -> `https://host/x`."""
    return _CREDENTIALS.sub(lambda m: m.group("scheme"), url)


def redact_text(text: str) -> str:
    """Redact every URL in free text (messages, subprocess output)."""
    return _CREDENTIALS.sub(lambda m: m.group("scheme") + "****@", text)
