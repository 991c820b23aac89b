"""Reading a project's pom.xml for `envman init --from pom.xml`."""

from __future__ import annotations

import re

import pytest

from envman.ecosystems.base import ImportContext
from envman.ecosystems.jvm.project import dependencies_from_pom, import_pom
from envman.errors import BadInputError

PARENT = """<project><modelVersion>4.0.0</modelVersion><groupId>com.acme</groupId><artifactId>parent</artifactId>
<version>3</version><packaging>pom</packaging>
<properties><jackson.version>2.17.2</jackson.version></properties>
<dependencyManagement><dependencies>
  <dependency><groupId>org.postgresql</groupId><artifactId>postgresql</artifactId><version>42.7.3</version>
    <scope>runtime</scope><exclusions><exclusion><groupId>org.checkerframework</groupId><artifactId>checker-qual</artifactId></exclusion></exclusions></dependency>
</dependencies></dependencyManagement>
<dependencies><dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version><scope>test</scope></dependency></dependencies>
</project>"""

CHILD = """<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<parent><groupId>com.acme</groupId><artifactId>parent</artifactId><version>3</version></parent>
<artifactId>app</artifactId>
<dependencies>
  <dependency><groupId>com.fasterxml.jackson.core</groupId><artifactId>jackson-databind</artifactId><version>${jackson.version}</version></dependency>
  <dependency><groupId>org.postgresql</groupId><artifactId>postgresql</artifactId></dependency>
  <dependency><groupId>org.xerial.snappy</groupId><artifactId>snappy-java</artifactId><version>1.1.10.5</version><classifier>linux</classifier></dependency>
  <dependency><groupId>javax.servlet</groupId><artifactId>servlet-api</artifactId><version>2.5</version><scope>provided</scope></dependency>
</dependencies></project>"""


def test_effective_dependencies_of_a_project(tmp_path):
    (tmp_path / "pom.xml").write_text(PARENT)
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "pom.xml").write_text(CHILD)
    found = dependencies_from_pom(tmp_path / "app" / "pom.xml")
    assert found == {"jvm": {"dependencies": [
        "com.fasterxml.jackson.core:jackson-databind:2.17.2",
        {"artifact": "org.postgresql:postgresql:42.7.3", "scope": "runtime",
         "exclusions": ["org.checkerframework:checker-qual"]},
        "org.xerial.snappy:snappy-java:1.1.10.5:linux",
    ]}}


def test_versions_from_outside_are_reported(tmp_path):
    (tmp_path / "pom.xml").write_text(CHILD)  # its parent is not in this folder, and no repository is read
    result = import_pom(tmp_path / "pom.xml", ImportContext(manifest_dir=tmp_path), remote=False)
    assert result.sections == {}
    [skipped] = result.skipped  # listed, naming the parent (issue 14: `init` goes on with the other files)
    assert re.search(r"parent com\.acme:parent:3 of com\.acme:app:3: .* not in this project", skipped.reason)


def test_malformed_project_pom(tmp_path):
    (tmp_path / "pom.xml").write_text("<project><dependencies>")
    with pytest.raises(BadInputError, match="malformed POM"):
        dependencies_from_pom(tmp_path / "pom.xml")


def test_version_managed_outside(tmp_path):
    (tmp_path / "pom.xml").write_text(
        "<project><groupId>g</groupId><artifactId>a</artifactId><version>1</version><dependencies>"
        "<dependency><groupId>x</groupId><artifactId>y</artifactId></dependency></dependencies></project>")
    result = import_pom(tmp_path / "pom.xml", ImportContext(manifest_dir=tmp_path), remote=False)
    assert result.sections == {"jvm": {"dependencies": []}}
    assert [(s.text, s.reason) for s in result.skipped] == [("x:y", "no version envman can read here (managed outside this project)")]
