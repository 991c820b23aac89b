"""A cached artifact that no longer has the bytes its sha256 name says is never installed:
it is fetched again and replaced."""

from __future__ import annotations

import hashlib

from envman.cache import ArtifactCache
from envman.fetch import fetch_verified


class _Served:
    def __init__(self, data: bytes) -> None:
        self.data, self.calls = data, 0

    def get(self, url: str) -> bytes:
        self.calls += 1
        return self.data


def test_a_tampered_cached_artifact_is_fetched_again(tmp_path):
    data = b"the locked artifact" * 100
    sha = hashlib.sha256(data).hexdigest()
    cache = ArtifactCache(tmp_path / "cache")
    _, path = cache.put_artifact(data, sha)
    path.write_bytes(b"something else")  # tampered in place
    served = _Served(data)
    found = fetch_verified("http://127.0.0.1/never", "sha256:" + sha, served, cache)
    assert served.calls == 1 and found.read_bytes() == data
    assert fetch_verified("http://127.0.0.1/never", sha, served, cache).read_bytes() == data
    assert served.calls == 1  # intact now: from the cache
