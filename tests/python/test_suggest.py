"""A Python name the index does not have: close names from the index's own project list, or,
when the index URL itself is wrong, say so (exit 3 either way, no traceback)."""

from __future__ import annotations

from tests.python.conftest import run_envman


def test_a_mistyped_name_gets_close_names_from_the_index(project, simple_index):
    root = project(f'version: 1\npython:\n  version: "3.11"\n  index-url: {simple_index}\n  packages: ["gamme"]\n')
    done = run_envman("lock", cwd=root)
    assert done.returncode == 3, done.stderr
    assert f"'gamme' is not on {simple_index}; did you mean 'gamma'?" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_wrong_index_url_is_named(project, simple_index):
    wrong = simple_index.replace("/simple", "/simpel")
    root = project(f'version: 1\npython:\n  version: "3.11"\n  index-url: {wrong}\n  packages: ["gamma"]\n')
    done = run_envman("lock", cwd=root)
    assert done.returncode == 3, done.stderr
    assert f"{wrong} does not answer as a package index (HTTP 404 at its root); check python.index-url" in done.stderr
