"""Pure parts of the system ecosystem: relation grammar, Debian version order (against
dpkg --compare-versions), the dpkg database reader and --deep on a real folder tree, and
which installed packages drift talks about."""

from __future__ import annotations

import hashlib
import subprocess

import pytest

from envman.ecosystems.system.probe_target import system_section
from envman.ecosystems.system.scope import scoped_rows
from envman.ecosystems.system.section import AptSpec, parse_apt_spec
from envman.ecosystems.system.versions import compare_debian


@pytest.mark.parametrize(("spec", "parsed"), [
    ("libgomp1", AptSpec("libgomp1", None, None, None)),
    ("libgdal32 (>= 3.6)", AptSpec("libgdal32", None, ">=", "3.6")),
    ("libc6:amd64 (<< 2.37)", AptSpec("libc6", "amd64", "<<", "2.37")),
    ("libgomp1=12.2.0-14", AptSpec("libgomp1", None, "=", "12.2.0-14")),
    ("tzdata (= 2024a-0+deb12u1)", AptSpec("tzdata", None, "=", "2024a-0+deb12u1")),
])
def test_relations(spec, parsed):
    assert parse_apt_spec(spec) == parsed
    assert parse_apt_spec(parsed.relation()) == parsed


@pytest.mark.parametrize("spec", ["LibFoo", "foo (> 1)", "foo (>= )", "foo | bar", "foo; rm -rf /", "foo (>= 1) x", "-foo"])
def test_bad_relations(spec):
    with pytest.raises(ValueError):
        parse_apt_spec(spec)


PAIRS = [("1.0", "1.0-1"), ("1.0~rc1", "1.0"), ("1:0.9", "2.0"), ("2.10-3", "2.9-1"), ("1.0-1", "1.0-1"),
         ("1.6-2.1+deb12u2", "1.6-2.1"), ("3.11.2-6+deb12u6", "3.11.2-6+deb12u10"), ("1.0a", "1.0+"), ("0~", "0"),
         ("4.2.2.20221110-2", "4.2.2-1"), ("17.0.19+10-1~deb12u1", "17.0.19+10-1")]


@pytest.mark.parametrize(("a", "b"), PAIRS)
def test_version_order_agrees_with_dpkg(a, b):
    def dpkg(op: str) -> bool:
        return subprocess.run(["dpkg", "--compare-versions", a, op, b], check=False).returncode == 0

    expected = -1 if dpkg("lt") else 1 if dpkg("gt") else 0
    assert compare_debian(a, b) == expected
    assert compare_debian(b, a) == -expected


def _package(root, name, files, extra=""):
    info = root / "var/lib/dpkg/info"
    info.mkdir(parents=True, exist_ok=True)
    sums = []
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        sums.append(f"{hashlib.md5(text.encode()).hexdigest()}  {rel}")
    (info / f"{name}.md5sums").write_text("\n".join(sums) + "\n")
    return f"Package: {name}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0-1\n{extra}Description: x\n y\n"


def test_dpkg_status_and_md5sums_of_a_folder(tmp_path):
    stanzas = [
        _package(tmp_path, "liba", {"usr/lib/liba.so": "a", "usr/share/doc/liba/copyright": "c"}),
        _package(tmp_path, "tool", {"usr/bin/tool": "t"}, "Depends: liba (>= 1), libc6 | libc7\n"),
        "Package: gone\nStatus: deinstall ok config-files\nVersion: 0.1\nArchitecture: all\n",
    ]
    (tmp_path / "var/lib/dpkg/status").write_text("\n".join(stanzas))
    (tmp_path / "etc/dpkg/dpkg.cfg.d").mkdir(parents=True)
    (tmp_path / "etc/dpkg/dpkg.cfg.d/docker").write_text("path-exclude /usr/share/doc/*\npath-include /usr/share/doc/*/copyright\n")
    problems: list[str] = []
    section = system_section({"root": str(tmp_path)}, False, problems)
    rows = {r["name"]: r for r in section["packages"]}
    assert sorted(rows) == ["liba", "tool"] and not problems
    assert rows["tool"]["depends"] == ["liba", "libc6", "libc7"]
    (tmp_path / "usr/bin/tool").write_text("changed")
    (tmp_path / "usr/share/doc/liba/copyright").unlink()  # path-include: dpkg installed it, so it is missing
    deep = {r["name"]: r for r in system_section({"root": str(tmp_path)}, True, problems)["packages"]}
    assert deep["tool"]["modified"] == ["/usr/bin/tool"]
    assert deep["liba"]["modified"] == ["/usr/share/doc/liba/copyright"]
    (tmp_path / "etc/dpkg/dpkg.cfg.d/docker").write_text("path-exclude /usr/share/doc/*\n")  # now excluded: not drift
    deep = {r["name"]: r for r in system_section({"root": str(tmp_path)}, True, problems)["packages"]}
    assert "modified" not in deep["liba"]


def test_scope_leaves_the_base_out():
    rows = [
        {"name": "libc6", "version": "2.36", "depends": []},
        {"name": "liblocked", "version": "1", "depends": ["libc6"]},
        {"name": "on-top", "version": "1", "depends": ["virtual-locked"]},
        {"name": "shim", "version": "1", "depends": ["liblocked"], "provides": ["virtual-locked"]},
        {"name": "unrelated", "version": "1", "depends": ["libc6"]},
    ]
    known = {"a" * 64: ("liblocked", "1"), "b" * 64: ("requests", "2.0")}
    found = {p.name: p.extra for p in scoped_rows("system", rows, known)}
    assert found["libc6"].get("base") and found["unrelated"].get("base")
    assert "base" not in found["liblocked"]
    assert found["shim"]["depends-on-locked"] == "liblocked" and found["on-top"]["depends-on-locked"] == "liblocked"
    assert not any(p.extra.get("base") for p in scoped_rows("system", rows, {}))  # no lock: everything is compared


def test_entries_as_the_locks_read_only_view_gives_them():
    from types import SimpleNamespace

    from envman import ecosystems

    eco = ecosystems.get("system")
    plain = SimpleNamespace(name="jq", version="1.6-2.1+deb12u2", sha256="a" * 64)  # fields left out when empty
    base = SimpleNamespace(name="r-base-core", version="4.2.2.20221110-2", base=True, runtime="R 4.2.2")
    assert eco.installed_from_entry(plain).extra == {} and eco.installed_from_entry(plain).sha256 == "a" * 64
    assert eco.installed_from_entry(base).extra == {"base": True}
    assert eco.sbom_hashes(plain) == ["a" * 64] and eco.sbom_hashes(base) == []
    assert eco.purl(SimpleNamespace(name="jq", version="1:1.6+b1", architecture="amd64")) == "pkg:deb/debian/jq@1%3A1.6%2Bb1?arch=amd64"
