"""`conda.channels` as URLs, and the public form of a channel or package URL.

A channel name (`conda-forge`, `conda-forge/label/dev`) is `<channel-alias>/<name>/`, the
alias defaulting to https://conda.anaconda.org/ (conda's own rule), and `defaults` is
conda's pkgs/main and pkgs/r on repo.anaconda.com; a URL (http(s)://,
file://) is used as written. What reaches the lock, a message or an export is the public
form: user and password cut (envman.redact), and an anaconda.org token segment
(`/t/<token>/`) removed, as conda-lock does. The solver is given the URLs without user and
password, which go as an HTTP Basic header instead, so that they never reach py-rattler's
repodata cache (a `/t/<token>/` stays in the URL rattler reads and caches). Standard
library only.
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from envman.redact import redact_text, redact_url

__all__ = ["ChannelRef", "channels_of", "public_url", "public_text", "channel_of_url", "auth_headers", "named_channel"]

# what conda means by `defaults` (its default_channels on Linux and macOS)
DEFAULTS = ("https://repo.anaconda.com/pkgs/main/", "https://repo.anaconda.com/pkgs/r/")
_TOKEN = re.compile(r"/t/[^/\s]+/")


class ChannelRef(NamedTuple):
    label: str  # as the manifest writes it (a URL in its public form)
    url: str  # base URL ending in `/`, without user:password (what the solver is given)
    auth: tuple[str, str] | None = None  # (user, password) from the URL: sent as a header, in memory only


def _split_auth(url: str) -> tuple[str, tuple[str, str] | None]:
    """(url without user:password@, (user, password) or None)."""
    from urllib.parse import unquote, urlsplit

    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url, None
    return redact_url(url), (unquote(parts.username or ""), unquote(parts.password or ""))


def public_url(url: str) -> str:
    """url without credentials (user:password@, /t/<token>/)."""
    return _TOKEN.sub("/", redact_url(url), count=1) if "/t/" in url else redact_url(url)


def public_text(text: str) -> str:
    """Free text (a rattler message) with every URL's credentials masked."""
    return _TOKEN.sub("/t/****/", redact_text(text))


def channels_of(section: Any) -> list[ChannelRef]:
    """The section's channels in priority order (first wins under strict priority)."""
    alias = str(getattr(section, "channel_alias", None) or "https://conda.anaconda.org/").rstrip("/") + "/"
    refs: list[ChannelRef] = []
    for channel in getattr(section, "channels", None) or ["conda-forge"]:
        text = str(channel)
        if "://" in text:
            url, auth = _split_auth(text.rstrip("/") + "/")
            refs.append(ChannelRef(public_url(text.rstrip("/")), url, auth))
        elif text == "defaults":  # conda's multichannel, not a channel under the alias
            refs += [ChannelRef(text, url) for url in DEFAULTS]
        else:
            url, auth = _split_auth(alias + text.strip("/") + "/")
            refs.append(ChannelRef(text, url, auth))
    unique: dict[str, ChannelRef] = {}
    for ref in refs:
        unique.setdefault(ref.url, ref)  # a channel listed twice keeps its first place
    return list(unique.values())


def auth_headers(channels: list[ChannelRef]) -> Any:
    """None when no channel has a user and password; else the (host, path) -> headers
    callback that sends HTTP Basic credentials to each such channel (py-rattler's
    AddHeadersMiddleware): the URLs the solver caches and reports stay without them."""
    import base64
    from urllib.parse import urlsplit

    places = []
    for ref in channels:
        if ref.auth is not None:
            parts = urlsplit(ref.url)
            token = base64.b64encode(f"{ref.auth[0]}:{ref.auth[1]}".encode()).decode()
            places.append((parts.hostname or "", parts.path, {"Authorization": f"Basic {token}"}))
    if not places:
        return None
    places.sort(key=lambda place: -len(place[1]))  # the most specific channel first

    def headers(host: str, path: str) -> dict[str, str] | None:
        for where, prefix, sent in places:
            if host == where and path.startswith(prefix):
                return sent
        return None

    return headers


def channel_of_url(url: str, channels: list[ChannelRef]) -> ChannelRef | None:
    """The channel a package or repodata URL belongs to (the longest base that prefixes it)."""
    found = [ref for ref in channels if url.startswith(ref.url) or public_url(url).startswith(public_url(ref.url))]
    return max(found, key=lambda ref: len(ref.url)) if found else None


def named_channel(text: str, channels: list[ChannelRef]) -> ChannelRef | None:
    """The channel of `channels` that a spec's channel part names: its name as
    `conda.channels` writes it, or its URL (without a trailing `/`); None when none is."""
    wanted = text.strip().rstrip("/")
    for ref in channels:
        if wanted in (ref.label.rstrip("/"), public_url(ref.url).rstrip("/")):
            return ref
    return None
