"""Untrusted repository content never gives a traceback: only EnvmanErrors naming the file."""

from __future__ import annotations

import gzip
import random

import pytest

from envman.ecosystems.r import ECOSYSTEM
from envman.ecosystems.r.section import RSection
from envman.errors import BadInputError, EnvmanError, ResolutionError
from tests.r.r_helpers import RepoBuilder, make_request, tarball


def lock(url, specs, services):
    section = RSection(version="4.3.3", repositories={"CRAN": url}, packages=[])
    return ECOSYSTEM.resolve(make_request(section, {"default": specs}), services)


@pytest.mark.parametrize("seed", range(12))
def test_random_bytes_as_packages(tmp_path, services, seed):
    rng = random.Random(seed)
    contrib = tmp_path / "repo" / "src" / "contrib"
    contrib.mkdir(parents=True)
    junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 4000)))
    if seed % 2:
        junk = b"Package: a\nVersion: 1.0\n\n" + junk
    (contrib / "PACKAGES.gz").write_bytes(gzip.compress(junk))
    # junk never escapes as a traceback; a readable record before it may still be used
    with pytest.raises(EnvmanError) as err:
        lock((tmp_path / "repo").as_uri(), ["a"], services)
    assert str(err.value)


def test_html_instead_of_packages(tmp_path, services):
    contrib = tmp_path / "repo" / "src" / "contrib"
    contrib.mkdir(parents=True)
    (contrib / "PACKAGES").write_text("<html><body>Login required</body></html>\n")
    with pytest.raises(BadInputError) as err:
        lock((tmp_path / "repo").as_uri(), ["a"], services)
    assert "not a PACKAGES index" in str(err.value) and "src/contrib/PACKAGES" in str(err.value)


def test_archived_tarball_that_is_not_a_tarball(tmp_path, services):
    repo = RepoBuilder(tmp_path / "repo")
    repo.add("a", "2.0")
    repo.write()
    folder = repo.contrib / "Archive" / "a"
    folder.mkdir(parents=True)
    (folder / "a_1.0.tar.gz").write_bytes(b"\x1f\x8b not really")
    with pytest.raises(BadInputError) as err:
        lock(repo.url, ["a (== 1.0)"], services)
    assert "Archive/a/a_1.0.tar.gz" in str(err.value)


def test_archived_tarball_with_another_package_inside(tmp_path, services):
    repo = RepoBuilder(tmp_path / "repo")
    repo.add("a", "2.0")
    repo.write()
    folder = repo.contrib / "Archive" / "a"
    folder.mkdir(parents=True)
    (folder / "a_1.0.tar.gz").write_bytes(tarball({"Package": "a", "Version": "9.9"}))
    with pytest.raises(BadInputError) as err:
        lock(repo.url, ["a (== 1.0)"], services)
    assert "says a 9.9" in str(err.value)


def test_record_without_version_matters_only_when_needed(tmp_path, services):
    repo = RepoBuilder(tmp_path / "repo")
    repo.add("ok", "1.0")
    repo.write()
    text = (repo.contrib / "PACKAGES").read_text() + "\nPackage: noversion\nImports: ok\n"
    (repo.contrib / "PACKAGES.gz").write_bytes(gzip.compress(text.encode()))
    assert [e.name for e in lock(repo.url, ["ok"], services)["default"]["linux-64"]] == ["ok"]
    with pytest.raises(ResolutionError) as err:
        lock(repo.url, ["noversion"], services)
    assert "unreadable index entry" in str(err.value) and "no Version" in str(err.value)
