"""Parse pip-tools-style compiled requirements (uv pip compile / pip-compile output).

Pure: text in, PythonEntry values out. `# via` annotations give each package's parents;
inverted they become each entry's `requires`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from packaging.utils import canonicalize_name

from envman.ecosystems.python.entry import PythonEntry
from envman.redact import redact_url

__all__ = ["parse_compiled", "CompiledPackage"]

_PIN = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]*)(?:\[[^\]]*\])?==(?P<version>[^\s;\\]+)"
    r"\s*(?:;\s*(?P<marker>[^\\#]+?))?\s*(?:\\)?\s*(?:#.*)?$"
)
# A direct reference as the resolver writes it: `name @ URL [; marker]` (no version).
_DIRECT = re.compile(
    r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._\-]*)(?:\[[^\]]*\])?\s*@\s*(?P<url>[^\s;\\]+)"
    r"\s*(?:;\s*(?P<marker>[^\\#]+?))?\s*(?:\\)?\s*(?:#.*)?$"
)
_HASH = re.compile(r"--hash=(sha256:[0-9a-f]{64})")


@dataclass
class CompiledPackage:
    name: str
    version: str
    marker: str | None = None
    hashes: list[str] = field(default_factory=list)
    parents: list[str] = field(default_factory=list)
    source: str | None = None
    url: str | None = None  # a direct reference (direct.py pins its version and commit)


def _parse_blocks(text: str) -> list[CompiledPackage]:
    packages: list[CompiledPackage] = []
    current: CompiledPackage | None = None
    in_via = False
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if not stripped:
            in_via = False
            continue
        if not raw.startswith((" ", "\t")) and not stripped.startswith(("#", "-")):
            match = _PIN.match(stripped)
            direct = None if match is not None else _DIRECT.match(stripped)
            if match is None and direct is None:
                current = None
                continue
            found = match or direct
            assert found is not None
            current = CompiledPackage(
                name=str(canonicalize_name(found.group("name"))),
                version=match.group("version") if match else "",
                marker=(found.group("marker") or "").strip() or None,
                url=direct.group("url") if direct else None,
            )
            packages.append(current)
            in_via = False
            inline_via = re.search(r"#\s*via\s+(.+)$", stripped)
            if inline_via:
                current.parents.extend(p.strip() for p in inline_via.group(1).split(","))
            continue
        if current is None:
            continue
        current.hashes.extend(_HASH.findall(stripped))
        if stripped.startswith("#"):
            comment = stripped.lstrip("#").strip()
            if comment.startswith("via"):
                rest = comment[3:].strip()
                in_via = not rest
                if rest:
                    current.parents.extend(p.strip() for p in rest.split(","))
            elif comment.startswith("from "):
                current.source = redact_url(comment[5:].strip())
                in_via = False
            elif in_via and comment:
                current.parents.append(comment)
    return packages


def parse_compiled(text: str, default_source: str | None = None) -> list[PythonEntry]:
    """Entries sorted by name, each with its hashes, the names it requires and its index."""
    packages = _parse_blocks(text)
    requires: dict[str, set[str]] = {p.name: set() for p in packages}
    for package in packages:
        for parent in package.parents:
            if parent.startswith("-") or parent.startswith("("):
                continue
            parent_name = str(canonicalize_name(parent.split()[0].split("[")[0]))
            if parent_name in requires:
                requires[parent_name].add(package.name)
    entries = [
        PythonEntry(
            name=p.name,
            version=p.version,
            hashes=sorted(set(p.hashes)),
            requires=sorted(requires[p.name]),
            source=None if p.url else p.source or (redact_url(default_source) if default_source else None),
            marker=p.marker,
            url=p.url,
        )
        for p in packages
    ]
    return sorted(entries, key=lambda e: e.name)
