"""envman's resolved set must equal Maven's, on every fixture scenario (Maven runs offline)."""

from __future__ import annotations

import pytest

from tests.jvm.helpers import entry_set, envman_resolve, maven_set
from tests.jvm.maven import maven_list
from tests.jvm.scenarios import SCENARIOS, build_rules_repo


@pytest.fixture(scope="module")
def rules(tmp_path_factory, mvn):
    root = tmp_path_factory.mktemp("rules")
    repo = build_rules_repo(root / "repo")
    results = maven_list(repo.url, SCENARIOS, root / "maven")
    return repo, results, root


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_as_maven(rules, name):
    repo, results, root = rules
    expected = results[name]
    assert isinstance(expected, set), f"Maven failed on {name}:\n{expected}"
    locked = envman_resolve(repo.url, {"default": SCENARIOS[name]}, root / f"cache-{name}")
    actual = entry_set(locked["default"]["linux-64"])
    assert actual == maven_set(expected)
