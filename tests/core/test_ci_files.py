"""The pre-commit hook definition and the CI action example are valid and run real commands."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_pre_commit_hooks_run_envman_commands_that_exist():
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} == {"envman-lock-check", "envman-validate"}
    for hook in hooks:
        assert set(hook) >= {"id", "name", "entry", "language", "files"}
        assert hook["entry"].split()[0] == "envman" and hook["pass_filenames"] is False
    from envman.cli.main import COMMANDS

    assert all(h["entry"].split()[1] in COMMANDS for h in hooks)


def test_ci_action_is_a_composite_action_running_the_gate():
    action = yaml.safe_load((ROOT / "examples" / "ci" / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    commands = " ".join(step["run"] for step in action["runs"]["steps"])
    assert "envman lock --check" in commands and "envman build" in commands and "envman check" in commands
