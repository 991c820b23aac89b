"""Fields and answers from outside: every string field of the manifest refuses shell
metacharacters, control characters (C0, DEL, C1 such as ESC) and surrounding whitespace;
valid values are unchanged; an export never gains a line from a value; a slow or endless
server is cut off at its deadline (exit 4 naming the URL) and a huge answer is refused."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from envman.cli.main import run
from envman.errors import BadInputError, EnvmanError, UnreachableError

# -- the manifest: one validator per kind of field ---------------------------------------

# field -> (manifest template, a valid value). VALUE is replaced by the value as a YAML
# double-quoted scalar (JSON), so control characters reach the validators as they are.
FIELDS: dict[str, tuple[str, str]] = {
    "python.index-url": ("python: {index-url: VALUE, packages: [alpha]}", "https://user:p@ss@pypi.example/simple"),
    "python.extra-index-urls": ("python: {extra-index-urls: [VALUE], packages: [alpha]}", "http://127.0.0.1:8080/simple"),
    "python.find-links (URL)": ("python: {find-links: [VALUE], packages: [alpha]}", "https://host.example/links/"),
    "python.find-links (path)": ("python: {find-links: [VALUE], packages: [alpha]}", "../wheels"),
    "python.packages": ("python: {packages: [VALUE]}", 'requests[socks] >= 2.31 ; python_version < "3.13"'),
    "python.version": ("python: {version: VALUE, packages: [alpha]}", "3.11.9"),
    "environments.*.python.packages": ("python: {packages: [alpha]}\nenvironments: {dev: {python: {packages: [VALUE]}}}", "pytest>=8"),
    "environments (a name)": ("python: {packages: [alpha]}\nenvironments: {VALUE: {}}", "design"),
    "name": ("name: VALUE\npython: {packages: [alpha]}", "churn-model"),
    "r.repositories (URL)": ("r: {repositories: {CRAN: VALUE}, packages: [ggplot2]}", "https://cran.example/2024-06-03"),
    "r.repositories (a name)": ("r: {repositories: {VALUE: 'https://cran.example'}, packages: [ggplot2]}", "CRAN"),
    "r.packages": ("r: {packages: [VALUE]}", "ggplot2 (>= 3.4)"),
    "r.version": ("r: {version: VALUE, packages: [ggplot2]}", "4.3.3"),
    "jvm.repositories": ("jvm: {repositories: [VALUE], dependencies: ['g.x:a:1.0']}", "https://repo.example/maven2"),
    "jvm.dependencies": ("jvm: {dependencies: [VALUE]}", "com.fasterxml.jackson.core:jackson-databind:2.17.2"),
    "jvm.dependencies.artifact": ("jvm: {dependencies: [{artifact: VALUE}]}", "org.apache.spark:spark-sql_2.13:3.5.1"),
    "jvm.dependencies.exclusions": ("jvm: {dependencies: [{artifact: 'g.x:a:1.0', exclusions: [VALUE]}]}", "org.slf4j:*"),
    "jvm.java": ("jvm: {java: VALUE, dependencies: ['g.x:a:1.0']}", "17"),
    "conda.channels": ("conda: {channels: [VALUE], packages: [numpy]}", "conda-forge"),
    "conda.packages": ("conda: {packages: [VALUE]}", "numpy>=1.26"),
    "system.apt": ("python: {packages: [alpha]}\nsystem: {apt: [VALUE]}", "libgomp1=12.2.0-14"),
    "image.base": ("python: {packages: [alpha]}\nimage: {base: VALUE}", "python:3.11-slim"),
}

# how -> a hostile variant of a valid value
HOSTILE = {
    "command substitution": lambda v: v + "$(touch /tmp/pwned)",
    "backticks": lambda v: v + "`id`",
    "pipe": lambda v: v + "|sh",
    "ampersand": lambda v: v + "&",
    "backslash": lambda v: v + "\\",
    "newline inside": lambda v: v + "\n--extra-index-url http://evil.example/simple",
    "trailing newline": lambda v: v + "\n",
    "leading space": lambda v: " " + v,
    "trailing tab": lambda v: v + "\t",
    "NUL": lambda v: v + "\x00",
    "ESC sequence": lambda v: v + "\x1b[2J",
    "DEL": lambda v: v + "\x7f",
    "C1 CSI": lambda v: v + "\x9b2J",
    "C1 NEL": lambda v: v + "\x85",
    "bidi override": lambda v: v + "\u202e",
    "line separator": lambda v: v + "\u2028",
}


def manifest_text(template: str, value: str) -> str:
    return "version: 1\n" + template.replace("VALUE", json.dumps(value)) + "\n"


def validate(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "envman.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit) as exited:
        run(["validate", "-f", str(path)])
    _out, err = capsys.readouterr()
    return int(exited.value.code or 0), err


def one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("envman: error: "), stderr
    assert stderr.endswith("\n") and stderr[:-1].isprintable(), f"raw control characters in {stderr!r}"
    return lines[0]


@pytest.mark.parametrize("field", sorted(FIELDS))
def test_valid_values_still_pass(tmp_path, capsys, field):
    template, valid = FIELDS[field]
    code, err = validate(tmp_path, manifest_text(template, valid), capsys)
    assert code == 0, err


@pytest.mark.parametrize("how", sorted(HOSTILE))
@pytest.mark.parametrize("field", sorted(FIELDS))
def test_hostile_values_are_refused(tmp_path, capsys, field, how):
    template, valid = FIELDS[field]
    code, err = validate(tmp_path, manifest_text(template, HOSTILE[how](valid)), capsys)
    assert code == 2, err
    assert err.startswith(f"envman: error: {tmp_path / 'envman.yaml'}:") and "Traceback" not in err
    if field in KEY_FIELDS:
        return  # pydantic's location holds the key as written: test_hostile_keys_are_not_echoed
    line = one_error_line(err)
    assert "p@ss" not in line  # a URL's credentials are not repeated in the message


KEY_FIELDS = ("environments (a name)", "r.repositories (a name)")


@pytest.mark.parametrize("how", ["NUL", "newline inside"])
@pytest.mark.parametrize("field", KEY_FIELDS)
def test_hostile_keys_are_not_echoed(tmp_path, capsys, field, how):
    template, valid = FIELDS[field]
    code, err = validate(tmp_path, manifest_text(template, HOSTILE[how](valid)), capsys)
    assert code == 2
    one_error_line(err)


@pytest.mark.parametrize(
    "value, reason",
    [
        ("-r/etc/passwd", "cannot start with `-`"),
        ("wheels dir", "whitespace"),
        ("wheels;id", "';'"),
        ("https://host/links/$(id)", "'$'"),
        ("ftp://host/links/", "not an http(s):// or file:// URL"),
        ("https://user:pa/ss@host/links/", "port"),
        ("https://host/x@y/", "after the host"),
        ("https:///links/", "names no host"),
    ],
)
def test_find_links_grammar(tmp_path, capsys, value, reason):
    code, err = validate(tmp_path, manifest_text(FIELDS["python.find-links (path)"][0], value), capsys)
    assert code == 2 and reason in one_error_line(err), err


@pytest.mark.parametrize(
    "value",
    ["wheels", "./wheels", "../shared/wheels", "/srv/wheels", "file:///srv/wheels", "https://user:t0k@n@host:8443/links/?x=1"],
)
def test_find_links_that_stay_valid(tmp_path, capsys, value):
    code, err = validate(tmp_path, manifest_text(FIELDS["python.find-links (path)"][0], value), capsys)
    assert code == 0, err


def test_validators_one_per_kind():
    from envman import specs

    assert specs.validate_url("https://u:p@ss@h:1/s") == "https://u:p@ss@h:1/s"
    assert specs.validate_find_link("./w") == "./w"
    assert specs.validate_name("conda-forge") == "conda-forge"
    assert specs.validate_package_spec("numpy >=1.26") == "numpy >=1.26"
    for validator, value in [
        (specs.validate_url, "https://h/s\n"),
        (specs.validate_url, "https://h/\x1b]0;x\x07"),
        (specs.validate_find_link, "w\x00"),
        (specs.validate_name, "a b"),
        (specs.validate_name, "a'b"),
        (specs.validate_apt_name, "libgomp1\n"),
        (specs.validate_package_spec, "numpy\r"),
        (specs.validate_text, " x"),
    ]:
        with pytest.raises(ValueError) as refused:
            validator(value)
        assert str(refused.value).isprintable()


# -- the requirements export never gains a line ------------------------------------------


def test_requirements_export_refuses_values_that_would_add_lines():
    from envman.ecosystems.python.entry import PythonEntry
    from envman.ecosystems.python.export import requirements_text

    good = PythonEntry(name="alpha", version="1.0", hashes=["sha256:" + "a" * 64], marker='python_version < "3.13"')
    text = requirements_text([good], index_url="https://h/simple", find_links=["../wheels"])
    assert text.count("\n") == 5 and "--find-links ../wheels\n" in text
    for kwargs in (
        {"find_links": ["../wheels\n--extra-index-url http://evil/simple"]},
        {"index_url": "https://h/simple\r"},
        {"extra_index_urls": ["https://h/simple -r other.txt"]},
    ):
        with pytest.raises(BadInputError):
            requirements_text([good], **kwargs)  # type: ignore[arg-type]
    for update in ({"marker": "python_version < '3'\nevil==1"}, {"version": "1.0 --index-url=http://evil"}, {"name": "a\x1bb"}):
        with pytest.raises(BadInputError) as refused:
            requirements_text([good.model_copy(update=update)])
        assert str(refused.value).isprintable()


# -- HTTP: deadlines and sizes -----------------------------------------------------------


class _Hostile(http.server.BaseHTTPRequestHandler):
    """/drip-body: headers at once, then a byte every 0.3 s; /drip-headers: the status line
    itself a byte at a time; /slow-503: 503 after 0.4 s; /huge: declares 1 GB;
    /endless: a chunked body that never ends; /simple/*: a drip with a Content-Type."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        try:
            if self.path.startswith("/drip-headers"):
                for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok":
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                    time.sleep(0.3)
            elif self.path.startswith("/slow-503"):
                time.sleep(0.4)
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif self.path.startswith("/huge"):
                self.send_response(200)
                self.send_header("Content-Length", str(10**9))
                self.end_headers()
            elif self.path.startswith("/endless"):
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"x" * 65536
                while True:
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            elif self.path.startswith("/ok"):
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")
            else:  # a body, a byte at a time
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", "100000")
                self.end_headers()
                for _ in range(100000):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(0.3)
        except OSError:
            pass

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def hostile_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Hostile)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def hostile() -> Iterator[str]:
    with hostile_server() as url:
        yield url


@pytest.mark.parametrize("path", ["/drip-body", "/drip-headers"])
def test_request_deadline_cuts_a_trickling_server(hostile, path):
    from envman.http import HttpClient

    client = HttpClient(timeout=1.5, retries=3, backoff=0)
    url = hostile.replace("http://", "http://tok:s3c@ret@") + path
    started = time.monotonic()
    with pytest.raises(UnreachableError) as failed:
        client.get(url)
    elapsed = time.monotonic() - started
    assert 1.4 < elapsed < 3.0, elapsed  # one attempt: a request past its deadline is not retried
    message = str(failed.value)
    assert f"{hostile}{path}" in message and "within 1.5 s" in message and "ENVMAN_HTTP_TIMEOUT" in message
    assert "s3c" not in message and "ret@" not in message and "\n" not in message
    assert client.get(f"{hostile}/ok") == b"ok"  # the pool still works after a cut


def test_artifact_deadline_bounds_the_retries(hostile):
    from envman.http import HttpClient

    client = HttpClient(timeout=5, retries=50, backoff=0.2, artifact_timeout=1.5)
    started = time.monotonic()
    with pytest.raises(UnreachableError) as failed:
        client.get(f"{hostile}/slow-503")
    assert time.monotonic() - started < 2.5
    assert "ENVMAN_HTTP_ARTIFACT_TIMEOUT" in str(failed.value) and f"{hostile}/slow-503" in str(failed.value)


def test_deadlines_come_from_the_environment(monkeypatch):
    from envman.http import HttpClient

    monkeypatch.setenv("ENVMAN_HTTP_TIMEOUT", "7.5")
    monkeypatch.setenv("ENVMAN_HTTP_ARTIFACT_TIMEOUT", "20")
    client = HttpClient()
    assert (client.timeout, client.artifact_timeout) == (7.5, 20.0)
    for bad in ("", "0", "-3", "nan", "inf", "soon"):
        monkeypatch.setenv("ENVMAN_HTTP_TIMEOUT", bad)
        assert HttpClient().timeout == 60.0


@pytest.mark.parametrize("path", ["/huge", "/endless"])
def test_answers_over_the_size_limit_are_refused(hostile, monkeypatch, path):
    from envman.http import HttpClient

    monkeypatch.setenv("ENVMAN_MAX_INDEX_BYTES", str(1 << 20))
    started = time.monotonic()
    with pytest.raises(EnvmanError) as failed:
        HttpClient(timeout=10, retries=0).get(f"{hostile}{path}")
    assert time.monotonic() - started < 5
    assert failed.value.exit_code == 2 and "ENVMAN_MAX_INDEX_BYTES" in str(failed.value)


def test_file_urls_are_read_as_regular_files_only(tmp_path):
    from envman.http import HttpClient, NotFound

    fifo = tmp_path / "PACKAGES"
    os.mkfifo(fifo)
    with pytest.raises(EnvmanError) as failed:
        HttpClient().get(fifo.as_uri())
    assert failed.value.exit_code == 2 and "not a regular file" in str(failed.value)
    with pytest.raises(NotFound):
        HttpClient().get((tmp_path / "absent").as_uri())


def run_lock(project: Path, manifest: str, **env: str) -> tuple[subprocess.CompletedProcess[str], float]:
    (project / "envman.yaml").write_text(manifest)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "envman", "lock"], cwd=project, capture_output=True, text=True, timeout=120,
        env={**os.environ, "ENVMAN_CACHE_DIR": str(project / "cache"), **env},
    )
    return done, time.monotonic() - started


@pytest.mark.parametrize(
    "section, fetched",
    [
        ("jvm:\n  repositories: ['URL']\n  dependencies: ['org.example:lib:1.0']\n", "/repo/org/example/lib/1.0/lib-1.0.pom"),
        ("r:\n  repositories: {CRAN: 'URL'}\n  packages: [foo]\n", "/repo/src/contrib/PACKAGES.gz"),
    ],
)
def test_lock_against_a_trickling_repository_exits_4(tmp_path, hostile, section, fetched):
    url = hostile.replace("http://", "http://tok:s3c@ret@") + "/repo"
    done, elapsed = run_lock(tmp_path, "version: 1\n" + section.replace("URL", url), ENVMAN_HTTP_TIMEOUT="2")
    assert done.returncode == 4, done.stderr
    line = one_error_line(done.stderr)
    assert f"{hostile}{fetched}" in line and "within 2 s" in line and "s3c" not in line
    assert elapsed < 30
    assert not (tmp_path / "envman.lock").exists()


def test_python_lock_against_a_trickling_index_exits_4(tmp_path, hostile):
    done, elapsed = run_lock(
        tmp_path, f"version: 1\npython:\n  index-url: {hostile}/simple\n  packages: [foo]\n", ENVMAN_RESOLVER_TIMEOUT="4"
    )
    assert done.returncode == 4, done.stderr
    line = one_error_line(done.stderr)
    assert "did not finish resolving the Python section within 4 s" in line and f"{hostile}/simple" in line
    assert "ENVMAN_RESOLVER_TIMEOUT" in line and elapsed < 30
