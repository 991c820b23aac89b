"""`envman tree` draws the locked dependency tree across ecosystems, and `--invert NAME` the
way up from one package; `why` and `tree` find a Maven artifact by its short name."""

from __future__ import annotations

import json

from tests.image.conftest import manifest_text
from tests.python.conftest import run_envman


def test_tree_and_inverted_tree(tmp_path, repos_url):
    text = manifest_text(repos_url).replace('packages: ["zeta"]', 'packages: ["zeta", "beta"]')
    (tmp_path / "envman.yaml").write_text(text.replace('packages: ["R6"]', 'packages: ["desc"]'))
    assert run_envman("lock", cwd=tmp_path).returncode == 0
    done = run_envman("tree", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    python = lines[: lines.index("r")]
    assert python[0] == "python"
    assert "├── beta v1.0" in python and "│   └── alpha v1.0" in python
    assert "└── zeta v1.0" in python
    assert "    ├── delta v1.1" in python and "    └── gamma v1.0" in python
    assert "        └── alpha v1.0" in python  # a leaf already shown is drawn again, without (*)
    assert "└── desc v1.4.2" in lines and "jvm" in lines
    inverted = run_envman("tree", "--invert", "alpha", "--json", cwd=tmp_path)
    assert inverted.returncode == 0, inverted.stderr
    (block,) = json.loads(inverted.stdout)["ecosystems"]
    root = block["roots"][0]
    assert (block["ecosystem"], root["name"]) == ("python", "alpha")
    assert sorted(c["name"] for c in root["children"]) == ["beta", "gamma"]
    assert [c["name"] for c in next(c for c in root["children"] if c["name"] == "gamma")["children"]] == ["zeta"]
    missing = run_envman("tree", "--invert", "no-such-thing", cwd=tmp_path)
    assert missing.returncode == 2 and "not in the lock" in missing.stderr


def test_short_maven_names_are_found(tmp_path, repos_url):
    (tmp_path / "envman.yaml").write_text(manifest_text(repos_url))
    assert run_envman("lock", cwd=tmp_path).returncode == 0
    why = run_envman("why", "commons-lang3", cwd=tmp_path)
    assert why.returncode == 0, why.stderr
    assert "jvm: org.apache.commons:commons-lang3 3.14.0" in why.stdout
    tree = run_envman("tree", "--invert", "commons-lang3", cwd=tmp_path)
    assert "└── org.apache.commons:commons-lang3 v3.14.0" in tree.stdout
