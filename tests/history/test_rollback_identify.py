"""Rollback and identify: a venv, an R library and a jar folder synced to chosen revisions
with `sync --at` (nothing checked out), identify names each revision; `lock --at` writes an
old lock back byte for byte; the report shows the targets in a real headless chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest

from tests.history.conftest import ARTIFACTS
from tests.history.repo import STEPS, git
from tests.python.conftest import run_envman


def _same_range(repo, index: int, key) -> set[str]:
    """Commits around `index` whose step has the same key (the lock of that ecosystem is the same there)."""
    out = {repo.commits[index]}
    for direction in (-1, 1):
        i = index + direction
        while 0 <= i < len(STEPS) and key(STEPS[i]) == key(STEPS[index]):
            out.add(repo.commits[i])
            i += direction
    return out


@pytest.fixture(scope="module")
def synced(history_repo, tmp_path_factory, rscript):
    """A venv at step 12, an R library at step 1 (one package to install) and a jar folder at step 14, each by sync --at."""
    repo = history_repo
    where = tmp_path_factory.mktemp("synced")
    targets = {
        "python": (12, f"python:{where / 'venv' / 'bin' / 'python'}"),
        "r": (1, f"rlib:{where / 'rlib'}"),
        "jvm": (14, f"jars:{where / 'jars'}"),
    }
    for _eco, (step, target) in targets.items():
        done = run_envman("sync", target, "--at", repo.commits[step][:10], "--env", "production", cwd=repo.project)
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"syncing to the lock at {repo.commits[step][:7]}" in done.stderr
    assert git(repo.root, "status", "--porcelain") == ""  # nothing was checked out or written
    return targets


def test_identify_finds_each_synced_revision(history_repo, synced):
    repo = history_repo
    keys = {"python": lambda s: (s.core, s.util), "r": lambda s: s.r, "jvm": lambda s: s.jvm}
    for eco, (step, target) in synced.items():
        done = run_envman("identify", target, "--env", "production", "--format", "json", cwd=repo.project)
        assert done.returncode == 0, done.stdout + done.stderr
        data = json.loads(done.stdout)
        assert data["exact"] is True and data["revisions"] == len(STEPS)
        newest = max(i for i, s in enumerate(STEPS) if keys[eco](s) == keys[eco](STEPS[step]))  # that lock again, later
        assert data["match"]["commit"] == repo.commits[newest]  # the newest revision with that lock
        same = _same_range(repo, newest, keys[eco])
        assert data["match"]["since"]["commit"] == min(same, key=repo.commits.index)  # since when it has been so
        text = run_envman("identify", target, "--env", "production", cwd=repo.project).stdout
        assert f"matches lock:production at {data['match']['short']}" in text and "exactly" in text


def test_identify_gives_the_closest_when_nothing_matches(history_repo, synced, tmp_path):
    repo = history_repo
    _step, target = synced["python"]
    venv_python = target.split(":", 1)[1]
    copy = tmp_path / "venv"
    subprocess.run([venv_python, "-m", "venv", "--without-pip", str(copy)], check=True)
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = subprocess.run([venv_python, "-c", purelib], capture_output=True, text=True).stdout.strip()
    dest = subprocess.run([str(copy / "bin" / "python"), "-c", purelib], capture_output=True, text=True).stdout.strip()
    shutil.copytree(site, dest, dirs_exist_ok=True)
    for folder in os.listdir(dest):  # plant drift: hist-util claims another version
        if folder.startswith("hist_util-") and folder.endswith(".dist-info"):
            meta = os.path.join(dest, folder, "METADATA")
            with open(meta) as f:
                text = f.read()
            with open(meta, "w") as f:
                f.write(text.replace("Version: 0.2", "Version: 0.9"))
    done = run_envman("identify", f"python:{copy / 'bin' / 'python'}", "--format", "json", cwd=repo.project)
    assert done.returncode == 1, done.stdout + done.stderr
    data = json.loads(done.stdout)
    assert data["exact"] is False and data["closest"]
    best = data["closest"][0]
    assert [d["name"] for d in best["differences"]] == ["hist-util"] and best["differences"][0]["actual"] == "0.9"
    # as close: every revision with hist-core 1.3.0 and some hist-util (0.2 at steps 12-14, 0.3 at 29-31); the newest first
    assert best["commit"] == repo.commits[max(i for i, s in enumerate(STEPS) if s.core == "1.3.0" and s.util)]
    assert all(len(c["differences"]) >= 1 for c in data["closest"])


def test_lock_at_writes_the_old_lock_back(history_repo, tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", f"file://{history_repo.root}", str(clone)], check=True)
    project = clone / "project"
    step = 12
    done = run_envman("lock", "--at", history_repo.commits[step][:8], cwd=project)
    assert done.returncode == 0, done.stderr
    assert (project / "envman.lock").read_text() == history_repo.locks[step]
    assert "commit it to roll back" in done.stderr and "--with-manifest" in done.stderr  # the manifest is newer: said so
    assert run_envman("lock", "--check", cwd=project).returncode == 1
    done = run_envman("lock", "--at", history_repo.commits[step], "--with-manifest", "--json", cwd=project)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["manifest"] is True
    assert (project / "envman.yaml").read_text() == git(clone, "show", f"{history_repo.commits[step]}:project/envman.yaml") + "\n"
    assert run_envman("lock", "--check", cwd=project).returncode == 0
    assert not [p for p in project.iterdir() if p.name.startswith(".") or p.name.endswith(".tmp")]  # no temporary file left


def _chromium(*args: str, profile) -> subprocess.CompletedProcess:
    chromium = shutil.which("chromium")
    assert chromium, "chromium is missing: run tests/run.sh (tests/setup/apt-packages.txt)"
    flags = [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
    ]
    return subprocess.run([chromium, *flags, *args], capture_output=True, text=True, timeout=120)


def _console(stderr: str) -> list[str]:
    """Console messages and uncaught errors chromium logged (--enable-logging=stderr --v=0)."""
    return [line for line in stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]


def test_report_in_headless_chromium(history_repo, synced, tmp_path):
    repo = history_repo
    targets = [synced["python"][1], synced["r"][1], synced["jvm"][1]]
    out = tmp_path / "report.html"
    done = run_envman("report", *targets, "-o", str(out), cwd=repo.project)
    assert done.returncode == 0, done.stderr
    html = out.read_text()
    assert "http://" not in html.split("<body>")[0] and "<script src" not in html and "<link" not in html  # self-contained
    # the venv was synced at step 12 (hist-core 1.3.0); production now has 1.3.0 again but util 0.3: drift planted
    assert 'class="v changed" title="changed">0.2</td>' in html
    dom = _chromium("--dump-dom", f"file://{out}#filter=hist-&drift", profile=tmp_path / "profile1")
    assert dom.returncode == 0, dom.stderr[-2000:]
    assert 'data-ready="yes"' in dom.stdout  # the script ran to its end
    console = _console(dom.stderr)
    assert console == [], console
    # the same check sees a console message and an uncaught error when a page has them
    bad = tmp_path / "bad.html"
    bad.write_text('<!DOCTYPE html><html><body><script>console.error("planted"); notDefined();</script></body></html>')
    seen = _console(_chromium("--dump-dom", f"file://{bad}", profile=tmp_path / "profile0").stderr)
    assert len(seen) == 2 and "planted" in seen[0] and "Uncaught ReferenceError" in seen[1], seen
    rows = [line for line in dom.stdout.splitlines() if line.startswith("<tr data-eco")]
    visible = [r for r in rows if 'class="hidden"' not in r]
    assert visible and all('data-name="hist-' in r and 'data-drift="yes"' in r for r in visible)
    assert len(visible) < len(rows)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    done = _chromium(f"--screenshot={shot}", "--window-size=1280,1600", f"file://{out}", profile=tmp_path / "profile2")
    assert done.returncode == 0 and shot.stat().st_size > 10_000, done.stderr[-2000:]
    shutil.copy(out, ARTIFACTS / "report.html")
    markdown = run_envman("report", *targets, "--format", "markdown", cwd=repo.project)
    assert markdown.returncode == 0, markdown.stderr
    assert "### Packages that differ" in markdown.stdout and "**0.2** (changed)" in markdown.stdout
    assert "### Recent history" in markdown.stdout
    assert '<table id="history">' in html and STEPS[-1].subject in html
