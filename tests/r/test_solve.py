"""`resolve` of the R ecosystem end to end over repositories the tests write (file:// and
http on 127.0.0.1): archive lookup, checksums, cache, offline, errors, environments."""

from __future__ import annotations

import gzip
import hashlib
import json
from pathlib import Path

import pytest

from envman.ecosystems.r import ECOSYSTEM
from envman.ecosystems.r.entry import REntry
from envman.ecosystems.r.repository import ChecksumMismatchError
from envman.ecosystems.r.section import RSection
from envman.errors import BadInputError, ResolutionError, UnreachableError
from tests.r.r_helpers import RepoBuilder, make_request, make_services


@pytest.fixture
def repo(tmp_path: Path) -> RepoBuilder:
    r = RepoBuilder(tmp_path / "repo")
    r.add("top", "1.0", Depends="R (>= 3.5.0), mid", Suggests="nothere", NeedsCompilation="no")
    r.add("mid", "2.1", Imports="low (>= 1.1), stats, utils", LinkingTo="hdr", NeedsCompilation="yes")
    r.add("low", "1.2")
    r.add("low", "1.1", archived=True)
    r.add("low", "1.0", archived=True)
    r.add("hdr", "0.3")
    r.add("extra", "0.9", Imports="low")
    return r.write()


def lock(repo_url: str, envs: dict[str, list[str]], services, version: str | None = "4.3.3", **kw):
    section = RSection(version=version, repositories={"CRAN": repo_url}, packages=[])
    return ECOSYSTEM.resolve(make_request(section, envs, **kw), services)


def by_name(entries):
    return {e.name: e for e in entries}


def test_file_repository_lock_entries(repo, services):
    result = lock(repo.url, {"default": ["top"]}, services)
    entries = by_name(result["default"]["linux-64"])
    assert sorted(entries) == ["hdr", "low", "mid", "top"]
    top, mid, low = entries["top"], entries["mid"], entries["low"]
    assert isinstance(top, REntry)
    assert (low.version, low.repository) == ("1.2", "CRAN")
    assert mid.requires == ["hdr", "low"] and top.requires == ["mid"] and low.requires == []
    assert mid.needs_compilation is True and top.needs_compilation is False
    data = (repo.contrib / "low_1.2.tar.gz").read_bytes()
    assert low.sha256 == hashlib.sha256(data).hexdigest()
    assert low.md5 == hashlib.md5(data).hexdigest()
    assert low.url == repo.url + "/src/contrib/low_1.2.tar.gz"
    # the tarball is in the cache, by sha256
    assert services.cache.get_artifact(low.sha256).read_bytes() == data


def test_archive_versions_over_http(repo, services, serve):
    server = serve(repo.root)
    result = lock(server.url, {"default": ["top", "low (== 1.1)"]}, services)
    low = by_name(result["default"]["linux-64"])["low"]
    assert low.version == "1.1"
    assert low.url == f"{server.url}/src/contrib/Archive/low/low_1.1.tar.gz"
    assert low.sha256 == hashlib.sha256((repo.contrib / "Archive/low/low_1.1.tar.gz").read_bytes()).hexdigest()
    # `<` needs the listing (http.server's directory index)
    result = lock(server.url, {"default": ["low (< 1.1)"]}, make_services(services.cache.root.parent / "c2"))
    assert by_name(result["default"]["linux-64"])["low"].version == "1.0"


def test_archive_from_file_repository(repo, services):
    result = lock(repo.url, {"default": ["low (<= 1.1)"]}, services)
    assert by_name(result["default"]["linux-64"])["low"].version == "1.1"


def test_plain_packages_when_no_gz(tmp_path, services):
    r = RepoBuilder(tmp_path / "plain")
    r.add("a", "1.0")
    r.write(gz=False)
    assert by_name(lock(r.url, {"default": ["a"]}, services)["default"]["linux-64"])["a"].version == "1.0"


def test_environments_share_one_resolution(repo, services):
    envs = {"production": ["top"], "design": ["top", "extra", "low (< 1.2)"]}
    result = lock(repo.url, envs, services, platforms=["linux-64", "osx-arm64"])
    prod = by_name(result["production"]["linux-64"])
    design = by_name(result["design"]["linux-64"])
    assert sorted(prod) == ["hdr", "low", "mid", "top"]
    assert sorted(design) == ["extra", "hdr", "low", "mid", "top"]
    # design's `low (< 1.2)` pins low for production as well: one version everywhere
    assert prod["low"].version == design["low"].version == "1.1"
    assert result["production"]["osx-arm64"] == result["production"]["linux-64"]


def test_multiple_repositories_priority_and_lock_names_repository(repo, tmp_path, services):
    internal = RepoBuilder(tmp_path / "internal")
    internal.add("low", "1.1")
    internal.add("ours", "0.1", Imports="low")
    internal.write()
    section = RSection(version="4.3.3", repositories={"internal": internal.url, "CRAN": repo.url}, packages=[])
    result = ECOSYSTEM.resolve(make_request(section, {"default": ["top", "ours"]}), services)
    entries = by_name(result["default"]["linux-64"])
    assert (entries["low"].version, entries["low"].repository) == ("1.1", "internal")
    assert (entries["top"].repository, entries["ours"].repository) == ("CRAN", "internal")
    assert entries["low"].url.startswith(internal.url)


def test_previous_pins_are_kept_unless_upgrade(repo, services):
    previous = {"default": {"linux-64": [REntry(name="low", version="1.1", sha256="0" * 64, repository="CRAN", url="x")]}}
    kept = lock(repo.url, {"default": ["top"]}, services, previous=previous)
    assert by_name(kept["default"]["linux-64"])["low"].version == "1.1"  # kept, from Archive/
    upgraded = lock(repo.url, {"default": ["top"]}, services, previous=previous, upgrade_packages=frozenset({"low"}))
    assert by_name(upgraded["default"]["linux-64"])["low"].version == "1.2"
    upgraded = lock(repo.url, {"default": ["top"]}, services, previous=previous, upgrade=True)
    assert by_name(upgraded["default"]["linux-64"])["low"].version == "1.2"


def test_warm_cache_and_offline_need_no_repository(repo, services, serve):
    server = serve(repo.root)
    first = lock(server.url, {"default": ["top"]}, services)
    count = len(server.requests)
    second = lock(server.url, {"default": ["top"]}, services)
    assert second == first
    assert len(server.requests) == count  # index within its TTL, tarball hashes from the cache
    server.stop()
    offline = lock(server.url, {"default": ["top"]}, services, offline=True)
    assert offline == first
    with pytest.raises(UnreachableError) as err:
        lock(server.url, {"default": ["top"]}, make_services(services.cache.root.parent / "empty"), offline=True)
    assert "offline" in str(err.value) and err.value.exit_code == 4


def test_stale_cached_index_is_refreshed_when_a_package_is_missing(repo, services, serve):
    server = serve(repo.root)
    lock(server.url, {"default": ["top"]}, services)
    repo.add("newpkg", "0.1")
    repo.write()
    result = lock(server.url, {"default": ["newpkg"]}, services)
    assert by_name(result["default"]["linux-64"])["newpkg"].version == "0.1"


def test_unreachable_repository_exit_4(services):
    with pytest.raises(UnreachableError) as err:
        lock("http://127.0.0.1:9", {"default": ["top"]}, services)
    assert err.value.exit_code == 4 and "127.0.0.1:9" in str(err.value)


def test_not_a_cran_repository(tmp_path, services, serve):
    (tmp_path / "empty").mkdir()
    server = serve(tmp_path / "empty")
    with pytest.raises(UnreachableError) as err:
        lock(server.url, {"default": ["top"]}, services)
    assert "PACKAGES" in str(err.value)


def test_contrib_url_instead_of_root_gets_a_hint(repo, services):
    with pytest.raises(UnreachableError) as err:
        lock(repo.url + "/src/contrib", {"default": ["top"]}, services)
    assert "without /src/contrib" in str(err.value)


def test_checksum_mismatch_is_refused(repo, services):
    text = (repo.contrib / "PACKAGES").read_text()
    real = hashlib.md5((repo.contrib / "low_1.2.tar.gz").read_bytes()).hexdigest()
    tampered = text.replace(real, "0" * 32)
    (repo.contrib / "PACKAGES").write_text(tampered)
    (repo.contrib / "PACKAGES.gz").write_bytes(gzip.compress(tampered.encode()))
    with pytest.raises(ChecksumMismatchError) as err:
        lock(repo.url, {"default": ["top"]}, services)
    assert "low_1.2.tar.gz" in str(err.value) and "MD5" in str(err.value)
    assert services.cache.get_artifact(hashlib.sha256((repo.contrib / "low_1.2.tar.gz").read_bytes()).hexdigest()) is None


def test_errors_for_bad_index_and_credentials_redacted(tmp_path, services, serve):
    bad = tmp_path / "bad" / "src" / "contrib"
    bad.mkdir(parents=True)
    (bad / "PACKAGES.gz").write_bytes(b"not gzip")
    with pytest.raises(BadInputError) as err:
        lock((tmp_path / "bad").as_uri(), {"default": ["a"]}, services)
    assert "PACKAGES.gz" in str(err.value) and "gzip" in str(err.value)


def test_credentials_never_reach_the_lock(repo, services, serve):
    server = serve(repo.root)
    url = server.url.replace("http://", "http://user:s3cret@")
    entries = lock(url, {"default": ["top"]}, services)["default"]["linux-64"]
    assert all("s3cret" not in e.url and e.url.startswith(server.url) for e in entries)


def test_unknown_and_unsatisfiable(repo, services):
    with pytest.raises(ResolutionError) as err:
        lock(repo.url, {"default": ["tpo"]}, services)
    assert "`top`" in str(err.value)
    with pytest.raises(ResolutionError) as err:
        lock(repo.url, {"default": ["top", "low (> 1.2)"]}, services)
    assert "low (> 1.2), required by envman.yaml (`low (> 1.2)`)" in str(err.value)
    assert "available: 1.2 (CRAN); archived: 1.1 (CRAN), 1.0 (CRAN)" in str(err.value)
    with pytest.raises(ResolutionError) as err:
        lock(repo.url, {"default": ["top", "low (< 1.1)"]}, services)
    message = str(err.value)
    assert "low (>= 1.1), required by mid 2.1 <- top 1.0 <- envman.yaml (`top`)" in message and "low (< 1.1)" in message


def test_r_version_mismatch(tmp_path, services):
    r = RepoBuilder(tmp_path / "rv")
    r.add("modern", "1.0", Depends="R (>= 4.4.0)")
    r.write()
    with pytest.raises(ResolutionError) as err:
        lock(r.url, {"default": ["modern"]}, services, version="4.3.3")
    assert "needs R (>= 4.4.0)" in str(err.value)


def test_renv_export(repo, services):
    section = RSection(version="4.3.3", repositories={"CRAN": repo.url}, packages=["top"])
    entries = ECOSYSTEM.resolve(make_request(section, {"default": ["top"]}), services)["default"]["linux-64"]

    class M:
        @staticmethod
        def section(name):
            return section if name == "r" else None

    text = ECOSYSTEM.export(entries, "renv", {"manifest": M(), "environment": "default", "platform": "linux-64", "lock": None})
    doc = json.loads(text)
    assert doc["R"] == {"Version": "4.3.3", "Repositories": [{"Name": "CRAN", "URL": repo.url}]}
    assert list(doc["Packages"]) == ["hdr", "low", "mid", "top"]
    assert doc["Packages"]["mid"] == {"Package": "mid", "Version": "2.1", "Source": "Repository", "Repository": "CRAN",
                                      "Requirements": ["hdr", "low"]}
    assert text.endswith("}\n")
    with pytest.raises(BadInputError):
        ECOSYSTEM.export(entries, "requirements", {"manifest": M()})


def test_fragment_install_order(repo, services):
    entries = lock(repo.url, {"default": ["top"]}, services)["default"]["linux-64"]
    fragment = ECOSYSTEM.fragment(entries, None)
    assert fragment.ecosystem == "r" and fragment.template == "r"
    # chunks in install order (the chain, then the leaf buckets), each "height name version file"
    chunks = [*fragment.data["chain"], *fragment.data["leaves"]]
    placed = [(chunk, line.split()[1]) for chunk in chunks for line in fragment.files[f"r/{chunk}/packages.txt"].decode().splitlines()]
    names = [name for _, name in placed]
    assert names.index("low") < names.index("mid") < names.index("top")
    assert [a.path for a in fragment.artifacts] == [f"r/{c}/src/{n}_{by_name(entries)[n].version}.tar.gz" for c, n in placed]
    assert all(len(a.sha256) == 64 for a in fragment.artifacts)


def test_previous_sha256_reused_when_url_and_md5_unchanged(repo, services, serve):
    server = serve(repo.root)
    first = by_name(lock(server.url, {"default": ["top"]}, services)["default"]["linux-64"])
    previous = {"default": {"linux-64": list(first.values())}}
    fresh = make_services(services.cache.root.parent / "fresh-cache")
    before = len(server.requests)
    second = by_name(lock(server.url, {"default": ["top"]}, fresh, previous=previous)["default"]["linux-64"])
    assert second == first
    assert not [p for p in server.requests[before:] if p.endswith(".tar.gz")]  # only the index was fetched


def test_errors_name_the_environment_of_a_spec(repo, services):
    with pytest.raises(ResolutionError) as err:
        lock(repo.url, {"production": ["top"], "design": ["top", "low (< 1.0)"]}, services)
    assert "envman.yaml, environment design (`low (< 1.0)`)" in str(err.value)
