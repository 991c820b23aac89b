"""The one HTTP client: timeouts, retries with backoff, the system CA bundle, file:// URLs.

Every failure after retries becomes UnreachableError naming the URL (credentials removed).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlparse

from envman.errors import UnreachableError
from envman.redact import redact_url

if TYPE_CHECKING:  # requests is imported on first use
    import requests

__all__ = ["HttpClient", "NotFound"]

RETRY_STATUSES = {429, 500, 502, 503, 504}


class NotFound(Exception):
    """The server answered 404/410, or a file:// path does not exist: not a transient fault."""

    def __init__(self, url: str) -> None:
        super().__init__(redact_url(url))
        self.url = url


class HttpClient:
    def __init__(self, timeout: float = 30.0, retries: int | None = None, backoff: float | None = None) -> None:
        self.timeout = timeout
        self.retries = int(os.environ.get("ENVMAN_HTTP_RETRIES", "3")) if retries is None else retries
        self.backoff = float(os.environ.get("ENVMAN_HTTP_BACKOFF", "0.5")) if backoff is None else backoff
        self._session: requests.Session | None = None

    def _get_session(self) -> requests.Session:
        if self._session is None:
            import requests
            from requests.adapters import HTTPAdapter

            session = requests.Session()
            adapter = HTTPAdapter(pool_connections=8, pool_maxsize=16, max_retries=0)
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

    def get(self, url: str) -> bytes:
        """Bytes at url. Raises NotFound for 404/410, UnreachableError after retries."""
        parsed = urlparse(url)
        if parsed.scheme == "file":
            path = Path(unquote(parsed.path))
            try:
                return path.read_bytes()
            except FileNotFoundError:
                raise NotFound(url) from None
            except OSError as exc:
                raise UnreachableError(f"cannot read {redact_url(url)}: {exc.strerror}") from None
        import requests

        session = self._get_session()
        last_problem = "no answer"
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
            try:
                response = session.get(url, timeout=self.timeout)
            except requests.RequestException as exc:
                last_problem = type(exc).__name__
                continue
            if response.status_code in (404, 410):
                raise NotFound(url)
            if response.status_code in RETRY_STATUSES:
                last_problem = f"HTTP {response.status_code}"
                continue
            if response.status_code >= 400:
                raise UnreachableError(f"{redact_url(url)} answered HTTP {response.status_code}")
            return response.content
        raise UnreachableError(f"{redact_url(url)} is unreachable after {self.retries + 1} attempts ({last_problem})")
