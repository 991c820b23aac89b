"""ssh:[USER@]HOST[:PORT][/PATH-TO-PYTHON] targets, through OpenSSH's own client.

The same probe script as in containers runs with the host's Python (`ssh HOST exec PYTHON -
OPTIONS…`, the script on stdin): the user's ~/.ssh/config, agent and known_hosts apply, plus
`-F FILE` (--ssh-config) and an inventory's ansible_ssh_common_args. envman adds BatchMode
(no password or passphrase prompt ever waits, none is ever on a command line) and never
relaxes host key checking: an unknown or changed host key is an unreachable target.

A host without Python is read like a container without one: the R libraries, jar folders
and conda prefixes the ecosystems name are streamed out with `tar` over the same connection
and scanned here by the same readers (envman.targets.containers).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, NamedTuple

from envman import ecosystems
from envman.ecosystems.base import RunResult
from envman.errors import BadInputError, UnreachableError
from envman.snapshot import Snapshot
from envman.targets.context import ProbeContext, remaining, timed_out
from envman.targets.spec import TargetSpec

__all__ = ["SSHAddress", "parse_ssh", "ssh_argv", "check_ssh_options", "SSHRunner", "probe_ssh", "SSH_EXIT"]

SSH_EXIT = 255  # ssh's own failures (connection, authentication, host key)
_HOST = re.compile(r"\[[0-9A-Fa-f:.%a-zA-Z]+\]|[A-Za-z0-9_][A-Za-z0-9_.-]*")
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
# options that would turn off host key checking or ask for a password: refused
_RELAXED = re.compile(
    r"stricthostkeychecking\s*[= ]\s*(no|off)|userknownhostsfile\s*[= ]\s*/dev/null|batchmode\s*[= ]\s*no|"
    r"globalknownhostsfile\s*[= ]\s*/dev/null",
    re.IGNORECASE,
)


class SSHAddress(NamedTuple):
    user: str | None
    host: str
    port: int | None
    interpreter: str | None  # the remote interpreter, when the target names one

    def destination(self) -> str:
        """user@host:port as shown to people."""
        text = f"{self.user}@{self.host}" if self.user else self.host
        return f"{text}:{self.port}" if self.port else text


def parse_ssh(value: str, what: str) -> SSHAddress:
    """[USER@]HOST[:PORT][/PATH] (pure). HOST may be [IPv6]; PATH is absolute."""
    rest, slash, path = value.partition("/")
    interpreter = "/" + path if slash else None
    user = None
    if "@" in rest:
        user, _, rest = rest.rpartition("@")
        if not _USER.fullmatch(user):
            raise BadInputError(f"target {what!r}: {user!r} is not a user name")
    host, port_text = rest, ""
    if rest.startswith("["):
        end = rest.find("]")
        host, port_text = rest[: end + 1], rest[end + 1 :].removeprefix(":")
    elif rest.count(":") == 1:
        host, port_text = rest.split(":")
    port = None
    if port_text:
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise BadInputError(f"target {what!r}: {port_text!r} is not a port")
        port = int(port_text)
    if not _HOST.fullmatch(host):
        raise BadInputError(f"target {what!r}: expected ssh:[USER@]HOST[:PORT][/PATH-TO-PYTHON], {host!r} is not a host name")
    if interpreter is not None and (interpreter.endswith("/") or any(ord(c) < 32 for c in interpreter)):
        raise BadInputError(f"target {what!r}: {interpreter!r} is not a path to an interpreter")
    return SSHAddress(user, host.strip("[]") if host.startswith("[") else host, port, interpreter)


def check_ssh_options(options: Sequence[str], where: str) -> tuple[str, ...]:
    """Extra client arguments (-F FILE, inventory common args): those that would skip host
    key checks or allow a prompt are bad input."""
    for item in (*options, " ".join(options)):
        if _RELAXED.search(item.replace("-o", " ")):
            raise BadInputError(f"{where}: {item!r} is refused: envman always checks host keys and never asks for a password")
    return tuple(options)


def ssh_argv(
    address: SSHAddress, options: Sequence[str], remote: Sequence[str] | None, connect_timeout: float, mux: Sequence[str] = ()
) -> list[str]:
    """The ssh command line (pure): options envman insists on, the multiplexing options
    (ssh_mux), then the user's, then the host; no remote command when `remote` is None."""
    argv = [
        "ssh",
        "-o", "BatchMode=yes",
        "-o", f"ConnectTimeout={max(1, int(connect_timeout))}",
        "-o", "ClearAllForwardings=yes",
        "-T", "-x", "-a",
        *mux,
    ]
    if address.port:
        argv += ["-p", str(address.port)]
    if address.user:
        argv += ["-l", address.user]
    argv += [*options, "--", address.host]
    if remote is not None:
        argv.append(" ".join(shlex.quote(part) for part in remote))
    return argv


def _ssh_problem(stderr: bytes) -> str:
    from envman.report.text import tail

    text = tail(stderr, lines=3) or "ssh failed"
    lowered = text.lower()
    if "host key verification failed" in lowered or "no ed25519 host key is known" in lowered:
        text += " (add the host's key to known_hosts, as `ssh-keyscan` or a first interactive ssh would; envman never skips the check)"
    elif "permission denied" in lowered:
        text += " (envman uses BatchMode: the key must be in the agent or unencrypted; no password is asked)"
    return text


class SSHRunner:
    """Runs a command on the host: `ssh … HOST 'exec CMD…'` (a Runner). A probe (`PYTHON -c
    SCRIPT …`) is sent as `PYTHON - …` with the script on stdin, so no remote command line
    carries it. ssh itself runs locally under envman's deadline (LocalRunner: killed with its
    whole process group when the deadline passes)."""

    def __init__(self, address: SSHAddress, options: Sequence[str], what: str, nominal: float | None = None) -> None:
        self.address = address
        self.options = tuple(options)
        self.what = what
        self.nominal = nominal  # the --timeout the user gave, for messages

    def run(self, argv: Sequence[str], input: bytes | None = None, timeout: float = 120) -> RunResult:
        from envman.targets.runners import LocalRunner

        program = argv[0]
        remote = list(argv)
        if len(remote) >= 3 and remote[1] == "-c" and input is None:
            input = remote[2].encode("utf-8")
            remote = [remote[0], "-", *remote[3:]]
        command = ["exec", *remote]
        deadline = time.monotonic() + timeout
        with self.session(timeout) as mux:  # a master started here took part of the time
            argv = ssh_argv(self.address, self.options, command, timeout, mux)
            result = LocalRunner(clean_python_env=False).run(argv, input=input, timeout=max(0.5, deadline - time.monotonic()))
        self._raise_ssh_failure(result.returncode, result.stderr, timeout)
        if result.returncode == 127 and not result.stdout:
            raise FileNotFoundError(program)
        return result

    @contextmanager
    def session(self, timeout: float) -> Iterator[list[str]]:
        """The multiplexing options for one ssh to this destination (ssh_mux: the first
        session starts the master, within `timeout`); a master that could not be started
        is this target's ssh error."""
        from envman.targets import ssh_mux

        key = (self.address.user, self.address.host, self.address.port, self.options)
        base = ssh_argv(self.address, self.options, None, timeout)
        with ssh_mux.multiplexed(key, base, timeout) as (mux, failure):
            if failure is not None:
                self._raise_ssh_failure(SSH_EXIT if failure[0] in (-1, SSH_EXIT) else failure[0], failure[1], timeout)
            yield mux

    def _raise_ssh_failure(self, code: int, stderr: bytes, timeout: float) -> None:
        if code == SSH_EXIT:
            if b"timed out" in stderr.lower():  # no answer (ConnectTimeout, a stalled banner exchange)
                raise UnreachableError(timed_out(self.what, self.nominal or timeout, "ssh"))
            raise UnreachableError(f"{self.what}: ssh to {self.address.destination()} failed: {_ssh_problem(stderr)}")

    def read_file(self, path: str) -> bytes:
        from envman.limits import limit

        result = self.run(["cat", "--", path], timeout=60)
        if result.returncode != 0:
            raise FileNotFoundError(path)
        if len(result.stdout) > limit("member_bytes"):
            raise UnreachableError(f"{self.what}: {path} is larger than {limit('member_bytes'):,} bytes")
        return result.stdout


# -- a host without Python: its folders' wanted files streamed out with tar ---------------

_LIST_SCRIPT = (
    b'for d in "$@"; do if [ -d "$d" ]; then printf "D%s\\0" "$d"; find "$d/." -type f -print0 2>/dev/null; fi; done; exit 0\n'
)


class _HostFiles:
    """The copy function for containers._probe_files over SSH, in two round trips whatever
    the number of folders (each ssh connection costs a key exchange): one `find -print0` of
    every folder the ecosystems name, then one `tar -c` of the files they want
    (Ecosystem.wanted_file), unpacked here as the container copy unpacks: regular files only,
    confined to the copy's root, none over copied_file_limit(). `ssh` is killed at the deadline."""

    def __init__(self, runner: SSHRunner, owners: dict[str, list[Any]], deep: bool) -> None:
        self.runner = runner
        self.owners = owners  # folder -> the ecosystems that read it
        self.deep = deep
        self.fetched: set[str] | None = None

    def __call__(self, folder: str, eco: Any, root: Any, deep: bool, deadline: float, skipped: list[str]) -> bool:
        import posixpath

        if self.fetched is None:
            self.fetched = self._fetch(root, deadline, skipped)
        return posixpath.normpath("/" + folder) in self.fetched

    def _fetch(self, root: Any, deadline: float, skipped: list[str]) -> set[str]:
        listing = self.runner.run(["sh", "-s", "--", *self.owners], input=_LIST_SCRIPT, timeout=max(1.0, deadline - time.monotonic()))
        existing: set[str] = set()
        members: list[bytes] = []
        current = ""
        for raw in listing.stdout.split(b"\0"):
            if raw.startswith(b"D/"):
                current = raw[1:].decode("utf-8", "surrogateescape")
                existing.add(current)
                continue
            path = raw.decode("utf-8", "surrogateescape")
            prefix = current.rstrip("/") + "/./"
            if current and path.startswith(prefix):
                rel = path[len(prefix) :].split("/")
                if ".." not in rel and any(eco.wanted_file(current, rel, self.deep) for eco in self.owners.get(current, [])):
                    members.append((current.rstrip("/") + "/" + "/".join(rel)).lstrip("/").encode("utf-8", "surrogateescape"))
        if members:
            self._untar(sorted(set(members)), root, deadline, skipped)
        return existing

    def _untar(self, members: list[bytes], root: Any, deadline: float, skipped: list[str]) -> None:
        with self.runner.session(max(1.0, deadline - time.monotonic())) as mux:
            argv = ssh_argv(self.runner.address, self.runner.options, ["exec", "tar", "-C", "/", "--null", "-T", "-", "-cf", "-"], 10, mux)
            self._unpack(argv, members, root, deadline, skipped)

    def _unpack(self, argv: list[str], members: list[bytes], root: Any, deadline: float, skipped: list[str]) -> None:
        import shutil
        import tarfile

        from envman.limits import confined_path
        from envman.targets.containers import copied_file_limit

        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
        timer = threading.Timer(max(0.0, deadline - time.monotonic()), proc.kill)
        timer.daemon = True
        timer.start()
        names = b"\0".join(members) + b"\0"

        def feed() -> None:
            try:
                assert proc.stdin is not None
                proc.stdin.write(names)
                proc.stdin.close()
            except OSError:
                pass

        threading.Thread(target=feed, daemon=True).start()
        maximum = copied_file_limit()
        try:
            with tarfile.open(fileobj=proc.stdout, mode="r|") as archive:
                for member in archive:
                    if not member.isfile():
                        continue
                    if member.size > maximum:
                        skipped.append(f"/{member.name} ({member.size:,} bytes)")
                        continue
                    dest = confined_path(root, member.name.lstrip("/"), "a file copied from the host")
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    source = archive.extractfile(member)
                    if source is not None:
                        with open(dest, "wb") as handle:
                            shutil.copyfileobj(source, handle)
        except tarfile.ReadError:
            if time.monotonic() >= deadline:
                raise UnreachableError(timed_out(self.runner.what, self.runner.nominal or 0, "copying its files out")) from None
            raise
        finally:
            timer.cancel()
            if proc.poll() is None:
                proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()


def _probe_files(runner: SSHRunner, ctx: ProbeContext, interpreter: str, what: str) -> dict[str, Any]:
    import posixpath

    from envman.targets import containers

    owners: dict[str, list[Any]] = {}
    for eco in ecosystems.all_ecosystems():
        if not eco.probe_interpreter and ctx.probes(eco):
            for folder in eco.file_folders(ctx.places.of(eco.name), None, []):
                owners.setdefault(posixpath.normpath("/" + folder), []).append(eco)
    return containers._probe_files(None, [], {}, ctx, interpreter, what, copy=_HostFiles(runner, owners, ctx.deep))


def probe_ssh(spec: TargetSpec, ctx: ProbeContext) -> Snapshot:
    """Snapshot of a host over SSH: the probe with its Python (the target's PATH, else
    --python / envman_python, else python3), or its files when it has none."""
    from envman.targets.containers import _options
    from envman.targets.probe_runner import NoInterpreter, run_probe
    from envman.targets.reading import snapshot_from_probe

    address = parse_ssh(spec.value, spec.text)
    runner = SSHRunner(address, spec.ssh_options, spec.text, ctx.timeout)
    interpreter, options = _options({}, ctx)
    if address.interpreter:
        interpreter = address.interpreter
    try:
        data = run_probe(runner, interpreter, options, spec.text, remaining(ctx), ctx.timeout)
    except NoInterpreter:
        data = _probe_files(runner, ctx, interpreter, spec.text)
    return snapshot_from_probe(spec.text, ctx.probed_names(), data, ctx.known)
