"""The committed examples stay valid: their locks are fresh, and the R and JVM parts of the
multi-language lock re-resolve to the same entries from the real packages in repos/."""

from __future__ import annotations

from pathlib import Path

import pytest

from envman import ecosystems
from envman.cache import ArtifactCache
from envman.ecosystems.base import ResolveRequest, Services
from envman.http import HttpClient
from envman.lockfile import read_lock
from envman.manifest import load_manifest
from tests.python.conftest import run_envman
from tests.python.servers import serve_directory

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PORT_URL = "http://127.0.0.1:18765"


@pytest.mark.parametrize("name", ["churn-model", "multi-language"])
def test_example_lock_is_fresh(name):
    done = run_envman("lock", "--check", cwd=EXAMPLES / name)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("ecosystem", ["r", "jvm"])
def test_multi_language_relocks_identically(ecosystem, tmp_path):
    example = EXAMPLES / "multi-language"
    manifest = load_manifest(example / "envman.yaml")
    lock = read_lock(example / "envman.lock")
    with serve_directory(example / "repos") as url:
        section = getattr(manifest, ecosystem)
        if ecosystem == "r":
            section = section.model_copy(update={"repositories": {k: v.replace(PORT_URL, url) for k, v in section.repositories.items()}})
        else:
            section = section.model_copy(update={"repositories": [v.replace(PORT_URL, url) for v in section.repositories]})
        request = ResolveRequest(
            section=section,
            environments={env: manifest.requirements(ecosystem, env) for env in manifest.environment_names()},
            platforms=list(manifest.platforms),
        )
        services = Services(http=HttpClient(), cache=ArtifactCache(tmp_path / "cache"))
        resolved = ecosystems.get(ecosystem).resolve(request, services)
    for env in manifest.environment_names():
        expected = [e.model_dump() for e in getattr(lock.environments[env]["linux-64"], ecosystem)]
        got = [
            {**e.model_dump(), "url": e.url.replace(url, PORT_URL)}
            for e in sorted(resolved[env]["linux-64"], key=lambda e: (e.name.lower(), e.version))
        ]
        assert got == expected
