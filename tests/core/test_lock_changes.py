"""`envman lock` says what moved, as uv does: added, removed, upgraded, downgraded, per
environment and platform, with each ecosystem's own version order."""

from __future__ import annotations

import json

from envman.lockchanges import change_lines, lock_changes
from envman.lockfile.models import lock_model
from tests.image.conftest import manifest_text
from tests.python.conftest import run_envman


def _lock(python=(), jvm=(), r=(), platforms=("linux-64",), envs=("default",)):
    lock_cls, platform_cls = lock_model()
    body = {
        "python": [{"name": n, "version": v} for n, v in python],
        "jvm": [{"name": n, "version": v, "sha256": "0" * 64, "url": "http://x/y.jar"} for n, v in jvm],
        "r": [{"name": n, "version": v, "sha256": "0" * 64, "url": "http://x/y.tar.gz", "repository": "CRAN"} for n, v in r],
    }
    return lock_cls(version=1, manifest_hash={}, environments={e: {p: platform_cls(**body) for p in platforms} for e in envs})


def test_kinds_follow_each_ecosystems_version_order():
    old = _lock(
        python=[("requests", "2.31.0"), ("six", "1.16.0"), ("numpy", "2.0.0rc1")], jvm=[("g:a", "1.0-SNAPSHOT")], r=[("desc", "1.4.10")]
    )
    new = _lock(python=[("requests", "2.32.5"), ("numpy", "2.0.0"), ("idna", "3.7")], jvm=[("g:a", "1.0")], r=[("desc", "1.4.9")])
    kinds = {(c.ecosystem, c.name): (c.kind, c.old, c.new) for c in lock_changes(old, new)}
    assert kinds == {
        ("python", "requests"): ("upgraded", "2.31.0", "2.32.5"),
        ("python", "numpy"): ("upgraded", "2.0.0rc1", "2.0.0"),  # PEP 440: a release candidate comes first
        ("python", "six"): ("removed", "1.16.0", None),
        ("python", "idna"): ("added", None, "3.7"),
        ("jvm", "g:a"): ("upgraded", "1.0-SNAPSHOT", "1.0"),  # Maven: a snapshot comes before its release
        ("r", "desc"): ("downgraded", "1.4.10", "1.4.9"),  # numbers, not text
    }
    assert lock_changes(new, new) == []
    assert {c.kind for c in lock_changes(None, new)} == {"added"}


def test_lines_group_what_is_the_same_everywhere():
    old = _lock(python=[("requests", "2.31.0")], platforms=("linux-64", "osx-arm64"), envs=("design", "production"))
    new = _lock(python=[("requests", "2.32.5")], platforms=("linux-64", "osx-arm64"), envs=("design", "production"))
    assert change_lines(lock_changes(old, new)) == ["every environment and platform", "  python: Updated requests v2.31.0 -> v2.32.5"]


def test_lock_prints_changes_and_dry_run_writes_nothing(tmp_path, repos_url):
    (tmp_path / "envman.yaml").write_text(manifest_text(repos_url))
    first = run_envman("lock", "--json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert {(c["ecosystem"], c["name"], c["kind"]) for c in json.loads(first.stdout)["changes"]} >= {("r", "R6", "added")}
    manifest = tmp_path / "envman.yaml"
    manifest.write_text(manifest.read_text().replace('packages: ["R6"]', 'packages: ["R6", "withr"]'))
    before = (tmp_path / "envman.lock").read_bytes()
    dry = run_envman("lock", "--dry-run", cwd=tmp_path)
    assert dry.returncode == 0, dry.stderr
    assert "  r: Added withr v2.5.0" in dry.stderr and "nothing written" in dry.stderr
    assert (tmp_path / "envman.lock").read_bytes() == before
    real = run_envman("lock", cwd=tmp_path)
    assert "  r: Added withr v2.5.0" in real.stderr and "Locked " in real.stderr
    assert run_envman("lock", "--check", cwd=tmp_path).returncode == 0
    again = run_envman("lock", cwd=tmp_path)
    assert "is up to date" in again.stderr and "Added" not in again.stderr


def test_quiet_and_verbose_work_anywhere_on_the_line(tmp_path, repos_url):
    (tmp_path / "envman.yaml").write_text(manifest_text(repos_url))
    quiet = run_envman("lock", "-q", cwd=tmp_path)
    assert quiet.returncode == 0 and quiet.stderr == "" and (tmp_path / "envman.lock").is_file()
    manifest = tmp_path / "envman.yaml"
    manifest.write_text(manifest.read_text().replace('packages: ["R6"]', 'packages: ["R6", "withr"]'))
    verbose = run_envman("-v", "lock", cwd=tmp_path)
    assert verbose.returncode == 0
    assert "locking: resolving r (" in verbose.stderr and "  r: Added withr v2.5.0" in verbose.stderr
    run_quiet = run_envman("run", "-q", "--", "sh", "-c", "echo -q", cwd=tmp_path)  # after `--`, -q is the command's
    assert run_quiet.stdout == "-q\n"
