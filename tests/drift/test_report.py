"""Report writers: table grouped by ecosystem, markdown, junit (valid XML whatever the names), diff."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from envman.drift import Difference, Finding
from envman.report import CheckResult, DiffResult, TargetResult, render_check, render_diff


def _result() -> CheckResult:
    findings = [
        Finding("r", "data.table", "changed", "1.15.4", "1.14.8"),
        Finding("python", "requests", "missing", "2.32.3", None),
        Finding("jvm", "com.google.guava:guava", "modified", "33.4.0-jre", "33.4.0-jre", "jar sha256 abc… is not the locked def…"),
        Finding("python", "evil<&>\"name[bold]", "extra", None, "1|2\x01"),
        Finding("python", "python", "runtime", "3.11", "3.12.1"),
    ]
    ok = TargetResult("docker:api-2", "production", "linux-64", [], {"python": ["requests"]})
    bad = TargetResult("docker:api-1", "production", "linux-64", findings,
                       {"python": ["requests"], "r": ["data.table"], "jvm": ["com.google.guava:guava"]})
    return CheckResult([bad, ok])


def test_table_groups_by_ecosystem_without_colour():
    text = render_check(_result(), "table", color=False)
    assert "\x1b[" not in text
    order = [text.index(f"\n{eco}\n") for eco in ("python", "r", "jvm")]
    assert order == sorted(order)
    assert "evil<&>\"name[bold]" in text  # never taken for markup
    assert "1 of 2 target(s) in sync" in text
    assert "\x1b[" in render_check(_result(), "table", color=True)


def test_json_shape():
    data = json.loads(render_check(_result(), "json"))
    assert data["in_sync"] is False
    assert [t["in_sync"] for t in data["targets"]] == [False, True]
    assert set(data["targets"][0]) == {"target", "environment", "platform", "in_sync", "findings"}
    assert data["targets"][0]["findings"][0]["kind"] == "runtime"  # a runtime mismatch comes first
    assert data["targets"][0]["findings"][2] == {
        "ecosystem": "python", "name": "requests", "kind": "missing", "expected": "2.32.3", "actual": None,
    }


def test_markdown_escapes_pipes():
    text = render_check(_result(), "markdown")
    assert "| python | requests | missing | 2.32.3 | — |  |" in text
    assert "1\\|2" in text
    assert "in sync." in text


def test_junit_is_valid_xml_with_one_case_per_package():
    root = ET.fromstring(render_check(_result(), "junit"))
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["docker:api-1 [production@linux-64]", "docker:api-2 [production@linux-64]"]
    cases = {(c.get("classname"), c.get("name")): c for c in suites[0].iter("testcase")}
    assert set(cases) == {("envman.jvm", "com.google.guava:guava"), ("envman.python", "requests"), ("envman.r", "data.table"),
                          ("envman.python", "evil<&>\"name[bold]"), ("envman.python", "python")}
    assert all(c.find("failure") is not None for c in cases.values())
    assert cases[("envman.python", "requests")].find("failure").get("type") == "missing"
    assert root.get("failures") == "5" and suites[1].get("failures") == "0" and suites[1].get("tests") == "1"


def test_diff_formats():
    result = DiffResult("lock:production", "docker:api",
                        [Difference("python", "requests", "2.32.3", "2.31.0"), Difference("r", "cli", None, "3.6.3")])
    table = render_diff(result, "table", color=False)
    assert "lock:production" in table and "docker:api" in table and "2 difference(s)" in table
    md = render_diff(result, "markdown")
    assert "| r | cli | — | 3.6.3 |" in md
    assert json.loads(render_diff(result, "json"))["identical"] is False
    assert "identical" in render_diff(DiffResult("a", "b", []), "table", color=False)
