"""The `init` of each example: what an example's lock exports (requirements, renv.lock)
imports back with `init --from` into pins of exactly the locked packages, nothing left out."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.adoption.conftest import run_envman

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize("name", ["churn-model", "multi-language"])
def test_an_examples_exports_import_back(name: str, tmp_path: Path) -> None:
    example = tmp_path / name
    example.mkdir()
    for src in ("envman.yaml", "envman.lock"):
        shutil.copy(EXAMPLES / name / src, example / src)
    lock = yaml.safe_load((example / "envman.lock").read_text())
    env = "production"
    platform = next(iter(lock["environments"][env]))
    body = lock["environments"][env][platform]
    files = []
    for fmt, filename, key in (("requirements", "requirements.txt", "python"), ("renv", "renv.lock", "r")):
        if not body.get(key):
            continue
        done = run_envman("export", "--env", env, "--format", fmt, "-o", str(tmp_path / "in" / filename), cwd=example)
        assert done.returncode == 0, done.stderr
        files.append(str(tmp_path / "in" / filename))
    project = tmp_path / "imported"
    project.mkdir()
    done = run_envman("init", "--strict", "--from", *files, cwd=project)  # --strict: every line carried over
    assert done.returncode == 0, done.stderr
    manifest = yaml.safe_load((project / "envman.yaml").read_text())
    if body.get("python"):
        pins = [f"{e['name']}=={e['version']}" + (f" ; {e['marker']}" if e.get("marker") else "") for e in body["python"]]
        assert sorted(manifest["python"]["packages"]) == sorted(pins)
    if body.get("r"):
        assert sorted(manifest["r"]["packages"]) == sorted(f"{e['name']} (== {e['version']})" for e in body["r"])
    assert run_envman("validate", cwd=project).returncode == 0
