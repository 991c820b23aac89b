"""`init --from pom.xml` with a parent and a BOM outside the project: fetched from
`--repository URL` (a Maven repository of real published POMs served on 127.0.0.1), as Maven
does, instead of refusing; a parent no repository has is listed, not a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.adoption.conftest import run_envman
from tests.python.servers import serve_directory

ROOT = Path(__file__).resolve().parents[2]
REAL_POM = ROOT / "tests" / "fixtures" / "real" / "commons-text" / "pom.xml"
MAVEN = ROOT / "examples" / "multi-language" / "repos" / "maven"


def test_parent_and_bom_from_the_repository(tmp_path: Path) -> None:
    shutil.copy(REAL_POM, tmp_path / "pom.xml")
    with serve_directory(MAVEN) as url:
        done = run_envman("init", "--from", "pom.xml", "--repository", url, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        jvm = yaml.safe_load((tmp_path / "envman.yaml").read_text())["jvm"]
        assert jvm["dependencies"] == ["org.apache.commons:commons-lang3:3.14.0"]  # test-scoped ones left out
        assert jvm["repositories"] == [url]
        assert "org.apache.commons:commons-parent:69" in done.stderr  # said where it was read from
        # and the imported manifest locks against the same repository
        locked = run_envman("lock", cwd=tmp_path)
        assert locked.returncode == 0, locked.stderr


def test_a_parent_no_repository_has_is_listed(tmp_path: Path) -> None:
    shutil.copy(REAL_POM, tmp_path / "pom.xml")
    (tmp_path / "requirements.txt").write_text("six==1.16.0\n")
    (tmp_path / "empty").mkdir()
    with serve_directory(tmp_path / "empty") as url:
        done = run_envman("init", "--from", "pom.xml", "requirements.txt", "--repository", url, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "org.apache.commons:commons-text:1.12.0  (its effective POM cannot be built:" in done.stderr
    assert "commons-parent" in done.stderr and "Traceback" not in done.stderr
    manifest = yaml.safe_load((tmp_path / "envman.yaml").read_text())
    assert manifest["python"]["packages"] == ["six==1.16.0"] and "jvm" not in manifest  # the other file still imported
