"""envman's resolved set must equal Maven's, on every fixture scenario (Maven runs offline)."""

from __future__ import annotations

import pytest

from tests.jvm.helpers import entry_set, envman_resolve, envman_tree, maven_set
from tests.jvm.maven import maven_list
from tests.jvm.scenarios import SCENARIOS, build_rules_repo


@pytest.fixture(scope="module")
def rules(tmp_path_factory, mvn):
    root = tmp_path_factory.mktemp("rules")
    repo = build_rules_repo(root / "repo")
    results = maven_list(repo.url, SCENARIOS, root / "maven")
    trees = maven_list(repo.url, SCENARIOS, root / "maven-tree", goal="tree")
    return repo, results, root, trees


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_same_as_maven(rules, name):
    repo, results, root, _ = rules
    expected = results[name]
    assert isinstance(expected, set), f"Maven failed on {name}:\n{expected}"
    locked = envman_resolve(repo.url, {"default": SCENARIOS[name]}, root / f"cache-{name}")
    actual = entry_set(locked["default"]["linux-64"])
    assert actual == maven_set(expected)


REAL_SCENARIOS = {
    "jackson": ["com.fasterxml.jackson.core:jackson-databind:2.22.3"],
    "guava": ["com.google.guava:guava:33.7.2-jre"],
    "httpclient": ["org.apache.httpcomponents:httpclient:4.5.14", "org.apache.commons:commons-compress:1.28.0",
                   "org.postgresql:postgresql:42.7.13"],
}


@pytest.fixture(scope="module")
def real(tmp_path_factory, mvn):
    from tests.jvm.realrepo import build_real_repo, real_roots

    root = tmp_path_factory.mktemp("real")
    repo = build_real_repo(root / "repo")
    scenarios = dict(REAL_SCENARIOS, union=real_roots())
    results = maven_list(repo.url, scenarios, root / "maven")
    trees = maven_list(repo.url, {"union": scenarios["union"]}, root / "maven-tree", goal="tree")
    return repo, results, root, scenarios, trees


@pytest.mark.parametrize("name", sorted(REAL_SCENARIOS) + ["union"])
def test_real_poms_same_as_maven(real, name):
    repo, results, root, scenarios, _ = real
    expected = results[name]
    assert isinstance(expected, set), f"Maven failed on {name}:\n{expected}"
    locked = envman_resolve(repo.url, {"default": scenarios[name]}, root / f"cache-{name}")
    actual = entry_set(locked["default"]["linux-64"])
    assert actual == maven_set(expected)
    if name == "union":
        assert len(actual) >= 300


def test_fast_gathering_equals_depth_first(real):
    """The indexed conflict gathering must give what Maven's depth-first replay gives."""
    from envman.cache import ArtifactCache
    from envman.ecosystems.jvm.activation import ActivationContext
    from envman.ecosystems.jvm.descriptor import DescriptorReader
    from envman.ecosystems.jvm.graph import resolve_graph
    from envman.ecosystems.jvm.model import ModelBuilder
    from envman.ecosystems.jvm.repository import MavenRepositories, MissingArtifact
    from envman.ecosystems.jvm.resolve import union_roots
    from envman.http import HttpClient

    repo, _results, root, scenarios, _ = real
    repos = MavenRepositories([repo.url], HttpClient(retries=0), ArtifactCache(root / "cache-modes"))
    roots, _ = union_roots({"default": scenarios["union"]})

    def run(depth_first: bool):
        reader = DescriptorReader(ModelBuilder(repos.raw_pom, ActivationContext()), missing=(MissingArtifact,))
        resolution = resolve_graph(roots, reader, lambda a, p: repos.versions(a.group, a.artifact), None, depth_first)
        return {k: (r.artifact.version, r.scope, tuple(r.requires)) for k, r in resolution.artifacts.items()}

    assert run(True) == run(False)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_tree_placement_as_maven(rules, name):
    """Each winner hangs under the same parent as in `mvn dependency:tree` (nearest, first declared)."""
    repo, _, root, trees = rules
    expected = trees[name]
    assert isinstance(expected, dict), f"Maven failed on {name}:\n{expected}"
    assert envman_tree(repo.url, SCENARIOS[name], root / f"tree-cache-{name}") == expected


def test_real_union_tree_placement_as_maven(real):
    repo, _, root, scenarios, trees = real
    expected = trees["union"]
    assert isinstance(expected, dict), expected
    actual = envman_tree(repo.url, scenarios["union"], root / "tree-cache")
    assert actual == expected


def test_every_real_root_alone_as_maven(tmp_path_factory, mvn):
    """Each of the 274 real roots resolved on its own: same set and same tree as Maven."""
    from tests.jvm.realrepo import build_real_repo, real_roots

    root = tmp_path_factory.mktemp("each")
    repo = build_real_repo(root / "repo")
    scenarios = {f"r{i}": [r] for i, r in enumerate(real_roots())}
    lists = maven_list(repo.url, scenarios, root / "maven")
    trees = maven_list(repo.url, scenarios, root / "maven-tree", goal="tree")
    for name in [n for n in scenarios if not isinstance(lists[n], set) or not isinstance(trees[n], dict)]:
        # In one reactor, Debian's patched plugin POMs (version "debian") can shadow a fixture POM
        # of the same coordinates in the shared local repository: ask Maven again, alone.
        lists[name] = maven_list(repo.url, {name: scenarios[name]}, root / f"maven-{name}")[name]
        trees[name] = maven_list(repo.url, {name: scenarios[name]}, root / f"maven-tree-{name}", goal="tree")[name]
    differences = []
    for name, items in scenarios.items():
        assert isinstance(lists[name], set) and isinstance(trees[name], dict), f"Maven failed on {items}"
        locked = envman_resolve(repo.url, {"default": items}, root / "cache")
        if entry_set(locked["default"]["linux-64"]) != maven_set(lists[name]):
            differences.append(("set", items))
        if envman_tree(repo.url, items, root / "cache") != trees[name]:
            differences.append(("tree", items))
    assert differences == []
