"""Locking behaviour: HTTP repositories, the cache, environments, preferences, offline."""

from __future__ import annotations

import hashlib
import re

import pytest

from envman.ecosystems.jvm.entry import JvmEntry
from envman.errors import ResolutionError, UnreachableError
from tests.jvm.helpers import envman_resolve
from tests.jvm.mavenrepo import FixtureRepo


def _names(entries) -> dict[str, str]:
    return {e.name: e.version for e in entries}


@pytest.fixture
def repo(tmp_path):
    repo = FixtureRepo(tmp_path / "repo", checksums="both")
    repo.add("h.app:core:1", deps=["h.lib:util:2.0", {"g": "h.lib", "a": "native", "v": "1", "classifier": "linux"}])
    repo.add("h.lib:util:2.0", deps=["h.lib:base:[1.0,2.0)"])
    repo.add("h.lib:native:1", classifiers=("linux",))
    repo.add("h.lib:base:1.0")
    repo.add("h.lib:base:1.5")
    repo.add("h.tool:notebook:3", deps=["h.lib:util:2.0"])
    repo.finish()
    return repo


def test_http_lock_entries_and_warm_cache(repo, tmp_path, http_repo):
    served = http_repo(repo.root, credentials="alice:s3cret")
    url = served.url.replace("http://", "http://alice:s3cret@")
    locked = envman_resolve(url, {"default": ["h.app:core:1"]}, tmp_path / "cache")
    entries = locked["default"]["linux-64"]
    assert _names(entries) == {"h.app:core": "1", "h.lib:util": "2.0", "h.lib:native:linux": "1", "h.lib:base": "1.5"}
    for entry in entries:
        assert isinstance(entry, JvmEntry)
        assert "alice" not in entry.url and "s3cret" not in entry.url
        assert entry.url.startswith(served.url + "/h/")
        path = repo.root / entry.url[len(served.url) + 1:]
        assert entry.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    native = next(e for e in entries if e.name == "h.lib:native:linux")
    assert native.url.endswith("/native-1-linux.jar")
    core = next(e for e in entries if e.name == "h.app:core")
    assert core.requires == ["h.lib:util", "h.lib:native:linux"]
    jar_requests = [r for r in served.requests if r.endswith(".jar")]
    assert len(jar_requests) == len(set(jar_requests)) == 4
    assert any(r.endswith(".jar.sha256") for r in served.requests)
    # warm: POMs and jars come from the cache; only range metadata is asked again
    served.requests.clear()
    again = envman_resolve(url, {"default": ["h.app:core:1"]}, tmp_path / "cache")
    assert again == locked
    assert all(r.endswith("maven-metadata.xml") for r in served.requests), served.requests
    # offline: the cache alone
    served.requests.clear()
    offline = envman_resolve(url, {"default": ["h.app:core:1"]}, tmp_path / "cache", offline=True)
    assert offline == locked and served.requests == []


def test_offline_without_cache(repo, tmp_path):
    with pytest.raises(UnreachableError, match="offline"):
        envman_resolve(repo.url, {"default": ["h.app:core:1"]}, tmp_path / "empty", offline=True)


def test_environments_share_one_resolution(repo, tmp_path):
    repo.add("h.lib:base:1.0.5")  # unrelated, keeps metadata valid
    repo.finish()
    locked = envman_resolve(
        repo.url,
        {"production": ["h.lib:base:1.0"], "design": ["h.lib:base:1.0", "h.tool:notebook:3"]},
        tmp_path / "cache",
    )
    production = _names(locked["production"]["linux-64"])
    design = _names(locked["design"]["linux-64"])
    assert production == {"h.lib:base": "1.0"}
    # base 1.0 is direct in the union, so notebook's range is satisfied by it everywhere
    assert design == {"h.lib:base": "1.0", "h.lib:util": "2.0", "h.tool:notebook": "3"}


def test_conflicting_root_versions_across_environments(repo, tmp_path):
    with pytest.raises(ResolutionError, match=re.escape("h.lib:base is declared as 1.0 and as 1.5")):
        envman_resolve(repo.url, {"a": ["h.lib:base:1.0"], "b": ["h.lib:base:1.5"]}, tmp_path / "cache")


def test_previous_pins_win_for_ranges_until_upgrade(repo, tmp_path):
    first = envman_resolve(repo.url, {"default": ["h.app:core:1"]}, tmp_path / "cache")
    assert _names(first["default"]["linux-64"])["h.lib:base"] == "1.5"
    repo.add("h.lib:base:1.9")  # published later
    repo.finish()
    kept = envman_resolve(repo.url, {"default": ["h.app:core:1"]}, tmp_path / "cache", previous=first)
    assert _names(kept["default"]["linux-64"])["h.lib:base"] == "1.5"
    upgraded = envman_resolve(repo.url, {"default": ["h.app:core:1"]}, tmp_path / "cache", previous=first, upgrade=True)
    assert _names(upgraded["default"]["linux-64"])["h.lib:base"] == "1.9"
    one = envman_resolve(repo.url, {"default": ["h.app:core:1"]}, tmp_path / "cache", previous=first,
                         upgrade_packages=frozenset({"h.lib:base"}))
    assert _names(one["default"]["linux-64"])["h.lib:base"] == "1.9"


def test_same_entries_on_every_platform(repo, tmp_path):
    from envman.cache import ArtifactCache
    from envman.ecosystems.base import ResolveRequest, Services
    from envman.ecosystems.jvm import ECOSYSTEM
    from envman.ecosystems.jvm.section import JvmSection
    from envman.http import HttpClient

    request = ResolveRequest(section=JvmSection(repositories=[repo.url]), environments={"default": ["h.app:core:1"]},
                             platforms=["linux-64", "linux-aarch64"])
    locked = ECOSYSTEM.resolve(request, Services(http=HttpClient(retries=0), cache=ArtifactCache(tmp_path / "c")))
    assert locked["default"]["linux-64"] == locked["default"]["linux-aarch64"]
