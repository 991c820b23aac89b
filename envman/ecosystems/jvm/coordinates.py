"""The grammar of Maven coordinate parts: the one validator of the JVM code.

Every group, artifact, version, classifier and type that envman reads (a manifest, a POM, a
relocation, `maven-metadata.xml`, a lock) is checked here before it can name a URL, a lock
entry or a file: `[A-Za-z0-9_.-]` (versions also `+`, and ranges `[](),` where a range is
allowed), no part made only of dots, at most MAX_PART characters. That keeps `/`, `..`,
NUL, control characters and shell metacharacters out of repository paths, `jars:DIR` and
`lib/…` file names.
"""

from __future__ import annotations

import re

__all__ = [
    "MAX_PART",
    "InvalidCoordinate",
    "part_problem",
    "check_part",
    "check_version",
    "check_name",
    "is_exclusion",
]

MAX_PART = 200  # characters; a jar's file name (artifact-version-classifier.ext) must fit in 255 bytes

_PART = re.compile(r"[A-Za-z0-9_.\-]+")
_VERSION = re.compile(r"[A-Za-z0-9_.\-+]+")
_VERSION_OR_RANGE = re.compile(r"[A-Za-z0-9_.\-+\[\](),]+")
_EXCLUSION = re.compile(r"(\*|[A-Za-z0-9_.\-]+):(\*|[A-Za-z0-9_.\-]+)")


class InvalidCoordinate(ValueError):
    """A coordinate part outside the grammar (the message names the part and shows its value)."""


def _shown(value: str) -> str:
    text = repr(value)  # escapes NUL, control characters and quotes
    return text if len(text) <= 80 else text[:77] + "..."


def part_problem(label: str, value: object, grammar: re.Pattern[str] = _PART) -> str | None:
    """Why value is not a valid Maven `label` (groupId, artifactId, version, ...), or None."""
    if not isinstance(value, str):
        return f"invalid Maven {label} {_shown(str(value))} (not text)"
    if not value:
        return f"empty Maven {label}"
    if len(value) > MAX_PART:
        return f"invalid Maven {label} {_shown(value)} (longer than {MAX_PART} characters)"
    if not grammar.fullmatch(value) or not value.strip("."):
        return f"invalid Maven {label} {_shown(value)}"
    return None


def check_part(label: str, value: str, optional: bool = False) -> str:
    """value when it is a valid group/artifact/classifier/type/extension (empty allowed when optional)."""
    if optional and value == "":
        return value
    problem = part_problem(label, value)
    if problem:
        raise InvalidCoordinate(problem)
    return value


def check_version(value: str, allow_range: bool = False) -> str:
    """value when it is a valid Maven version (with allow_range: also a range such as `[1.0,2)`)."""
    problem = part_problem("version", value, _VERSION_OR_RANGE if allow_range else _VERSION)
    if problem:
        raise InvalidCoordinate(problem)
    return value


def check_name(name: str) -> str:
    """A lock entry's name, `group:artifact[:classifier]`."""
    parts = name.split(":") if isinstance(name, str) else []
    if len(parts) not in (2, 3):
        raise InvalidCoordinate(f"invalid Maven name {_shown(str(name))} (expected group:artifact[:classifier])")
    for label, value in zip(("groupId", "artifactId", "classifier"), parts, strict=False):
        check_part(label, value)
    return name


def is_exclusion(spec: str) -> bool:
    """`group:artifact` with `*` allowed for either."""
    return bool(_EXCLUSION.fullmatch(spec))
