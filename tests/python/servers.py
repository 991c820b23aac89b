"""HTTP servers on 127.0.0.1 for tests: a static folder, and one that always answers 500."""

from __future__ import annotations

import functools
import http.server
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

__all__ = ["serve_directory", "serve_errors"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class _NoCaching(_Quiet):
    """Answers with no caching header and never 304, as this machine's TLS-inspecting proxy
    answers for PyPI: a client must fetch every page and file again."""

    def send_head(self):  # type: ignore[no-untyped-def]
        del self.headers["If-Modified-Since"]
        return super().send_head()

    def send_header(self, keyword: str, value: str) -> None:
        if keyword.lower() not in ("last-modified", "etag", "cache-control", "expires"):
            super().send_header(keyword, value)


class _Failing(http.server.BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:
        type(self).hits += 1
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


@contextmanager
def _serve(handler) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def serve_directory(root: Path, caching: bool = True) -> Iterator[str]:
    with _serve(functools.partial(_Quiet if caching else _NoCaching, directory=str(root))) as url:
        yield url


@contextmanager
def serve_errors() -> Iterator[str]:
    with _serve(_Failing) as url:
        yield url
