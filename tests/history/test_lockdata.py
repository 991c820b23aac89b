"""The fast reader of committed locks against the full models, and a history that holds a
lock edited by hand into something else (that revision says so; the timeline goes on)."""

from __future__ import annotations

import json
from pathlib import Path

from envman.history.lockdata import changed_only, read_history_lock
from envman.lockchanges import lock_changes
from envman.lockfile.canonical import parse_lock
from tests.history.repo import START, git
from tests.python.conftest import run_envman

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _pairs(lock):
    return {
        (env, plat, eco): [(e.name, e.version, getattr(e, "sha256", None)) for e in body.entries(eco)]
        for env, platforms in lock.environments.items()
        for plat, body in platforms.items()
        for eco in ("python", "r", "jvm", "conda")
    }


def test_fast_reader_reads_what_the_models_read(history_repo):
    texts = [p.read_text() for p in sorted(EXAMPLES.glob("*/envman.lock"))] + history_repo.locks
    for text in texts:
        assert _pairs(read_history_lock(text, "envman.lock")) == _pairs(parse_lock(text))
    # the reduced locks give lock_changes' own answer on the full models, for every neighbouring pair
    for old, new in zip(history_repo.locks, history_repo.locks[1:], strict=False):
        fast = lock_changes(*changed_only(read_history_lock(old, "a"), read_history_lock(new, "b")))
        full = [c for c in lock_changes(parse_lock(old), parse_lock(new)) if c.kind != "changed"]
        assert sorted(fast) == sorted(full)


def test_a_revision_with_a_broken_lock_is_reported_and_history_goes_on(tmp_path, history_repo):
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "envman.yaml").write_text((history_repo.project / "envman.yaml").read_text())
    texts = [history_repo.locks[0], "environments: [: {{{\n", "version: 1\nenvironments: {a: 5}\n", history_repo.locks[3]]
    for i, text in enumerate(texts):
        (root / "envman.lock").write_text(text)
        git(root, "add", "envman.yaml", "envman.lock")
        git(root, "commit", "-q", "-m", f"edit {i}", when=START + i * 60)
    done = run_envman("history", "--format", "json", cwd=root)
    assert done.returncode == 0, done.stderr
    revisions = json.loads(done.stdout)["revisions"]
    assert [r["subject"] for r in revisions] == ["edit 3", "edit 2", "edit 1", "edit 0"]
    assert revisions[1]["error"] and revisions[2]["error"] and "Traceback" not in done.stderr
    assert revisions[0]["error"].startswith("the lock before this commit cannot be read")
    assert revisions[3]["created"] is True and revisions[3]["error"] is None
    table = run_envman("history", cwd=root)
    assert table.returncode == 0 and "unreadable lock" in table.stdout
