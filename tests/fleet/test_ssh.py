"""ssh: targets against a real sshd: host keys are checked, no option may relax that, a
host without Python is read through the same file readers as a container."""

from __future__ import annotations

import json

import pytest

from envman.ecosystems.jvm.entry import JvmEntry
from envman.errors import BadInputError
from envman.lockfile import PlatformLock
from envman.targets import parse_target
from envman.targets.ssh import SSHAddress, check_ssh_options, parse_ssh, ssh_argv
from tests.drift.builders import make_jar, sha256_file
from tests.drift.conftest import run_envman, write_project


def test_ssh_target_forms():
    assert parse_ssh("deploy@10.0.0.5:2222/opt/venv/bin/python", "t") == SSHAddress("deploy", "10.0.0.5", 2222, "/opt/venv/bin/python")
    assert parse_ssh("[::1]:22", "t") == SSHAddress(None, "::1", 22, None)
    assert parse_ssh("web1", "t") == SSHAddress(None, "web1", None, None)
    for bad in ("-oProxyCommand=x", "u@h:0", "u@h:99999", "a b", "bad user@h", "h/opt/venv/"):
        with pytest.raises(BadInputError):
            parse_target(f"ssh:{bad}")
    spec = parse_target("docker://10.0.0.7/api")
    assert (spec.kind, spec.value, spec.engine) == ("docker", "api", "tcp://10.0.0.7:2375")
    assert parse_target("image://h:2376/app:1").engine == "tcp://h:2376"


def test_the_command_line_never_relaxes_host_keys_nor_allows_prompts():
    argv = ssh_argv(SSHAddress("u", "h", 2200, None), ["-F", "cfg"], ["exec", "python3", "-", "deep=1"], 10)
    assert argv[argv.index("--") + 1] == "h" and argv[-1] == "exec python3 - deep=1"
    assert "BatchMode=yes" in argv and not any("StrictHostKeyChecking" in a for a in argv)
    for relaxed in (["-o", "StrictHostKeyChecking=no"], ["-oUserKnownHostsFile=/dev/null"], ["-o", "BatchMode no"]):
        with pytest.raises(BadInputError, match="always checks host keys"):
            check_ssh_options(relaxed, "inventory")


def test_an_unknown_host_key_is_unreachable_with_a_hint(sshd, fleet_project, tmp_path):
    empty = tmp_path / "known_hosts"
    empty.write_text("")
    config = tmp_path / "ssh_config"
    config.write_text(sshd.config.read_text().replace(str(sshd.known_hosts), str(empty)))
    done = run_envman("check", "-f", str(fleet_project), f"ssh:{sshd.user}@127.0.0.1:{sshd.port}", "--ssh-config", str(config))
    assert done.returncode == 4, done.stderr
    assert "Host key verification failed" in done.stderr and "known_hosts" in done.stderr


def test_inventory_args_that_skip_host_keys_are_refused(fleet_project, tmp_path):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[web]\nweb1 ansible_host=127.0.0.1 ansible_ssh_common_args='-o StrictHostKeyChecking=no'\n")
    done = run_envman("check", "-f", str(fleet_project), "--inventory", str(inventory))
    assert done.returncode == 2 and "always checks host keys" in done.stderr, done.stderr


def test_a_host_without_python_is_read_through_its_files(sshd, tmp_path):
    jars = tmp_path / "app" / "lib"
    jar = make_jar(jars, "com.example", "lib-a", "1.0")
    plock = PlatformLock(jvm=[JvmEntry(name="com.example:lib-a", version="1.0", sha256=sha256_file(jar), url=jar.as_uri())])
    project = write_project(tmp_path / "project", "version: 1\njvm:\n  dependencies: ['com.example:lib-a:1.0']\n", {"linux-64": plock})
    target = f"ssh:{sshd.user}@127.0.0.1:{sshd.port}/no/such/python"
    inventory = tmp_path / "targets.yaml"
    inventory.write_text(f"- target: {target}\n  ssh_args: ['-F', '{sshd.config}']\n  jars: {jars}\n")
    make_jar(jars, "com.example", "lib-b", "2.0")  # not in the lock
    done = run_envman("check", "-f", str(project), "--inventory", str(inventory), "--format", "json")
    assert done.returncode == 1, done.stdout + done.stderr
    row = json.loads(done.stdout)["targets"][0]
    assert row["target"] == target and row.get("error") is None
    # lib-a was read over ssh and matched the lock's sha256; lib-b is the only finding
    assert [(f["name"], f["kind"]) for f in row["findings"]] == [("com.example:lib-b", "extra")], row


def test_over_ssh_the_same_as_on_this_machine(sshd, fleet_wheels, fleet_project, tmp_path):
    """The same venv probed as python:PATH here and over SSH: snapshot and diff agree."""
    from tests.fleet.conftest import make_venv

    python = make_venv(tmp_path / "venv", fleet_wheels)
    remote = f"ssh:{sshd.user}@127.0.0.1:{sshd.port}{python}"
    done = run_envman("snapshot", remote, "--ssh-config", str(sshd.config))
    assert done.returncode == 0, done.stderr
    packages = {(p["name"], p["version"]) for p in json.loads(done.stdout)["packages"]["python"]}
    assert {("alpha-pkg", "1.0"), ("beta", "2.0"), ("gamma", "0.3")} <= packages, packages
    done = run_envman("diff", f"python:{python}", remote, "--ssh-config", str(sshd.config), "--format", "json", "-f", str(fleet_project))
    assert done.returncode == 0 and json.loads(done.stdout)["identical"] is True, done.stdout + done.stderr


def _masters_of(port: int) -> list[str]:
    """Command lines of ssh ControlMasters to the test sshd still running."""
    import os
    from pathlib import Path

    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"ControlMaster=yes" in argv and str(port).encode() in argv:
            found.append(b" ".join(argv).decode(errors="replace"))
    return found


def test_one_connection_per_destination(sshd, fleet, fleet_project, tmp_path):
    """Five hosts at one address: one key exchange with multiplexing, five without; the same report."""
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(
        "[vms]\n"
        f"vm[1:4] ansible_host=127.0.0.1 ansible_port={sshd.port} ansible_user={sshd.user} envman_python={fleet['venv_ok']}\n"
        f"vm-drift ansible_host=127.0.0.1 ansible_port={sshd.port} ansible_user={sshd.user} envman_python={fleet['venv_drift']}\n"
    )
    reports = {}
    for mux in ("1", "0"):
        before = sshd.log.read_text().count("Accepted publickey")
        done = run_envman("check", "-f", str(fleet_project), "--inventory", str(inventory), "--ssh-config", str(sshd.config),
                          "--jobs", "5", "--format", "json", env={"ENVMAN_SSH_MUX": mux})
        assert done.returncode == 1, done.stderr
        reports[mux] = json.loads(done.stdout)
        accepted = sshd.log.read_text().count("Accepted publickey") - before
        assert accepted == (1 if mux == "1" else 5), (mux, accepted)
        assert not _masters_of(sshd.port)  # envman told its master to exit
    assert reports["1"] == reports["0"]
    drifted = [row["target"] for row in reports["1"]["targets"] if not row["in_sync"]]
    assert drifted == [f"vm-drift (ssh:{sshd.user}@127.0.0.1:{sshd.port})"], reports["1"]
