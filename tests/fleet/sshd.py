"""A real OpenSSH server (Debian's openssh-server) on 127.0.0.1 for tests: a throwaway host
key and user key, authorized_keys, a known_hosts file and a client config (`ssh -F`)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import NamedTuple

__all__ = ["SSHServer", "start_sshd", "free_port"]


class SSHServer(NamedTuple):
    """log: sshd's own log (LogLevel INFO: one "Accepted publickey" line per connection)."""

    port: int
    user: str
    config: Path  # client config: identity, known_hosts, no agent, no user config
    known_hosts: Path
    process: subprocess.Popen[bytes]
    log: Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start_sshd(folder: Path) -> SSHServer:
    sshd = "/usr/sbin/sshd"
    if not os.path.exists(sshd) or shutil.which("ssh-keygen") is None:
        raise RuntimeError("openssh-server is not installed (tests/setup/apt-packages.txt)")
    folder.mkdir(parents=True, exist_ok=True)
    os.chmod(folder, 0o700)
    host_key, user_key = folder / "host_ed25519", folder / "user_ed25519"
    for key in (host_key, user_key):
        subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)
    authorized = folder / "authorized_keys"
    authorized.write_text(user_key.with_suffix(".pub").read_text())
    os.chmod(authorized, 0o600)
    port = free_port()
    import pwd

    user = pwd.getpwuid(os.getuid()).pw_name
    config = folder / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {host_key}\nPidFile {folder / 'sshd.pid'}\n"
        f"AuthorizedKeysFile {authorized}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
        "PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nUsePAM no\nStrictModes no\n"
        "MaxStartups 100:30:200\nMaxSessions 100\nUseDNS no\nLogLevel INFO\nAcceptEnv none\nSubsystem sftp internal-sftp\n"
    )
    Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation folder
    with open(folder / "sshd.log", "wb") as log:
        process = subprocess.Popen([sshd, "-D", "-e", "-f", str(config)], stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + 20
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
                if sock.recv(64).startswith(b"SSH-"):
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"sshd did not start: {(folder / 'sshd.log').read_text()[-2000:]}")
        time.sleep(0.1)
    public = host_key.with_suffix(".pub").read_text().split()
    known_hosts = folder / "known_hosts"
    known_hosts.write_text(f"[127.0.0.1]:{port} {public[0]} {public[1]}\n")
    client = folder / "ssh_config"
    client.write_text(
        "Host *\n"
        f"  IdentityFile {user_key}\n  IdentitiesOnly yes\n  IdentityAgent none\n"
        f"  UserKnownHostsFile {known_hosts}\n  GlobalKnownHostsFile /dev/null\n"
        "  StrictHostKeyChecking yes\n  LogLevel ERROR\n"
    )
    return SSHServer(port, user, client, known_hosts, process, folder / "sshd.log")
