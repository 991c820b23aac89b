"""Untrusted POMs and broken repositories: clear errors naming the artifact and its path."""

from __future__ import annotations

import pytest

from envman.errors import EnvmanError, ResolutionError
from tests.jvm.helpers import envman_resolve
from tests.jvm.mavenrepo import FixtureRepo


@pytest.fixture
def repo(tmp_path):
    repo = FixtureRepo(tmp_path / "repo")
    repo.add("t.top:app:1", deps=["t.mid:lib:1"])
    return repo


def _fail(repo, tmp_path, items=("t.top:app:1",)) -> str:
    repo.finish()
    with pytest.raises(EnvmanError) as info:
        envman_resolve(repo.url, {"default": list(items)}, tmp_path / "cache")
    assert isinstance(info.value, ResolutionError), info.value
    return str(info.value)


def test_malformed_pom(repo, tmp_path):
    repo.add("t.mid:lib:1", pom_bytes=b"<project><artifactId>lib</artifactId><dependencies>")
    message = _fail(repo, tmp_path)
    assert "malformed POM t.mid:lib:1" in message and "t.top:app:1 -> t.mid:lib:1" in message


def test_entity_expansion_bomb_is_refused(repo, tmp_path):
    bomb = (b'<?xml version="1.0"?><!DOCTYPE project [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;">]><project><artifactId>lib</artifactId><description>&c;</description></project>')
    repo.add("t.mid:lib:1", pom_bytes=bomb)
    message = _fail(repo, tmp_path)
    assert "malformed POM t.mid:lib:1" in message and "Entit" in message


def test_external_entity_is_refused(repo, tmp_path):
    xxe = (b'<?xml version="1.0"?><!DOCTYPE project [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
           b"<project><artifactId>lib</artifactId><version>&x;</version></project>")
    repo.add("t.mid:lib:1", pom_bytes=xxe)
    message = _fail(repo, tmp_path)
    assert "malformed POM t.mid:lib:1" in message and "root:" not in message


def test_missing_parent(repo, tmp_path):
    repo.add("t.mid:lib:1", parent="t.gone:parent:3")
    message = _fail(repo, tmp_path)
    assert "parent t.gone:parent:3 of t.mid:lib:1" in message and "not found" in message
    assert "t.top:app:1 -> t.mid:lib:1" in message


def test_cyclic_parents(repo, tmp_path):
    repo.add("t.mid:lib:1", parent="t.p:one:1")
    repo.add("t.p:one:1", parent="t.p:two:1", packaging="pom")
    repo.add("t.p:two:1", parent="t.p:one:1", packaging="pom")
    message = _fail(repo, tmp_path)
    assert "cyclic parents: t.mid:lib:1 -> t.p:one:1 -> t.p:two:1 -> t.p:one:1" in message


def test_unresolvable_property(repo, tmp_path):
    repo.add("t.mid:lib:1", deps=["t.leaf:x:${undefined.version}"])
    message = _fail(repo, tmp_path)
    assert "unresolved version ${undefined.version}" in message and "t.top:app:1 -> t.mid:lib:1" in message


def test_property_cycle(repo, tmp_path):
    repo.add("t.mid:lib:1", properties={"a": "${b}", "b": "${a}"}, deps=["t.leaf:x:${a}"])
    message = _fail(repo, tmp_path)
    assert "cycle" in message and "t.mid:lib:1" in message


def test_missing_jar_names_its_path(repo, tmp_path):
    repo.add("t.mid:lib:1", deps=["t.leaf:gone:1"])  # neither POM nor jar
    message = _fail(repo, tmp_path)
    assert "t.leaf:gone:1 not found" in message and "t.top:app:1 -> t.mid:lib:1 -> t.leaf:gone:1" in message


def test_missing_root(repo, tmp_path):
    message = _fail(repo, tmp_path, items=("t.nope:nothing:9",))
    assert "t.nope:nothing:9" in message


def test_no_version_in_range(repo, tmp_path):
    repo.add("t.mid:lib:1", deps=["t.leaf:ranged:[5.0,6.0)"])
    repo.add("t.leaf:ranged:1.0")
    message = _fail(repo, tmp_path)
    assert "no version of t.leaf:ranged within [5.0,6.0)" in message and "available: 1.0" in message


def test_unsatisfiable_ranges(repo, tmp_path):
    repo.add("t.mid:lib:1", deps=["t.leaf:ranged:[1.0]", "t.mid:other:1"])
    repo.add("t.mid:other:1", deps=["t.leaf:ranged:[2.0]"])
    repo.add("t.leaf:ranged:1.0")
    repo.add("t.leaf:ranged:2.0")
    message = _fail(repo, tmp_path)
    assert "no version of t.leaf:ranged satisfies every range" in message


def test_checksum_mismatch(repo, tmp_path):
    repo.add("t.mid:lib:1")
    jar = repo.path("t.mid", "lib", "1", "jar")
    jar.with_name(jar.name + ".sha1").write_text("0" * 40)
    message = _fail(repo, tmp_path)
    assert "checksum mismatch for t.mid:lib:1" in message


def test_bad_root_coordinate(tmp_path):
    from envman.errors import BadInputError

    with pytest.raises(BadInputError):
        envman_resolve("file:///nonexistent", {"default": ["not a coordinate"]}, tmp_path / "cache")


def test_relocation_cycle(repo, tmp_path):
    repo.add("t.mid:lib:1", relocation={"groupId": "t.other"})
    repo.add("t.other:lib:1", relocation={"groupId": "t.mid"})
    message = _fail(repo, tmp_path)
    assert "relocations form a cycle" in message and "t.top:app:1" in message


def test_bom_import_cycle(repo, tmp_path):
    repo.add("t.mid:lib:1", managed=[{"g": "t.bom", "a": "one", "v": "1", "type": "pom", "scope": "import"}])
    repo.add("t.bom:one:1", packaging="pom", managed=[{"g": "t.bom", "a": "two", "v": "1", "type": "pom", "scope": "import"}])
    repo.add("t.bom:two:1", packaging="pom", managed=[{"g": "t.bom", "a": "one", "v": "1", "type": "pom", "scope": "import"}])
    message = _fail(repo, tmp_path)
    assert "cyclic BOM imports" in message


@pytest.mark.parametrize("pom", [
    b"<notaproject/>",
    b"",
    b"<project><dependencies><dependency><artifactId>x</artifactId><version>1</version></dependency></dependencies></project>",
    b"<project><dependencies><dependency><groupId>g</groupId><artifactId>x</artifactId></dependency></dependencies></project>",
    b"<project><parent><groupId>g</groupId></parent></project>",
    b"<project><dependencies><dependency><groupId>g</groupId><artifactId>x</artifactId><version>[1,</version></dependency></dependencies></project>",
    "<project><dependencies><dependency><groupId>g</groupId><artifactId>x</artifactId><version>1\u00e9</version></dependency></dependencies></project>".encode("latin-1"),
])
def test_hostile_poms_never_trace_back(repo, tmp_path, pom):
    repo.add("t.mid:lib:1", pom_bytes=pom)
    _fail(repo, tmp_path)


def test_incomplete_exclusion_excludes_nothing(tmp_path):
    repo = FixtureRepo(tmp_path / "repo")
    repo.add("t.leaf:x:1")
    repo.add("t.mid:lib:1", pom_bytes=(
        b"<project><groupId>t.mid</groupId><artifactId>lib</artifactId><version>1</version><dependencies>"
        b"<dependency><groupId>t.leaf</groupId><artifactId>x</artifactId><version>1</version></dependency>"
        b"</dependencies></project>"))
    repo.add("t.top:app:1", pom_bytes=(
        b"<project><groupId>t.top</groupId><artifactId>app</artifactId><version>1</version><dependencies>"
        b"<dependency><groupId>t.mid</groupId><artifactId>lib</artifactId><version>1</version>"
        b"<exclusions><exclusion><groupId>t.leaf</groupId></exclusion></exclusions></dependency>"
        b"</dependencies></project>"))
    repo.finish()
    locked = envman_resolve(repo.url, {"default": ["t.top:app:1"]}, tmp_path / "cache")
    assert "t.leaf:x" in {e.name for e in locked["default"]["linux-64"]}
