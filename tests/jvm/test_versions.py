"""Maven version ordering (maven-resolver GenericVersion) and ranges."""

from __future__ import annotations

import pytest

from envman.ecosystems.jvm.versions import InvalidVersionSpec, Version, parse_constraint

ORDERED = [
    "1-alpha-1", "1-alpha2", "1-beta-1", "1-milestone-1", "1-rc-1", "1-SNAPSHOT", "1", "1-sp-1",
    "1-abc", "1.0.0.1", "1.1", "1.1.1", "1.2-beta", "1.2", "1.2.0.0-jre", "1.10", "2.0-jre", "10.0",
]


def test_total_order():
    versions = [Version(v) for v in ORDERED]
    for i, low in enumerate(versions):
        for high in versions[i + 1:]:
            assert low < high, (low, high)


@pytest.mark.parametrize("a,b", [("1", "1.0"), ("1.0", "1.0.0"), ("1-ga", "1"), ("1-final", "1.0"),
                                  ("1-release", "1"), ("1.0-SNAPSHOT", "1-snapshot"), ("1a1", "1-alpha-1"),
                                  ("1.0.RC1", "1.0-cr-1"), ("007", "7")])
def test_equal(a, b):
    assert Version(a) == Version(b)
    assert hash(Version(a)) == hash(Version(b))


def test_big_numbers():
    assert Version("20240101123456789") > Version("2024010112345678")


@pytest.mark.parametrize("spec,inside,outside", [
    ("[1.0,2.0)", ["1.0", "1.5", "1.99"], ["0.9", "2.0", "2.0.1"]),
    ("(1.0,2.0]", ["1.0.1", "2.0"], ["1.0", "2.1"]),
    ("[1.5,)", ["1.5", "99"], ["1.4"]),
    ("(,1.0]", ["0.1", "1.0"], ["1.0.1"]),
    ("[1.2]", ["1.2", "1.2.0"], ["1.2.1"]),
    ("(,1.0],[1.2,)", ["0.5", "1.2", "3"], ["1.1"]),
    ("[1.*]", ["1.0", "1.9.9"], ["2.0", "0.9"]),
])
def test_ranges(spec, inside, outside):
    constraint = parse_constraint(spec)
    assert constraint.is_range
    for v in inside:
        assert constraint.contains(Version(v)), v
    for v in outside:
        assert not constraint.contains(Version(v)), v


def test_soft_version_is_not_a_range():
    constraint = parse_constraint("1.2.3")
    assert not constraint.is_range and constraint.contains(Version("1.2.3"))


@pytest.mark.parametrize("bad", ["[1.0", "[2.0,1.0]", "(1.0)", "[1,2,3]", "[1.0,2.0)x"])
def test_invalid_ranges(bad):
    with pytest.raises(InvalidVersionSpec):
        parse_constraint(bad)
