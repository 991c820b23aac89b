"""check --notify and watch against a real host over SSH: notifications received by a
webhook receiver on 127.0.0.1 (apprise json://), state in ENVMAN_STATE_DIR, metrics, signals."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.drift.conftest import REPO, run_envman
from tests.fleet.conftest import make_venv, set_beta
from tests.fleet.helpers import NO_PROXY_ENV, Webhook


@pytest.fixture()
def webhook():
    hook = Webhook()
    yield hook
    hook.close()


@pytest.fixture()
def host_venv(tmp_path, fleet_wheels):
    return make_venv(tmp_path / "venv", fleet_wheels)


def _target(sshd, python: Path) -> str:
    return f"ssh:{sshd.user}@127.0.0.1:{sshd.port}{python}"


def test_notified_once_when_drift_appears_never_while_it_stays_once_when_it_clears(
    host_venv, fleet_wheels, fleet_project, webhook, tmp_path
):
    env = {"ENVMAN_STATE_DIR": str(tmp_path / "state"), **NO_PROXY_ENV}
    target = f"python:{host_venv}"  # the watch test below goes over SSH; here the state logic, end to end
    metrics = tmp_path / "envman.prom"

    def check() -> int:
        done = run_envman("check", "-f", str(fleet_project), target, "--notify", webhook.url, "--metrics", str(metrics), env=env)
        assert done.returncode in (0, 1), done.stderr
        return done.returncode

    assert check() == 0 and webhook.received == []  # a first run in sync tells nothing
    set_beta(host_venv.parent.parent, fleet_wheels, "2.1")
    assert check() == 1
    assert len(webhook.received) == 1
    message = webhook.received[0]
    assert target in message["title"] and "drift found" in message["title"]
    assert "beta" in message["message"] and "2.0 -> 2.1" in message["message"] and "production" in message["message"]
    assert message["attachments"] and message["attachments"][0]["filename"] == "envman-check.md"
    assert 'envman_target_in_sync{environment="production",target="' + target + '"} 0.0' in metrics.read_text()
    assert check() == 1 and len(webhook.received) == 1  # the same drift again: nothing new
    set_beta(host_venv.parent.parent, fleet_wheels, "2.0")
    assert check() == 0 and len(webhook.received) == 2
    assert "back in sync" in webhook.received[1]["title"]
    text = metrics.read_text()
    assert 'envman_target_in_sync{environment="production",target="' + target + '"} 1.0' in text
    assert "envman_target_last_success_timestamp_seconds{" in text
    assert list((tmp_path / "state").glob("fleet-*.json"))


def test_watch_notifies_reloads_on_sighup_and_stops_on_sigterm(sshd, host_venv, fleet_wheels, fleet_project, webhook, tmp_path):
    env = dict(os.environ, ENVMAN_STATE_DIR=str(tmp_path / "state"), PYTHONPATH=str(REPO), **NO_PROXY_ENV)
    set_beta(host_venv.parent.parent, fleet_wheels, "2.1")
    inventory = tmp_path / "targets.yaml"
    inventory.write_text(f"- {_target(sshd, host_venv)}\n")
    args = [sys.executable, "-m", "envman", "watch", "--every", "1s", "-f", str(fleet_project), "--inventory", str(inventory),
            "--ssh-config", str(sshd.config), "--notify", webhook.url, "--metrics", str(tmp_path / "m.prom")]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    try:
        first = proc.stdout.readline()
        assert "1 targets: 0 in sync, 1 drifted, 0 unreachable" in first, first + (proc.stderr.read() if proc.poll() is not None else "")
        second = proc.stdout.readline()
        assert "0 change(s)" in second, second
        assert len(webhook.received) == 1  # the first round told of the drift, the second of nothing
        # SIGHUP: the inventory is read again (a second target, this machine's own view of the venv)
        inventory.write_text(f"- {_target(sshd, host_venv)}\n- python:{host_venv}\n")
        proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        line = ""
        while time.monotonic() < deadline and "2 targets" not in line:
            line = proc.stdout.readline()
        assert "2 targets: 0 in sync, 2 drifted" in line and "1 change(s) notified" in line, line
        proc.send_signal(signal.SIGTERM)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "envman watch: reloaded" in err and "envman watch: stopped" in err
    assert len(webhook.received) == 2 and f"python:{host_venv}" in webhook.received[1]["title"]
