"""Fixtures for the R ecosystem tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from envman.ecosystems.base import Services
from tests.r.r_helpers import Server, make_services


@pytest.fixture
def serve() -> Iterator:
    servers: list[Server] = []

    def start(root: Path) -> Server:
        server = Server(root)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def services(tmp_path: Path) -> Services:
    return make_services(tmp_path / "cache")
