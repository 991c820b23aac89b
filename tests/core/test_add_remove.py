"""`envman add` / `envman remove` edit envman.yaml keeping comments and layout, infer the
ecosystem from the spec, lock, and leave the manifest as it was when the lock fails."""

from __future__ import annotations

from tests.python.conftest import run_envman

MANIFEST = """\
# yaml-language-server: $schema=.envman/envman.schema.json
# The team's notes stay where they are.
version: 1
name: edit-test
python:
  version: "3.11"
  index-url: {url}/pypi/simple
  packages: ["zeta"]    # the model's runtime
r:
  version: "4.2"
  repositories: {{LOCAL: "{url}/cran"}}
  packages:
    - "R6"
jvm:
  java: "17"
  repositories: ["{url}/maven"]
  dependencies:
    - "org.apache.commons:commons-lang3:3.14.0"
environments:
  production: {{}}
  design:
    python: {{packages: ["beta"]}}
"""


def test_add_and_remove_keep_the_file_as_people_wrote_it(tmp_path, repos_url):
    manifest = tmp_path / "envman.yaml"
    original = MANIFEST.format(url=repos_url)
    manifest.write_text(original)
    assert run_envman("lock", cwd=tmp_path).returncode == 0
    done = run_envman("add", "delta", "withr (>= 2.0)", "com.fasterxml.jackson.core:jackson-core:2.17.2", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    text = manifest.read_text()
    assert '  packages: ["zeta", "delta"]    # the model\'s runtime\n' in text  # python: the one other spec's style
    assert '    - "R6"\n    - "withr (>= 2.0)"\n' in text  # R, from its `(>= …)`
    assert '    - "com.fasterxml.jackson.core:jackson-core:2.17.2"\n' in text  # JVM, from the coordinate
    assert text.startswith("# yaml-language-server") and "# The team's notes stay where they are.\n" in text
    assert "r: Added withr v2.5.0" in done.stderr and "jvm: Added com.fasterxml.jackson.core:jackson-core v2.17.2" in done.stderr
    assert run_envman("lock", "--check", cwd=tmp_path).returncode == 0
    design = run_envman("add", "--env", "design", "gamma", cwd=tmp_path)
    assert design.returncode == 0, design.stderr
    assert 'python: {packages: ["beta", "gamma"]}' in manifest.read_text()
    removed = run_envman("remove", "delta", "withr", "jackson-core", cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    removed = run_envman("remove", "--env", "design", "gamma", cwd=tmp_path)
    assert removed.returncode == 0, removed.stderr
    assert manifest.read_text() == original  # every edit undone: byte for byte


def test_a_failed_lock_or_a_bad_name_leaves_the_manifest_alone(tmp_path, repos_url):
    manifest = tmp_path / "envman.yaml"
    manifest.write_text(MANIFEST.format(url=repos_url))
    assert run_envman("lock", cwd=tmp_path).returncode == 0
    before = manifest.read_bytes(), (tmp_path / "envman.lock").read_bytes()
    nothing = run_envman("add", "no-such-project", cwd=tmp_path)
    assert nothing.returncode == 3, nothing.stderr
    unknown = run_envman("remove", "never-added", cwd=tmp_path)
    assert unknown.returncode == 2 and "not in the manifest" in unknown.stderr
    bad = run_envman("add", "--r", "bad name;rm", cwd=tmp_path)
    assert bad.returncode == 2, bad.stderr
    assert (manifest.read_bytes(), (tmp_path / "envman.lock").read_bytes()) == before
