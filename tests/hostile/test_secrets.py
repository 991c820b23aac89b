"""Secrets: credentials in index and find-links URLs (a password with a raw `@` too) never
reach envman.lock, an export, a message or the cache; redaction is linear; the cache is
private (0700 folders, 0600 files) and a read-only or missing cache does not break `lock`."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from envman.redact import redact_text, redact_url
from tests.python.conftest import run_envman
from tests.python.servers import serve_directory, serve_errors
from tests.python.wheelhouse import write_simple_index

# Credentials whose every piece is searched for. The passwords hold a raw `@`: a redactor
# that stops at the first `@` leaves the second half in the output.
INDEX_USER, INDEX_PASSWORD = "usr-7f3a9", "pwa11ce@9c1e-SECRET"
LINKS_USER, LINKS_PASSWORD = "fl-user-2b8d", "flpwd77@4e6f-SECRET"
PIECES = ["usr-7f3a9", "pwa11ce", "9c1e-SECRET", "fl-user-2b8d", "flpwd77", "4e6f-SECRET"]


def with_credentials(url: str, user: str, password: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}:{password}@{rest}"


def leaks(text: str | bytes) -> list[str]:
    data = text.encode("utf-8", "replace") if isinstance(text, str) else text
    return [piece for piece in PIECES if piece.encode() in data]


def one_error_line(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("envman: error: "), stderr


@pytest.fixture(scope="module")
def wheel_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """http://127.0.0.1:PORT serving simple/ (a PEP 503 index) and files/ (a find-links page)."""
    root = write_simple_index(tmp_path_factory.mktemp("secrets-index"))
    with serve_directory(root) as url:
        yield url


@pytest.fixture()
def private_cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def secret_manifest(server: str) -> str:
    index = with_credentials(f"{server}/simple", INDEX_USER, INDEX_PASSWORD)
    links = with_credentials(f"{server}/files/", LINKS_USER, LINKS_PASSWORD)
    return (
        "version: 1\n"
        "python:\n"
        '  version: "3.11.7"\n'
        f"  index-url: {index}\n"
        f"  find-links: [{links}]\n"
        "  packages: [zeta, beta]\n"
    )


def files_under(root: Path) -> Iterator[Path]:
    for folder, _dirs, names in os.walk(root):
        for name in names:
            path = Path(folder) / name
            if path.is_file() and not path.is_symlink():
                yield path


# -- redaction ---------------------------------------------------------------------------

AWKWARD_URLS = [
    "https://user:p@ss@host/simple",
    "https://user:p@ss@@host:8443/simple?x=1#frag",
    "https://tok%40en:x%2Fy@host/simple",
    "https://TOKEN@host/simple",
    "http://alice:bob@[::1]:8080/simple",
    "http://alice:bob@c@d@127.0.0.1:9/x@y/z",
    "file://user:pw@localhost/srv/wheels",
    "https://host/simple",
    "https://host/p@th",
]


@pytest.mark.parametrize("url", AWKWARD_URLS)
def test_redaction_agrees_with_urlsplit(url):
    """No part of urlsplit's username or password survives; host, port, path, query and
    fragment are untouched."""
    parts = urlsplit(url)
    redacted = redact_url(url)
    after = urlsplit(redacted)
    assert after.username is None and after.password is None
    assert after.netloc == parts.netloc.rpartition("@")[2]
    assert (after.scheme, after.path, after.query, after.fragment) == (parts.scheme, parts.path, parts.query, parts.fragment)
    for secret in (parts.username, parts.password):
        if secret:
            assert secret not in redacted
            assert secret not in redact_text(f"error: `{url}` failed ({url})")
    assert redact_text(url) == (redacted if redacted == url else redacted.replace("://", "://****@", 1))


def test_redaction_leaves_what_is_not_a_credential():
    for text in ("pkg @ https://host/pkg-1.0.whl", "git+https://github.com/org/repo@v1.0", "mail a@b.c", "x://"):
        assert redact_text(text) == text and redact_url(text) == text


HOSTILE_TEXTS = {
    "letters": "a" * 5_000_000,
    "schemes without a host": "https://" * 625_000,
    "at signs": "@" * 5_000_000,
    "one long authority": "x://" + "@" * 5_000_000,
    "credential URLs, densely": "://@ " * 1_000_000,
    "credential URLs, each different": "".join(f"h://u{i}:p@{i}@h/ " for i in range(250_000)),
    "long schemes": ("a" * 1000 + "://") * 5000,
}


@pytest.mark.parametrize("name", sorted(HOSTILE_TEXTS))
def test_redaction_is_linear(name):
    text = HOSTILE_TEXTS[name]
    assert len(text) >= 4_500_000
    started = time.perf_counter()
    redact_text(text)
    redact_url(text)
    elapsed = time.perf_counter() - started
    assert elapsed < 1.0, f"{name}: {elapsed:.2f} s for {len(text):,} characters, twice"


def test_fifty_megabytes_of_stderr_are_redacted_quickly():
    text = ("Failed to fetch https://u:p@ss@host/simple/x/ " + "y" * 1000 + "\n") * 48_000
    started = time.perf_counter()
    out = redact_text(text)
    assert time.perf_counter() - started < 2.0
    assert "p@ss" not in out and "u:p" not in out and out.count("https://****@host/simple/x/") == 48_000


# -- end to end: lock, exports, messages, cache ------------------------------------------


def test_password_with_raw_at_never_leaks(tmp_path, wheel_server, private_cache):
    project = tmp_path / "project"
    project.mkdir()
    (project / "envman.yaml").write_text(secret_manifest(wheel_server))
    env = {"ENVMAN_CACHE_DIR": str(private_cache)}
    outputs: list[str] = []

    def envman(*args: str, code: int = 0) -> subprocess.CompletedProcess[str]:
        done = run_envman(*args, cwd=project, env=env)
        outputs.extend([done.stdout, done.stderr])
        assert done.returncode == code, (args, done.stdout, done.stderr)
        return done

    envman("lock")
    lock = (project / "envman.lock").read_text()
    assert "zeta" in lock and f"source: {wheel_server}/" in lock
    envman("lock", "--check")
    envman("export", "--format", "requirements", "-o", "requirements.txt")
    exported = (project / "requirements.txt").read_text()
    assert f"--index-url {wheel_server}/simple\n" in exported
    assert f"--find-links {wheel_server}/files/\n" in exported  # named, without its credentials
    envman("export", "--format", "requirements")
    envman("export", "--format", "cyclonedx", "-o", "sbom.json")
    envman("why", "alpha")
    for path in [project / "envman.lock", project / "requirements.txt", project / "sbom.json"]:
        assert not leaks(path.read_bytes()), path
    assert not leaks("\n".join(outputs))
    found = {str(path): leaks(path.read_bytes()) for path in files_under(private_cache)}
    assert not {path: pieces for path, pieces in found.items() if pieces}
    assert found, "the lock wrote nothing into the cache"


def test_check_caches_no_secret(tmp_path, wheel_server, private_cache):
    project = tmp_path / "project"
    project.mkdir()
    (project / "envman.yaml").write_text(secret_manifest(wheel_server))
    env = {"ENVMAN_CACHE_DIR": str(private_cache)}
    assert run_envman("lock", cwd=project, env=env).returncode == 0
    done = run_envman("check", "lock:default", cwd=project, env=env)
    assert done.returncode == 0, done.stderr
    assert not leaks(done.stdout + done.stderr)
    found = {str(path): leaks(path.read_bytes()) for path in files_under(private_cache)}
    assert not {path: pieces for path, pieces in found.items() if pieces}


def test_unreachable_index_with_raw_at_password(tmp_path):
    with serve_errors() as url:
        index = with_credentials(f"{url}/simple", INDEX_USER, INDEX_PASSWORD)
        (tmp_path / "envman.yaml").write_text(f"version: 1\npython:\n  index-url: {index}\n  packages: [alpha]\n")
        done = run_envman("lock", cwd=tmp_path, env={"ENVMAN_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 4, done.stderr
    assert done.stderr.startswith("envman: error: ") and "Traceback" not in done.stderr
    assert url.split("//", 1)[1] in done.stderr  # the index is named, host and port
    assert not leaks(done.stdout + done.stderr)


def test_invalid_url_message_does_not_repeat_the_url(tmp_path):
    (tmp_path / "envman.yaml").write_text(
        f"version: 1\npython:\n  index-url: 'https://{INDEX_USER}:{INDEX_PASSWORD}@host/simple$(id)'\n  packages: [alpha]\n"
    )
    done = run_envman("validate", cwd=tmp_path)
    assert done.returncode == 2
    one_error_line(done.stderr)
    assert "envman.yaml:3:" in done.stderr and not leaks(done.stderr)


# -- the cache is private ----------------------------------------------------------------


def test_cache_files_are_0600_in_0700_folders(tmp_path, wheel_server, private_cache):
    (tmp_path / "envman.yaml").write_text(
        f'version: 1\npython:\n  version: "3.11.7"\n  index-url: {wheel_server}/simple\n  packages: [zeta]\n'
    )
    old = os.umask(0)  # the most permissive umask: the modes must not come from it
    try:
        for command in ("lock", "lock --check", "check lock:default"):
            done = run_envman(*command.split(), cwd=tmp_path, env={"ENVMAN_CACHE_DIR": str(private_cache)})
            assert done.returncode == 0, (command, done.stderr)
    finally:
        os.umask(old)
    assert stat.S_IMODE(private_cache.stat().st_mode) == 0o700
    ours = [p for p in private_cache.iterdir() if p.name != "uv"]  # uv/ is uv's, inside the private root
    assert ours, "the lock wrote nothing into the cache"
    for top in ours:
        for folder, _dirs, names in os.walk(top):
            assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700, folder
            for name in names:
                assert stat.S_IMODE(os.stat(Path(folder) / name).st_mode) == 0o600, Path(folder) / name


def test_an_open_cache_root_is_tightened(tmp_path):
    from envman.cache import ArtifactCache

    root = tmp_path / "open-cache"
    root.mkdir()
    root.chmod(0o755)
    ArtifactCache(root).put_index("https://host/simple/x/", b"<html/>")
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert stat.S_IMODE(ArtifactCache(root).index_path("https://host/simple/x/").stat().st_mode) == 0o600


def test_user_files_keep_their_mode_and_cache_files_are_private(tmp_path):
    from envman.atomic import atomic_write_bytes, atomic_write_text

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "envman.lock", "x\n")
        assert stat.S_IMODE((tmp_path / "envman.lock").stat().st_mode) == 0o644  # the team reads the lock
        (tmp_path / "envman.lock").chmod(0o664)
        atomic_write_text(tmp_path / "envman.lock", "y\n")
        assert stat.S_IMODE((tmp_path / "envman.lock").stat().st_mode) == 0o664
        atomic_write_bytes(tmp_path / "c" / "d" / "e", b"x", private=True)
        assert stat.S_IMODE((tmp_path / "c" / "d" / "e").stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "c").stat().st_mode) == 0o700
        assert stat.S_IMODE((tmp_path / "c" / "d").stat().st_mode) == 0o700
    finally:
        os.umask(old)


def test_cache_entries_that_are_not_regular_files_count_as_absent(tmp_path):
    from envman.cache import ArtifactCache

    cache = ArtifactCache(tmp_path / "cache")
    cache.put_index("key", b"ok")
    path = cache.index_path("key")
    path.unlink()
    os.mkfifo(path)
    assert cache.get_index("key") is None  # and returns at once: a FIFO is not opened for reading
    path.unlink()
    path.symlink_to("/dev/zero")
    assert cache.get_index("key") is None


# -- a cache that cannot be written ------------------------------------------------------


def _make_read_only(folder: Path) -> None:
    if os.geteuid() == 0:  # root writes through modes: make the tree immutable instead
        done = subprocess.run(["chattr", "-R", "+i", str(folder)], capture_output=True, text=True)
        assert done.returncode == 0, f"cannot make {folder} read-only for root (chattr: {done.stderr.strip()})"
    else:
        for path, _dirs, files in os.walk(folder):
            for name in files:
                os.chmod(Path(path) / name, 0o400)
            os.chmod(path, 0o500)
    probe = folder / "probe"
    try:
        probe.write_text("x")
    except OSError:
        return
    probe.unlink()
    pytest.fail(f"{folder} is still writable: this filesystem cannot make a read-only cache")


def _make_writable(folder: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["chattr", "-R", "-i", str(folder)], capture_output=True)
    for path, _dirs, _files in os.walk(folder):
        os.chmod(path, 0o700)


def test_lock_with_a_read_only_cache(tmp_path, wheel_server):
    cache = tmp_path / "cache"
    (tmp_path / "envman.yaml").write_text(
        f'version: 1\npython:\n  version: "3.11.7"\n  index-url: {wheel_server}/simple\n  packages: [zeta, beta]\n'
    )
    env = {"ENVMAN_CACHE_DIR": str(cache)}
    assert run_envman("lock", cwd=tmp_path, env=env).returncode == 0
    first = (tmp_path / "envman.lock").read_bytes()
    (tmp_path / "envman.lock").unlink()
    _make_read_only(cache)
    try:
        done = run_envman("lock", cwd=tmp_path, env=env)
        assert done.returncode == 0, done.stderr
        assert (tmp_path / "envman.lock").read_bytes() == first  # the same lock, resolved without the cache
        (tmp_path / "envman.lock").unlink()
        done = run_envman("lock", "--offline", cwd=tmp_path, env=env)
        assert done.returncode == 4, done.stderr
        one_error_line(done.stderr)
        assert "--offline needs uv's cache, which cannot be used" in done.stderr
        assert not (tmp_path / "envman.lock").exists()
    finally:
        _make_writable(cache)


def test_lock_where_no_cache_can_be_made(tmp_path, wheel_server):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    (tmp_path / "envman.yaml").write_text(
        f'version: 1\npython:\n  version: "3.11.7"\n  index-url: {wheel_server}/simple\n  packages: [zeta]\n'
    )
    done = run_envman("lock", cwd=tmp_path, env={"ENVMAN_CACHE_DIR": str(blocker / "cache")})
    assert done.returncode == 0, done.stderr
    assert "zeta" in (tmp_path / "envman.lock").read_text()


def test_uv_default_cache_unusable_falls_back(tmp_path, wheel_server):
    """Without ENVMAN_CACHE_DIR uv picks its own cache (XDG_CACHE_HOME/uv); when that cannot
    be made, the resolution runs again without a cache."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    (tmp_path / "envman.yaml").write_text(
        f'version: 1\npython:\n  version: "3.11.7"\n  index-url: {wheel_server}/simple\n  packages: [zeta]\n'
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(blocker), "HOME": str(blocker)}
    env.pop("ENVMAN_CACHE_DIR", None)
    done = subprocess.run(
        [sys.executable, "-m", "envman", "lock"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "zeta" in (tmp_path / "envman.lock").read_text()
