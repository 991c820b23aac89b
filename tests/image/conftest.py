"""A small real project for render/build tests: R and JVM packages from the example's real
repositories (served on 127.0.0.1), Python wheels from a local PEP 503 index."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.python.conftest import run_envman

EXAMPLE_REPOS = Path(__file__).resolve().parents[2] / "examples" / "multi-language" / "repos"


def manifest_text(url: str, base: str = "envman-test-base:bookworm", extra: str = "") -> str:
    return f"""version: 1
name: render-test
python:
  version: "3.11"
  index-url: {url}/pypi/simple
  packages: ["zeta"]
r:
  version: "4.2"
  repositories: {{LOCAL: "{url}/cran"}}
  packages: ["R6"]
jvm:
  java: "17"
  repositories: ["{url}/maven"]
  dependencies: ["org.apache.commons:commons-lang3:3.14.0"]
image:
  base: {base}
{extra}"""


@pytest.fixture()
def locked_project(tmp_path, repos_url) -> Path:
    (tmp_path / "envman.yaml").write_text(manifest_text(repos_url))
    done = run_envman("lock", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    return tmp_path


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "multi-language"


def copy_example(root: Path, repos: str, image: str) -> Path:
    """The multi-language example (Python from PyPI, R and JVM from its served repos) with an
    image section, locked."""
    root.mkdir(parents=True, exist_ok=True)
    text = (EXAMPLE / "envman.yaml").read_text().replace("http://127.0.0.1:18765", repos)
    (root / "envman.yaml").write_text(text + image)
    done = run_envman("lock", cwd=root)
    assert done.returncode == 0, done.stderr
    return root
