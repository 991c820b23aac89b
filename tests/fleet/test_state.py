"""Changes of state worth a notification, the message, durations, metrics (pure or local files)."""

from __future__ import annotations

import pytest

from envman.drift.compare import Finding
from envman.errors import BadInputError
from envman.fleet.metrics import write_metrics
from envman.fleet.notify import Notifier, message_for
from envman.fleet.state import StateStore, TargetState, changes, state_of
from envman.fleet.watch import parse_every
from envman.report import CheckResult, TargetResult

OK = TargetResult("docker:a", "production", "linux-64", [])
DRIFT = TargetResult("docker:a", "production", "linux-64", [Finding("python", "beta", "changed", "2.0", "2.1")])
OTHER = TargetResult("docker:a", "production", "linux-64", [Finding("python", "gamma", "missing", "0.3", None)])
DOWN = TargetResult("docker:a", "production", "unknown", [], error="docker:a: no such container 'a'")


def _kinds(before, after):
    b = {r.target: state_of(r, 1.0, None) for r in before}
    a = {r.target: state_of(r, 2.0, b.get(r.target)) for r in after}
    return [c.kind for c in changes(b, a)]


def test_only_changes_of_state_are_told():
    assert _kinds([], [OK]) == []  # a first run in sync says nothing
    assert _kinds([], [DRIFT]) == ["appeared"] and _kinds([], [DOWN]) == ["unreachable"]
    assert _kinds([OK], [OK]) == [] and _kinds([DRIFT], [DRIFT]) == [] and _kinds([DOWN], [DOWN]) == []
    assert _kinds([OK], [DRIFT]) == ["appeared"] and _kinds([DRIFT], [OTHER]) == ["changed"]
    assert _kinds([DRIFT], [OK]) == ["cleared"] and _kinds([OK], [DOWN]) == ["unreachable"]
    assert _kinds([DOWN], [OK]) == ["back"] and _kinds([DOWN], [DRIFT]) == ["appeared"]


def test_the_message_names_target_environment_and_drift():
    b, a = {}, {"docker:a": state_of(DRIFT, 1.0, None)}
    title, body = message_for(changes(b, a))
    assert title == "envman: docker:a drift found"
    assert body == "- docker:a [environment production]: drift found: python beta: changed (2.0 -> 2.1)"


def test_state_survives_damage_and_keeps_the_last_success(tmp_path):
    store = StateStore(tmp_path / "s" / "fleet-x.json")
    with store.locked() as states:
        states["docker:a"] = state_of(OK, 5.0, None)
    with store.locked() as states:
        assert states["docker:a"] == TargetState("in_sync", "production", "", "", 5.0)
        assert state_of(DOWN, 9.0, states["docker:a"]).last_success == 5.0
    store.path.write_text("{not json")
    with store.locked() as states:
        assert states == {}


def test_durations_and_bad_urls():
    assert parse_every("5m") == 300 and parse_every("1h30m") == 5400 and parse_every("45") == 45
    for bad in ("soon", "0s", "5x", "m5"):
        with pytest.raises(BadInputError):
            parse_every(bad)
    with pytest.raises(BadInputError, match="not a notification URL"):
        Notifier(["nosuchscheme://x"])


def test_metrics_textfile(tmp_path):
    path = tmp_path / "envman.prom"
    states = {"docker:a": state_of(DRIFT, 1700000000.0, None)}
    write_metrics(path, CheckResult([DRIFT, DOWN._replace(target="docker:b")]), states, 1.5)
    text = path.read_text()
    assert 'envman_target_in_sync{environment="production",target="docker:a"} 0.0' in text
    assert 'envman_target_findings{environment="production",kind="changed",target="docker:a"} 1.0' in text
    assert 'envman_target_reachable{environment="production",target="docker:b"} 0.0' in text
    assert 'envman_target_last_success_timestamp_seconds{environment="production",target="docker:a"} 1.7e+09' in text
    assert "envman_check_duration_seconds 1.5" in text


def test_an_unwritable_state_folder_is_one_message(tmp_path, monkeypatch):
    from envman.fleet.observe import record
    from envman.fleet.run import FleetResult

    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("ENVMAN_STATE_DIR", str(blocker / "state"))
    with pytest.raises(BadInputError, match=r"cannot keep the fleet's state in .*ENVMAN_STATE_DIR"):
        record(tmp_path / "envman.lock", FleetResult(CheckResult([OK]), [], 0.1), None, None)


def test_host_ranges_are_counted_before_they_are_built():
    from envman.errors import LocatedError
    from envman.fleet.inventory import parse_inventory

    with pytest.raises(LocatedError, match="names more than 10000 hosts"):
        parse_inventory("[w]\nh[0:999999999]\n", "hosts")
    assert len(parse_inventory("[w]\nh[1:3]-[a:b]\n", "hosts").hosts) == 6
