"""DCF parsing and R version semantics."""

from __future__ import annotations

import pytest

from envman.ecosystems.r.dcf import DcfError, parse_dcf, parse_dcf_record
from envman.ecosystems.r.probe_target import parse_description
from envman.ecosystems.r.versions import VersionError, parse_constraint, parse_dependencies, satisfies, version_key


def test_records_and_continuation_lines():
    text = (
        "Package: a\nVersion: 1.0\nImports: b (>= 1.0),\n    c,\n\td\n\n"
        "Package: b\r\nVersion: 1.2-3\r\n\r\n\r\n"
        "Package: c\nVersion: 0.1\nDescription: line one\n  line two\n"
    )
    records = parse_dcf(text)
    assert [r["Package"] for r in records] == ["a", "b", "c"]
    assert records[0]["Imports"] == "b (>= 1.0),\nc,\nd"
    assert records[1]["Version"] == "1.2-3"
    assert records[2]["Description"] == "line one\nline two"


def test_description_first_record_and_colons_in_values():
    fields = parse_description("Package: x\nURL: https://example.org/a:b\nAuthors@R: person('A', role = c('aut'))\n")
    assert fields["URL"] == "https://example.org/a:b"
    assert fields["Authors@R"].startswith("person(")
    assert parse_dcf_record("") == {}


@pytest.mark.parametrize("text", ["  continuation first\n", "Package: a\nno colon here\n"])
def test_malformed_dcf(text):
    with pytest.raises(DcfError):
        parse_dcf(text)


def test_version_order_is_rs():
    assert version_key("1.0-12") == (1, 0, 12)
    assert version_key("1.10") > version_key("1.9")
    assert version_key("1.0") < version_key("1.0.0")
    assert version_key("0.9.9") < version_key("1.0")
    for bad in ("", "1.0a", "v1", "1..0", "1.0-"):
        with pytest.raises(VersionError):
            version_key(bad)


def test_constraints():
    c = parse_constraint(">=", "3.4")
    assert c.allows(version_key("3.4")) and c.allows(version_key("3.4.0")) and not c.allows(version_key("3.3.9"))
    assert parse_constraint("=", "1.0").op == "=="
    assert satisfies(version_key("1.5"), [parse_constraint(">=", "1.0"), parse_constraint("<", "2")])
    assert not satisfies(version_key("2.0"), [parse_constraint(">=", "1.0"), parse_constraint("<", "2")])
    assert parse_constraint("!=", "1.1").allows(version_key("1.2"))


def test_dependency_fields():
    deps = parse_dependencies("R (>= 3.5.0), rlang(>=1.0.0),\n  utils, methods ,  vctrs (>  0.5.0),", "Imports")
    assert [d.name for d in deps] == ["R", "rlang", "utils", "methods", "vctrs"]
    assert str(deps[1]) == "rlang (>= 1.0.0)"
    assert deps[4].constraints[0].op == ">"
    with pytest.raises(VersionError):
        parse_dependencies("rlang (>= one)")
    with pytest.raises(VersionError):
        parse_dependencies("9lives")
