"""Maven repositories (layout 2) over the shared HttpClient and ArtifactCache.

POMs are immutable once published: a cached POM is reused without asking the repository.
`maven-metadata.xml` (version lists for ranges) is fetched again on every online run.
Jars are downloaded once per URL, hashed, checked against the repository's `.sha256` or
`.sha1` when it publishes one, and stored content-addressed; the URL -> sha256 mapping is an
index document, so a warm lock needs no network at all.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from envman.ecosystems.jvm.coordinates import InvalidCoordinate, check_part, check_version
from envman.ecosystems.jvm.graph import Artifact
from envman.ecosystems.jvm.pom import PomError, RawPom, parse_metadata_versions, parse_pom, pom_from_json, pom_to_json
from envman.errors import ResolutionError, UnreachableError
from envman.http import HttpClient, NotFound
from envman.limits import LIMITS, LimitError, limit
from envman.redact import redact_url

if TYPE_CHECKING:
    from envman.cache import ArtifactCache

__all__ = ["DEFAULT_REPOSITORY", "MissingArtifact", "MavenRepositories", "artifact_path"]

DEFAULT_REPOSITORY = "https://repo.maven.apache.org/maven2"
NEGATIVE_TTL = 24 * 3600  # a POM missing from a repository is asked for again after a day
_HEX = re.compile(r"[0-9a-f]{32,128}")
MAX_CHECKSUM_BYTES = 4096  # a published `.sha1`/`.sha256` file: one digest and maybe a file name
MAX_METADATA_VERSIONS = 100_000  # versions listed by the maven-metadata.xml of one artifact


class MissingArtifact(ResolutionError, ValueError):  # envman's hierarchy (exit 3); ValueError for the catch sites
    """No repository has this file (404 everywhere)."""

    def __init__(self, message: str, gav: tuple[str, str, str] | None = None) -> None:
        super().__init__(message)
        self.gav = gav


def _fresh(marker: bytes) -> bool:
    try:
        return time.time() - float(marker.decode()) < NEGATIVE_TTL
    except (ValueError, UnicodeDecodeError):
        return False


def artifact_path(group: str, artifact: str, version: str, extension: str, classifier: str = "") -> str:
    """The repository path of one file; InvalidCoordinate (a ValueError, so errors name the
    artifact and its path) for a part outside the Maven grammar, before any URL is built."""
    check_part("groupId", group)
    check_part("artifactId", artifact)
    check_version(version)
    check_part("extension", extension)
    check_part("classifier", classifier, optional=True)
    suffix = f"-{classifier}" if classifier else ""
    return f"{group.replace('.', '/')}/{artifact}/{version}/{artifact}-{version}{suffix}.{extension}"


def _valid_gav(gav: tuple[str, str, str]) -> bool:
    try:
        check_part("groupId", gav[0])
        check_part("artifactId", gav[1])
        check_version(gav[2])
    except InvalidCoordinate:
        return False
    return True


def _valid_version(version: str) -> bool:
    try:
        check_version(version)
    except InvalidCoordinate:
        return False
    return True


def _bounded(data: bytes, what: str, url: str) -> None:
    maximum = limit("pom_bytes")
    if len(data) > maximum:
        raise PomError(
            f"{what} ({redact_url(url)}) is {len(data):,} bytes, over the limit of {maximum:,} bytes "
            f"(set {LIMITS['pom_bytes'][0]} to raise it)"
        )


class MavenRepositories:
    def __init__(self, urls: Iterable[str], http: HttpClient, cache: ArtifactCache | None, offline: bool = False,
                 progress: Callable[[str], None] | None = None) -> None:
        self.urls = [u.rstrip("/") for u in urls] or [DEFAULT_REPOSITORY]
        self.http = http
        self.cache = cache
        self.offline = offline
        self.progress = progress or (lambda message: None)
        self._poms: dict[tuple[str, str, str], RawPom] = {}
        self._versions: dict[tuple[str, str], list[str]] = {}
        self._lock = threading.Lock()
        self._futures: dict[tuple[str, str, str], Future[RawPom]] = {}
        self._executor: ThreadPoolExecutor | None = None if offline else ThreadPoolExecutor(max_workers=8)

    # -- documents ---------------------------------------------------------------------
    def _fetch_document(self, url: str, mutable: bool, what: str) -> bytes | None:
        """Bytes at url (from cache when allowed); None on 404. A document over the
        pom_bytes limit is a PomError naming it (it is never parsed or cached)."""
        if self.cache is not None and (self.offline or not mutable):
            cached = self.cache.get_index(url)
            if cached is not None:
                _bounded(cached, what, url)
                return cached
        if self.offline:
            raise UnreachableError(f"offline: {redact_url(url)} is not in the envman cache")
        try:
            data = self.http.get(url, limit_name="pom_bytes")
        except NotFound:
            return None
        except LimitError as exc:  # named as the document of this artifact, with its path (exit 3)
            raise PomError(f"{what}: {exc}") from None
        _bounded(data, what, url)
        if self.cache is not None:
            self.cache.put_index(url, data)
        return data

    def raw_pom(self, gav: tuple[str, str, str]) -> RawPom:
        """The parsed POM of gav (cache, then each repository in order)."""
        found = self._poms.get(gav)
        if found is not None:
            return found
        with self._lock:
            future = self._futures.pop(gav, None)
        pom = future.result() if future is not None else self._load_pom(gav)
        self._poms[gav] = pom
        return pom

    def prefetch(self, gavs: Iterable[tuple[str, str, str]]) -> None:
        """Start loading POMs that resolution will soon ask for (parents are followed too)."""
        if self._executor is None:
            return
        with self._lock:
            for gav in gavs:
                if gav in self._poms or gav in self._futures or not all(gav) or "${" in "".join(gav):
                    continue
                if gav[2][:1] in "[(" or not _valid_gav(gav) or self._parsed_in_cache(gav):
                    continue  # cached: loads faster here than through a thread; invalid: refused with its path later
                self._futures[gav] = self._executor.submit(self._load_pom, gav, True)

    def _parsed_in_cache(self, gav: tuple[str, str, str]) -> bool:
        if self.cache is None or gav[2].endswith("SNAPSHOT"):
            return False
        path = artifact_path(gav[0], gav[1], gav[2], "pom")  # (prefetch checked the grammar)
        return any(self.cache.index_path(f"envman-jvm-pom-v1:{base}/{path}").is_file() for base in self.urls)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None

    def _load_pom(self, gav: tuple[str, str, str], follow_parent: bool = False) -> RawPom:
        group, artifact, version = gav
        path = artifact_path(group, artifact, version, "pom")
        mutable = version.endswith("SNAPSHOT")
        for base in self.urls:
            url = f"{base}/{path}"
            parsed_key = f"envman-jvm-pom-v1:{url}"
            missing_key = f"envman-jvm-404:{url}"
            if self.cache is not None and not mutable:
                parsed = self.cache.get_index(parsed_key)
                if parsed is not None:
                    try:
                        pom = pom_from_json(parsed)
                    except (ValueError, KeyError, TypeError, AttributeError, RecursionError):
                        pom = None  # a stale or damaged entry: parse the POM again
                    if pom is not None:
                        return self._followed(pom, follow_parent)
                marker = self.cache.get_index(missing_key)
                if marker is not None and (self.offline or _fresh(marker)):
                    continue
            data = self._fetch_document(url, mutable, f"POM of {group}:{artifact}:{version}")
            if data is None:
                if self.cache is not None and not mutable:
                    self.cache.put_index(missing_key, str(time.time()).encode())
                continue
            pom = parse_pom(data, f"{group}:{artifact}:{version} ({redact_url(url)})")
            if self.cache is not None and not mutable:
                self.cache.put_index(parsed_key, pom_to_json(pom))
            return self._followed(pom, follow_parent)
        raise MissingArtifact(
            f"POM of {group}:{artifact}:{version} not found in {', '.join(redact_url(u) for u in self.urls)}", gav
        )

    def _followed(self, pom: RawPom, follow_parent: bool) -> RawPom:
        if follow_parent and pom.parent is not None:
            self.prefetch([pom.parent])
        return pom

    def versions(self, group: str, artifact: str) -> list[str]:
        key = (group, artifact)
        found = self._versions.get(key)
        if found is not None:
            return found
        listed: list[str] = []
        check_part("groupId", group)
        check_part("artifactId", artifact)
        for base in self.urls:
            url = f"{base}/{group.replace('.', '/')}/{artifact}/maven-metadata.xml"
            data = self._fetch_document(url, mutable=True, what=f"maven-metadata.xml of {group}:{artifact}")
            if data is None:
                continue
            where = f"{group}:{artifact} ({redact_url(url)})"
            # a listed version outside the grammar could never be fetched or locked: left out
            listed.extend(v for v in parse_metadata_versions(data, where) if _valid_version(v))
            if len(listed) > MAX_METADATA_VERSIONS:
                raise PomError(f"maven-metadata.xml of {where} lists more than {MAX_METADATA_VERSIONS:,} versions")
        result = list(dict.fromkeys(listed))
        self._versions[key] = result
        return result

    # -- artifacts ---------------------------------------------------------------------
    def cached_artifact(self, art: Artifact) -> tuple[str, str] | None:
        """(url, sha256 hex) when the file is already in the cache (no network)."""
        if self.cache is None:
            return None
        path = artifact_path(art.group, art.artifact, art.version, art.extension, art.classifier)
        for base in self.urls:
            url = f"{base}/{path}"
            known = self.cache.get_index(f"envman-jvm-sha256:{url}")
            if known is not None and self.cache.get_artifact(known.decode()) is not None:
                return redact_url(url), known.decode()
        return None

    def fetch_artifact(self, art: Artifact) -> tuple[str, str]:
        """(url, sha256 hex) of the artifact's file, downloading it once."""
        path = artifact_path(art.group, art.artifact, art.version, art.extension, art.classifier)
        cached = self.cached_artifact(art)
        if cached is not None:
            return cached
        for base in self.urls:
            url = f"{base}/{path}"
            key = f"envman-jvm-sha256:{url}"
            if self.offline:
                continue
            try:
                data = self.http.get(url)
            except NotFound:
                continue
            digest = hashlib.sha256(data).hexdigest()
            self._verify(url, data, digest, art)
            if self.cache is not None:
                self.cache.put_artifact(data, digest)
                self.cache.put_index(key, digest.encode())
            return redact_url(url), digest
        if self.offline:
            raise UnreachableError(f"offline: {art} ({path}) is not in the envman cache")
        raise MissingArtifact(f"{art} not found ({path} in {', '.join(redact_url(u) for u in self.urls)})")

    def _verify(self, url: str, data: bytes, sha256: str, art: Artifact) -> None:
        for suffix, algorithm in ((".sha256", "sha256"), (".sha1", "sha1")):
            try:
                published = self.http.get(url + suffix, max_bytes=MAX_CHECKSUM_BYTES)
            except (NotFound, UnreachableError):
                continue  # not published (some servers refuse checksum files they do not have)
            except LimitError:
                published = None
            if published is None or len(published) > MAX_CHECKSUM_BYTES:
                raise ResolutionError(
                    f"checksum file {redact_url(url + suffix)} for {art} is over {MAX_CHECKSUM_BYTES:,} bytes; not a checksum"
                )
            text = published.decode("ascii", "replace").strip().split()
            expected = text[0].lower() if text else ""
            if expected and not _HEX.fullmatch(expected):
                expected = repr(expected[:80])  # (shown, never printed raw)
            actual = sha256 if algorithm == "sha256" else hashlib.sha1(data).hexdigest()
            if expected != actual:
                raise ResolutionError(
                    f"checksum mismatch for {art}: {redact_url(url)} has {algorithm} {actual}, "
                    f"the repository publishes {expected or '(empty)'}"
                )
            return

