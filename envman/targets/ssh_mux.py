"""One OpenSSH ControlMaster per SSH destination for envman's process (as Ansible does).

Every new ssh connection costs a key exchange and an authentication on both ends, which is
most of an ssh: target's probe. The first probe of a destination (user, host, port and the
ssh options: `-F FILE`, an inventory's common args) starts a master once (`ssh -M -N -f`,
under that target's deadline; concurrent first probes of the same destination wait for it,
so it is started once), and every later ssh to that destination is a multiplexed session
over it (`-o ControlMaster=no -o ControlPath=…`: no key exchange, no authentication). The
master does the host key check as any ssh would, with the user's config and agent.

Control sockets live in a private folder (mode 0700) made for this process; the masters
are told to exit, and the folder removed, when envman exits. `ControlPersist` (default 60 s
of idle time, `watch` sets its interval plus a margin) ends a master on its own if envman
is killed. At most MAX_SESSIONS sessions share a master at once (OpenSSH's MaxSessions
default is 10). A master that cannot be started is not retried in this process: the
targets of that destination connect as before, one connection each, and report their own
errors. ENVMAN_SSH_MUX=0 turns multiplexing off (the user's own ssh config still applies).
"""

from __future__ import annotations

import atexit
import hashlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

__all__ = ["MUX_VARIABLE", "MAX_SESSIONS", "multiplexed", "set_persist", "close_all", "enabled"]

MUX_VARIABLE = "ENVMAN_SSH_MUX"
MAX_SESSIONS = 8
_DEFAULT_PERSIST = 60


def enabled() -> bool:
    return os.environ.get(MUX_VARIABLE, "1").strip().lower() not in ("0", "no", "false", "off")


class _Master:
    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.Lock()
        self.state = "new"  # new | up | failed
        self.failure: tuple[int, bytes] | None = None  # (exit code, stderr) of the failed start
        self.sessions = threading.BoundedSemaphore(MAX_SESSIONS)
        self.base: list[str] = []  # the ssh command line without the remote part (for -O exit)


class _Masters:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.folder: str | None = None
        self.by_key: dict[tuple[Any, ...], _Master] = {}
        self.persist = _DEFAULT_PERSIST

    def master(self, key: tuple[Any, ...]) -> _Master:
        with self.lock:
            if self.folder is None:
                self.folder = tempfile.mkdtemp(prefix="envman-ssh-")  # 0700
                atexit.register(close_all)
            if key not in self.by_key:
                name = hashlib.sha256(repr(key).encode("utf-8")).hexdigest()[:16]
                self.by_key[key] = _Master(os.path.join(self.folder, name))
            return self.by_key[key]


_masters = _Masters()


def set_persist(seconds: float) -> None:
    """How long an idle master stays up (watch: its interval plus a margin)."""
    _masters.persist = max(10, int(seconds))


def _start(master: _Master, base: Sequence[str], timeout: float) -> None:
    """`ssh -M -N -f …`: the foreground ssh exits once authenticated (the master goes on in
    the background, detached from envman's process group); killed at the deadline."""
    argv = [base[0], "-o", "ControlMaster=yes", "-o", f"ControlPath={master.path}", "-o", f"ControlPersist={_masters.persist}",
            "-N", "-f", *base[1:]]
    log = master.path + ".log"
    with open(log, "wb") as err:
        proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        try:
            code = proc.wait(max(0.5, timeout))
        except subprocess.TimeoutExpired:
            import signal

            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except OSError:
                pass
            proc.wait()
            code = -1
    with open(log, "rb") as handle:
        stderr = handle.read()[-65536:]
    if code == 0 and _socket_up(master.path):
        master.state = "up"
        master.base = list(base)
        return
    master.state = "failed"
    master.failure = (code, b"timed out" if code == -1 and not stderr else stderr)


def _socket_up(path: str, wait: float = 2.0) -> bool:
    """The control socket exists (the master creates it just before the foreground ssh exits)."""
    end = time.monotonic() + wait
    while not os.path.exists(path):
        if time.monotonic() > end:
            return False
        time.sleep(0.01)
    return True


@contextmanager
def multiplexed(key: tuple[Any, ...], base: Sequence[str], timeout: float) -> Iterator[tuple[list[str], tuple[int, bytes] | None]]:
    """(options to put before the destination, the failed start's (code, stderr) or None).

    `base` is the ssh command line up to and including the destination (no remote command):
    the master is started from it. The options are [] when multiplexing is off or the master
    could not be started (the caller then connects on its own); with the failure of a start
    this very call made, so the caller can report it as its own ssh error."""
    if not enabled():
        yield [], None
        return
    master = _masters.master(key)
    failure = None
    with master.lock:  # concurrent first probes of one destination: the master is started once
        if master.state == "new" or (master.state == "up" and not os.path.exists(master.path)):
            _start(master, base, timeout)
            failure = master.failure
    if master.state != "up":
        yield [], failure
        return
    with master.sessions:
        yield ["-o", "ControlMaster=no", "-o", f"ControlPath={master.path}"], None


def close_all() -> None:
    """Tell every master to exit (`ssh -O exit`) and remove the private folder."""
    with _masters.lock:
        masters = list(_masters.by_key.values())
        folder = _masters.folder
        _masters.by_key.clear()
        _masters.folder = None
    for master in masters:
        if master.state == "up" and os.path.exists(master.path):
            argv = [master.base[0], "-o", f"ControlPath={master.path}", "-O", "exit", *master.base[1:]]
            try:
                subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=5)
            except (OSError, subprocess.SubprocessError):
                pass
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)
