"""Python files behind lock entries: listing (PEP 503 HTML, PEP 691 JSON, find-links), selection
for a platform and interpreter, verified fetching, the listing cache, build requirements of
sdists. Real HTTP servers on 127.0.0.1, real wheels and sdists, a real offline uv install;
one differential test against pip on the real PyPI."""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import http.server
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import time
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from envman.cache import ArtifactCache
from envman.ecosystems.python.artifacts import (
    DEFAULT_BUILD_REQUIRES,
    PythonFile,
    build_requirements,
    fetch_files,
    select_files,
)
from envman.ecosystems.python.entry import PythonEntry
from envman.errors import BadInputError, ResolutionError, UnreachableError
from envman.http import HttpClient

EPOCH = (2020, 1, 1, 0, 0, 0)


# -- building artifacts ---------------------------------------------------------------------
def make_tagged_wheel(folder: Path, name: str, version: str, tag: str) -> Path:
    """A real (installable) pure-Python wheel whose file name carries `tag` (e.g. cp311-cp311-win_amd64)."""
    dist = name.replace("-", "_")
    info = f"{dist}-{version}.dist-info"
    wheel_tags = "".join(
        f"Tag: {py}-{abi}-{plat}\n"
        for py in tag.split("-")[0].split(".")
        for abi in tag.split("-")[1].split(".")
        for plat in tag.split("-")[2].split(".")
    )
    files = {
        f"{dist}/__init__.py": f"TAG = {tag!r}\n".encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
        f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: envman-tests\nRoot-Is-Purelib: true\n{wheel_tags}".encode(),
    }
    record = []
    for path, data in sorted(files.items()):
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(data)}")
    files[f"{info}/RECORD"] = ("\n".join(record) + f"\n{info}/RECORD,,\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{dist}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in sorted(files):
            archive.writestr(zipfile.ZipInfo(member, date_time=EPOCH), files[member])
    return path


def make_sdist(folder: Path, name: str, version: str, pyproject: str | None, fmt: str = "tar.gz",
               extra: dict[str, bytes] | None = None) -> Path:
    top = f"{name.replace('-', '_')}-{version}"
    members = {f"{top}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode(),
               f"{top}/setup.py": b"from setuptools import setup\nsetup()\n", **(extra or {})}
    if pyproject is not None:
        members[f"{top}/pyproject.toml"] = pyproject.encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{top}.{fmt}"
    if fmt == "zip":
        with zipfile.ZipFile(path, "w") as archive:
            for member, data in members.items():
                archive.writestr(zipfile.ZipInfo(member, date_time=EPOCH), data)
    else:
        with tarfile.open(path, "w:gz") as archive:
            for member, data in members.items():
                item = tarfile.TarInfo(member)
                item.size, item.mtime = len(data), 1577836800
                archive.addfile(item, io.BytesIO(data))
    return path


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


LINUX_WHEEL = "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64"
# project -> (version, [wheel tags], sdist pyproject text or None for no sdist)
PROJECTS: dict[str, tuple[str, list[str], str | None]] = {
    "plat": ("1.0", [LINUX_WHEEL, "cp311-cp311-linux_x86_64", "cp311-cp311-musllinux_1_2_x86_64", "cp311-cp311-macosx_11_0_arm64",
                     "cp311-cp311-macosx_10_9_universal2", "cp311-cp311-win_amd64", "cp312-cp312-manylinux_2_28_x86_64",
                     "cp311-cp311-manylinux_2_28_aarch64"], '[build-system]\nrequires = ["setuptools>=61"]\n'),
    "abi": ("2.0", ["cp39-abi3-manylinux_2_28_x86_64", "cp312-abi3-manylinux_2_28_x86_64"], None),
    "pure": ("3.0", ["py3-none-any"], None),
    "src": ("1.5", [], '[build-system]\nrequires = ["hatchling>=1.20", "hatch-vcs"]\nbuild-backend = "hatchling.build"\n'),
    "winonly": ("1.0", ["cp311-cp311-win_amd64"], None),
    "old": ("0.9", ["py2.py3-none-any"], None),
}


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory) -> dict[str, dict[str, Path]]:
    """project -> {file name: path} of real wheels and sdists."""
    folder = tmp_path_factory.mktemp("artifacts")
    built: dict[str, dict[str, Path]] = {}
    for name, (version, tags, pyproject) in PROJECTS.items():
        paths = [make_tagged_wheel(folder, name, version, tag) for tag in tags]
        if pyproject is not None:
            paths.append(make_sdist(folder, name, version, pyproject))
        built[name] = {p.name: p for p in paths}
    return built


def entry(artifacts, name: str, **changes) -> PythonEntry:
    version = PROJECTS[name][0]
    hashes = sorted(f"sha256:{sha(p)}" for p in artifacts[name].values())
    return PythonEntry(name=name, version=version, hashes=hashes, **changes)


def write_index(root: Path, projects: dict[str, dict[str, Path]], *, html_pages: bool = True, json_pages: bool = True,
                yanked: tuple[str, ...] = ()) -> Path:
    """root/files/* and root/simple/<name>/index.html (PEP 503) and/or index.json (PEP 691)."""
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    for name, paths in projects.items():
        page = root / "simple" / name
        page.mkdir(parents=True, exist_ok=True)
        anchors, items = [], []
        for filename, path in sorted(paths.items()):
            (files / filename).write_bytes(path.read_bytes())
            digest = sha(path)
            mark = ' data-yanked="broken build"' if filename in yanked else ""
            anchors.append(f'<a href="../../files/{html.escape(filename)}#sha256={digest}"{mark}>{html.escape(filename)}</a><br/>')
            items.append({"filename": filename, "url": f"../../files/{filename}", "hashes": {"sha256": digest},
                          **({"yanked": "broken build"} if filename in yanked else {})})
        if html_pages:
            (page / "index.html").write_text("<!DOCTYPE html><html><body>\n" + "\n".join(anchors) + "\n</body></html>\n")
        if json_pages:
            (page / "index.json").write_text(json.dumps({"meta": {"api-version": "1.1"}, "name": name, "files": items}))
    return root


# -- a PEP 503 / PEP 691 server ----------------------------------------------------------------
class IndexHandler(http.server.SimpleHTTPRequestHandler):
    """Static files; a folder answers with index.json when the client asks for PEP 691 JSON
    (or when it has no index.html), else index.html. Records what it was asked; can delay
    each answer and ask for basic auth."""

    seen: list[tuple[str, str]]
    delay = 0.0
    password: str | None = None

    def do_GET(self) -> None:
        self.seen.append((self.path, self.headers.get("Accept", "")))
        if self.delay:
            time.sleep(self.delay)
        if self.password is not None:
            expected = "Basic " + base64.b64encode(f"user:{self.password}".encode()).decode()
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        folder = Path(self.translate_path(self.path))
        if folder.is_dir():
            wants_json = "application/vnd.pypi.simple.v1+json" in self.headers.get("Accept", "")
            page = folder / ("index.json" if wants_json or not (folder / "index.html").exists() else "index.html")
            if page.is_file():
                body = page.read_bytes()
                self.send_response(200)
                kind = "application/vnd.pypi.simple.v1+json" if page.suffix == ".json" else "text/html"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
                return
        super().do_GET()

    def log_message(self, *args) -> None:
        pass


@contextmanager
def serve(root: Path, **settings) -> Iterator[tuple[str, list[tuple[str, str]]]]:
    seen: list[tuple[str, str]] = []
    handler = type("Handler", (IndexHandler,), {"seen": seen, **settings})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def index(artifacts, tmp_path_factory) -> Iterator[str]:
    """URL of a PEP 503 index (HTML, with a PEP 691 JSON twin) of every project."""
    root = write_index(tmp_path_factory.mktemp("index"), artifacts, yanked=("pure-3.0-py3-none-any.whl",))
    with serve(root) as (url, _seen):
        yield f"{url}/simple"


def select(entries, index_url, cache_dir: Path, platform="linux-64", python="3.11.9", find_links=(), http=None, **kw) -> list[PythonFile]:
    return select_files(entries, python_version=python, platform=platform, index_urls=[index_url] if index_url else [],
                        find_links=list(find_links), http=http or HttpClient(retries=0), cache=ArtifactCache(cache_dir), **kw)


def names(files: list[PythonFile]) -> list[str]:
    return [f.filename for f in files]


# -- selection ------------------------------------------------------------------------------
def test_linux_cp311_keeps_portable_compatible_wheels_only(artifacts, index, tmp_path):
    entries = [entry(artifacts, n, source=index) for n in ("plat", "abi", "pure", "src", "old")]
    files = select(entries, index, tmp_path)
    assert names(files) == [
        f"plat-1.0-{LINUX_WHEEL}.whl",  # not linux_x86_64 (not portable), musllinux, cp312 or aarch64
        "abi-2.0-cp39-abi3-manylinux_2_28_x86_64.whl",  # abi3 from 3.9 up; not the cp312-abi3 one
        "pure-3.0-py3-none-any.whl",
        "src-1.5.tar.gz",  # no wheel at all: the sdist
        "old-0.9-py2.py3-none-any.whl",
    ]
    by_name = {f.name: f for f in files}
    assert [f.sdist for f in files] == [False, False, False, True, False]
    assert by_name["plat"].sha256 == sha(artifacts["plat"][f"plat-1.0-{LINUX_WHEEL}.whl"])
    assert by_name["plat"].url == f"{index.removesuffix('/simple')}/files/plat-1.0-{LINUX_WHEEL}.whl"
    assert by_name["pure"].yanked == "broken build"  # information only: still selected
    assert by_name["abi"].yanked is None


@pytest.mark.parametrize(("platform", "python", "expected"), [
    ("osx-arm64", "3.11", ["plat-1.0-cp311-cp311-macosx_10_9_universal2.whl", "plat-1.0-cp311-cp311-macosx_11_0_arm64.whl"]),
    ("osx-64", "3.11", ["plat-1.0-cp311-cp311-macosx_10_9_universal2.whl"]),
    ("win-64", "3.11.2", ["plat-1.0-cp311-cp311-win_amd64.whl"]),
    ("linux-aarch64", "3.11", ["plat-1.0-cp311-cp311-manylinux_2_28_aarch64.whl"]),
    ("linux-64", "3.12", ["plat-1.0-cp312-cp312-manylinux_2_28_x86_64.whl"]),
    ("linux-64", "3.10", ["plat-1.0.tar.gz"]),  # no cp310 wheel: the sdist
])
def test_each_platform_and_interpreter(artifacts, index, tmp_path, platform, python, expected):
    files = select([entry(artifacts, "plat", source=index)], index, tmp_path, platform=platform, python=python)
    assert names(files) == expected
    assert all(f.sdist == f.filename.endswith(".tar.gz") for f in files)


def test_abi3_wheels_for_a_newer_interpreter(artifacts, index, tmp_path):
    files = select([entry(artifacts, "abi", source=index)], index, tmp_path, python="3.12")
    assert names(files) == ["abi-2.0-cp312-abi3-manylinux_2_28_x86_64.whl", "abi-2.0-cp39-abi3-manylinux_2_28_x86_64.whl"]


def test_only_locked_hashes_are_kept(artifacts, index, tmp_path):
    """The lock narrowed plat to its manylinux wheel and sdist: the other files are never chosen."""
    wheel = artifacts["plat"][f"plat-1.0-{LINUX_WHEEL}.whl"]
    sdist = artifacts["plat"]["plat-1.0.tar.gz"]
    narrowed = PythonEntry(name="plat", version="1.0", hashes=[f"sha256:{sha(wheel)}", f"sha256:{sha(sdist)}"], source=index)
    assert names(select([narrowed], index, tmp_path)) == [wheel.name]
    # on win-64 the locked files hold no wheel for it: the locked sdist
    assert names(select([narrowed], index, tmp_path, platform="win-64")) == [sdist.name]


def test_no_compatible_file_and_no_sdist_is_exit_3(artifacts, index, tmp_path):
    with pytest.raises(ResolutionError) as caught:
        select([entry(artifacts, "winonly", source=index), entry(artifacts, "pure", source=index)], index, tmp_path)
    assert caught.value.exit_code == 3
    message = str(caught.value)
    assert "winonly 1.0" in message and "linux-64" in message and "winonly-1.0-cp311-cp311-win_amd64.whl" in message
    assert "pure" not in message  # only the failing package is named
    assert names(select([entry(artifacts, "winonly", source=index)], index, tmp_path, platform="win-64")) == [
        "winonly-1.0-cp311-cp311-win_amd64.whl"
    ]


def test_a_locked_hash_the_index_does_not_have_is_exit_3(artifacts, index, tmp_path):
    ghost = PythonEntry(name="pure", version="3.0", hashes=["sha256:" + "ab" * 32], source=index)
    absent = PythonEntry(name="nosuch", version="1.0", hashes=["sha256:" + "cd" * 32], source=index)
    with pytest.raises(ResolutionError) as caught:
        select([ghost, absent], index, tmp_path)
    assert caught.value.exit_code == 3
    assert "pure 3.0: the index has no file with a locked hash" in str(caught.value)
    assert "nosuch 1.0: the index has no file with a locked hash" in str(caught.value)
    assert "127.0.0.1" in str(caught.value)  # where it looked


def test_entries_without_hashes_are_refused(index, tmp_path):
    with pytest.raises(ResolutionError, match=r"no hashes for pure 3\.0"):
        select([PythonEntry(name="pure", version="3.0", source=index)], index, tmp_path)


def test_markers_that_exclude_the_target_skip_the_entry(artifacts, index, tmp_path):
    windows_only = entry(artifacts, "winonly", source=index, marker='sys_platform == "win32"')
    old_python = entry(artifacts, "pure", source=index, marker='python_version < "3.11"')
    linux = entry(artifacts, "abi", source=index, marker='platform_machine == "x86_64" and platform_system == "Linux"')
    assert names(select([windows_only, old_python, linux], index, tmp_path)) == ["abi-2.0-cp39-abi3-manylinux_2_28_x86_64.whl"]
    assert names(select([windows_only, old_python], index, tmp_path, platform="win-64")) == ["winonly-1.0-cp311-cp311-win_amd64.whl"]
    assert names(select([old_python], index, tmp_path, python="3.10")) == ["pure-3.0-py3-none-any.whl"]


def test_unknown_platform_and_python_are_bad_input(artifacts, index, tmp_path):
    with pytest.raises(BadInputError, match="linux-ppc"):
        select([entry(artifacts, "pure")], index, tmp_path, platform="linux-ppc")
    with pytest.raises(BadInputError, match=r"2\.7"):
        select([entry(artifacts, "pure")], index, tmp_path, python="2.7")


# -- PEP 691 JSON --------------------------------------------------------------------------
def test_a_json_index_gives_the_same_selection(artifacts, tmp_path):
    """A PEP 691 index that answers JSON (its only form here), relative URLs resolved."""
    root = write_index(tmp_path / "json-index", artifacts, html_pages=False, yanked=("pure-3.0-py3-none-any.whl",))
    with serve(root) as (url, seen):
        entries = [entry(artifacts, n) for n in ("plat", "abi", "pure", "src")]
        files = select(entries, f"{url}/simple", tmp_path / "cache")
    assert names(files) == [f"plat-1.0-{LINUX_WHEEL}.whl", "abi-2.0-cp39-abi3-manylinux_2_28_x86_64.whl",
                            "pure-3.0-py3-none-any.whl", "src-1.5.tar.gz"]
    assert files[0].url == f"{url}/files/plat-1.0-{LINUX_WHEEL}.whl"
    assert files[2].yanked == "broken build"
    assert sorted(path for path, _ in seen) == ["/simple/abi/", "/simple/plat/", "/simple/pure/", "/simple/src/"]


class HeaderClient:
    """An HTTP client whose get() sends headers (urllib), standing in for HttpClient until its
    get() takes `headers`: select_files then asks for PEP 691 JSON with an Accept header."""

    def get(self, url: str, headers: dict[str, str] | None = None, **_: object) -> bytes:
        import urllib.request

        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=30) as answer:
            return bytes(answer.read())


def test_json_is_asked_for_with_an_accept_header_when_the_client_can_send_one(artifacts, tmp_path):
    root = write_index(tmp_path / "both", {"plat": artifacts["plat"]})
    (root / "simple" / "plat" / "index.html").write_text("<html><body>no files in the HTML form</body></html>")
    with serve(root) as (url, seen):
        files = select([entry(artifacts, "plat")], f"{url}/simple", tmp_path / "cache", http=HeaderClient())
    assert names(files) == [f"plat-1.0-{LINUX_WHEEL}.whl"]  # read from the JSON form
    assert seen[0][0] == "/simple/plat/" and seen[0][1].startswith("application/vnd.pypi.simple.v1+json")


def test_a_local_file_index(artifacts, tmp_path):
    root = write_index(tmp_path / "idx", {"pure": artifacts["pure"], "src": artifacts["src"]}, json_pages=False)
    index_url = (root / "simple").as_uri()
    files = select([entry(artifacts, "pure", source=index_url), entry(artifacts, "src", source=index_url)], index_url, tmp_path / "c")
    assert names(files) == ["pure-3.0-py3-none-any.whl", "src-1.5.tar.gz"]
    assert files[0].url == (root / "files" / "pure-3.0-py3-none-any.whl").as_uri()


def test_a_remote_page_cannot_point_into_this_machine_or_out_of_a_folder(artifacts, tmp_path):
    """file:// links on an http page, names with a path in them, and odd suffixes are not files to fetch."""
    wheel = artifacts["pure"]["pure-3.0-py3-none-any.whl"]
    digest = sha(wheel)
    page = tmp_path / "idx" / "simple" / "pure"
    page.mkdir(parents=True)
    (page / "index.html").write_text(
        f'<a href="{wheel.as_uri()}#sha256={digest}">x</a>'
        f'<a href="../../files/..%2F..%2Fpure-3.0-py3-none-any.whl#sha256={digest}">y</a>'
        f'<a href="../../files/pure-3.0-py3-none-any.exe#sha256={digest}">z</a>'
    )
    with serve(tmp_path / "idx") as (url, _), pytest.raises(ResolutionError, match="no file with a locked hash"):
        select([entry(artifacts, "pure")], f"{url}/simple", tmp_path / "c")


# -- find-links -------------------------------------------------------------------------------
def test_find_links_folder(artifacts, index, tmp_path):
    folder = tmp_path / "links"
    folder.mkdir()
    for path in [*artifacts["plat"].values(), *artifacts["src"].values()]:
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "notes.txt").write_text("not a distribution")
    (folder / "broken-.whl").write_text("not a wheel name")
    from_links = entry(artifacts, "plat", source=folder.as_uri())  # as uv annotates it: `# from file:///…`
    from_index = entry(artifacts, "src", source=index)  # locked from the index, found in the folder too
    files = select([from_links, from_index], index, tmp_path / "cache", find_links=[str(folder)])
    assert names(files) == [f"plat-1.0-{LINUX_WHEEL}.whl", "src-1.5.tar.gz"]
    assert files[0].url == (folder / f"plat-1.0-{LINUX_WHEEL}.whl").as_uri()
    fetched = fetch_files(files, HttpClient(retries=0), ArtifactCache(tmp_path / "cache"))
    assert [sha(path) for _, path in fetched] == [f.sha256 for f in files]


def test_find_links_page_without_hashes_and_extra_index_fallback(artifacts, tmp_path):
    """An HTML page of links with no #sha256: each candidate is downloaded once to learn its hash
    (and kept), so a second run reads nothing. A project absent from the first index is found
    on the next one."""
    root = tmp_path / "site"
    write_index(root / "other", {"pure": artifacts["pure"]})  # the extra index
    links = root / "links"
    links.mkdir()
    anchors = []
    for path in artifacts["plat"].values():
        (links / path.name).write_bytes(path.read_bytes())
        anchors.append(f'<a href="{path.name}">{path.name}</a>')
    (links / "index.html").write_text("<html><body>" + "\n".join(anchors) + "</body></html>")
    cache = tmp_path / "cache"
    empty = write_index(tmp_path / "empty", {})
    with serve(empty) as (first, _), serve(root) as (url, seen):
        entries = [entry(artifacts, "plat", source=f"{url}/links/"), entry(artifacts, "pure", source=f"{first}/simple")]
        settings = dict(python_version="3.11", platform="linux-64", index_urls=[f"{first}/simple", f"{url}/other/simple"],
                        find_links=[f"{url}/links/"])
        files = select_files(entries, **settings, http=HttpClient(retries=0), cache=ArtifactCache(cache))
        assert names(files) == [f"plat-1.0-{LINUX_WHEEL}.whl", "pure-3.0-py3-none-any.whl"]
        downloaded = sorted(p for p, _ in seen if p.startswith("/links/plat"))
        assert downloaded == [f"/links/plat-1.0-{LINUX_WHEEL}.whl", "/links/plat-1.0.tar.gz"]  # only the candidates
        seen.clear()
        again = select_files(entries, **settings, http=HttpClient(retries=0), cache=ArtifactCache(cache))
        assert again == files
        assert seen == []  # every listing and hash from the cache


# -- fetching, tampering, the cache ------------------------------------------------------------
def test_fetch_then_rebuild_with_the_server_stopped(artifacts, tmp_path):
    root = write_index(tmp_path / "idx", artifacts)
    cache = tmp_path / "cache"
    entries = [entry(artifacts, n) for n in ("plat", "abi", "pure", "src")]
    with serve(root) as (url, _):
        files = select(entries, f"{url}/simple", cache)
        fetched = fetch_files(files, HttpClient(retries=0), ArtifactCache(cache))
    assert [f for f, _ in fetched] == files
    assert all(sha(path) == f.sha256 for f, path in fetched)
    # the server is gone: listings and artifacts come from the cache, nothing asks the network
    again = select(entries, f"{url}/simple", cache)
    assert again == files
    assert fetch_files(again, HttpClient(retries=0), ArtifactCache(cache)) == fetched
    assert select(entries, f"{url}/simple", cache, offline=True) == files
    # a new cache and no server: unreachable (exit 4), naming the index
    with pytest.raises(UnreachableError, match=r"127\.0\.0\.1"):
        select(entries, f"{url}/simple", tmp_path / "fresh")
    with pytest.raises(UnreachableError, match="offline"):
        select(entries, f"{url}/simple", tmp_path / "fresh", offline=True)


def test_a_stale_cached_listing_is_refreshed(artifacts, tmp_path):
    """A listing cached before a new release does not name its hashes: asked again."""
    root = write_index(tmp_path / "idx", {"pure": artifacts["pure"]})
    cache = tmp_path / "cache"
    with serve(root) as (url, seen):
        select([entry(artifacts, "pure")], f"{url}/simple", cache)
        newer = make_tagged_wheel(tmp_path / "new", "pure", "3.1", "py3-none-any")
        write_index(root, {"pure": {**artifacts["pure"], newer.name: newer}})
        seen.clear()
        files = select([PythonEntry(name="pure", version="3.1", hashes=[f"sha256:{sha(newer)}"])], f"{url}/simple", cache)
    assert names(files) == [newer.name]
    assert [p for p, _ in seen] == ["/simple/pure/"]


def test_a_tampered_download_is_refused_with_exit_3(artifacts, tmp_path):
    root = write_index(tmp_path / "idx", {"pure": artifacts["pure"], "abi": artifacts["abi"]})
    with serve(root) as (url, _):
        files = select([entry(artifacts, "pure"), entry(artifacts, "abi")], f"{url}/simple", tmp_path / "cache")
        (root / "files" / "pure-3.0-py3-none-any.whl").write_bytes(b"PK\x03\x04 not the locked wheel")
        with pytest.raises(ResolutionError) as caught:
            fetch_files(files, HttpClient(retries=0), ArtifactCache(tmp_path / "cache"))
    assert caught.value.exit_code == 3
    assert "pure 3.0 (pure-3.0-py3-none-any.whl): downloaded file does not match the locked sha256" in str(caught.value)
    assert ArtifactCache(tmp_path / "cache").get_artifact(files[0].sha256) is None  # nothing unverified kept


def test_credentials_reach_downloads_but_never_urls_or_the_cache(artifacts, tmp_path):
    root = write_index(tmp_path / "idx", {"pure": artifacts["pure"]})
    cache = tmp_path / "cache"
    with serve(root, password="s3cr3t-token") as (url, _):
        private = url.replace("http://", "http://user:s3cr3t-token@") + "/simple"
        files = select([entry(artifacts, "pure", source=f"{url}/simple")], private, cache)  # the lock's source has none
        assert files[0].url == f"{url}/files/pure-3.0-py3-none-any.whl"
        assert "s3cr3t-token" not in repr(files[0])
        fetched = fetch_files(files, HttpClient(retries=0), ArtifactCache(cache))
    assert sha(fetched[0][1]) == files[0].sha256
    for path in cache.rglob("*"):
        if path.is_file():
            assert b"s3cr3t-token" not in path.read_bytes(), path


def test_listings_are_concurrent(tmp_path):
    """40 packages on an index that takes 0.25 s per answer: about a second, not ten."""
    folder = tmp_path / "wheels"
    projects = {f"pkg{i:02d}": {(w := make_tagged_wheel(folder, f"pkg{i:02d}", "1.0", "py3-none-any")).name: w} for i in range(40)}
    root = write_index(tmp_path / "idx", projects)
    entries = [PythonEntry(name=n, version="1.0", hashes=[f"sha256:{sha(p)}" for p in f.values()]) for n, f in projects.items()]
    with serve(root, delay=0.25) as (url, _):
        started = time.monotonic()
        files = select(entries, f"{url}/simple", tmp_path / "cache")
        took = time.monotonic() - started
        assert len(files) == 40
        assert took < 4, f"{took:.1f} s for 40 listings"
        started = time.monotonic()
        fetch_files(files, HttpClient(retries=0), ArtifactCache(tmp_path / "cache"))
        assert time.monotonic() - started < 4


def test_fetched_files_install_offline_with_hashes_enforced(artifacts, index, tmp_path):
    """What the image does: uv pip install --offline --no-index --find-links DIR --require-hashes --no-deps."""
    import uv

    from envman.ecosystems.python.export import requirements_text

    entries = [entry(artifacts, n, source=index) for n in ("plat", "abi", "pure", "old")]
    files = select(entries, index, tmp_path / "cache")
    wheels = tmp_path / "context" / "wheels"
    wheels.mkdir(parents=True)
    for file, path in fetch_files(files, HttpClient(retries=0), ArtifactCache(tmp_path / "cache")):
        (wheels / file.filename).write_bytes(path.read_bytes())
    (tmp_path / "requirements.txt").write_text(requirements_text(entries))
    venv = tmp_path / "venv"
    env = {k: v for k, v in os.environ.items() if not k.startswith("UV_")}
    uv_bin = uv.find_uv_bin()
    subprocess.run([uv_bin, "venv", "--offline", "--python", sys.executable, str(venv)], check=True, capture_output=True, env=env)
    done = subprocess.run(
        [uv_bin, "pip", "install", "--offline", "--no-index", "--find-links", str(wheels), "--require-hashes", "--no-deps",
         "--no-cache", "--python", str(venv / "bin" / "python"), "-r", str(tmp_path / "requirements.txt")],
        capture_output=True, text=True, env=env,
    )
    assert done.returncode == 0, done.stderr
    shown = subprocess.run([str(venv / "bin" / "python"), "-c", "import plat, abi; print(plat.TAG, abi.TAG)"],
                           capture_output=True, text=True, check=True)
    assert shown.stdout.split() == [LINUX_WHEEL, "cp39-abi3-manylinux_2_28_x86_64"]


# -- build requirements of sdists ---------------------------------------------------------------
def test_build_requirements(tmp_path):
    hatch = '[build-system]\nrequires = ["hatchling>=1.20", "hatch-vcs"]\nbuild-backend = "hatchling.build"\n'
    assert build_requirements(make_sdist(tmp_path / "a", "src", "1.5", hatch)) == ["hatchling>=1.20", "hatch-vcs"]
    assert build_requirements(make_sdist(tmp_path / "b", "src", "1.5", hatch, fmt="zip")) == ["hatchling>=1.20", "hatch-vcs"]
    assert build_requirements(make_sdist(tmp_path / "c", "legacy", "1.0", None)) == DEFAULT_BUILD_REQUIRES
    assert build_requirements(make_sdist(tmp_path / "d", "tool", "1.0", '[tool.black]\nline-length = 100\n')) == DEFAULT_BUILD_REQUIRES
    # a pyproject.toml deeper in the tree is not the project's
    nested = make_sdist(tmp_path / "e", "nest", "1.0", None, extra={"nest-1.0/sub/pyproject.toml": hatch.encode()})
    assert build_requirements(nested) == DEFAULT_BUILD_REQUIRES


@pytest.mark.parametrize(("text", "problem"), [
    ('[build-system]\nbuild-backend = "x"\n', "no list of strings"),
    ("[build-system]\nrequires = [1]\n", "no list of strings"),
    ('[build-system\nrequires = ["x"]\n', "not valid TOML"),
    ('[build-system]\nrequires = ["ok; rm -rf /"]\n', "refused"),
])
def test_bad_build_requirements_are_exit_3(tmp_path, text, problem):
    with pytest.raises(ResolutionError, match=problem) as caught:
        build_requirements(make_sdist(tmp_path, "bad", "1.0", text))
    assert caught.value.exit_code == 3


def test_hostile_sdists_are_read_within_bounds(tmp_path, monkeypatch):
    monkeypatch.setenv("ENVMAN_MAX_MEMBER_BYTES", "1000")
    huge = make_sdist(tmp_path / "a", "big", "1.0", "[build-system]\nrequires = []\n# " + "x" * 5000 + "\n")
    with pytest.raises(ResolutionError, match="ENVMAN_MAX_MEMBER_BYTES"):
        build_requirements(huge)
    # a symlink named pyproject.toml is not read (nothing outside the archive is)
    link = tmp_path / "link-1.0.tar.gz"
    with tarfile.open(link, "w:gz") as archive:
        item = tarfile.TarInfo("link-1.0/pyproject.toml")
        item.type, item.linkname = tarfile.SYMTYPE, "/etc/passwd"
        archive.addfile(item)
    assert build_requirements(link) == DEFAULT_BUILD_REQUIRES
    # a member that inflates far past the archive's size is not walked over
    bomb = tmp_path / "bomb-1.0.tar.gz"
    with tarfile.open(bomb, "w:gz") as archive:
        zeros = tarfile.TarInfo("bomb-1.0/zeros.bin")
        zeros.size = 50 << 20
        archive.addfile(zeros, io.BytesIO(bytes(zeros.size)))
    with pytest.raises(ResolutionError, match="inflates"):
        build_requirements(bomb)
    (tmp_path / "junk-1.0.tar.gz").write_bytes(b"not an archive")
    with pytest.raises(ResolutionError, match="not a readable sdist"):
        build_requirements(tmp_path / "junk-1.0.tar.gz")


# -- the real PyPI, against pip -------------------------------------------------------------------
PIP_PLATFORMS = {"linux-64": ["manylinux_2_28_x86_64", "manylinux_2_17_x86_64", "manylinux2014_x86_64"], "osx-arm64": ["macosx_14_0_arm64"]}


@pytest.mark.network
@pytest.mark.parametrize("version", ["2.1.3", "2.3.5"])  # manylinux2014 wheels; manylinux_2_28 wheels
@pytest.mark.parametrize("platform", sorted(PIP_PLATFORMS))
def test_numpy_on_real_pypi_agrees_with_pip(tmp_path, platform, version):
    """pip's choice for the platform (pip download --only-binary) is among the files selected."""
    http = HttpClient()
    release = json.loads(http.get("https://pypi.org/pypi/numpy/json"))["releases"][version]
    hashes = sorted(f"sha256:{f['digests']['sha256']}" for f in release)  # every file of the release, as a lock before narrowing
    numpy = PythonEntry(name="numpy", version=version, hashes=hashes, source="https://pypi.org/simple")
    files = select_files([numpy], python_version="3.11", platform=platform, index_urls=["https://pypi.org/simple"], find_links=[],
                         http=http, cache=ArtifactCache(tmp_path / "cache"))
    assert files and all(not f.sdist and "-cp311-cp311-" in f.filename for f in files)
    assert not any("musllinux" in f.filename or "linux_x86_64" in f.filename.split(".")[-2] for f in files)
    out = tmp_path / "pip"
    platforms = [arg for name in PIP_PLATFORMS[platform] for arg in ("--platform", name)]
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", *platforms, "--python-version", "3.11",
         "--implementation", "cp", "--abi", "cp311", f"numpy=={version}", "-d", str(out), "--no-cache-dir",
         "--disable-pip-version-check", "-q"],
        capture_output=True, text=True, timeout=600,
    )
    assert done.returncode == 0, done.stderr
    [chosen] = list(out.iterdir())
    assert chosen.name in names(files)
    assert sha(chosen) in {f.sha256 for f in files}
    if platform == "linux-64":  # and the download through envman is the same file
        fetched = fetch_files([f for f in files if f.filename == chosen.name], http, ArtifactCache(tmp_path / "cache"))
        assert fetched[0][1].read_bytes() == chosen.read_bytes()
