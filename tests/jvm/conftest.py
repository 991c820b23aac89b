"""Fixtures of the JVM tests: a Maven repository over real HTTP on 127.0.0.1."""

from __future__ import annotations

import base64
import functools
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

__all__ = ["serve_directory"]


class _Handler(SimpleHTTPRequestHandler):
    requests: list[str]
    credentials: str | None = None

    def log_message(self, *args) -> None:  # quiet
        pass

    def do_GET(self) -> None:
        if self.credentials is not None:
            expected = "Basic " + base64.b64encode(self.credentials.encode()).decode()
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("WWW-Authenticate", 'Basic realm="repo"')
                self.end_headers()
                return
        self.requests.append(self.path)
        super().do_GET()


class ServedRepo:
    def __init__(self, server: ThreadingHTTPServer, requests: list[str]) -> None:
        self.server = server
        self.requests = requests
        self.url = f"http://127.0.0.1:{server.server_address[1]}"


def serve_directory(directory: Path, credentials: str | None = None):
    requests: list[str] = []
    handler = type("Handler", (_Handler,), {"requests": requests, "credentials": credentials})
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return ServedRepo(server, requests)


@pytest.fixture
def http_repo():
    servers = []

    def start(directory: Path, credentials: str | None = None) -> ServedRepo:
        served = serve_directory(directory, credentials)
        servers.append(served)
        return served

    yield start
    for served in servers:
        served.server.shutdown()
        served.server.server_close()
