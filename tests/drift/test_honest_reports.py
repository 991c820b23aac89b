"""A target that could not be checked is in every report, with its error, and never green;
--debug adds a traceback but never changes the exit code; validate --json says why too."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.python.conftest import run_envman

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "churn-model"


@pytest.fixture()
def project(tmp_path: Path) -> Path:
    for name in ("envman.yaml", "envman.lock"):
        shutil.copyfile(EXAMPLE / name, tmp_path / name)
    return tmp_path


TARGETS = ["lock:production", "python:/nonexistent/bin/python"]


def test_json_lists_the_unchecked_target_and_is_not_in_sync(project):
    done = run_envman("check", "--format", "json", *TARGETS, cwd=project)
    assert done.returncode == 4, done.stderr
    report = json.loads(done.stdout)
    assert report["in_sync"] is False
    first, second = report["targets"]
    assert first["target"] == "lock:production" and first["in_sync"] is True and "error" not in first
    assert second["target"] == "python:/nonexistent/bin/python" and second["in_sync"] is False
    assert "no Python interpreter" in second["error"] and second["findings"] == []


def test_junit_has_an_error_for_the_unchecked_target(project):
    done = run_envman("check", "--format", "junit", *TARGETS, cwd=project)
    assert done.returncode == 4
    assert 'errors="1"' in done.stdout and "<error " in done.stdout and "nonexistent" in done.stdout


def test_markdown_says_not_checked(project):
    done = run_envman("check", "--format", "markdown", *TARGETS, cwd=project)
    assert done.returncode == 4
    assert "**Drift found**" in done.stdout and "**Not checked**" in done.stdout


def test_all_targets_unreachable_still_gives_a_report(project):
    done = run_envman("check", "--format", "json", "python:/nonexistent/bin/python", cwd=project)
    assert done.returncode == 4
    assert json.loads(done.stdout)["in_sync"] is False


@pytest.mark.parametrize(
    "argv, code",
    [
        (["validate", "-f", "missing.yaml"], 2),
        (["check", "python:/nonexistent/bin/python"], 4),
        (["lock", "--check", "-f", "missing.yaml"], 2),
    ],
)
def test_debug_never_changes_the_exit_code(project, argv, code):
    plain = run_envman(*argv, cwd=project)
    debug = run_envman("--debug", *argv, cwd=project)
    assert plain.returncode == debug.returncode == code, (plain.stderr, debug.stderr)
    assert "Traceback" in debug.stderr and "Traceback" not in plain.stderr


def test_validate_json_for_an_invalid_manifest(project):
    (project / "envman.yaml").write_text("version: 1\npython:\n  packges: [six]\n")
    done = run_envman("validate", "--json", cwd=project)
    assert done.returncode == 2
    report = json.loads(done.stdout)
    assert report["valid"] is False
    (error,) = report["errors"]
    assert (error["line"], error["column"]) == (3, 3) and "did you mean `packages`" in error["message"]
    assert error["file"] == "envman.yaml"


def test_runtime_mismatch_comes_first():
    from envman.drift import Finding
    from envman.report import CheckResult, TargetResult, render_check

    findings = [Finding("python", "aaa", "missing", "1.0", None), Finding("python", "python", "runtime", "3.12", "3.11.7")]
    result = CheckResult([TargetResult("t", "production", "linux-64", findings)])
    for fmt in ("markdown", "table"):
        text = render_check(result, fmt, color=False)
        assert text.index("3.11.7") < text.index("aaa"), text
    data = json.loads(render_check(result, "json"))
    assert [f["kind"] for f in data["targets"][0]["findings"]] == ["runtime", "missing"]


def test_drift_outranks_an_unreachable_target(project):
    """One target drifted, another could not be checked: exit 1 (drift), as `check
    --inventory` does; the unchecked one is still named on stderr and in the report."""
    done = run_envman("check", "--env", "production", "--format", "json", "lock:design", "python:/nonexistent/bin/python", cwd=project)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["in_sync"] is False
    assert report["targets"][0]["findings"] and "error" in report["targets"][1]
    assert "envman: error: python:/nonexistent/bin/python" in done.stderr
