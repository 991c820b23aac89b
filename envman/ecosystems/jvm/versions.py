"""Maven version ordering and ranges, as Maven's resolver (GenericVersionScheme) does them.

Maven 3's dependency resolution compares versions with maven-resolver's GenericVersion
(close to maven-artifact's ComparableVersion): versions split on `.`, `-`, `_` and on
digit/letter transitions; numbers compare numerically; known qualifiers order
alpha < beta < milestone < rc = cr < snapshot < "" = ga = final = release < sp; other
strings sort after qualifiers, case-insensitively; trailing "zero" items are padding
(1.0 == 1 == 1.0.0 == 1-ga).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import total_ordering
from typing import cast

from envman.errors import ResolutionError

__all__ = ["Version", "VersionRange", "VersionConstraint", "parse_constraint", "InvalidVersionSpec"]


class InvalidVersionSpec(ResolutionError, ValueError):  # envman's hierarchy (exit 3); ValueError for the catch sites
    """A version or range string Maven would reject."""


_KIND_MIN, _KIND_QUALIFIER, _KIND_STRING, _KIND_INT, _KIND_MAX = 0, 2, 3, 4, 8
_QUALIFIERS = {
    "alpha": -5, "beta": -4, "milestone": -3, "cr": -2, "rc": -2, "snapshot": -1,
    "ga": 0, "final": 0, "release": 0, "": 0, "sp": 1,
}


def _is_number(kind: int) -> bool:
    return (kind & _KIND_QUALIFIER) == 0


def _cmp_item(a: tuple[int, object], b: tuple[int, object] | None) -> int:
    kind, value = a
    if b is None:  # the pad item (0 or "ga")
        if kind == _KIND_MIN:
            return -1
        if kind in (_KIND_MAX, _KIND_STRING):
            return 1
        if kind == _KIND_INT:
            return (value > 0) - (value < 0)  # type: ignore[operator]
        return (value > 0) - (value < 0)  # type: ignore[operator]  # qualifier
    rel = kind - b[0]
    if rel:
        return rel
    if kind in (_KIND_MAX, _KIND_MIN):
        return 0
    if kind == _KIND_STRING:
        x, y = cast(str, value), cast(str, b[1])  # both already lower-cased
        return (x > y) - (x < y)
    i, j = cast(int, value), cast(int, b[1])  # numbers and qualifiers carry ints
    return (i > j) - (i < j)


def _tokenize(version: str) -> list[tuple[int, object]]:
    text = version if version else "0"
    n = len(text)
    index = 0
    items: list[tuple[int, object]] = []
    while index < n:
        state = -2
        start = index
        end = n
        terminated_by_number = False
        while index < n:
            c = text[index]
            if c in ".-_":
                end = index
                index += 1
                break
            if "0" <= c <= "9":
                if state == -1:
                    end = index
                    terminated_by_number = True
                    break
                if state == 0:
                    start += 1  # strip leading zeros
                state = 1 if (state > 0 or c != "0") else 0
            else:
                if state >= 0:
                    end = index
                    break
                state = -1
            index += 1
        if end - start > 0:
            token = text[start:end]
            number = state >= 0
        else:
            token, number = "0", True
        if number:
            # Python ints cover BigInteger; absurdly long digit runs are cut below the
            # interpreter's int-conversion limit rather than failing on untrusted input
            items.append((_KIND_INT, int(token[:4000])))
            continue
        if index >= n:
            if token.lower() == "min":
                items.append((_KIND_MIN, "min"))
                continue
            if token.lower() == "max":
                items.append((_KIND_MAX, "max"))
                continue
        if terminated_by_number and len(token) == 1 and token.lower() in "abm":
            items.append((_KIND_QUALIFIER, {"a": -5, "b": -4, "m": -3}[token.lower()]))
            continue
        qualifier = _QUALIFIERS.get(token.lower())
        if qualifier is not None:
            items.append((_KIND_QUALIFIER, qualifier))
        else:
            items.append((_KIND_STRING, token.lower()))
    _trim_padding(items)
    return items


def _trim_padding(items: list[tuple[int, object]]) -> None:
    number = None
    end = len(items) - 1
    i = end
    while i > 0:
        item = items[i]
        item_number = _is_number(item[0])
        if item_number != number:
            end = i
            number = item_number
        if (
            end == i
            and (i == len(items) - 1 or _is_number(items[i - 1][0]) == item_number)
            and _cmp_item(item, None) == 0
        ):
            del items[i]
            end -= 1
        i -= 1


def _compare_padding(items: list[tuple[int, object]], index: int, number: bool | None) -> int:
    rel = 0
    for item in items[index:]:
        if number is not None and number != _is_number(item[0]):
            break
        rel = _cmp_item(item, None)
        if rel:
            break
    return rel


@total_ordering
class Version:
    """One Maven version; equal when Maven considers them equal (1.0 == 1)."""

    __slots__ = ("text", "_items")

    def __init__(self, text: str) -> None:
        self.text = text
        self._items = _tokenize(text)

    def compare(self, other: Version) -> int:
        these, those = self._items, other._items
        number = True
        index = 0
        while True:
            if index >= len(these) and index >= len(those):
                return 0
            if index >= len(these):
                return -_compare_padding(those, index, None)
            if index >= len(those):
                return _compare_padding(these, index, None)
            a, b = these[index], those[index]
            if _is_number(a[0]) != _is_number(b[0]):
                if number == _is_number(a[0]):
                    return _compare_padding(these, index, number)
                return -_compare_padding(those, index, number)
            rel = _cmp_item(a, b)
            if rel:
                return rel
            number = _is_number(a[0])
            index += 1

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Version) and self.compare(other) == 0

    def __lt__(self, other: Version) -> bool:
        return self.compare(other) < 0

    def __hash__(self) -> int:
        return hash(tuple(self._items))

    def __repr__(self) -> str:
        return f"Version({self.text!r})"

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class VersionRange:
    lower: Version | None
    lower_inclusive: bool
    upper: Version | None
    upper_inclusive: bool

    def contains(self, version: Version) -> bool:
        if self.lower is not None:
            c = self.lower.compare(version)
            if c > 0 or (c == 0 and not self.lower_inclusive):
                return False
        if self.upper is not None:
            c = self.upper.compare(version)
            if c < 0 or (c == 0 and not self.upper_inclusive):
                return False
        return True


@dataclass(frozen=True)
class VersionConstraint:
    """Either a soft version (`1.2`, a preference) or a union of ranges (a hard constraint)."""

    text: str
    version: Version | None
    ranges: tuple[VersionRange, ...] = ()

    @property
    def is_range(self) -> bool:
        return self.version is None

    def contains(self, version: Version) -> bool:
        if self.version is not None:
            return self.version == version
        return any(r.contains(version) for r in self.ranges)

    def select(self, available: Iterable[Version]) -> list[Version]:
        """Versions of `available` inside the range, ascending."""
        return sorted({v for v in available if self.contains(v)})


def _parse_range(text: str) -> VersionRange:
    if text.startswith("["):
        lower_inc = True
    elif text.startswith("("):
        lower_inc = False
    else:
        raise InvalidVersionSpec(f"invalid version range {text}: must start with [ or (")
    if text.endswith("]"):
        upper_inc = True
    elif text.endswith(")"):
        upper_inc = False
    else:
        raise InvalidVersionSpec(f"invalid version range {text}: must end with ] or )")
    body = text[1:-1]
    if "," not in body:
        if not (lower_inc and upper_inc):
            raise InvalidVersionSpec(f"invalid version range {text}: a single version must be surrounded by []")
        version = body.strip()
        if version.endswith(".*"):
            prefix = version[:-1]
            return VersionRange(Version(prefix + "min"), True, Version(prefix + "max"), True)
        v = Version(version)
        return VersionRange(v, True, v, True)
    low_text, _, high_text = body.partition(",")
    low_text, high_text = low_text.strip(), high_text.strip()
    if "," in high_text:
        raise InvalidVersionSpec(f"invalid version range {text}: bounds may not contain additional ','")
    low = Version(low_text) if low_text else None
    high = Version(high_text) if high_text else None
    if low is not None and high is not None and high < low:
        raise InvalidVersionSpec(f"invalid version range {text}: lower bound is greater than upper bound")
    return VersionRange(low, lower_inc, high, upper_inc)


def parse_constraint(text: str) -> VersionConstraint:
    """A dependency's `<version>`: soft version or `[1.0,2.0)`-style ranges (unions allowed)."""
    ranges: list[VersionRange] = []
    process = text
    while process.startswith("[") or process.startswith("("):
        i1, i2 = process.find(")"), process.find("]")
        index = i2
        if i2 < 0 or (0 <= i1 < i2):
            index = i1
        if index < 0:
            raise InvalidVersionSpec(f"unbounded version range {text}")
        ranges.append(_parse_range(process[: index + 1]))
        process = process[index + 1 :].strip()
        if process.startswith(","):
            process = process[1:].strip()
    if process and ranges:
        raise InvalidVersionSpec(f"invalid version range {text}: expected [ or ( but got {process}")
    if not ranges:
        return VersionConstraint(text, Version(text))
    return VersionConstraint(text, None, tuple(ranges))
