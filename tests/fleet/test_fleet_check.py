"""check --inventory against a real fleet: containers on two engines and hosts over a real
sshd, one target that never answers."""

from __future__ import annotations

import json
import time

from tests.drift.conftest import run_envman
from tests.fleet.conftest import PER_ENGINE


def _inventory(fleet, sshd, stalled_port) -> str:
    one, two = fleet["containers"]["one"], fleet["containers"]["two"]
    lines = ["# the test fleet", "[engine_one]"]
    lines += [f"{name} ansible_connection=docker" for name in one]
    lines += [
        "[engine_two]",
        f"engine2 ansible_connection=local envman_probe_host=false envman_engine={fleet['engines']['two']} "
        f"envman_containers={','.join(two)}",
        "[vms]",
        f"vm[01:03] ansible_host=127.0.0.1 ansible_port={sshd.port} ansible_user={sshd.user} envman_python={fleet['venv_ok']}",
        f"vm-drift ansible_host=127.0.0.1 ansible_port={sshd.port} ansible_user={sshd.user} envman_python={fleet['venv_drift']}",
        "[stalled]",
        f"stuck ansible_host=127.0.0.1 ansible_port={stalled_port} envman_timeout=4",
        f"stuck-engine ansible_connection=docker envman_engine=tcp://127.0.0.1:{stalled_port} envman_timeout=3",
        "[prod:children]",
        "engine_one",
        "engine_two",
        "vms",
        "stalled",
        "[prod:vars]",
        "envman_environment=production",
    ]
    return "\n".join(lines) + "\n"


def test_a_mixed_fleet_is_checked_at_once(fleet, sshd, stalled_port, fleet_project, tmp_path):
    inventory = tmp_path / "hosts.ini"
    inventory.write_text(_inventory(fleet, sshd, stalled_port))
    started = time.monotonic()
    done = run_envman("check", "-f", str(fleet_project), "--inventory", str(inventory), "--ssh-config", str(sshd.config),
                      "--jobs", "8", "--timeout", "60", "--format", "json")
    wall = time.monotonic() - started
    assert done.returncode == 1, done.stderr  # drift wins over unreachable
    data = json.loads(done.stdout)
    rows = {row["target"]: row for row in data["targets"]}
    assert len(rows) == 2 * PER_ENGINE + 6 >= 20
    one, two = fleet["containers"]["one"], fleet["containers"]["two"]
    drifted = {f"docker:{one[-1]}", f"engine2/docker:{two[-1]}", f"vm-drift (ssh:{sshd.user}@127.0.0.1:{sshd.port})"}
    stuck = f"stuck (ssh:127.0.0.1:{stalled_port})"
    for target, row in rows.items():
        if target in drifted:
            assert [(f["name"], f["kind"], f["expected"], f["actual"]) for f in row["findings"]] == [("beta", "changed", "2.0", "2.1")], row
        elif target == stuck:
            assert row["in_sync"] is False and "did not answer within 4 s" in row["error"], row
        elif target == "docker:stuck-engine":  # an engine that accepts and never answers
            assert row["in_sync"] is False and "did not answer within 3 s" in row["error"], row
        else:
            assert row["in_sync"] is True and row["environment"] == "production", (row.get("error"), row["findings"])
    assert "did not answer within 4 s" in done.stderr
    # the stalled host held one slot for its timeout; the others were not waiting for it
    assert wall < 60, wall

    # --limit: groups and hosts; unreachable and nothing drifted is exit 4
    done = run_envman("check", "-f", str(fleet_project), "--inventory", str(inventory), "--ssh-config", str(sshd.config),
                      "--limit", "vms:stalled:!vm-drift", "--format", "json")
    assert done.returncode == 4, done.stderr
    targets = [row["target"] for row in json.loads(done.stdout)["targets"]]
    assert len(targets) == 5 and all("vm0" in t or "stuck" in t for t in targets), targets
    done = run_envman("check", "-f", str(fleet_project), "--inventory", str(inventory), "--limit", "nosuchgroup")
    assert done.returncode == 2 and "matches no group or host" in done.stderr
