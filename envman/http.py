"""The one HTTP client: deadlines, retries with backoff, the system CA bundle, file:// URLs.

Every failure after retries becomes UnreachableError (exit 4) naming the URL (credentials
removed). Bounds, each overridable by an environment variable:

    ENVMAN_HTTP_TIMEOUT            60 s   one request, from connecting to the last byte of
                                          the body (a server that sends a byte every few
                                          seconds is cut off there; it is not retried)
    ENVMAN_HTTP_ARTIFACT_TIMEOUT  180 s   one URL, every attempt and the backoff between them
    ENVMAN_HTTP_RETRIES             3     retries after a connection error or a 429/5xx
    ENVMAN_MAX_INDEX_BYTES       512 MiB  one response body held in memory (envman.limits;
                                          over it: LimitError, exit 2, naming the URL)

A socket also times out after 30 s without a byte (or the request deadline, if shorter).
The deadline is kept by a timer that shuts the request's socket down, so it holds however
slowly the server sends its status line, headers or body.
"""

from __future__ import annotations

import functools
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from envman.errors import UnreachableError
from envman.redact import redact_url

if TYPE_CHECKING:  # requests is imported on first use
    import requests

__all__ = ["HttpClient", "NotFound", "request_timeout", "artifact_timeout"]

RETRY_STATUSES = {429, 500, 502, 503, 504}
DEFAULT_REQUEST_TIMEOUT = 60.0
DEFAULT_ARTIFACT_TIMEOUT = 180.0
SOCKET_TIMEOUT = 30.0
_CHUNK = 1 << 16
PROGRESS_MIN_BYTES = 1 << 20  # downloads smaller than this are not worth a progress line
PROGRESS_EVERY = 0.25  # seconds between two progress messages of one download


def _seconds(variable: str, default: float) -> float:
    """A positive number of seconds from the environment, else the default (as envman.limits)."""
    raw = os.environ.get(variable, "").strip()
    try:
        value = float(raw)
    except ValueError:
        return default
    return value if 0 < value < float("inf") else default


def request_timeout() -> float:
    return _seconds("ENVMAN_HTTP_TIMEOUT", DEFAULT_REQUEST_TIMEOUT)


def artifact_timeout() -> float:
    return _seconds("ENVMAN_HTTP_ARTIFACT_TIMEOUT", DEFAULT_ARTIFACT_TIMEOUT)


_default_artifact_timeout = artifact_timeout  # (HttpClient's parameter has the same name)


class NotFound(Exception):
    """The server answered 404/410, or a file:// path does not exist: not a transient fault."""

    def __init__(self, url: str) -> None:
        super().__init__(redact_url(url))
        self.url = url


# -- deadlines --------------------------------------------------------------------------
_watch = threading.local()  # the _Deadline of the request this thread is making


class _Deadline:
    """Shuts down every socket the current request uses when its time is up, which wakes a
    read blocked on a server that trickles bytes (a socket timeout never fires then)."""

    def __init__(self, seconds: float) -> None:
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.0), self._expire)
        self._timer.daemon = True

    def __enter__(self) -> _Deadline:
        _watch.deadline = self
        self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._timer.cancel()
        _watch.deadline = None

    def track(self, sock: Any) -> None:
        if sock is None:
            return
        with self._lock:
            if self.expired:
                _shutdown(sock)
            else:
                self._sockets.append(sock)

    def _expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                _shutdown(sock)


def _shutdown(sock: Any) -> None:
    try:  # socket.socket's own shutdown, also for an SSLSocket: the descriptor, not the TLS layer
        socket.socket.shutdown(sock, socket.SHUT_RDWR)
    except (OSError, TypeError, ValueError):
        pass


def _track_current(sock: Any) -> None:
    deadline = getattr(_watch, "deadline", None)
    if deadline is not None:
        deadline.track(sock)


@functools.lru_cache(maxsize=1)
def _watched_pools() -> dict[str, Any]:
    """urllib3 pool classes whose connections register their socket with the thread's deadline
    (when they connect, and each time a pooled connection sends a request)."""
    from urllib3.connection import HTTPConnection, HTTPSConnection
    from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

    class Watched(HTTPConnection):  # a mixin in effect: HTTPS connections subclass HTTPConnection too
        def connect(self) -> None:
            super().connect()
            _track_current(self.sock)

        def request(self, *args: Any, **kwargs: Any) -> None:
            _track_current(self.sock)
            super().request(*args, **kwargs)

    class WatchedHTTPConnection(Watched):
        pass

    class WatchedHTTPSConnection(Watched, HTTPSConnection):
        pass

    class WatchedHTTPPool(HTTPConnectionPool):
        ConnectionCls = WatchedHTTPConnection

    class WatchedHTTPSPool(HTTPSConnectionPool):
        ConnectionCls = WatchedHTTPSConnection

    return {"http": WatchedHTTPPool, "https": WatchedHTTPSPool}


def _adapter() -> Any:
    """requests' adapter with watched pools, also behind an http(s) proxy (SOCKS keeps its own)."""
    from requests.adapters import HTTPAdapter

    class WatchedAdapter(HTTPAdapter):
        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            self.poolmanager.pool_classes_by_scheme = dict(_watched_pools())

        def proxy_manager_for(self, proxy: str, **kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **kwargs)
            if not proxy.lower().startswith("socks"):
                manager.pool_classes_by_scheme = dict(_watched_pools())
            return manager

    return WatchedAdapter(pool_connections=8, pool_maxsize=16, max_retries=0)


class _Expired(Exception):
    pass


class HttpClient:
    def __init__(
        self,
        timeout: float | None = None,
        retries: int | None = None,
        backoff: float | None = None,
        artifact_timeout: float | None = None,
        progress: Callable[[str], None] | None = None,
    ) -> None:
        """`progress`, when given, hears "downloading NAME 3.1/12.0 MB" during downloads of
        a megabyte or more (at most four times a second)."""
        self.timeout = request_timeout() if timeout is None else timeout
        self.artifact_timeout = _default_artifact_timeout() if artifact_timeout is None else artifact_timeout
        self.retries = int(os.environ.get("ENVMAN_HTTP_RETRIES", "3")) if retries is None else retries
        self.backoff = float(os.environ.get("ENVMAN_HTTP_BACKOFF", "0.5")) if backoff is None else backoff
        self.progress = progress
        self._session: requests.Session | None = None
        self._session_lock = threading.Lock()

    def _get_session(self) -> requests.Session:
        with self._session_lock:
            if self._session is None:
                import requests

                session = requests.Session()
                adapter = _adapter()
                session.mount("http://", adapter)
                session.mount("https://", adapter)
                bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("SSL_CERT_FILE")
                if not bundle and Path("/etc/ssl/certs/ca-certificates.crt").is_file():
                    bundle = "/etc/ssl/certs/ca-certificates.crt"
                if bundle:
                    session.verify = bundle
                session.headers["User-Agent"] = "envman/0.1"
                self._session = session
            return self._session

    def get(
        self, url: str, max_bytes: int | None = None, limit_name: str = "index_bytes", headers: Mapping[str, str] | None = None
    ) -> bytes:
        """Bytes at url. Raises NotFound for 404/410, UnreachableError (exit 4) after retries,
        past a deadline or when the body is over max_bytes (default: the index_bytes limit).
        `headers` (e.g. Accept for PEP 691) are sent with http(s) requests only."""
        from envman.limits import limit

        maximum = limit(limit_name) if max_bytes is None else max_bytes
        parsed = urlparse(url)
        if parsed.scheme == "file":
            return self._read_file(url, Path(unquote(parsed.path)), limit_name)
        import requests

        session = self._get_session()
        shown = redact_url(url)
        started = time.monotonic()
        artifact_deadline = started + self.artifact_timeout
        last_problem = "no answer"
        attempts = 0
        for attempt in range(self.retries + 1):
            if attempt:
                pause = self.backoff * (2 ** (attempt - 1))
                if time.monotonic() + pause >= artifact_deadline:
                    break
                time.sleep(pause)
            remaining = artifact_deadline - time.monotonic()
            if remaining <= 0:
                break
            budget = min(self.timeout, remaining)
            attempts += 1
            try:
                status, body = self._attempt(session, url, budget, maximum, limit_name, headers)
            except _Expired:
                if budget < self.timeout:  # the artifact's deadline, not the request's
                    raise UnreachableError(
                        f"{shown}: no complete answer within the {self.artifact_timeout:g} s allowed per download "
                        f"({attempts} attempts; set ENVMAN_HTTP_ARTIFACT_TIMEOUT to allow more)"
                    ) from None
                raise UnreachableError(
                    f"{shown}: no complete answer within {self.timeout:g} s (the server is too slow; "
                    "set ENVMAN_HTTP_TIMEOUT to allow more)"
                ) from None
            except requests.RequestException as exc:
                last_problem = type(exc).__name__
                continue
            if status in (404, 410):
                raise NotFound(url)
            if status in RETRY_STATUSES:
                last_problem = f"HTTP {status}"
                continue
            if status >= 400:
                raise UnreachableError(f"{shown} answered HTTP {status}")
            return body
        if time.monotonic() >= artifact_deadline or attempts < self.retries + 1:
            raise UnreachableError(
                f"{shown} is unreachable within the {self.artifact_timeout:g} s allowed per download "
                f"({attempts} attempts, {last_problem}; set ENVMAN_HTTP_ARTIFACT_TIMEOUT to allow more)"
            )
        raise UnreachableError(f"{shown} is unreachable after {attempts} attempts ({last_problem})")

    def _attempt(
        self, session: requests.Session, url: str, budget: float, maximum: int, limit_name: str, headers: Mapping[str, str] | None = None
    ) -> tuple[int, bytes]:
        """(status, body) of one request finished within budget seconds; _Expired otherwise."""
        import requests

        socket_timeout = min(SOCKET_TIMEOUT, budget)
        with _Deadline(budget) as deadline:
            try:
                response = session.get(url, timeout=(socket_timeout, socket_timeout), stream=True, headers=dict(headers or {}))
                try:
                    if response.status_code >= 400:
                        return response.status_code, b""
                    declared = response.headers.get("Content-Length", "")
                    if declared.isdigit() and int(declared) > maximum:
                        raise _too_large(url, int(declared), maximum, limit_name)
                    chunks: list[bytes] = []
                    total = 0
                    report = _DownloadReport(self.progress, url, int(declared) if declared.isdigit() else None)
                    for chunk in response.iter_content(_CHUNK):
                        total += len(chunk)
                        if total > maximum:
                            raise _too_large(url, total, maximum, limit_name)
                        chunks.append(chunk)
                        report(total)
                    if deadline.expired:
                        raise _Expired()
                    return response.status_code, b"".join(chunks)
                finally:
                    response.close()
            except (requests.RequestException, OSError):
                if deadline.expired:
                    raise _Expired() from None
                raise

    def _read_file(self, url: str, path: Path, limit_name: str = "index_bytes") -> bytes:
        from envman.limits import read_regular_file

        try:  # a FIFO, a device, a folder or a file over the limit: EnvmanError (exit 2) naming it
            return read_regular_file(path, limit_name, redact_url(url))
        except FileNotFoundError:
            raise NotFound(url) from None
        except OSError as exc:
            raise UnreachableError(f"cannot read {redact_url(url)}: {exc.strerror}") from None


class _DownloadReport:
    """Progress of one download: bytes so far against the declared size, throttled."""

    def __init__(self, progress: Callable[[str], None] | None, url: str, size: int | None) -> None:
        self.progress = progress
        self.name = unquote(urlparse(url).path.rstrip("/").rsplit("/", 1)[-1]) or redact_url(url)
        self.size = size
        self.next_at = time.monotonic() + PROGRESS_EVERY

    def __call__(self, done: int) -> None:
        if self.progress is None or done < PROGRESS_MIN_BYTES:
            return
        now = time.monotonic()
        if now < self.next_at and done != self.size:
            return
        self.next_at = now + PROGRESS_EVERY
        of = f"/{_megabytes(self.size)}" if self.size else ""
        self.progress(f"downloading {self.name} {_megabytes(done)}{of} MB")


def _megabytes(count: int) -> str:
    return f"{count / 1e6:.1f}"


def _too_large(url: str, size: int, maximum: int, limit_name: str = "index_bytes") -> Exception:
    from envman.limits import LIMITS, LimitError

    return LimitError(
        f"{redact_url(url)}: the answer is over the limit of {maximum:,} bytes ({size:,} bytes); "
        f"set {LIMITS[limit_name][0]} to raise it"
    )
