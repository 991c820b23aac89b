"""Hostile manifests and locks: special files, size, YAML bombs, tampering, concurrent edits,
Ctrl-C. Each case: the documented exit code, one `envman: error:` line, no traceback, and
nothing half-written."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from envman import ecosystems
from envman.lockfile.fastpath import manifest_data, manifest_hashes_from_data
from tests.core.toy_ecosystem import ECOSYSTEM as TOY
from tests.python.conftest import run_envman

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "churn-model"
LOCKING = ["validate", "lock", "lock --check", "export --format requirements", "why numpy", "check lock:production"]


def one_error_line(stderr: str) -> None:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("envman: error: "), stderr
    assert "Traceback" not in stderr


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    for name in ("envman.yaml", "envman.lock"):
        (tmp_path / name).write_bytes((EXAMPLE / name).read_bytes())
    return tmp_path


def run(project: Path, command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return run_envman(*command.split(), cwd=project, timeout=timeout, env={"ENVMAN_NO_FAST_PATH": ""})


SPECIAL_CASES = [(which, command) for which in ("envman.yaml", "envman.lock") for command in LOCKING
                 if not (which == "envman.lock" and command == "validate")]  # validate reads only the manifest


@pytest.mark.parametrize("which, command", SPECIAL_CASES)
def test_special_files_are_refused_not_read(project, which, command):
    path = project / which
    path.unlink()
    os.mkfifo(path)  # a FIFO nobody writes to: opening it for reading would wait forever
    done = run(project, command, timeout=30)
    assert done.returncode == 2, (done.stdout, done.stderr)
    one_error_line(done.stderr)
    assert "not a regular file" in done.stderr
    path.unlink()
    path.symlink_to("/dev/zero")  # endless: must not be read at all
    done = run(project, command, timeout=30)
    assert done.returncode == 2 and "not a regular file" in done.stderr, done.stderr


def test_manifest_size_limit(project):
    (project / "envman.yaml").write_text((EXAMPLE / "envman.yaml").read_text() + "#" + "x" * (2 << 20) + "\n")
    done = run(project, "validate")
    assert done.returncode == 2 and "ENVMAN_MAX_MANIFEST_BYTES" in done.stderr
    one_error_line(done.stderr)


BOMB = "version: 1\na: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, "
    f"*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
    for i in range(8)
) + "python: {packages: [six]}\n"


@pytest.mark.parametrize(
    "text, message",
    [
        (BOMB, "anchors and aliases"),
        ("version: 1\npython: {packages: " + "[" * 2000 + "]" * 2000 + "}\n", "nested more than"),
        ("version: 1\nname: " + "1" * 5000 + "\npython: {packages: [six]}\n", "digits"),
    ],
    ids=["alias-bomb", "deep", "huge-int"],
)
def test_hostile_yaml_is_refused_fast_with_a_position(project, text, message):
    (project / "envman.yaml").write_text(text)
    for command in ("validate", "lock --check", "lock"):
        started = time.monotonic()
        done = run_envman(*command.split(), cwd=project, timeout=30)  # the fast path too
        assert done.returncode == 2, (command, done.stderr)
        assert time.monotonic() - started < 10
        one_error_line(done.stderr)
        assert message in done.stderr and "envman.yaml:" in done.stderr
    assert (project / "envman.lock").read_bytes() == (EXAMPLE / "envman.lock").read_bytes()


def test_hostile_yaml_in_the_lock(project):
    (project / "envman.lock").write_text(BOMB)
    done = run(project, "lock --check")
    assert done.returncode == 2 and "anchors and aliases" in done.stderr
    one_error_line(done.stderr)


@pytest.mark.parametrize("version", ["true", "1.0", "'1'"])
def test_lock_version_must_be_the_integer_1(project, version):
    lock = project / "envman.lock"
    lock.write_text(lock.read_text().replace("\nversion: 1\n", f"\nversion: {version}\n"))
    done = run(project, "lock --check")
    assert done.returncode == 2 and "unsupported lock version" in done.stderr
    one_error_line(done.stderr)


@pytest.mark.parametrize(
    "edit",
    [
        lambda t: t.replace("version: 2.4.6", "version: 2.4.7", 1),  # a pin
        lambda t: t.replace("- sha256:", "- sha256:0", 1),  # a hash
        lambda t: t[: t.rindex("\n      - name: ")] + "\n",  # cut short (still valid YAML)
    ],
    ids=["version", "hash", "truncated"],
)
def test_a_tampered_lock_is_never_fresh(project, edit):
    lock = project / "envman.lock"
    lock.write_text(edit(lock.read_text()))
    tampered = lock.read_bytes()
    for fast in ("", "1"):
        done = run_envman("lock", "--check", cwd=project, env={"ENVMAN_NO_FAST_PATH": fast})
        assert done.returncode == 1, done.stderr
        assert "edited by hand" in done.stderr
    done = run(project, "export --format requirements")
    assert done.returncode == 1 and "edited by hand" in done.stderr
    one_error_line(done.stderr)
    assert lock.read_bytes() == tampered  # nothing rewritten by check or export


def test_lock_rewrites_a_tampered_lock_from_a_full_resolution(tmp_path):
    ecosystems.register(TOY)
    try:
        from envman.cli.main import run as cli

        (tmp_path / "envman.yaml").write_text("version: 1\ntoy: {packages: [alpha]}\n")
        argv = ["lock", "-f", str(tmp_path / "envman.yaml")]
        with pytest.raises(SystemExit):
            cli(argv)
        lock = tmp_path / "envman.lock"
        good = lock.read_text()
        lock.write_text(good.replace("version: '1.1'", "version: '1.0'"))
        with pytest.raises(SystemExit) as exited:
            cli(argv)
        assert exited.value.code == 0
        assert lock.read_text() == good  # not "up to date": resolved again, the edit is gone
    finally:
        ecosystems.unregister(TOY.name)


def test_manifest_edited_while_locking_gives_the_lock_of_what_was_read(tmp_path):
    """The manifest is read once: the lock's hash and its pins always belong to one text."""
    ecosystems.register(TOY)
    try:
        from envman.cli.main import run as cli
        from envman.lockfile import read_lock

        texts = ["version: 1\ntoy: {packages: [alpha]}\n", "version: 1\ntoy: {packages: [delta]}\n"]
        pins = {"alpha": {"alpha", "gamma"}, "delta": {"delta"}}
        hashes = {manifest_hashes_from_data(manifest_data(t))["toy"]: t for t in texts}
        manifest = tmp_path / "envman.yaml"
        for trial in range(30):
            manifest.write_text(texts[trial % 2])
            stop = threading.Event()

            def edit(stop: threading.Event = stop) -> None:
                i = 0
                while not stop.is_set():  # as editors save: a new file renamed over the old one
                    fresh = manifest.with_name(f".envman.yaml.{i}")
                    fresh.write_text(texts[i % 2])
                    os.replace(fresh, manifest)
                    i += 1
                    time.sleep(0.001)

            editor = threading.Thread(target=edit)
            editor.start()
            try:
                with pytest.raises(SystemExit) as exited:
                    cli(["lock", "-f", str(manifest), "--upgrade"])
            finally:
                stop.set()
                editor.join()
            assert exited.value.code == 0, trial
            lock = read_lock(tmp_path / "envman.lock")
            text = hashes[lock.manifest_hash["toy"]]
            root = "alpha" if "alpha" in text else "delta"
            names = {e.name for e in lock.environments["default"]["linux-64"].entries("toy")}
            assert names == pins[root], (trial, names, root)
    finally:
        ecosystems.unregister(TOY.name)


def test_init_in_a_read_only_folder(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        done = run_envman("init", cwd=folder)
        if os.geteuid() == 0:  # root writes anyway; the command must still succeed cleanly
            assert done.returncode == 0, done.stderr
        else:
            assert done.returncode == 2
            one_error_line(done.stderr)
    finally:
        folder.chmod(0o755)


def test_init_read_only_target_file(tmp_path):
    """Even as root: a manifest path whose parent is a file cannot be written -> exit 2."""
    (tmp_path / "afile").write_text("")
    done = run_envman("init", "-f", str(tmp_path / "afile" / "envman.yaml"), cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    one_error_line(done.stderr)


@pytest.mark.parametrize("delay", [0.03, 0.05, 0.08, 0.12, 0.2])
def test_ctrl_c_is_one_line_and_exit_130(tmp_path, delay):
    """At any moment once envman's code runs (imports included): one line, exit 130. A signal
    that lands in the interpreter's own first milliseconds of start-up (before any envman code)
    is Python's to handle: that sample is taken again a little later."""
    script = Path(sys.executable).with_name("envman")
    for attempt in range(10):
        proc = subprocess.Popen(
            [str(script), "check", "python:" + sys.executable, "-f", str(tmp_path / "none.yaml")],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
        )
        time.sleep(delay + 0.02 * attempt)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=30)
        if proc.returncode == 130 or "/envman/" in err or proc.returncode == 2:
            break  # envman's code ran (or it had finished: no manifest, exit 2)
    assert proc.returncode in (130, 2), err
    if proc.returncode == 130:
        assert err.strip() == "envman: interrupted", err
    else:
        one_error_line(err)
