"""What a Python package index or find-links location offers: its files' names, URLs and sha256.

- Index pages (`INDEX/<name>/`): PEP 691 JSON when the server offers it (asked for with an
  `Accept` header when the HTTP client can send one), else PEP 503 HTML read with the
  standard library's html.parser; hashes from `#sha256=` fragments, relative hrefs resolved
  against the page (or its `<base href>`), `data-yanked` kept as information only.
- find-links: a local folder (file names parsed, the sha256 of the files that matter
  computed) or an HTML page of links (a local file or a URL).
- Cache (the ArtifactCache index cache, keyed by page URLs without credentials): each
  page's whole listing (file name, URL, sha256, yanked), and beside it the few files with
  the hashes a lock wants from that page. A cached listing that names every wanted hash is
  used without asking the network, so a rebuild whose artifacts are cached needs none and
  reads a few lines per package; a listing that lacks one is asked again (a new release).
  When the network fails, a cached listing naming some wanted hash stands in. Pages that
  publish no hash: the candidate files are downloaded once, stored by sha256, and their
  URL -> sha256 is kept.

What an index serves is untrusted: file names are checked (one path component, a wheel or
sdist suffix), a remote page may not point at file:// URLs, sha256 values must be 64 hex
digits, and URLs stored in the cache carry no credentials (they are added back for
downloads from the host of the configured URL that had them).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

from envman.errors import UnreachableError
from envman.redact import redact_url

if TYPE_CHECKING:
    from packaging.tags import Tag

__all__ = [
    "ACCEPT",
    "PYPI",
    "IndexFile",
    "Location",
    "Lister",
    "locations",
    "find_location",
    "parse_listing",
    "is_safe_filename",
    "filename_identity",
    "SDIST_SUFFIXES",
]

PYPI = "https://pypi.org/simple"
ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz")
_LISTING_KEY = "envman-python-listing-v1 "
_URL_SHA_KEY = "envman-python-url-sha256-v1 "
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FILENAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._+!~-]*")


@dataclass(frozen=True)
class IndexFile:
    filename: str
    url: str  # without credentials: safe to show and to store
    sha256: str | None  # hex; None when the page publishes none
    yanked: str | None = None  # the reason ("" when none given) when yanked; None otherwise


@dataclass(frozen=True)
class Location:
    """An index (`kind="index"`), a find-links page or a find-links folder, as configured."""

    url: str  # may carry credentials; a folder is a local path
    kind: Literal["index", "page", "folder"]

    @property
    def shown(self) -> str:
        return redact_url(self.url)

    def page_url(self, name: str) -> str:
        return self.url.rstrip("/") + f"/{name}/" if self.kind == "index" else self.url

    def download_url(self, url: str) -> str:
        """url with this location's credentials when it is on the same host (as pip does)."""
        mine, theirs = urlsplit(self.url), urlsplit(url)
        host = mine.netloc.rpartition("@")[2]
        if "@" in mine.netloc and "@" not in theirs.netloc and (mine.scheme, host) == (theirs.scheme, theirs.netloc):
            return urlunsplit(theirs._replace(netloc=mine.netloc))
        return url


def _link_location(link: str) -> Location:
    if "://" not in link:
        path = Path(link).expanduser().absolute()
        return Location(str(path), "folder") if path.is_dir() else Location(path.as_uri(), "page")
    parts = urlsplit(link)
    if parts.scheme == "file" and Path(unquote(parts.path)).is_dir():
        return Location(unquote(parts.path), "folder")
    return Location(link, "page")


def locations(index_urls: Iterable[str], find_links: Iterable[str]) -> list[Location]:
    """The configured indexes (PyPI when none), then the find-links locations."""
    indexes = [Location(url, "index") for url in index_urls] or [Location(PYPI, "index")]
    return indexes + [_link_location(link) for link in find_links]


def _same(a: str, b: str) -> bool:
    return redact_url(a).rstrip("/") == redact_url(b).rstrip("/")


def find_location(source: str | None, configured: list[Location]) -> Location | None:
    """The configured location a lock entry's `source` names (sources are stored without credentials)."""
    if not source:
        return None
    for location in configured:
        if _same(location.url, source) or (location.kind == "folder" and _same(Path(location.url).as_uri(), source)):
            return location
    return None


def is_safe_filename(filename: str) -> bool:
    """One plain path component naming a wheel or an sdist (it becomes a file in a build context)."""
    return bool(_FILENAME.fullmatch(filename)) and filename.endswith((".whl", *SDIST_SUFFIXES)) and ".." not in filename


def filename_identity(filename: str) -> tuple[str, str, frozenset[Tag] | None] | None:
    """(normalized name, normalized version, wheel tags or None for an sdist), or None when
    the name is neither a valid wheel nor sdist file name."""
    from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
    from packaging.version import InvalidVersion, Version

    try:
        if filename.endswith(".whl"):
            name, version, _build, tags = parse_wheel_filename(filename)
            return str(name), str(version), tags
        suffix = next((s for s in SDIST_SUFFIXES if filename.endswith(s)), None)
        if suffix is None:
            return None
        project, _, text = filename[: -len(suffix)].rpartition("-")
        return (str(canonicalize_name(project)), str(Version(text)), None) if project else None
    except (InvalidWheelFilename, InvalidVersion, ValueError):
        return None


# -- parsing ------------------------------------------------------------------------------
class _Anchors(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.base: str | None = None
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base" and self.base is None:
            self.base = dict(attrs).get("href")
        elif tag == "a":
            self.anchors.append(dict(attrs))


def _absolute(base: str, href: str) -> str:
    return href if href.startswith(("https://", "http://")) else urljoin(base, href)  # (urljoin is slow; PyPI's are absolute)


def _file(url: str, filename: str | None, sha256: Any, yanked: str | None, local_ok: bool) -> IndexFile | None:
    """A listed file from its absolute URL (fragment included); None for what cannot be used."""
    scheme = url.partition(":")[0].lower()
    if scheme not in ("http", "https") and not (local_ok and scheme == "file"):
        return None  # a remote page may not point into this machine
    url = url.partition("#")[0]
    name = filename if filename is not None else unquote(url.partition("?")[0].rpartition("/")[2])
    if not is_safe_filename(name):
        return None
    digest = sha256.lower() if isinstance(sha256, str) and _SHA256.fullmatch(sha256.lower()) else None
    return IndexFile(name, redact_url(url), digest, yanked)


def _parse_html(text: str, page_url: str, local_ok: bool) -> list[IndexFile]:
    parser = _Anchors()
    parser.feed(text)
    parser.close()
    base = urljoin(page_url, parser.base) if parser.base else page_url
    files = []
    for anchor in parser.anchors:
        href = (anchor.get("href") or "").strip()
        if not href:
            continue
        url = _absolute(base, href)
        fragment = url.partition("#")[2]
        sha = fragment[len("sha256="):] if fragment.startswith("sha256=") else None
        yanked = (anchor.get("data-yanked") or "") if "data-yanked" in anchor else None
        found = _file(url, None, sha, yanked, local_ok)
        if found is not None:
            files.append(found)
    return files


def _parse_json(data: Any, page_url: str, local_ok: bool) -> list[IndexFile]:
    meta = data.get("meta") if isinstance(data.get("meta"), dict) else {}
    version = str(meta.get("api-version", "1.0"))
    if version.split(".")[0] != "1":
        raise UnreachableError(f"{redact_url(page_url)}: Simple API version {version} is not supported (envman reads 1.x)")
    files = []
    listed = data.get("files")
    for item in listed if isinstance(listed, list) else []:
        if not isinstance(item, dict) or not isinstance(item.get("url"), str) or not isinstance(item.get("filename"), str):
            continue
        raw = item.get("hashes")
        hashes: dict[str, Any] = raw if isinstance(raw, dict) else {}
        yanked_value = item.get("yanked", False)
        yanked = yanked_value if isinstance(yanked_value, str) and yanked_value else ("" if yanked_value else None)
        url = _absolute(page_url, item["url"])
        found = _file(url, item["filename"], hashes.get("sha256"), yanked, local_ok)
        if found is not None:
            files.append(found)
    return files


def parse_listing(data: bytes, page_url: str) -> list[IndexFile]:
    """The files a project page lists: PEP 691 JSON (recognized by its content) or PEP 503 HTML."""
    page_url = redact_url(page_url)
    local_ok = urlsplit(page_url).scheme == "file"
    if data.lstrip()[:1] == b"{":
        try:
            document = json.loads(data)
        except ValueError:
            document = None
        if isinstance(document, dict):
            return _parse_json(document, page_url, local_ok)
    return _parse_html(data.decode("utf-8", "replace"), page_url, local_ok)


# -- the listing cache -----------------------------------------------------------------------
def _encode(files: list[IndexFile]) -> bytes:
    rows = [[f.filename, f.url, f.sha256, f.yanked] for f in files]
    return json.dumps({"files": rows}, separators=(",", ":")).encode()


def _decode(data: bytes | None) -> list[IndexFile] | None:
    if data is None:
        return None
    try:
        rows = json.loads(data)["files"]
        return [IndexFile(str(r[0]), str(r[1]), r[2], r[3]) for r in rows if is_safe_filename(str(r[0]))]
    except (ValueError, KeyError, TypeError, IndexError):
        return None  # damaged: as if absent


def _takes_headers(http: Any) -> bool:
    try:
        parameters = inspect.signature(http.get).parameters
    except (TypeError, ValueError):
        return False
    return "headers" in parameters or any(p.kind is p.VAR_KEYWORD for p in parameters.values())


class Lister:
    """Listings of index pages, find-links pages and folders through one HTTP client and cache."""

    def __init__(self, http: Any, cache: Any | None, offline: bool = False) -> None:
        self.http, self.cache, self.offline = http, cache, offline
        self._headers = _takes_headers(http)
        self.from_cache: set[tuple[Location, str]] = set()

    def listing(self, location: Location, name: str, wanted: set[str], fresh: bool = False) -> list[IndexFile]:
        """A page's files (at least those with a wanted hash).

        From the cache when it names every wanted hash (on a page without hashes: some wanted
        hash) or when offline, else (and when fresh) from the network; a cached listing stands
        in when the network fails. Besides each page's whole listing, the files with the
        wanted hashes are kept on their own, so a rebuild reads a few lines per package, not
        the thousands of files of a big project. Pages read from the cache are noted in
        `self.from_cache`, so a caller that finds no locked hash there can ask afresh."""
        page = location.page_url(name)
        key = _LISTING_KEY + redact_url(page)
        subset_key = f"{key} {hashlib.sha256(' '.join(sorted(wanted)).encode()).hexdigest()}"
        if not fresh and wanted:
            subset = _decode(self._cached(subset_key))
            if subset is not None and wanted <= {f.sha256 for f in subset}:
                self.from_cache.add((location, name))
                return subset
        cached = _decode(self._cached(key))
        if cached is not None and (self.offline or not fresh):
            known = {f.sha256 for f in cached if f.sha256}
            hashless = any(f.sha256 is None for f in cached)
            if self.offline or wanted <= known or (hashless and wanted & known):
                self.from_cache.add((location, name))
                self._keep_subset(subset_key, cached, wanted)
                return cached
        if self.offline:
            raise UnreachableError(f"{redact_url(page)}: not in the cache, and envman is offline")
        from envman.http import NotFound

        try:
            data = self._get(page)
        except NotFound:
            return []
        except UnreachableError:
            if cached is not None and wanted & {f.sha256 for f in cached}:
                return cached
            raise
        files = parse_listing(data, page)
        self._store(key, _encode(files))
        self._keep_subset(subset_key, files, wanted)
        return files

    def _keep_subset(self, key: str, files: list[IndexFile], wanted: set[str]) -> None:
        subset = [f for f in files if f.sha256 in wanted]
        if wanted and wanted <= {f.sha256 for f in subset}:
            self._store(key, _encode(subset))

    def _cached(self, key: str) -> bytes | None:
        return self.cache.get_index(key) if self.cache is not None else None

    def _get(self, url: str) -> bytes:
        parts = urlsplit(url)
        if parts.scheme == "file" and Path(unquote(parts.path)).is_dir():
            url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/index.html"))
        if self._headers:
            data: bytes = self.http.get(url, headers={"Accept": ACCEPT})
            return data
        return bytes(self.http.get(url))

    def folder(self, location: Location, wanted: set[tuple[str, str]]) -> list[IndexFile]:
        """Files in a find-links folder; the sha256 of those whose (name, version) is wanted."""
        from envman.limits import is_regular_file

        try:
            names = sorted(os.listdir(location.url))
        except OSError as exc:
            raise UnreachableError(f"find-links folder {location.url}: {exc.strerror}") from None
        files = []
        for filename in names:
            path = os.path.join(location.url, filename)
            identity = filename_identity(filename) if is_safe_filename(filename) else None
            if identity is None or (identity[0], identity[1]) not in wanted or not is_regular_file(path):
                continue
            files.append(IndexFile(filename, Path(path).as_uri(), _file_sha256(path)))
        return files

    def hash_of(self, location: Location, file: IndexFile) -> IndexFile:
        """file with its sha256, downloading it once (into the artifact cache) when its page gives none."""
        if file.sha256 is not None:
            return file
        key = _URL_SHA_KEY + file.url
        known = self._cached(key)
        digest = known.decode("ascii", "replace").strip() if known else ""
        if not _SHA256.fullmatch(digest):
            if self.offline:
                raise UnreachableError(f"{file.url}: its sha256 is not known without downloading it, and envman is offline")
            data = self.http.get(location.download_url(file.url))
            if self.cache is not None:
                digest, _ = self.cache.put_artifact(data)
                self._store(key, digest.encode())
            else:
                digest = hashlib.sha256(data).hexdigest()
        return IndexFile(file.filename, file.url, digest, file.yanked)

    def learned(self, location: Location, name: str, hashes: dict[str, str]) -> None:
        """Write hashes learned by downloading (url -> sha256) into the page's cached listing."""
        key = _LISTING_KEY + redact_url(location.page_url(name))
        cached = _decode(self._cached(key))
        if cached is not None:
            self._store(key, _encode([IndexFile(f.filename, f.url, f.sha256 or hashes.get(f.url), f.yanked) for f in cached]))

    def _store(self, key: str, data: bytes) -> None:
        if self.cache is None:
            return
        try:
            self.cache.put_index(key, data)
        except OSError:
            pass  # the cache is an optimisation: a read-only or full disk does not stop the work


def _file_sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()
