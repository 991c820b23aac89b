"""Helpers for the R ecosystem tests: CRAN-like repositories written by the tests,
served from file:// or over http on 127.0.0.1."""

from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import io
import tarfile
import threading
from pathlib import Path

from envman.cache import ArtifactCache
from envman.ecosystems.base import ResolveRequest, Services
from envman.http import HttpClient

RECORD_ORDER = ("Package", "Version", "Priority", "Depends", "Imports", "LinkingTo", "Suggests", "License", "NeedsCompilation")


def dcf(records: list[dict[str, str]]) -> str:
    chunks = []
    for record in records:
        keys = [k for k in RECORD_ORDER if k in record] + sorted(k for k in record if k not in RECORD_ORDER)
        chunks.append("".join(f"{k}: {record[k]}\n" for k in keys))
    return "\n".join(chunks)


def tarball(record: dict[str, str]) -> bytes:
    """A minimal source tarball: <pkg>/DESCRIPTION (+ NAMESPACE), as R CMD build lays it out."""
    name = record["Package"]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.USTAR_FORMAT) as tar:
        for member, text in (
            (f"{name}/DESCRIPTION", dcf([{"Title": "Test", "Description": "Test package.", "License": "MIT", **record}])),
            (f"{name}/NAMESPACE", ""),
        ):
            data = text.encode()
            info = tarfile.TarInfo(member)
            info.size = len(data)
            info.mtime = 0
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


class RepoBuilder:
    """Writes src/contrib/{PACKAGES,PACKAGES.gz,*.tar.gz,Archive/<pkg>/*.tar.gz}."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.contrib = root / "src" / "contrib"
        self.contrib.mkdir(parents=True, exist_ok=True)
        self.current: list[dict[str, str]] = []

    def add(self, package: str, version: str, *, archived: bool = False, md5: bool = True, **fields: str) -> dict[str, str]:
        record = {"Package": package, "Version": version, **fields}
        data = tarball(record)
        if archived:
            folder = self.contrib / "Archive" / package
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{package}_{version}.tar.gz").write_bytes(data)
            return record
        (self.contrib / f"{package}_{version}.tar.gz").write_bytes(data)
        entry = dict(record)
        if md5:
            entry["MD5sum"] = hashlib.md5(data).hexdigest()
        self.current.append(entry)
        return entry

    def write(self, gz: bool = True, plain: bool = True) -> RepoBuilder:
        text = dcf(self.current)
        if plain:
            (self.contrib / "PACKAGES").write_text(text)
        if gz:
            (self.contrib / "PACKAGES.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
        return self

    @property
    def url(self) -> str:
        return self.root.as_uri()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


class Server:
    """http.server on 127.0.0.1 serving a folder; counts requests."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.requests: list[str] = []
        server = self

        class Handler(_QuietHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                super().do_GET()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=str(root)))
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()



def make_services(cache_dir: Path) -> Services:
    return Services(http=HttpClient(retries=0, backoff=0), cache=ArtifactCache(cache_dir))


def make_request(section, environments: dict[str, list[str]], **kwargs) -> ResolveRequest:
    return ResolveRequest(section=section, environments=environments, platforms=kwargs.pop("platforms", ["linux-64"]), **kwargs)
