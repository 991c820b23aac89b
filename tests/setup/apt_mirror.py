#!/usr/bin/env python3
"""Print the Debian mirror the host's apt uses, for debootstrap.

Reads /etc/apt/sources.list, sources.list.d/*.list (one-line format) and
sources.list.d/*.sources (deb822). Picks the first `deb` source of the Debian archive
that carries the wanted suite (default bookworm) with component main; failing that, the
first source of any Debian release suite (the archive serves every suite); failing that,
http://deb.debian.org/debian. Only http, https and file URIs qualify (debootstrap's).
Usage: apt_mirror.py [SUITE] [APT_ETC_DIR]
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Source", "read_sources", "parse_one_line", "parse_deb822", "pick_mirror", "DEFAULT_MIRROR"]

DEFAULT_MIRROR = "http://deb.debian.org/debian"
RELEASE_SUITES = {"bullseye", "bookworm", "trixie", "forky", "sid", "stable", "testing", "unstable", "oldstable"}
SCHEMES = ("http://", "https://", "file:/")


@dataclass(frozen=True)
class Source:
    uri: str
    suites: tuple[str, ...]
    components: tuple[str, ...]


def parse_one_line(text: str) -> list[Source]:
    """`deb [opts] URI SUITE COMPONENT...` lines; deb-src and comments are ignored."""
    found = []
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line.startswith("deb "):
            continue
        rest = line[4:].strip()
        if rest.startswith("["):
            end = rest.find("]")
            if end < 0:
                continue
            rest = rest[end + 1 :].strip()
        words = rest.split()
        if len(words) >= 2:
            found.append(Source(words[0].rstrip("/"), (words[1],), tuple(words[2:])))
    return found


def parse_deb822(text: str) -> list[Source]:
    """deb822 stanzas separated by blank lines; `Enabled: no` stanzas are skipped."""
    found = []
    stanzas: list[dict[str, str]] = [{}]
    key = None
    for raw in text.splitlines():
        if raw.lstrip().startswith("#"):
            continue
        if not raw.strip():
            if stanzas[-1]:
                stanzas.append({})
            key = None
            continue
        if raw[0] in " \t" and key:  # continuation line
            stanzas[-1][key] += " " + raw.strip()
            continue
        if ":" in raw:
            key, value = raw.split(":", 1)
            key = key.strip().lower()
            stanzas[-1][key] = value.strip()
    for st in stanzas:
        if not st or st.get("enabled", "yes").lower() == "no":
            continue
        if "deb" not in st.get("types", "").split():
            continue
        suites = tuple(st.get("suites", "").split())
        comps = tuple(st.get("components", "").split())
        for uri in st.get("uris", "").split():
            found.append(Source(uri.rstrip("/"), suites, comps))
    return found


def read_sources(etc: Path = Path("/etc/apt")) -> list[Source]:
    sources: list[Source] = []
    main = etc / "sources.list"
    if main.is_file():
        sources += parse_one_line(main.read_text(errors="replace"))
    parts = etc / "sources.list.d"
    if parts.is_dir():
        for path in sorted(parts.iterdir()):
            if path.suffix == ".list":
                sources += parse_one_line(path.read_text(errors="replace"))
            elif path.suffix == ".sources":
                sources += parse_deb822(path.read_text(errors="replace"))
    return sources


def pick_mirror(sources: list[Source], suite: str = "bookworm") -> str:
    usable = [s for s in sources if s.uri.startswith(SCHEMES) and "main" in s.components]
    for s in usable:
        if suite in s.suites:
            return s.uri
    for s in usable:
        if RELEASE_SUITES.intersection(s.suites):
            return s.uri
    return DEFAULT_MIRROR


def main(argv: list[str]) -> int:
    suite = argv[1] if len(argv) > 1 else "bookworm"
    etc = Path(argv[2]) if len(argv) > 2 else Path("/etc/apt")
    print(pick_mirror(read_sources(etc), suite))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
