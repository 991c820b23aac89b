"""The hostile corpus against every command: each answers with a documented exit code
(never 70, never a traceback), within memory and CPU limits, and leaves the lock as it was."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.hostile.limited import run_limited

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "churn-model"
DOCUMENTED = {0, 1, 2, 3, 4, 5}

MANIFESTS = {
    "alias-bomb": "version: 1\na: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: [*b, *b, *b, *b, *b, *b, *b, *b]\npython: {packages: [six]}\n",
    "deep-flow": "version: 1\npython: {packages: " + "[" * 5000 + "]" * 5000 + "}\n",
    "deep-block": "version: 1\n" + "".join("  " * i + f"k{i}:\n" for i in range(1500)),
    "huge-int": "version: 1\nname: " + "9" * 10000 + "\npython: {packages: [six]}\n",
    "not-utf8": "version: 1\npython: {packages: [caf\xe9]}\n",
    "nul": "version: 1\npython: {packages: [\"six\\0\"]}\n",
    "escape": "version: 1\npython: {packages: [\"six\\e]0;owned\\a\"]}\n",
    "binary": "\x00\x01\x02\xff" * 100,
    "list": "- version: 1\n",
    "empty": "",
    "wrong-types": "version: 1\npython: {packages: {a: b}, index-url: [1, 2]}\n",
    "long-line": "version: 1\npython: {packages: [" + "a" * 200_000 + "]}\n",
    "many-keys": "version: 1\n" + "".join(f"k{i}: {i}\n" for i in range(20000)),
}
COMMANDS = [
    "validate",
    "lock --check",
    "lock --offline",
    "export --format requirements",
    "why six",
    "check lock:production",
    "snapshot lock:production",
    "diff lock:production lock:design",
    "sync --dry-run python:/nonexistent/python",
]


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    for name in ("envman.yaml", "envman.lock"):
        (tmp_path / name).write_bytes((EXAMPLE / name).read_bytes())
    return tmp_path


@pytest.mark.parametrize("case", sorted(MANIFESTS))
def test_every_command_on_a_hostile_manifest(project, case):
    text = MANIFESTS[case]
    (project / "envman.yaml").write_bytes(text.encode("latin-1") if case in ("not-utf8", "binary") else text.encode())
    lock = (project / "envman.lock").read_bytes()
    for command in COMMANDS:
        done = run_limited(*command.split(), cwd=project, env={"ENVMAN_NO_FAST_PATH": ""})
        assert done.returncode in DOCUMENTED, (command, done.returncode, done.stderr[-500:])
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr, (command, done.stderr[-500:])
        assert "\x1b" not in done.stderr and "\x1b" not in done.stdout, (command, "a raw escape reached the terminal")
    assert (project / "envman.lock").read_bytes() == lock


LOCKS = {
    "alias-bomb": MANIFESTS["alias-bomb"],
    "deep": "version: 1\nmanifest-hash: {}\nenvironments: " + "{a: " * 3000 + "1" + "}" * 3000 + "\n",
    "huge-int": "version: " + "1" * 10000 + "\n",
    "wrong-types": "version: 1\nmanifest-hash: []\nenvironments: {production: {linux-64: {python: [{name: 1}]}}}\n",
    "binary": "\x00\xff" * 1000,
}


@pytest.mark.parametrize("case", sorted(LOCKS))
def test_every_command_on_a_hostile_lock(project, case):
    (project / "envman.lock").write_bytes(LOCKS[case].encode("latin-1"))
    for command in COMMANDS:
        done = run_limited(*command.split(), cwd=project, env={"ENVMAN_NO_FAST_PATH": ""})
        assert done.returncode in DOCUMENTED, (command, done.returncode, done.stderr[-500:])
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr, (command, done.stderr[-500:])
