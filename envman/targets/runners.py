"""Runners: run a command where a target lives (this machine, a running container).

A target may be hostile or broken: every run has a deadline (the process, or the
container exec and everything it started, is killed when it passes) and its output is
read with a bound (limit("probe_output_bytes") for stdout; only the last STDERR_TAIL bytes
of stderr are kept, enough for a one-line message).
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from typing import Any

from envman.ecosystems.base import RunResult
from envman.errors import UnreachableError
from envman.limits import LIMITS, limit

__all__ = ["LocalRunner", "ContainerRunner", "RunTimeout", "OutputTooLarge", "STDERR_TAIL", "kill_container_process"]

STDERR_TAIL = 64 << 10  # bytes of a target's stderr kept (its last lines make the message)
_CHUNK = 1 << 16

# Probes still running (process groups here, container execs): killed when envman exits
# early (Ctrl-C, an error in another target), since a probe runs in its own session and
# would not see the terminal's SIGINT.
_live_lock = threading.Lock()
_live: dict[object, Any] = {}


def _register(key: object, kill: Any) -> None:
    with _live_lock:
        if not _live:
            import atexit

            atexit.register(_kill_live)
        _live[key] = kill


def _unregister(key: object) -> None:
    with _live_lock:
        _live.pop(key, None)


def _kill_live() -> None:
    with _live_lock:
        kills = list(_live.values())
        _live.clear()
    for kill in kills:
        try:
            kill()
        except Exception:
            pass


class RunTimeout(UnreachableError):
    """The command did not finish before its deadline (it was killed)."""

    def __init__(self, program: str, timeout: float) -> None:
        super().__init__(f"{program} did not answer within {timeout:g} s")
        self.timeout = timeout


class OutputTooLarge(UnreachableError):
    """The command printed more than limit("probe_output_bytes") (it was killed)."""

    def __init__(self, program: str) -> None:
        variable = LIMITS["probe_output_bytes"][0]
        super().__init__(f"{program} printed more than {limit('probe_output_bytes'):,} bytes (set {variable} to raise the limit)")


class _Output:
    """stdout bounded by the limit, stderr reduced to its tail."""

    def __init__(self) -> None:
        self.maximum = limit("probe_output_bytes")
        self.out: list[bytes] = []
        self.size = 0
        self.err = bytearray()
        self.too_large = False

    def add(self, chunk: bytes, is_err: bool) -> bool:
        """Keep a chunk; False once stdout is over the limit."""
        if is_err:
            self.err += chunk
            if len(self.err) > 2 * STDERR_TAIL:
                del self.err[:-STDERR_TAIL]
            return True
        self.size += len(chunk)
        if self.size > self.maximum:
            self.too_large = True
            return False
        self.out.append(chunk)
        return True

    def result(self, code: int) -> RunResult:
        return RunResult(code, b"".join(self.out), bytes(self.err[-STDERR_TAIL:]))


class LocalRunner:
    """Runs on this machine. With clean_python_env, PYTHONPATH/PYTHONHOME of envman's own
    process do not leak into the interpreter probed (it is inspected as it is installed).

    The command runs in its own session (process group): at the deadline, or when it prints
    too much, the whole group is killed, so `sh -c 'sleep 1000'` leaves nothing behind."""

    def __init__(self, clean_python_env: bool = True) -> None:
        self.env = None
        if clean_python_env:
            self.env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP", "PYTHONUSERBASE")}

    def run(self, argv: Sequence[str], input: bytes | None = None, timeout: float = 120) -> RunResult:
        deadline = time.monotonic() + timeout
        posix = os.name == "posix"
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=self.env,
            start_new_session=posix,
        )
        output = _Output()
        _register(proc, lambda: _kill_group(proc, posix, reap=False))
        try:
            if input is not None:
                threading.Thread(target=_feed, args=(proc.stdin, input), daemon=True).start()
            try:
                (_drain_pipes if posix else _drain_threads)(proc, output, deadline)
                if output.too_large:
                    raise OutputTooLarge(argv[0])
                code = proc.wait(max(0.0, deadline - time.monotonic()))
            except (_Expired, subprocess.TimeoutExpired):
                raise RunTimeout(argv[0], timeout) from None
        except BaseException:
            _kill_group(proc, posix)
            raise
        finally:
            _unregister(proc)
            for pipe in (proc.stdout, proc.stderr):
                if pipe is not None:
                    pipe.close()
        return output.result(code)

    def read_file(self, path: str) -> bytes:
        from envman.limits import read_regular_file

        return read_regular_file(path, "member_bytes")


def _feed(pipe: Any, data: bytes) -> None:
    try:
        pipe.write(data)
        pipe.close()
    except OSError:
        pass


class _Expired(Exception):
    """The deadline passed while reading."""


def _drain_pipes(proc: subprocess.Popen[bytes], output: _Output, deadline: float) -> None:
    """Read stdout and stderr until both close, the deadline passes (_Expired), or stdout is too large."""
    import selectors

    with selectors.DefaultSelector() as selector:
        selector.register(proc.stdout, selectors.EVENT_READ, False)  # type: ignore[arg-type]
        selector.register(proc.stderr, selectors.EVENT_READ, True)  # type: ignore[arg-type]
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Expired
            for key, _events in selector.select(left):
                chunk = os.read(key.fd, _CHUNK)
                if not chunk:
                    selector.unregister(key.fileobj)
                elif not output.add(chunk, key.data):
                    return


def _drain_threads(proc: subprocess.Popen[bytes], output: _Output, deadline: float) -> None:  # pragma: no cover - Windows
    lock = threading.Lock()

    def pump(pipe: Any, is_err: bool) -> None:
        for chunk in iter(lambda: pipe.read1(_CHUNK), b""):
            with lock:
                if not output.add(chunk, is_err):
                    return

    pipes = ((proc.stdout, False), (proc.stderr, True))
    readers = [threading.Thread(target=pump, args=pipe, daemon=True) for pipe in pipes]
    for reader in readers:
        reader.start()
    for reader in readers:
        reader.join(max(0.0, deadline - time.monotonic()))
        if output.too_large:
            return
        if reader.is_alive():
            raise _Expired


def _kill_group(proc: subprocess.Popen[bytes], posix: bool, reap: bool = True) -> None:
    """Kill the command and everything in its session; reap it."""
    if posix:  # the leader is not reaped yet: its pid still names the group
        import signal

        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    if proc.poll() is None:
        try:
            proc.kill()
        except OSError:
            pass
    if not reap:
        return
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:  # pragma: no cover - unkillable (D state)
        pass


# -- containers ----------------------------------------------------------------------


class ContainerRunner:
    """`docker exec` through the SDK; `what` names the target in errors.

    The exec's output is streamed (bounded) by a reader thread while this one waits for
    the deadline; past it, the stream is closed and the exec's processes are killed."""

    def __init__(self, container: Any, what: str) -> None:
        self.container = container
        self.what = what

    def run(self, argv: Sequence[str], input: bytes | None = None, timeout: float = 120) -> RunResult:
        import docker.errors

        if input is not None:
            raise ValueError("ContainerRunner does not pass stdin")
        api = self.container.client.api
        deadline = time.monotonic() + timeout
        try:
            exec_id = api.exec_create(self.container.id, list(argv), stdout=True, stderr=True)["Id"]
            stream = api.exec_start(exec_id, stream=True, demux=True)
        except docker.errors.APIError as exc:
            raise UnreachableError(f"{self.what}: cannot exec in the container: {exc.explanation or exc}") from None
        except docker.errors.DockerException as exc:
            raise UnreachableError(f"{self.what}: the Docker engine is not reachable: {exc}") from None
        output = _Output()
        reader = _StreamReader(stream, output)
        thread = threading.Thread(target=reader.run, daemon=True, name=f"envman-exec-{exec_id[:12]}")
        _register(reader, lambda: kill_container_process(api, exec_id, self.container.id))
        try:
            thread.start()
            thread.join(max(0.0, deadline - time.monotonic()))
        finally:
            _unregister(reader)
        if thread.is_alive() or output.too_large:
            reader.close()
            kill_container_process(api, exec_id, self.container.id)
            thread.join(5)
            if output.too_large:
                raise OutputTooLarge(argv[0])
            raise RunTimeout(argv[0], timeout)
        if reader.error is not None:
            raise UnreachableError(f"{self.what}: the Docker engine stopped answering: {reader.error}")
        out, err = b"".join(output.out), bytes(output.err[-STDERR_TAIL:])
        try:
            if out and not err and out.rstrip().endswith(b"}"):
                code = 0  # a complete JSON answer and nothing on stderr: spare the inspect call
            else:
                code = api.exec_inspect(exec_id).get("ExitCode")
        except docker.errors.APIError as exc:
            raise UnreachableError(f"{self.what}: cannot exec in the container: {exc.explanation or exc}") from None
        except docker.errors.DockerException as exc:
            raise UnreachableError(f"{self.what}: the Docker engine is not reachable: {exc}") from None
        if code in (126, 127) and (not out or b"OCI runtime exec failed" in out):
            raise FileNotFoundError(argv[0])
        return RunResult(code if code is not None else 1, out, err)

    def read_file(self, path: str) -> bytes:
        import io
        import tarfile

        maximum = limit("member_bytes")
        stream, _ = self.container.get_archive(path)
        data = io.BytesIO()
        for chunk in stream:
            data.write(chunk)
            if data.tell() > maximum + 4096:  # the tar header and padding around one file
                raise UnreachableError(f"{self.what}: {path} is larger than {maximum:,} bytes")
        data.seek(0)
        with tarfile.open(fileobj=data) as archive:
            member = archive.next()
            handle = archive.extractfile(member) if member is not None and member.isfile() else None
            if handle is None:
                raise FileNotFoundError(path)
            return handle.read()


class _StreamReader:
    """Reads a demultiplexed exec stream into an _Output (in its own thread)."""

    def __init__(self, stream: Any, output: _Output) -> None:
        self.stream = stream
        self.output = output
        self.error: str | None = None
        self._closed = False

    def run(self) -> None:
        try:
            for out, err in _frames(self.stream):
                if self._closed:
                    return
                if out and not self.output.add(out, False):
                    return
                if err:
                    self.output.add(err, True)
        except Exception as exc:  # the engine went away or the stream was closed
            if not self._closed:
                self.error = f"{type(exc).__name__}: {exc}"

    def close(self) -> None:
        self._closed = True
        try:
            self.stream.close()
        except Exception:
            pass


def _frames(stream: Any) -> Iterator[tuple[bytes | None, bytes | None]]:
    yield from stream


def kill_container_process(api: Any, exec_id: str, container_id: str) -> bool:
    """Kill a running exec and the processes it started. The engine has no call for that:
    its host pid (from the exec's inspect) is killed when it is visible here and belongs to
    the container (its cgroup names the container's id); False when it could not be done
    (a remote engine: the process then ends with the container)."""
    try:
        info = api.exec_inspect(exec_id)
    except Exception:
        return False
    pid = int(info.get("Pid") or 0)
    if not info.get("Running") or pid <= 0:
        return True
    return kill_host_tree(pid, container_id)


def kill_host_tree(pid: int, container_id: str) -> bool:
    import signal

    try:
        with open(f"/proc/{pid}/cgroup", encoding="utf-8", errors="replace") as handle:
            if container_id not in handle.read():
                return False
    except OSError:
        return False
    victims = [pid, *_descendants(pid)]
    killed = False
    for victim in victims:
        try:
            os.kill(victim, signal.SIGKILL)
            killed = True
        except (ProcessLookupError, PermissionError):
            pass
    return killed


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    todo = [pid]
    while todo and len(found) < 10_000:
        current = todo.pop()
        try:
            tasks = os.listdir(f"/proc/{current}/task")
        except OSError:
            continue
        for task in tasks:
            try:
                with open(f"/proc/{current}/task/{task}/children", encoding="ascii") as handle:
                    children = [int(p) for p in handle.read().split()]
            except (OSError, ValueError):
                continue
            found += children
            todo += children
    return found
