"""The history repository (32 commits of real lock edits) and the servers it locks from:
built once per test session (per xdist worker)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.history.repo import HistoryRepo, build_history, write_repos

ARTIFACTS = Path(os.environ.get("ENVMAN_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / ".test-artifacts")) / "history"


@pytest.fixture(scope="session")
def history_url(tmp_path_factory) -> Iterator[str]:
    from tests.python.servers import serve_directory

    root = write_repos(tmp_path_factory.mktemp("history-repos"))
    with serve_directory(root) as url:
        yield url


@pytest.fixture(scope="session")
def history_repo(tmp_path_factory, history_url) -> HistoryRepo:
    return build_history(tmp_path_factory.mktemp("history-git"), history_url)
