"""The project is found from any subfolder (as uv and pixi do); --project DIR overrides;
--version; a closed pipe is quiet."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from tests.python.conftest import run_envman

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "churn-model"


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "proj"
    root.mkdir()
    for name in ("envman.yaml", "envman.lock"):
        shutil.copyfile(EXAMPLE / name, root / name)
    (root / "src" / "deep").mkdir(parents=True)
    return root


def test_found_from_a_subfolder_on_both_paths(tmp_path):
    root = _project(tmp_path)
    for fast in ("", "1"):
        done = run_envman("lock", "--check", cwd=root / "src" / "deep", env={"ENVMAN_NO_FAST_PATH": fast})
        assert done.returncode == 0 and "../../envman.lock is fresh" in done.stderr, done.stderr
    done = run_envman("validate", cwd=root / "src")
    assert done.returncode == 0 and done.stdout.startswith("../envman.yaml: valid")


def test_project_option_and_file_option(tmp_path):
    root = _project(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    assert run_envman("--project", str(root), "lock", "--check", cwd=elsewhere).returncode == 0
    assert run_envman("validate", "-f", str(root / "envman.yaml"), cwd=elsewhere).returncode == 0
    done = run_envman("validate", cwd=elsewhere)
    assert done.returncode == 2 and "envman.yaml: no such manifest" in done.stderr


def test_init_writes_here_not_in_a_parent_project(tmp_path):
    root = _project(tmp_path)
    done = run_envman("init", cwd=root / "src")
    assert done.returncode == 0 and (root / "src" / "envman.yaml").is_file()


def test_version():
    done = run_envman("--version", cwd=Path.cwd())
    assert done.returncode == 0 and done.stdout.strip().startswith("envman ")


def test_a_closed_pipe_is_quiet(tmp_path):
    root = _project(tmp_path)
    proc = subprocess.Popen([sys.executable, "-m", "envman", "export", "--format", "requirements"], cwd=root,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None
    proc.stdout.read(10)
    proc.stdout.close()
    err = proc.stderr.read().decode() if proc.stderr else ""
    assert proc.wait(timeout=60) in (0, 141) and "internal error" not in err and "Traceback" not in err
