"""Manifest validation: one clear FILE:LINE:COL message, exit 2, no traceback."""

from __future__ import annotations

import json

import pytest

from tests.python.conftest import run_envman

CASES = [
    ("version: 1\npython:\n  pakages: [numpy]\n", "envman.yaml:3:3:", "did you mean `packages`"),
    ("version: 1\npythn: {packages: [x]}\n", "envman.yaml:2:1:", "did you mean `python`"),
    ("version: 1\npython:\n  packages: ['numpy; rm -rf /']\n", "envman.yaml:3:14:", "PEP 508"),
    ("version: 1\npython:\n  packages:\n    - numpy\n    - 'foo`id`'\n", "envman.yaml:5:7:", "not allowed"),
    ("version: 1\npython:\n  packages: ['x $(id)']\n", "envman.yaml:3:", "not allowed"),
    ("version: 2\npython: {}\n", "envman.yaml:1:10:", "version 2"),
    ("version: 1\n", "envman.yaml:1:1:", "at least one ecosystem"),
    ("", "envman.yaml:1:1:", "empty"),
    ("version: 1\npython:\n  version: '3.99'\n", "envman.yaml:3:12:", "unknown Python version"),
    ("version: 1\npython: [\n", "envman.yaml:3:1:", "invalid YAML"),
    ("version: 1\npython:\n  packages: numpy\n", "envman.yaml:3:13:", "list"),
    ("version: 1\npython: {packages: [a]}\npython: {packages: [b]}\n", "envman.yaml:3:", "duplicate"),
    ("version: 1\nenvironments:\n  design:\n    python: {pakages: [x]}\npython: {}\n", "envman.yaml:4:14:", "did you mean `packages`"),
    ("version: 1\njvm:\n  dependencies: [{artifact: 'g:a:1', scpe: test}]\n", "envman.yaml:3:", "did you mean `scope`"),
    ("version: 1\nr:\n  packages: ['ggplot2 (>= 3.4)', 'bad name']\n", "envman.yaml:3:34:", "R package spec"),
    ("version: 1\njvm:\n  dependencies: ['g:a']\n", "envman.yaml:3:", "Maven coordinate"),
    ("version: 1\nsystem: {apt: ['libgomp1; rm']}\npython: {}\n", "envman.yaml:2:", "Debian package"),
    ("version: true\npython: {}\n", "envman.yaml:1:10:", "unsupported manifest version"),
    ("version: 1\npython: {version: 3.10}\n", "envman.yaml:2:19:", "in quotes"),
]


@pytest.mark.parametrize("text,place,words", CASES)
def test_bad_manifest_one_located_message(tmp_path, text, place, words):
    (tmp_path / "envman.yaml").write_text(text)
    done = run_envman("validate", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert place in lines[0], lines[0]
    assert words.lower() in lines[0].lower(), lines[0]


def test_valid_manifest(tmp_path):
    (tmp_path / "envman.yaml").write_text(
        "version: 1\nname: churn\nplatforms: [linux-64]\npython:\n  version: '3.11.9'\n"
        "  packages: ['pandas>=2.1', 'numpy; python_version < \"3.13\"']\n"
        "r:\n  packages: ['ggplot2 (>= 3.4)']\njvm:\n"
        "  dependencies: ['g.h:a-b:1.0:tests@jar', {artifact: 'x:y:2', scope: runtime, exclusions: ['*:*']}]\n"
        "environments:\n  production: {}\n  design:\n    python: {packages: [jupyterlab]}\n"
    )
    done = run_envman("validate", "--json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert '"environments": [' in done.stdout


def test_missing_manifest_is_bad_input(tmp_path):
    done = run_envman("validate", cwd=tmp_path)
    assert done.returncode == 2 and "envman.yaml" in done.stderr


def test_bad_arguments_exit_2(tmp_path):
    assert run_envman("lock", "--no-such-flag", cwd=tmp_path).returncode == 2
    assert run_envman("export", "--format", "nope", cwd=tmp_path).returncode == 2


def test_init_writes_valid_commented_manifest(tmp_path):
    done = run_envman("init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "envman.yaml").read_text()
    assert text.startswith("# yaml-language-server: $schema=.envman/envman.schema.json\n")
    schema = json.loads((tmp_path / ".envman" / "envman.schema.json").read_text())  # the reference resolves, offline
    assert schema["$id"].endswith("envman.schema.json") and "properties" in schema
    assert (tmp_path / ".envman" / "envman-lock.schema.json").is_file()
    assert run_envman("validate", cwd=tmp_path).returncode == 0
    out = tmp_path / "elsewhere"
    assert run_envman("schema", "-o", str(out), cwd=tmp_path).returncode == 0
    assert (out / "envman.schema.json").read_text() == (tmp_path / ".envman" / "envman.schema.json").read_text()
    assert run_envman("init", cwd=tmp_path).returncode == 2  # refuses to overwrite


def test_init_from_requirements(tmp_path):
    (tmp_path / "requirements.txt").write_text(
        "# comment\npandas>=2.1\nrequests==2.32.3 \\\n    --hash=sha256:abc\n\nscikit-learn~=1.5  # ml\n"
    )
    done = run_envman("init", "--from", "requirements.txt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    import yaml

    data = yaml.safe_load((tmp_path / "envman.yaml").read_text())
    assert data["python"]["packages"] == ["pandas>=2.1", "requests==2.32.3", "scikit-learn~=1.5"]


def test_init_from_bad_requirements_names_line(tmp_path):
    (tmp_path / "requirements.txt").write_text("pandas\nfoo`id`\n")
    done = run_envman("init", "--strict", "--from", "requirements.txt", cwd=tmp_path)  # issue 14: exit 2 only with --strict
    assert done.returncode == 2 and "requirements.txt:2: foo`id`" in done.stderr
    assert not (tmp_path / "envman.yaml").exists()
    done = run_envman("init", "--from", "requirements.txt", cwd=tmp_path)  # else: imported, the line listed
    assert done.returncode == 0 and "requirements.txt:2: foo`id`" in done.stderr and "not carried over" in done.stderr


def test_init_from_renv_and_pom(tmp_path):
    (tmp_path / "renv.lock").write_text(
        '{"R": {"Version": "4.3.3", "Repositories": [{"Name": "CRAN", "URL": "https://cloud.r-project.org"}]}, '
        '"Packages": {"cli": {"Package": "cli", "Version": "3.6.2"}}}'
    )
    (tmp_path / "pom.xml").write_text(
        '<project xmlns="http://maven.apache.org/POM/4.0.0"><dependencies>'
        '<dependency><groupId>org.x</groupId><artifactId>a</artifactId><version>1.0</version></dependency>'
        '<dependency><groupId>org.x</groupId><artifactId>t</artifactId><version>1.0</version><scope>test</scope></dependency>'
        '</dependencies></project>'
    )
    done = run_envman("init", "--from", "renv.lock", "--from", "pom.xml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "envman.yaml").read_text()
    assert "cli (== 3.6.2)" in text and "org.x:a:1.0" in text and "org.x:t" not in text


def test_a_conda_section_that_cannot_be_locked_leaves_no_lock(tmp_path):
    """conda is locked with py-rattler (tests/conda/); a channel nobody serves is exit 4."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    (tmp_path / "envman.yaml").write_text(f'version: 1\nconda:\n  channels: ["http://127.0.0.1:{port}/c"]\n  packages: [gdal]\n')
    done = run_envman("lock", cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    assert f"127.0.0.1:{port}/c" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "envman.lock").exists()
