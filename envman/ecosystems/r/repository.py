"""Thin I/O layer over CRAN-like repositories: PACKAGES indexes, Archive/ listings and
source tarballs, through envman's HTTP client and cache.

- Indexes: `src/contrib/PACKAGES.gz`, else `src/contrib/PACKAGES`, cached by URL and
  reused for `ENVMAN_R_INDEX_TTL` seconds (default 600); always reused when offline.
- Archive listings: `src/contrib/Archive/<pkg>/` (an HTML directory index, or a folder
  for file:// repositories); versions asked for explicitly are tried even when the server
  gives no listing.
- Tarballs: downloaded once, checked against PACKAGES' MD5sum, stored by sha256 in the
  artifact cache; the url+md5 -> sha256 mapping is kept so a warm lock reads nothing big.

What a repository serves is untrusted: PACKAGES.gz is decompressed within the index_bytes
and decompress_ratio limits (envman.limits), an archived tarball is read as a bounded
stream and its DESCRIPTION within member_bytes; over a limit is RepositoryLimitError
(exit 3, like a checksum mismatch: nothing acceptable can be resolved from what the
repository serves). The cache is an optimisation: when it cannot be written (read-only,
full), a lock goes on without it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import tarfile
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from envman.ecosystems.r.dcf import decode_dcf_bytes
from envman.ecosystems.r.grammar import is_md5, is_sha256, name_problem, version_problem
from envman.ecosystems.r.index import Candidate, IndexReadError, RepoIndex, candidate_from_description, parse_packages
from envman.ecosystems.r.versions import VersionError, version_key
from envman.errors import BadInputError, EnvmanError, ResolutionError, UnreachableError
from envman.limits import LIMITS, LimitError, gunzip_bounded, is_regular_file, limit, read_regular_file
from envman.redact import redact_url

__all__ = ["ChecksumMismatchError", "RepositoryLimitError", "Repository", "RepositorySet", "Artifact", "contrib_url"]


class ChecksumMismatchError(ResolutionError):
    """A downloaded tarball does not match the checksum its repository published.

    Exit 3, as the JVM ecosystem reports checksum mismatches: no verified artifact, no lock."""


class RepositoryLimitError(ResolutionError):
    """Something a repository serves is over a documented limit (a decompression bomb, a
    huge DESCRIPTION). Exit 3, as for a checksum mismatch: nothing acceptable can be resolved
    from what the repository serves; the message names the repository, the URL and the
    limit's environment variable."""


@dataclass(frozen=True)
class Artifact:
    sha256: str
    md5: str
    path: Path | None
    data: bytes | None = field(default=None, repr=False, compare=False)  # when the cache could not keep it


def contrib_url(url: str) -> str:
    return url.rstrip("/") + "/src/contrib"


def _index_ttl() -> float:
    try:
        return float(os.environ.get("ENVMAN_R_INDEX_TTL", "600"))
    except ValueError:
        return 600.0


_HREF = re.compile(r"""href\s*=\s*["']?([^"' >]+)""", re.I)


@dataclass
class Repository:
    name: str
    url: str

    @property
    def contrib(self) -> str:
        return contrib_url(self.url)

    def tarball_url(self, path: str) -> str:
        return f"{self.contrib}/{path}"


class RepositorySet:
    """Repositories in priority order, with the services needed to read them."""

    def __init__(self, repositories: dict[str, str], services: Any, *, offline: bool = False, refresh: bool = False) -> None:
        self.repositories = [Repository(name, url) for name, url in repositories.items()]
        self.http = services.http
        self.cache = services.cache
        self.progress = getattr(services, "progress", lambda message: None)
        self.offline = offline
        self.refresh = refresh
        self.used_cached_index = False  # some index came from the cache rather than the network
        self._archive_lists: dict[tuple[str, str], list[str]] = {}
        self._archived: dict[tuple[str, str, str], Candidate | None] = {}
        self._lock = threading.Lock()
        self.cache_unwritable = False

    # -- the cache: an optimisation, never a reason to fail -----------------------------
    def _cache_failed(self, exc: OSError) -> None:
        with self._lock:
            if self.cache_unwritable:
                return
            self.cache_unwritable = True
        self.progress(f"r: cannot write envman's cache ({exc.strerror or exc}); going on without it")

    def _get_index(self, key: str) -> bytes | None:
        """A cached document; None when absent or unreadable. The cache is untrusted too: a
        FIFO or a device in its place is never opened."""
        try:
            path = self.cache.index_path(key)
            if os.path.lexists(path) and not is_regular_file(path):
                return None
            data: bytes | None = self.cache.get_index(key)
            return data
        except OSError:
            return None

    def _put_index(self, key: str, data: bytes) -> None:
        try:
            self.cache.put_index(key, data)
        except OSError as exc:
            self._cache_failed(exc)

    def by_name(self, name: str) -> Repository:
        for repo in self.repositories:
            if repo.name == name:
                return repo
        raise KeyError(name)

    # -- indexes ------------------------------------------------------------------------
    def load_indexes(self) -> list[RepoIndex]:
        return [self._load_index(repo) for repo in self.repositories]

    def _cached(self, url: str) -> tuple[bytes | None, float | None]:
        data = self._get_index(url)
        if data is None:
            return None, None
        try:
            age = time.time() - self.cache.index_path(url).stat().st_mtime
        except OSError:
            age = None
        return data, age

    def _load_index(self, repo: Repository) -> RepoIndex:
        candidates = [(repo.contrib + "/PACKAGES.gz", True), (repo.contrib + "/PACKAGES", False)]
        # a fresh enough cached copy, or any cached copy when offline
        for url, compressed in candidates:
            data, age = self._cached(url)
            if data is None:
                continue
            if self.offline or (not self.refresh and age is not None and age < _index_ttl()):
                self.used_cached_index = True
                return self._parse_index(repo, url, data, compressed)
        if self.offline:
            raise UnreachableError(
                f"repository {repo.name} ({redact_url(repo.contrib)}): no cached PACKAGES index and --offline was given"
            )
        from envman.http import NotFound

        for url, compressed in candidates:
            self.progress(f"r: fetching {redact_url(url)}")
            try:
                data = self.http.get(url)
            except NotFound:
                continue
            index = self._parse_index(repo, url, data, compressed)
            self._put_index(url, data)
            return index
        hint = (
            "; give the repository's root URL, without /src/contrib"
            if repo.url.rstrip("/").endswith("/src/contrib")
            else ": is it a CRAN-like repository?"
        )
        raise UnreachableError(
            f"repository {repo.name} ({redact_url(repo.url)}) has no src/contrib/PACKAGES.gz or src/contrib/PACKAGES{hint}"
        )

    def _parse_index(self, repo: Repository, url: str, data: bytes, compressed: bool) -> RepoIndex:
        if compressed:
            try:
                data = gunzip_bounded(data, redact_url(url))
            except LimitError as exc:
                raise RepositoryLimitError(f"repository {repo.name}: {exc}") from None
            except EnvmanError as exc:
                raise BadInputError(str(exc)) from None
        elif len(data) > limit("index_bytes"):
            raise RepositoryLimitError(
                f"repository {repo.name}: {redact_url(url)}: {len(data):,} bytes is over the limit of {limit('index_bytes'):,} bytes "
                f"(set {LIMITS['index_bytes'][0]} to raise it)"
            )
        try:
            return parse_packages(decode_dcf_bytes(data), repo.name, repo.url)
        except IndexReadError as exc:
            raise BadInputError(f"{redact_url(url)}: {exc}") from None

    # -- archive ------------------------------------------------------------------------
    def archived_versions(self, name: str, wanted: Sequence[str] = ()) -> list[tuple[str, str]]:
        found: list[tuple[str, str]] = []
        for repo in self.repositories:
            versions = set(self._archive_listing(repo, name)) | {v for v in wanted if v}
            keyed = []
            for v in versions:
                try:
                    keyed.append((version_key(v), v))
                except VersionError:
                    continue
            found.extend((repo.name, v) for _, v in sorted(keyed, reverse=True))
        return found

    def _archive_listing(self, repo: Repository, name: str) -> list[str]:
        key = (repo.name, name)
        if key in self._archive_lists:
            return self._archive_lists[key]
        url = f"{repo.contrib}/Archive/{name}/"
        versions: list[str] = []
        pattern = re.compile(rf"(?:^|/){re.escape(name)}_([0-9][0-9.\-]*)\.tar\.gz$")
        parsed = urlparse(url)
        if parsed.scheme == "file":
            folder = Path(unquote(parsed.path))
            if folder.is_dir():
                versions = [m.group(1) for p in folder.iterdir() if (m := pattern.search(p.name))]
        else:
            text = None
            cached, age = self._cached(url)
            if cached is not None and (self.offline or (not self.refresh and age is not None and age < _index_ttl())):
                text = cached
            elif not self.offline:
                from envman.http import NotFound

                try:
                    text = self.http.get(url)
                    self._put_index(url, text)
                except (NotFound, UnreachableError):
                    # no listing (404, or a server that forbids listings): versions asked
                    # for explicitly are still tried by their tarball URL
                    text = b""
            if text:
                for href in _HREF.findall(text.decode("utf-8", "replace")):
                    match = pattern.search(unquote(href))
                    if match:
                        versions.append(match.group(1))
        self._archive_lists[key] = sorted(set(versions))
        return self._archive_lists[key]

    def load_archived(self, name: str, repository: str, version: str) -> Candidate | None:
        key = (repository, name, version)
        if key in self._archived:
            return self._archived[key]
        repo = self.by_name(repository)
        problem = name_problem(name) or version_problem(version)
        if problem:  # callers pass validated parts; a URL is never built from others
            raise ResolutionError(f"repository {repository}: archived package {problem}")
        path = f"Archive/{name}/{name}_{version}.tar.gz"
        url = repo.tarball_url(path)
        from envman.http import NotFound

        try:
            artifact = self.fetch_tarball(url, None)
        except NotFound:
            self._archived[key] = None
            return None
        text = read_description_from_tarball(self._tarball_bytes(artifact, url), name, url)
        try:
            cand = candidate_from_description(text, repository, path, md5=artifact.md5)
        except IndexReadError as exc:
            raise BadInputError(f"{redact_url(url)}: {exc}") from None
        if cand.name != name or cand.version != version:
            raise BadInputError(f"{redact_url(url)}: its DESCRIPTION says {cand.name} {cand.version}, not {name} {version}")
        self._archived[key] = cand
        return cand

    @staticmethod
    def _tarball_bytes(artifact: Artifact, url: str) -> bytes:
        if artifact.data is not None:
            return artifact.data
        if artifact.path is None:
            return b""
        try:
            return read_regular_file(artifact.path, "index_bytes", f"{redact_url(url)} (cached at {artifact.path})")
        except LimitError as exc:
            raise RepositoryLimitError(str(exc)) from None
        except OSError as exc:
            raise UnreachableError(f"{redact_url(url)}: cannot read its cached copy {artifact.path}: {exc.strerror or exc}") from None

    # -- tarballs -----------------------------------------------------------------------
    @staticmethod
    def _hash_key(url: str, md5: str | None) -> str:
        return f"envman-r-tarball:{url}#md5={md5 or ''}"

    def known_artifact(self, url: str, md5: str | None) -> Artifact | None:
        """The sha256 recorded for url (+md5) when its bytes are still in the cache."""
        raw = self._get_index(self._hash_key(url, md5))
        if raw is None:
            return None
        try:
            info = json.loads(raw)
            sha256, got_md5 = info["sha256"], info["md5"]
        except (ValueError, KeyError, TypeError, RecursionError):
            return None
        if not isinstance(sha256, str) or not isinstance(got_md5, str) or not is_sha256(sha256) or not is_md5(got_md5):
            return None  # an edited cache entry: never a path or a hash taken from it
        path = self.cache.get_artifact(sha256)
        if path is None:
            return None
        return Artifact(sha256=sha256, md5=got_md5, path=path)

    def fetch_tarball(self, url: str, md5: str | None) -> Artifact:
        """Download (once), verify md5 when published, store by sha256. NotFound passes through."""
        known = self.known_artifact(url, md5)
        if known is not None:
            return known
        if self.offline:
            raise UnreachableError(f"{redact_url(url)} is not in envman's cache and --offline was given")
        self.progress(f"r: downloading {redact_url(url)}")
        data = self.http.get(url)
        got_md5 = hashlib.md5(data).hexdigest()
        if md5 and got_md5 != md5.lower():
            raise ChecksumMismatchError(
                f"{redact_url(url)}: MD5 {got_md5} does not match the repository's MD5sum {md5}; "
                "refusing this tarball (nothing was written)"
            )
        try:
            sha256, path = self.cache.put_artifact(data)
        except OSError as exc:  # a read-only or full cache: keep the bytes for this run
            self._cache_failed(exc)
            return Artifact(sha256=hashlib.sha256(data).hexdigest(), md5=got_md5, path=None, data=data)
        self._put_index(self._hash_key(url, md5), json.dumps({"sha256": sha256, "md5": got_md5}).encode())
        if md5 is None:
            # also remember it under its now-known md5, for lookups that have one
            self._put_index(self._hash_key(url, got_md5), json.dumps({"sha256": sha256, "md5": got_md5}).encode())
        return Artifact(sha256=sha256, md5=got_md5, path=path)


class _Bounded(io.RawIOBase):
    """A decompressing stream that refuses to give more than `maximum` bytes."""

    def __init__(self, raw: Any, maximum: int, what: str) -> None:
        super().__init__()
        self.raw, self.maximum, self.what, self.total = raw, maximum, what, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        count = int(self.raw.readinto(buffer) or 0)
        self.total += count
        if self.total > self.maximum:
            raise RepositoryLimitError(
                f"{self.what}: expands to more than {self.maximum:,} bytes (a decompression bomb?); set "
                f"{LIMITS['index_bytes'][0]} or {LIMITS['decompress_ratio'][0]} to raise the limit"
            )
        return count


def _decompressing(data: bytes) -> Any:
    """A stream of data decompressed by its magic number (gzip, bzip2, xz), else as is."""
    raw = io.BytesIO(data)
    if data[:2] == b"\x1f\x8b":
        import gzip

        return gzip.GzipFile(fileobj=raw)
    if data[:3] == b"BZh":
        import bz2

        return bz2.BZ2File(raw)
    if data[:6] == b"\xfd7zXZ\x00":
        import lzma

        return lzma.LZMAFile(raw)
    return raw


def read_description_from_tarball(data: bytes, name: str, url: str) -> str:
    """`<name>/DESCRIPTION` of a source tarball (its last copy, as tar extracts it); errors
    name the tarball. Read as a stream, within the decompression limits; the DESCRIPTION
    within member_bytes."""
    import lzma

    where = redact_url(url)
    maximum = min(limit("index_bytes"), max(len(data), 1 << 16) * limit("decompress_ratio"))
    wanted = f"{name}/DESCRIPTION"
    found: bytes | None = None
    try:
        stream = io.BufferedReader(_Bounded(_decompressing(data), maximum, where), 1 << 16)
        with tarfile.open(fileobj=stream, mode="r|") as tar:
            for member in tar:
                if member.name.removeprefix("./") != wanted:
                    continue
                if not member.isfile():
                    raise BadInputError(f"{where}: {wanted} in the tarball is not a regular file")
                if member.size > limit("member_bytes"):
                    raise RepositoryLimitError(
                        f"{where}: {wanted} is {member.size:,} bytes, over the limit of {limit('member_bytes'):,} "
                        f"(set {LIMITS['member_bytes'][0]} to raise it)"
                    )
                handle = tar.extractfile(member)
                found = handle.read() if handle is not None else None
    except (tarfile.TarError, OSError, EOFError, zlib.error, lzma.LZMAError) as exc:
        raise BadInputError(f"{where}: not a readable source tarball ({exc})") from None
    if found is None:
        raise BadInputError(f"{where}: no {name}/DESCRIPTION in the tarball")
    return decode_dcf_bytes(found)
