"""`envman history` over a repository of 32 real lock edits, checked against git itself and
against the full lock models; shallow clones; the errors of every history command."""

from __future__ import annotations

import json
import subprocess
import time

from envman.lockchanges import lock_changes
from envman.lockfile.canonical import parse_lock
from tests.history.repo import START, STEPS, git
from tests.python.conftest import run_envman


def _history(repo, *args):
    done = run_envman("history", *args, cwd=repo.project)
    assert done.returncode == 0, done.stderr
    return done


def test_timeline_is_gits_and_counts_are_the_full_models(history_repo):
    repo = history_repo
    data = json.loads(_history(repo, "--format", "json").stdout)
    # the commits are git's own list of commits that touched the lock (not the README/NOTES ones)
    assert [r["commit"] for r in data["revisions"]] == git(repo.root, "log", "--format=%H", "--", "project/envman.lock").split()
    assert [r["commit"] for r in data["revisions"]] == repo.commits[::-1]
    assert len(data["revisions"]) == len(STEPS) >= 30
    assert data["shallow"] is False and data["stops_at"] is None
    for i, rev in enumerate(reversed(data["revisions"])):
        assert rev["subject"] == STEPS[i].subject and rev["author"] == "Ada Analyst"
        assert rev["date"] == time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(START + i * 86400))
        old = parse_lock(repo.locks[i - 1]) if i else None
        expected = {tuple(c) for c in lock_changes(old, parse_lock(repo.locks[i])) if c.kind != "changed"}
        assert {tuple(c.values()) for c in rev["changes"]} == expected, rev["subject"]
        assert rev["created"] is (i == 0)
    by_subject = {r["subject"]: r for r in data["revisions"]}
    # step 15 takes hist-core from 1.3.0 back to 1.1.0 in both environments
    assert by_subject[STEPS[15].subject]["counts"] == {"design": {"python": {"downgraded": 1}}, "production": {"python": {"downgraded": 1}}}
    # step 9 adds the design environment's own package only
    assert by_subject[STEPS[9].subject]["counts"] == {"design": {"python": {"added": 1}}}


def test_table_markdown_env_since_and_verbose(history_repo):
    repo = history_repo
    table = _history(repo).stdout
    assert table.splitlines()[0].startswith(repo.commits[-1][:7]) and "r: withr" in table
    assert "    production   python   1 downgraded" in table
    verbose = run_envman("history", "-v", cwd=repo.project)
    assert "python: Downgraded hist-core v1.3.0 -> v1.1.0" in verbose.stdout
    design = json.loads(_history(repo, "--env", "design", "--format", "json").stdout)
    assert {c["environment"] for r in design["revisions"] for c in r["changes"]} == {"design"}
    assert STEPS[9].subject in {r["subject"] for r in design["revisions"]}
    moment = time.strftime("%Y-%m-%dT%H:%M:%S+0000", time.gmtime(START + 27 * 86400))
    since = json.loads(_history(repo, "--since", moment, "--format", "json").stdout)
    assert [r["commit"] for r in since["revisions"]] == repo.commits[:26:-1]
    day = time.strftime("%Y-%m-%d", time.gmtime(START + 30 * 86400))
    day = json.loads(_history(repo, "--since", day, "--format", "json").stdout)
    assert len(day["revisions"]) <= 2  # a day alone starts at its midnight (local time), as people mean it
    markdown = _history(repo, "--format", "markdown", "-n", "3").stdout
    assert "| date | commit | author | subject | changes |" in markdown and markdown.count("| 2026-") == 3
    bad = run_envman("history", "--env", "staging", cwd=repo.project)
    assert bad.returncode == 2 and "staging" in bad.stderr and len(bad.stderr.splitlines()) == 1


def test_shallow_clone_says_where_history_stops(history_repo, tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", "--depth", "4", f"file://{history_repo.root}", str(clone)], check=True)
    data = json.loads(_history(type(history_repo)(clone, clone / "project", ""), "--format", "json").stdout)
    assert data["shallow"] is True
    oldest = data["revisions"][-1]
    assert oldest["boundary"] is True and oldest["changes"] == []
    assert data["stops_at"]["commit"] == oldest["commit"]
    table = run_envman("history", cwd=clone / "project").stdout
    assert "history stops here (shallow clone)" in table and f"history stops at {oldest['short']}" in table


def test_errors_are_one_line_and_exit_2(history_repo, tmp_path):
    repo = history_repo
    outside = tmp_path / "not-git"
    outside.mkdir()
    (outside / "envman.yaml").write_text((repo.project / "envman.yaml").read_text())
    (outside / "envman.lock").write_text(repo.locks[-1])
    initial = git(repo.root, "rev-list", "--max-parents=0", "HEAD")  # the commit before the lock existed
    venv = "python:" + str(tmp_path / "venv" / "bin" / "python")
    cases = [
        (outside, ["history"], "is not in a git repository"),
        (outside, ["identify", "lock:production"], "is not in a git repository"),
        (outside, ["lock", "--at", "HEAD"], "is not in a git repository"),
        (repo.project, ["sync", venv, "--at", "no-such-rev"], "unknown revision 'no-such-rev'"),
        (repo.project, ["build", "--at", "deadbeef"], "unknown revision 'deadbeef'"),
        (repo.project, ["lock", "--at", "HEAD~999"], "unknown revision 'HEAD~999'"),
        (repo.project, ["lock", "--at", initial], "has no project/envman.lock"),
        (repo.project, ["sync", venv, "--at", initial], "has no project/envman.lock"),
        (repo.project, ["lock", "--at", "HEAD", "--upgrade"], "does not go with --upgrade"),
    ]
    for cwd, args, message in cases:
        done = run_envman(*args, cwd=cwd)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "venv").exists()
    assert git(repo.root, "status", "--porcelain") == ""
