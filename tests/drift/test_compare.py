"""Pure logic: check/diff over snapshots, target parsing, the snapshot format."""

from __future__ import annotations

import json
import re

import pytest

from envman import ecosystems
from envman.drift import check, diff
from envman.ecosystems.base import InstalledPackage as P
from envman.errors import BadInputError
from envman.snapshot import Snapshot, dump_snapshot, parse_snapshot
from envman.targets import parse_target


def snap(ecos, packages, runtimes=None, environment=None, target="t"):
    grouped = {}
    for pkg in packages:
        grouped.setdefault(pkg.ecosystem, []).append(pkg)
    return Snapshot(target=target, ecosystems=ecos, packages=grouped, runtimes=runtimes or {}, environment=environment or {})


def kinds(findings):
    return sorted((f.ecosystem, f.name, f.kind) for f in findings)


def test_python_names_and_versions_compare_normalized():
    lock = snap(["python"], [P("python", "zope-interface", "1.0"), P("python", "ruamel-yaml", "0.18")])
    live = snap(["python"], [P("python", "zope-interface", "1.0.0"), P("python", "ruamel-yaml", "0.18.0"), P("python", "pip", "24.0"),
                             P("python", "setuptools", "70"), P("python", "wheel", "0.43")])
    assert check(lock, live) == []
    live2 = snap(["python"], [P("python", "Zope.Interface", "1.0.post1")])
    assert kinds(check(lock, live2)) == [("python", "ruamel-yaml", "missing"), ("python", "zope-interface", "changed")]


def test_locked_tooling_is_compared():
    lock = snap(["python"], [P("python", "pip", "24.0")])
    assert kinds(check(lock, snap(["python"], [P("python", "pip", "23.0")]))) == [("python", "pip", "changed")]


def test_marker_for_another_platform_is_not_missing():
    lock = snap(["python"], [P("python", "pywin32", "306", extra={"marker": "sys_platform == 'win32'"}),
                             P("python", "uvloop", "0.19", extra={"marker": "sys_platform != 'win32'"})])
    live = snap(["python"], [], environment={"python-markers": {"sys_platform": "linux", "python_version": "3.11"}})
    assert kinds(check(lock, live)) == [("python", "uvloop", "missing")]


def test_r_versions_and_r_own_packages():
    lock = snap(["r"], [P("r", "data.table", "1.15.4"), P("r", "Matrix", "1.6-5")])
    live = snap(["r"], [P("r", "data.table", "1.15-4"), P("r", "Matrix", "1.6.5", extra={"priority": "recommended"}),
                        P("r", "stats", "4.2.2", extra={"priority": "base"}), P("r", "translations", "4.2.2")])
    assert check(lock, live) == []
    # the name is case-sensitive in R
    assert kinds(check(snap(["r"], [P("r", "matrix", "1.0")]), snap(["r"], []))) == [("r", "matrix", "missing")]


def test_duplicates_are_reported_and_the_first_is_in_effect():
    lock = snap(["python"], [P("python", "six", "1.16.0")])
    live = snap(["python"], [P("python", "six", "1.16.0", "/venv/site"),
                             P("python", "six", "1.15.0", "/usr/lib/python3/dist-packages", extra={"shadowed-by": "/venv/site"})])
    findings = check(lock, live)
    assert [(f.kind, f.actual) for f in findings] == [("extra", "1.15.0")]
    assert "/usr/lib/python3/dist-packages" in findings[0].detail


def test_deep_modified_only_with_deep():
    lock = snap(["python", "jvm"], [P("python", "six", "1.16.0"), P("jvm", "g:a", "1", sha256="aa")])
    live = snap(["python", "jvm"], [P("python", "six", "1.16.0", extra={"modified": ["six.py"], "modified-count": 1}),
                                    P("jvm", "g:a", "1", "/x/a-1.jar", sha256="bb")])
    assert check(lock, live) == []
    assert kinds(check(lock, live, deep=True)) == [("jvm", "g:a", "modified"), ("python", "six", "modified")]


def test_conda_build_is_part_of_the_version():
    lock = snap(["conda"], [P("conda", "gdal", "3.9.1", extra={"build": "h1_0"})])
    live = snap(["conda"], [P("conda", "gdal", "3.9.1", extra={"build": "h2_0"})])
    (finding,) = check(lock, live)
    assert (finding.kind, finding.expected, finding.actual) == ("changed", "3.9.1 h1_0", "3.9.1 h2_0")


def test_only_covered_ecosystems_and_runtimes():
    lock = snap(["python", "r"], [P("python", "six", "1.16.0"), P("r", "cli", "3.6.3")], runtimes={"python": "3.11", "r": "4.3.3"})
    live = snap(["python"], [P("python", "six", "1.16.0")], runtimes={"python": "3.11.9"})
    assert check(lock, live) == []
    live_old = snap(["python"], [P("python", "six", "1.16.0")], runtimes={"python": "3.12.1"})
    assert [(f.kind, f.expected, f.actual) for f in check(lock, live_old)] == [("runtime", "3.11", "3.12.1")]


@pytest.mark.parametrize("name,want,have,ok", [
    ("python", "3.11", "3.11.9", True), ("python", "3.11.9", "3.11.9", True), ("python", "3.11.9", "3.11.2", False),
    ("python", "3.1", "3.11.2", False), ("java", "17", "17.0.9", True), ("java", "8", "1.8.0_292", True), ("java", "11", "17.0.2", False),
    ("r", "4.3.3", "4.3.3", True), ("r", "4.3", "4.2.2", False),
])
def test_runtime_matches(name, want, have, ok):
    owner = next(eco for eco in ecosystems.all_ecosystems() if eco.runtime == name)
    assert owner.runtime_matches(want, have) is ok


def test_diff_both_sides_and_absent():
    a = snap(["python", "r"], [P("python", "requests", "2.32.3"), P("python", "six", "1.16"), P("python", "pip", "24")], target="A")
    b = snap(["python"], [P("python", "requests", "2.31.0"), P("python", "six", "1.16.0"), P("python", "idna", "3.7")], target="B")
    assert [d.to_data() for d in diff(a, b)] == [
        {"ecosystem": "python", "name": "idna", "left": None, "right": "3.7"},
        {"ecosystem": "python", "name": "requests", "left": "2.32.3", "right": "2.31.0"},
    ]
    assert diff(a, a) == []


def test_parse_targets():
    assert parse_target("python:/opt/venv/bin/python").kind == "python"
    assert parse_target("local").kind == "local"
    assert parse_target("prod-2024.json").kind == "snapshot"
    t = parse_target("lock:production")
    assert (t.kind, t.value, t.platform, t.rev) == ("lock", "production", None, None)
    t = parse_target("lock:production@linux-aarch64")
    assert (t.value, t.platform, t.rev) == ("production", "linux-aarch64", None)
    t = parse_target("lock:production@v1.2")
    assert (t.value, t.platform, t.rev) == ("production", None, "v1.2")
    t = parse_target("lock:design@osx-arm64@HEAD~3")
    assert (t.value, t.platform, t.rev) == ("design", "osx-arm64", "HEAD~3")
    for bad in ("nonsense", "python:", "lock:a@b@c@d", "lock:x@--output=/tmp/x"):
        with pytest.raises(BadInputError):
            parse_target(bad)


def test_snapshot_roundtrip_and_errors():
    s = snap(["python", "jvm"], [P("python", "six", "1.16.0", "/site"), P("jvm", "g:a", "1", "/x.jar", "ab", {"identified-by": "sha256"})],
             runtimes={"python": "3.11.2"})
    again = parse_snapshot(dump_snapshot(s))
    assert again.packages == s.packages and again.runtimes == s.runtimes and again.ecosystems == ["jvm", "python"]
    data = json.loads(dump_snapshot(s))
    data["envman-snapshot"] = 2
    with pytest.raises(BadInputError, match="unsupported snapshot version 2"):
        parse_snapshot(json.dumps(data), "prod.json")
    with pytest.raises(BadInputError, match=re.escape("prod.json:1:2")):
        parse_snapshot("{oops", "prod.json")
    with pytest.raises(BadInputError, match=re.escape("packages.python[0]")):
        parse_snapshot(json.dumps({"envman-snapshot": 1, "target": "x", "packages": {"python": [{"name": 3}]}}), "prod.json")


def test_platform_of_markers():
    from envman.targets.probe import platform_of

    assert platform_of({"sys_platform": "linux", "platform_machine": "x86_64"}) == "linux-64"
    assert platform_of({"sys_platform": "linux", "platform_machine": "aarch64"}) == "linux-aarch64"
    assert platform_of({"sys_platform": "darwin", "platform_machine": "arm64"}) == "osx-arm64"
    assert platform_of({"sys_platform": "win32", "platform_machine": "AMD64"}) == "win-64"
    assert platform_of({}) is None
