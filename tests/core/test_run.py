"""`envman run -- CMD` syncs the project's own environments (.venv, .envman/r-library,
.envman/jars) with the lock, creating them when missing, then runs CMD with them first."""

from __future__ import annotations

from tests.image.conftest import manifest_text
from tests.python.conftest import run_envman


def test_run_syncs_then_runs_with_the_locked_environments_first(tmp_path, repos_url, rscript):
    (tmp_path / "envman.yaml").write_text(manifest_text(repos_url))
    assert run_envman("lock", cwd=tmp_path).returncode == 0
    script = (
        'python -c "import sys, zeta; print(sys.prefix, zeta.__version__)"; '
        "Rscript -e 'library(R6); cat(.libPaths()[1], format(packageVersion(\"R6\")), \"\\n\")'; "
        'echo "$CLASSPATH"'
    )
    first = run_envman("run", "--", "sh", "-c", script, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert lines[0] == f"{tmp_path / '.venv'} 1.0"
    assert lines[1].split() == [str(tmp_path / ".envman" / "r-library"), "2.5.1"]
    assert lines[2].startswith(str(tmp_path / ".envman" / "jars" / "commons-lang3-3.14.0.jar"))
    assert "create the virtual environment" in first.stderr and "install   zeta" in first.stderr
    again = run_envman("run", "--", "sh", "-c", "exit 7", cwd=tmp_path)
    assert again.returncode == 7  # the command's own exit code
    assert again.stderr == ""  # everything already in sync: nothing to say
    missing = run_envman("run", "--", "no-such-command-here", cwd=tmp_path)
    assert missing.returncode == 127 and "command not found" in missing.stderr


def test_sync_creates_a_missing_venv_and_dry_run_only_says_so(tmp_path, repos_url):
    (tmp_path / "envman.yaml").write_text(manifest_text(repos_url))
    assert run_envman("lock", cwd=tmp_path).returncode == 0
    target = f"python:{tmp_path / 'env' / 'bin' / 'python'}"
    dry = run_envman("sync", "--dry-run", target, cwd=tmp_path)
    assert dry.returncode == 1 and "would create the virtual environment" in dry.stdout
    assert not (tmp_path / "env").exists()
    done = run_envman("sync", target, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "env" / "pyvenv.cfg").is_file()
    assert run_envman("check", target, cwd=tmp_path).returncode == 0
