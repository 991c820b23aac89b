"""Fixtures for the R ecosystem tests."""

from __future__ import annotations

from pathlib import Path
from typing import Iterator

import pytest

from tests.r.r_helpers import Server, make_services
from envman.ecosystems.base import Services


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
