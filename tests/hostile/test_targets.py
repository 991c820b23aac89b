"""Hostile targets (issue 9: items 2, 3, 5, 10, 11, 15, 16): interpreters and containers that
never answer, print megabytes, deep or ill-typed JSON or terminal escapes; containers without
Python holding huge jars, FIFOs and path tricks; a report written to a full disk; a tampered
lock view in the cache. Each run asserts the exit code, one line on stderr, and that the
other targets of the same run are still reported."""

from __future__ import annotations

import io
import json
import marshal
import os
import resource
import signal
import subprocess
import sys
import tarfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from envman.ecosystems.python.entry import PythonEntry
from envman.lockfile import PlatformLock
from tests.drift.builders import make_jar
from tests.drift.conftest import write_project

REPO = Path(__file__).resolve().parents[2]
MEMORY_BYTES = 2 << 30

MARKERS = {
    "implementation_name": "cpython", "implementation_version": "3.11.7", "os_name": "posix", "platform_machine": "x86_64",
    "platform_release": "6.1", "platform_system": "Linux", "platform_version": "#1", "python_full_version": "3.11.7",
    "platform_python_implementation": "CPython", "python_version": "3.11", "sys_platform": "linux",
}


def probe_result(packages: list[Any], **python: Any) -> dict[str, Any]:
    section = {"version": "3.11.7", "executable": "/fake/bin/python", "markers": MARKERS, "packages": packages, **python}
    return {"python": section, "problems": []}


GOOD = probe_result([{"name": "alpha", "version": "1.0", "location": "/fake/site-packages"}])


def run(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 120,
        preexec: Callable[[], None] | None = None) -> subprocess.CompletedProcess[str]:
    """The real CLI, with a memory cap (and an optional extra limit set in the child)."""

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
        if preexec is not None:
            preexec()

    full_env = {**os.environ, "PYTHONPATH": str(REPO), **(env or {})}
    full_env.pop("NO_COLOR", None)
    return subprocess.run([sys.executable, "-m", "envman", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=timeout, env=full_env, preexec_fn=limits)


def one_error_line(proc: subprocess.CompletedProcess[str], *expected: str) -> str:
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr[-2000:]
    line = lines[0]
    assert line.startswith("envman: error: "), line
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr
    for text in expected:
        assert text in line, (text, line)
    assert not any(ord(c) < 32 or 0x7F <= ord(c) < 0xA0 for c in line), repr(line)
    assert len(line) < 2000, len(line)
    return line


def reported_targets(stdout: str) -> list[str]:
    # the targets that were checked; the others are in the report with an error, never in sync
    targets = json.loads(stdout)["targets"]
    assert all(t["in_sync"] is False for t in targets if "error" in t)
    return [t["target"] for t in targets if "error" not in t]


def fake_python(folder: Path, name: str, body: str) -> Path:
    """An executable shell script standing in for a target's interpreter."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(0o755)
    return path


def printing(folder: Path, name: str, output: bytes | str | dict[str, Any], exit_code: int = 0) -> Path:
    """A fake interpreter printing `output` (bytes, text or JSON) on stdout."""
    data = output if isinstance(output, bytes) else (output if isinstance(output, str) else json.dumps(output)).encode()
    (folder / f"{name}.out").parent.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.out").write_bytes(data)
    return fake_python(folder, name, f"cat '{folder / (name + '.out')}'\nexit {exit_code}\n")


def processes_with(argument: str) -> list[int]:
    """Pids on this machine whose command line holds `argument` (a unique sleep duration)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if argument.encode() in (entry / "cmdline").read_bytes().split(b"\0"):
                    found.append(int(entry.name))
            except OSError:
                pass
    return found


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    plock = PlatformLock(python_version="3.11", python=[PythonEntry(name="alpha", version="1.0", hashes=["sha256:" + "0" * 64])])
    manifest = "version: 1\npython:\n  version: '3.11'\n  packages: [alpha]\n"
    return write_project(tmp_path / "project", manifest, {"linux-64": plock})


@pytest.fixture()
def good(tmp_path: Path) -> Path:
    return printing(tmp_path / "bin", "good-python", GOOD)


# -- 1. deadlines (local interpreters) ---------------------------------------------------


@pytest.mark.parametrize("how", ["exec", "child"])
def test_local_interpreter_that_never_answers(project, good, tmp_path, how):
    seconds = str(100_000 + (7 if how == "exec" else 8) + os.getpid() % 1000 * 10)
    slow = fake_python(tmp_path / "bin", "slow-python", f"exec sleep {seconds}\n" if how == "exec" else f"sleep {seconds}\necho done\n")
    started = time.monotonic()
    proc = run("check", "-f", str(project), "--timeout", "2", "--format", "json", f"python:{slow}", f"python:{good}")
    elapsed = time.monotonic() - started
    assert proc.returncode == 4, proc.stderr
    one_error_line(proc, f"python:{slow}: did not answer within 2 s")
    assert reported_targets(proc.stdout) == [f"python:{good}"]
    assert elapsed < 30, elapsed
    assert processes_with(seconds) == []  # the interpreter and what it started were killed


def test_timeout_from_the_environment_and_for_snapshot_diff_sync(project, good, tmp_path):
    slow = fake_python(tmp_path / "bin", "slow-python", "exec sleep 100031\n")
    env = {"ENVMAN_PROBE_TIMEOUT": "1.5"}
    for args in (["snapshot", f"python:{slow}"], ["diff", f"python:{slow}", f"python:{good}"], ["check", f"python:{slow}"],
                 ["sync", "--dry-run", f"python:{slow}"]):
        started = time.monotonic()
        proc = run(*args, "-f", str(project), env=env)
        assert proc.returncode == 4, (args, proc.stderr)
        one_error_line(proc, f"python:{slow}: did not answer within 1.5 s")
        assert time.monotonic() - started < 30
    assert processes_with("100031") == []
    # --timeout wins over the environment; nonsense is exit 2
    assert run("snapshot", f"python:{good}", "--timeout", "30", env={"ENVMAN_PROBE_TIMEOUT": "0.000001"}).returncode == 0
    for bad in ("0", "-1", "soon", "nan"):
        assert run("check", "-f", str(project), "--timeout", bad, f"python:{good}").returncode == 2
    proc = run("check", "-f", str(project), f"python:{good}", env={"ENVMAN_PROBE_TIMEOUT": "soon"})
    assert proc.returncode == 2
    one_error_line(proc, "ENVMAN_PROBE_TIMEOUT")


def test_unreachable_local_interpreter_is_quick(project, good, tmp_path):
    started = time.monotonic()
    proc = run("check", "-f", str(project), "--format", "json", f"python:{tmp_path}/no-such-python", f"python:{good}")
    assert proc.returncode == 4
    one_error_line(proc, "no-such-python")
    assert reported_targets(proc.stdout) == [f"python:{good}"]
    assert time.monotonic() - started < 30


# -- 2. and 3. bounded, well-formed probe output --------------------------------------------

HOSTILE_OUTPUT: dict[str, Any] = {
    "deep-list": "[" * 100_000 + "]" * 100_000,
    "deep-object": '{"python": ' * 50_000 + "{}" + "}" * 50_000,
    "deep-but-parsable": {"python": json.loads("[" * 500 + "]" * 500), "problems": []},
    "nested-in-a-row": probe_result([{"name": "alpha", "version": "1.0", "location": json.loads("[" * 200 + "]" * 200)}]),
    "huge-int": '{"python": {"version": ' + "9" * 5000 + ', "packages": []}, "problems": []}',
    "huge-version-digits": probe_result([{"name": "alpha", "version": "1" + "0" * 5000}]),
    "not-an-object": [1, 2, 3],
    "section-is-a-list": {"python": [1, 2], "problems": []},
    "packages-is-a-string": probe_result("surprise"),  # type: ignore[arg-type]
    "rows-are-numbers": probe_result([1, 2, 3]),
    "name-is-an-object": probe_result([{"name": {"a": 1}, "version": "1.0"}]),
    "location-is-a-list": probe_result([{"name": "alpha", "version": "1.0", "location": [1]}]),
    "modified-is-a-number": probe_result([{"name": "alpha", "version": "1.0", "modified": 5}]),
    "markers-is-a-list": probe_result([], markers=[1, 2]),
    "marker-values-are-numbers": probe_result([], markers={"sys_platform": 1}),
    "problems-is-a-string": {**GOOD, "problems": "nothing to see"},
    "runtime-is-an-object": probe_result([], version={"major": 3}),
    "not-json": "hello",
    "nothing": "",
    "invalid-utf8": b"\xff\xfe{\x00",
}


@pytest.mark.parametrize("case", sorted(HOSTILE_OUTPUT))
def test_hostile_probe_output_is_one_line_exit_4(project, good, tmp_path, case):
    hostile = printing(tmp_path / "bin", "hostile-python", HOSTILE_OUTPUT[case])
    proc = run("check", "-f", str(project), "--format", "json", f"python:{hostile}", f"python:{good}")
    assert proc.returncode == 4, (case, proc.returncode, proc.stderr[-1000:])
    one_error_line(proc, f"python:{hostile}")
    assert reported_targets(proc.stdout) == [f"python:{good}"]


def _snapshot(packages: list[Any], environment: dict[str, Any] | None = None) -> str:
    return json.dumps({"envman-snapshot": 1, "target": "x", "ecosystems": ["python"], "environment": environment or {},
                       "packages": {"python": packages}})


HOSTILE_SNAPSHOTS = {
    "deep": "[" * 100_000 + "]" * 100_000,
    "deep-but-parsable": _snapshot([], {"x": json.loads("[" * 500 + "]" * 500)}),
    "huge-int": '{"envman-snapshot": 1, "target": "x", "n": ' + "9" * 5000 + "}",
    "markers-is-a-list": _snapshot([], {"python-markers": [1, 2]}),
    "modified-is-a-number": _snapshot([{"name": "alpha", "version": "1.0", "extra": {"modified": 5}}]),
    "version-of-5000-digits": _snapshot([{"name": "alpha", "version": "1" + "0" * 5000}]),
}


@pytest.mark.parametrize("case", sorted(HOSTILE_SNAPSHOTS))
def test_hostile_snapshot_files(project, good, tmp_path, case):
    """The same shapes in a snapshot file given as a target are exit 2 naming the file."""
    snap = tmp_path / f"{case}.json"
    snap.write_text(HOSTILE_SNAPSHOTS[case])
    proc = run("check", "-f", str(project), "--format", "json", str(snap), f"python:{good}")
    assert proc.returncode == 2, (case, proc.stderr[-1000:])
    one_error_line(proc, str(snap))


def test_snapshot_file_that_is_a_fifo(project, good, tmp_path):
    fifo = tmp_path / "fifo.json"
    os.mkfifo(fifo)
    proc = run("diff", "-f", str(project), str(fifo), f"python:{good}", timeout=60)
    assert proc.returncode == 2
    one_error_line(proc, "fifo.json", "not a regular file")


def test_megabytes_of_stderr_and_stdout(project, good, tmp_path):
    noisy = fake_python(tmp_path / "bin", "noisy-python",
                        "head -c 30000000 /dev/zero | tr '\\0' 'x' >&2\n"
                        "printf '\\nsecret https://user:tok@host/x \\033[2Klast words\\n' >&2\nexit 3\n")
    started = time.monotonic()
    proc = run("check", "-f", str(project), "--format", "json", f"python:{noisy}", f"python:{good}")
    assert proc.returncode == 4
    line = one_error_line(proc, "the probe failed", "last words", "\\x1b[2K")
    assert "tok@" not in line
    assert reported_targets(proc.stdout) == [f"python:{good}"]
    assert time.monotonic() - started < 60
    chatty = fake_python(tmp_path / "bin", "chatty-python", "head -c 5000000 /dev/zero\n")
    proc = run("check", "-f", str(project), "--format", "json", f"python:{chatty}", f"python:{good}",
               env={"ENVMAN_MAX_PROBE_OUTPUT_BYTES": "100000"})
    assert proc.returncode == 4
    one_error_line(proc, f"python:{chatty}", "more than 100,000 bytes", "ENVMAN_MAX_PROBE_OUTPUT_BYTES")
    assert reported_targets(proc.stdout) == [f"python:{good}"]


# -- 5. terminal escapes -----------------------------------------------------------------

ESCAPES = ("\x1b", "\x07", "\x9b", "\u202e", "\x08")
EVIL = probe_result([
    {"name": "alpha", "version": "1.0\x1b[1A\x1b[2K", "location": "/site\x9b31m"},
    {"name": "evil\x1b]0;pwned\x07", "version": "6.6\x08\x08\x08OK", "location": "/x\u202eyy"},
], version="3.11.7\x1b[2J")


@pytest.mark.parametrize("fmt", ["table", "markdown", "junit", "json"])
def test_terminal_escapes_from_a_target_are_escaped(project, tmp_path, fmt):
    evil = printing(tmp_path / "bin", "evil-python", EVIL)
    proc = run("check", "-f", str(project), "--format", fmt, f"python:{evil}")
    assert proc.returncode == 1, proc.stderr
    for char in ESCAPES:
        assert char not in proc.stdout and char not in proc.stderr, (fmt, repr(char))
    if fmt == "json":
        findings = json.loads(proc.stdout)["targets"][0]["findings"]
        assert any(f["name"] == "evil\x1b]0;pwned\x07" for f in findings)  # JSON escapes it, exact
    else:
        assert "evil\\x1b]0;pwned\\x07" in proc.stdout, proc.stdout
    for args in (["diff", f"python:{evil}", "lock:"], ["diff", "--format", "markdown", f"python:{evil}", "lock:"]):
        out = run(*args, "-f", str(project))
        assert out.returncode == 1, out.stderr
        assert not any(char in out.stdout for char in ESCAPES), args
        assert "\\x1b" in out.stdout


def test_escapes_in_error_lines(project, good, tmp_path):
    liar = fake_python(tmp_path / "bin", "liar-python", "printf 'OK\\033[1A\\033[2K\\033]0;x\\007' >&2\nexit 1\n")
    proc = run("check", "-f", str(project), f"python:{liar}", f"python:{good}", f"python:{tmp_path}/none")
    assert proc.returncode == 4
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 2, proc.stderr
    assert not any(char in proc.stderr for char in ESCAPES)
    assert "\\x1b[1A" in proc.stderr


# -- 6. reports on a full disk --------------------------------------------------------------


def _no_bigger_files(size: int) -> Callable[[], None]:
    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return apply


@pytest.mark.parametrize("command", ["check", "snapshot"])
def test_report_on_a_full_disk(project, good, tmp_path, command):
    out_dir = tmp_path / "reports"
    out_dir.mkdir()
    report = out_dir / "report.xml"
    report.write_text("the previous report\n")
    args = ["check", "--format", "junit", f"python:{good}"] if command == "check" else ["snapshot", f"python:{good}"]
    proc = run(*args, "-f", str(project), "-o", str(report), preexec=_no_bigger_files(40))
    assert proc.returncode == 2, proc.stderr
    one_error_line(proc, str(report), "cannot write")
    assert report.read_text() == "the previous report\n"  # never a truncated report
    assert sorted(p.name for p in out_dir.iterdir()) == ["report.xml"]  # no temporary file left
    proc = run(*args, "-f", str(project), "-o", "/dev/full")
    assert proc.returncode == 2, proc.stderr
    one_error_line(proc, "/dev/full", "No space left on device")
    assert Path("/dev/full").is_char_device()
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    proc = run(*args, "-f", str(project), "-o", str(blocker / "report.xml"))
    assert proc.returncode == 2
    one_error_line(proc, "cannot write")
    proc = run(*args, "-f", str(project), "-o", str(out_dir / "ok.out"))
    assert proc.returncode == 0 and (out_dir / "ok.out").read_text().strip()


def test_report_on_a_read_only_disk(project, good, tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(folder)], capture_output=True)
    if mounted.returncode != 0:  # not root: the same error comes from a folder we may not write
        folder.chmod(0o555)
    try:
        proc = run("check", f"python:{good}", "-f", str(project), "-o", str(folder / "report.txt"))
        if mounted.returncode == 0 or os.geteuid() != 0:
            assert proc.returncode == 2, proc.stderr
            one_error_line(proc, "cannot write the report")
    finally:
        if mounted.returncode == 0:
            subprocess.run(["umount", str(folder)], check=True)


# -- 7. the cached lock view ------------------------------------------------------------------


def _lock_view(data: bytes) -> bool:
    """True for the cache entry holding the lock's view (marshal data with environments)."""
    try:
        value = marshal.loads(data)
    except (ValueError, EOFError, TypeError):
        return False
    return isinstance(value, dict) and "environments" in value


def test_tampered_lock_view_in_the_cache_is_not_trusted(project, tmp_path):
    """check reads the lock from a cached copy keyed by its bytes; editing that copy must not
    change what check expects (a marker that hides a package, another version, a runtime)."""
    lacking = printing(tmp_path / "bin", "lacking-python", probe_result([]))
    cache = tmp_path / "cache"  # its own: a tampered entry must not leak into other tests
    first = run("check", "-f", str(project), "--format", "json", f"python:{lacking}", env={"ENVMAN_CACHE_DIR": str(cache)})
    assert first.returncode == 1
    assert [(f["name"], f["kind"]) for f in json.loads(first.stdout)["targets"][0]["findings"]] == [("alpha", "missing")]
    cached = next(path for path in (cache / "index").rglob("*") if path.is_file() and _lock_view(path.read_bytes()))
    original = cached.read_bytes()

    def tampered(edit: Callable[[dict[str, Any]], None]) -> list[tuple[str, str]]:
        data = marshal.loads(original)
        edit(data["environments"]["default"]["linux-64"])
        cached.write_bytes(marshal.dumps(data))
        again = run("check", "-f", str(project), "--format", "json", f"python:{lacking}", env={"ENVMAN_CACHE_DIR": str(cache)})
        assert again.returncode == 1, again.stderr
        return [(f["name"], f["kind"]) for f in json.loads(again.stdout)["targets"][0]["findings"]]

    def hide(plock: dict[str, Any]) -> None:  # a marker that makes the missing package not expected here
        plock["python"][0]["marker"] = "sys_platform == 'win32'"

    def runtime(plock: dict[str, Any]) -> None:  # another interpreter version expected
        plock["python_version"] = "2.7"

    def hashes(plock: dict[str, Any]) -> None:
        plock["python"][0]["hashes"] = ["sha256:" + "f" * 64]

    for edit in (hide, runtime, hashes):
        assert tampered(edit) == [("alpha", "missing")], edit.__name__


# -- containers ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_image(docker_client, base_image, tmp_path_factory):
    """The base image with fake interpreters: one that never answers (exec), one whose child
    never ends, one printing deep JSON, one printing terminal escapes."""
    context = tmp_path_factory.mktemp("hostile-image")
    (context / "evil.json").write_text(json.dumps(EVIL))
    (context / "good.json").write_text(json.dumps(GOOD))
    (context / "Dockerfile").write_text(
        f"FROM {base_image}\n"
        "COPY evil.json good.json /opt/\n"
        "RUN printf '#!/bin/sh\\nexec sleep 100041\\n' > /opt/slow-python"
        " && printf '#!/bin/sh\\nsleep 100042\\necho done\\n' > /opt/slow-child-python"
        " && printf '#!/bin/sh\\nexec python3 -c \"print(chr(91) * 100000)\"\\n' > /opt/deep-python"
        " && printf '#!/bin/sh\\ncat /opt/evil.json\\n' > /opt/evil-python"
        " && printf '#!/bin/sh\\ncat /opt/good.json\\n' > /opt/good-python"
        " && chmod +x /opt/*-python\n"
        'ENTRYPOINT ["sh", "-c", "exit 3"]\n'
        f"LABEL org.envman.test-run={uuid.uuid4().hex}\n"  # an image of its own per worker: removed without a conflict
    )
    tag = f"envman-test-hostile:{uuid.uuid4().hex[:8]}"
    image, _ = docker_client.images.build(path=str(context), tag=tag, rm=True, forcerm=True, network_mode="none")
    container = docker_client.containers.run(tag, entrypoint=["sleep", "infinity"], detach=True, network_mode="none",
                                             name=f"envman-hostile-{uuid.uuid4().hex[:8]}")
    yield {"tag": tag, "container": container}
    container.remove(force=True)
    docker_client.images.remove(image.id, force=True)


def _container_processes(container: Any) -> str:
    return json.dumps(container.top(ps_args="-eo pid,args"))


@pytest.mark.parametrize("interpreter", ["/opt/slow-python", "/opt/slow-child-python"])
def test_container_that_never_answers(project, good, hostile_image, interpreter):
    container = hostile_image["container"]
    target = f"docker:{container.name}"
    started = time.monotonic()
    proc = run("check", "-f", str(project), "--timeout", "3", "--format", "json", "--python", interpreter, target, f"python:{good}")
    assert proc.returncode == 4, proc.stderr
    one_error_line(proc, f"{target}: did not answer within 3 s")
    assert reported_targets(proc.stdout) == [f"python:{good}"]
    assert time.monotonic() - started < 60
    time.sleep(0.5)
    assert "10004" not in _container_processes(container)  # the exec and its child were killed
    for args in (["snapshot", target], ["diff", target, "lock:"]):
        proc = run(*args, "-f", str(project), "--timeout", "2", "--python", interpreter)
        assert proc.returncode == 4, (args, proc.stderr)
        one_error_line(proc, f"{target}: did not answer within 2 s")
    time.sleep(0.5)
    assert "10004" not in _container_processes(container)


def test_image_that_never_answers(docker_client, project, good, hostile_image):
    tag = hostile_image["tag"]
    started = time.monotonic()
    proc = run("check", "-f", str(project), "--timeout", "3", "--format", "json", "--python", "/opt/slow-python",
               f"image:{tag}", f"python:{good}")
    assert proc.returncode == 4, proc.stderr
    one_error_line(proc, f"image:{tag}: did not answer within 3 s")
    assert reported_targets(proc.stdout) == [f"python:{good}"]
    assert time.monotonic() - started < 60
    assert docker_client.containers.list(all=True, filters={"ancestor": tag, "label": "org.envman.probe"}) == []


def test_hostile_output_and_escapes_from_a_container(project, good, hostile_image):
    target = f"docker:{hostile_image['container'].name}"
    proc = run("check", "-f", str(project), "--format", "json", "--python", "/opt/deep-python", target, f"python:{good}")
    assert proc.returncode == 4, proc.stderr
    one_error_line(proc, target)
    assert reported_targets(proc.stdout) == [f"python:{good}"]
    proc = run("check", "-f", str(project), "--python", "/opt/evil-python", target, f"image:{hostile_image['tag']}",
               env={"ENVMAN_PROBE_TIMEOUT": "60"})
    assert proc.returncode == 1, proc.stderr  # drift (evil names), not an error
    assert not any(char in proc.stdout + proc.stderr for char in ESCAPES)
    assert "evil\\x1b]0;pwned\\x07" in proc.stdout


# -- 4. containers without Python -----------------------------------------------------------


@pytest.fixture(scope="module")
def no_python_image(docker_client, base_image, tmp_path_factory):
    """No python3; in /usr/share/java a small jar, a 300 KB jar, a FIFO and a symlink named *.jar;
    a label that tries to climb out of the copy folder."""
    context = tmp_path_factory.mktemp("nopy-image")
    make_jar(context / "jars", "com.example", "lib-a", "1.0")
    escape_dir = f"envman-pwn-{uuid.uuid4().hex[:8]}"
    (context / "Dockerfile").write_text(
        f"FROM {base_image}\n"
        "RUN rm -f /usr/bin/python3 /usr/bin/python3.11\n"
        "COPY jars /usr/share/java\n"
        "COPY jars /" + escape_dir + "\n"
        "RUN head -c 300000 /dev/zero > /usr/share/java/big-1.0.jar && mkfifo /usr/share/java/fifo.jar"
        " && ln -s /etc/shadow /usr/share/java/link.jar\n"
        f'LABEL org.envman.jars="../../../../../../../../../{escape_dir}:/usr/share/java"\n'
        'ENTRYPOINT ["sh", "-c", "exit 3"]\n'
        f"LABEL org.envman.test-run={uuid.uuid4().hex}\n"
    )
    tag = f"envman-test-nopy-hostile:{uuid.uuid4().hex[:8]}"
    image, _ = docker_client.images.build(path=str(context), tag=tag, rm=True, forcerm=True, network_mode="none")
    container = docker_client.containers.run(tag, entrypoint=["sleep", "infinity"], detach=True, network_mode="none",
                                             name=f"envman-nopy-hostile-{uuid.uuid4().hex[:8]}")
    yield {"tag": tag, "container": container, "escape": escape_dir}
    container.remove(force=True)
    docker_client.images.remove(image.id, force=True)


def test_files_copied_out_are_bounded_and_confined(project, good, no_python_image, tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {"TMPDIR": str(scratch), "ENVMAN_MAX_COPIED_FILE_BYTES": "100000"}
    for target in (f"docker:{no_python_image['container'].name}", f"image:{no_python_image['tag']}"):
        proc = run("snapshot", target, "-f", str(project), env=env, timeout=120)
        assert proc.returncode == 0, proc.stderr
        snap = json.loads(proc.stdout)
        jars = sorted(p["location"] for p in snap["packages"]["jvm"])
        assert jars == sorted([f"/{no_python_image['escape']}/lib-a-1.0.jar", "/usr/share/java/lib-a-1.0.jar"]), jars
        assert any("big-1.0.jar" in p and "ENVMAN_MAX_COPIED_FILE_BYTES" in p for p in snap["problems"]), snap["problems"]
        assert list(scratch.iterdir()) == []  # the temporary copy is gone
        assert not Path("/" + no_python_image["escape"]).exists()  # nothing written outside it
    # the same image checked with another target: both reported
    proc = run("check", "-f", str(project), "--format", "json", f"docker:{no_python_image['container'].name}", f"python:{good}",
               env=env)
    assert proc.returncode == 1, proc.stderr
    assert len(reported_targets(proc.stdout)) == 2


def test_copy_out_rejects_non_regular_members(tmp_path):
    """The archive the engine sends is read member by member: links, devices and FIFOs are
    never written, and no member lands outside the copy folder."""
    from envman import ecosystems
    from envman.targets.containers import _copy_out

    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for name, kind in (("java/ok.jar", tarfile.REGTYPE), ("java/link.jar", tarfile.SYMTYPE), ("java/hard.jar", tarfile.LNKTYPE),
                           ("java/fifo.jar", tarfile.FIFOTYPE), ("java/dev.jar", tarfile.CHRTYPE), ("java/../../up.jar", tarfile.REGTYPE)):
            info = tarfile.TarInfo(name)
            info.type = kind
            data = b"PK" if kind == tarfile.REGTYPE else b""
            info.size = len(data)
            if kind in (tarfile.SYMTYPE, tarfile.LNKTYPE):
                info.linkname = "/etc/shadow"
            archive.addfile(info, io.BytesIO(data))

    class Container:
        def get_archive(self, folder: str) -> tuple[list[bytes], dict[str, Any]]:
            return [buffer.getvalue()], {}

    root = tmp_path / "root"
    root.mkdir()
    jvm = next(e for e in ecosystems.all_ecosystems() if e.wanted_file("/x", ["a.jar"], False))
    skipped: list[str] = []
    assert _copy_out(Container(), "/opt/java", jvm, root, False, time.monotonic() + 30, skipped)
    written = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file() or p.is_symlink())
    assert written == ["root/opt/java/ok.jar"], written


# -- units: the pieces above, in-process ------------------------------------------------------


def test_output_through_a_symlink_or_to_a_device_is_not_replaced(project, good, tmp_path):
    link = tmp_path / "to-null"
    link.symlink_to("/dev/null")
    for args in (["snapshot", f"python:{good}"], ["check", f"python:{good}"]):
        proc = run(*args, "-f", str(project), "-o", str(link))
        assert proc.returncode == 0, proc.stderr
        assert link.is_symlink() and Path("/dev/null").is_char_device()
    real = tmp_path / "real.json"
    real.write_text("old\n")
    (tmp_path / "to-real").symlink_to(real)
    assert run("snapshot", f"python:{good}", "-o", str(tmp_path / "to-real")).returncode == 0
    assert (tmp_path / "to-real").is_symlink() and json.loads(real.read_text())["target"] == f"python:{good}"


def test_probe_that_cannot_be_killed_is_given_up(monkeypatch):
    """Work without a process to kill (a local scan stuck in the kernel) is abandoned at the
    deadline plus a grace, in a daemon thread: the target is unreachable, envman goes on."""
    import threading

    from envman.errors import UnreachableError
    from envman.targets import ProbeContext, probe
    from envman.targets.spec import parse_target

    stuck = threading.Event()
    monkeypatch.setattr(probe, "_GRACE", 0.2)
    monkeypatch.setattr(probe, "_probe_now", lambda spec, ctx: stuck.wait(30))
    started = time.monotonic()
    with pytest.raises(UnreachableError, match=r"jars:/x: did not answer within 0\.5 s"):
        probe.probe_target(parse_target("jars:/x"), ProbeContext(timeout=0.5))
    assert time.monotonic() - started < 5
    stuck.set()


def test_local_runner_bounds_and_kills(tmp_path, monkeypatch):
    from envman.targets.runners import LocalRunner, OutputTooLarge, RunTimeout

    runner = LocalRunner()
    done = runner.run(["sh", "-c", "printf out; printf err >&2; exit 3"], timeout=10)
    assert (done.returncode, done.stdout, done.stderr) == (3, b"out", b"err")
    assert runner.run(["cat"], input=b"fed", timeout=10).stdout == b"fed"
    started = time.monotonic()
    with pytest.raises(RunTimeout, match=r"did not answer within 0\.5 s"):
        runner.run(["sh", "-c", "sleep 100051 & sleep 100052"], timeout=0.5)
    assert time.monotonic() - started < 5
    time.sleep(0.2)
    assert processes_with("100051") == [] and processes_with("100052") == []
    monkeypatch.setenv("ENVMAN_MAX_PROBE_OUTPUT_BYTES", "1000")
    with pytest.raises(OutputTooLarge, match="ENVMAN_MAX_PROBE_OUTPUT_BYTES"):
        runner.run(["sh", "-c", "head -c 100000 /dev/zero; sleep 100053"], timeout=30)
    assert processes_with("100053") == []
    big_err = runner.run(["sh", "-c", "head -c 3000000 /dev/zero >&2; echo tail >&2"], timeout=30)
    assert len(big_err.stderr) <= 64 << 10 and big_err.stderr.endswith(b"tail\n")


def test_printable_and_tail():
    from envman.report.text import printable, printable_lines, tail

    assert printable("numpy 1.26.4 /opt/venv/lib/python3.11 café") == "numpy 1.26.4 /opt/venv/lib/python3.11 café"
    assert printable("a\x1b]0;x\x07b\x9b1m\u202e\udcff\n") == "a\\x1b]0;x\\x07b\\x9b1m\\u202e\\udcff\\n"
    assert printable_lines("one\x1b\ntwo") == "one\\x1b\ntwo"
    assert tail(b"x" * 5_000_000 + b"\nfirst\n\x1b[2Klast\n\n") == "\\x1b[2Klast"
    assert len(tail(b"y" * 5_000_000)) == 1024


def test_check_caches_no_secret_and_no_alias_bomb_from_the_manifest(project, good, tmp_path):
    cache = tmp_path / "cache"
    manifest = project.read_text().replace("  version: '3.11'\n", "  version: '3.11'\n  index-url: https://user:s3cr3t-t0ken@example.org/simple\n")
    project.write_text(manifest)
    proc = run("check", "-f", str(project), f"python:{good}", env={"ENVMAN_CACHE_DIR": str(cache)})
    assert proc.returncode == 0, proc.stderr
    for path in cache.rglob("*"):
        if path.is_file():
            assert b"s3cr3t-t0ken" not in path.read_bytes(), path
    bomb = "l0: &l0 [x, x, x, x, x, x, x, x, x]\n" + "".join(f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 9)}]\n" for i in range(1, 7))
    project.write_text(project.read_text() + bomb)
    started = time.monotonic()
    proc = run("check", "-f", str(project), f"python:{good}", env={"ENVMAN_CACHE_DIR": str(cache)})
    assert proc.returncode in (0, 2), proc.stderr
    assert time.monotonic() - started < 20
    assert sum(p.stat().st_size for p in cache.rglob("*") if p.is_file()) < 1 << 20
