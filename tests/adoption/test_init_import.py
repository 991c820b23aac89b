"""`envman init --from FILE…` imports everything it can, says what it could not and why, and
never stops at the first unsupported line: requirements syntax as people write it, several
files merged, pyproject.toml (PEP 621, PEP 735), real files from public projects, and the
imported manifests lock with the real resolver (differentially against `uv pip compile`)."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import yaml

from tests.adoption.conftest import run_envman

REAL = Path(__file__).resolve().parents[1] / "fixtures" / "real"


def _manifest(project: Path) -> dict:
    return yaml.safe_load((project / "envman.yaml").read_text())


def _write(folder: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text)


REQUIREMENTS = """\
# what people write
--index-url https://pypi.org/simple
--extra-index-url https://example.org/simple
-f ./wheels
-r base.txt
-c constraints.txt
--trusted-host example.org
numpy>=1.24 ; python_version >= "3.9"  # inline comment
requests[socks]==2.31.0 \\
    --hash=sha256:58cd2187c01e70e6e26505bca751777aa9f2ee0b7f4300988b709f44e013003f
-e git+https://github.com/psf/black@22.3.0#egg=black
-e ./localpkg
tinypkg @ https://example.org/tinypkg-1.0-py3-none-any.whl ; sys_platform == "linux"
https://example.org/files/other_pkg-2.0-py3-none-any.whl
./dist/pathpkg-3.0.tar.gz
git+https://github.com/foo/bar.git@v1
${HOME}/x.whl
--pre
this is not a requirement
scipy==1.10.1
"""


def test_requirements_syntax_as_people_write_it(tmp_path: Path) -> None:
    _write(tmp_path, {
        "requirements.txt": REQUIREMENTS,
        "base.txt": "pandas>=2\nscipy==1.11.0\n-r requirements.txt\n",  # a cycle back: read once
        "constraints.txt": "urllib3<2\n",
        "localpkg/pyproject.toml": '[project]\nname = "localpkg"\nversion = "1"\n',
    })
    (tmp_path / "wheels").mkdir()
    done = run_envman("init", "--from", "requirements.txt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    python = _manifest(tmp_path)["python"]
    assert python["index-url"] == "https://pypi.org/simple"
    assert python["extra-index-urls"] == ["https://example.org/simple"]
    assert python["find-links"] == ["./wheels"]
    assert python["constraints"] == ["urllib3<2"]
    assert python["packages"] == [
        "pandas>=2",
        "scipy==1.11.0",
        'numpy>=1.24 ; python_version >= "3.9"',
        "requests[socks]==2.31.0",
        "black @ git+https://github.com/psf/black@22.3.0",
        "localpkg @ file:./localpkg",
        'tinypkg @ https://example.org/tinypkg-1.0-py3-none-any.whl ; sys_platform == "linux"',
        "other_pkg @ https://example.org/files/other_pkg-2.0-py3-none-any.whl",
        "pathpkg @ file:./dist/pathpkg-3.0.tar.gz",
    ]
    err = done.stderr
    # every line not carried over is listed with its place and reason; the import went on
    for where, reason in [
        ("requirements.txt:7: --trusted-host example.org", "system CA bundle"),
        ("requirements.txt:16: git+https://github.com/foo/bar.git@v1", "cannot tell the package name"),
        ("requirements.txt:17: ${HOME}/x.whl", "environment variables"),
        ("requirements.txt:18: --pre", "pre-release"),
        ("requirements.txt:19: this is not a requirement", "PEP 508"),
        ("scipy==1.10.1", "conflicts with 'scipy==1.11.0'"),
    ]:
        line = next((x for x in err.splitlines() if where in x), None)
        assert line is not None and reason in line, (where, err)
    assert "warning: 7 line(s) not carried over" in err  # the six above and the -r cycle
    # what changed on the way is said: editables become plain direct references, --hash dropped
    assert "requirements.txt:11: -e git+https://github.com/psf/black@22.3.0#egg=black -> black @ git+" in err
    assert "non-editable" in err and "--hash options of requests[socks]==2.31.0 dropped" in err
    assert run_envman("validate", cwd=tmp_path).returncode == 0


def test_strict_refuses_and_writes_nothing(tmp_path: Path) -> None:
    _write(tmp_path, {"requirements.txt": "six==1.16.0\n--trusted-host example.org\n"})
    done = run_envman("init", "--strict", "--from", "requirements.txt", cwd=tmp_path)
    assert done.returncode == 2
    assert "--strict: 1 line(s) could not be carried over" in done.stderr and "requirements.txt:2" in done.stderr
    assert not (tmp_path / "envman.yaml").exists()
    (tmp_path / "clean.txt").write_text("six==1.16.0\n")
    assert run_envman("init", "--strict", "--from", "clean.txt", cwd=tmp_path).returncode == 0


def test_several_files_merge_into_one_manifest(tmp_path: Path) -> None:
    _write(tmp_path, {
        "requirements.txt": "six==1.16.0\nattrs>=22\n--index-url https://pypi.org/simple\n",
        "requirements-dev.txt": "pytest\nsix==1.15.0\nattrs>=22\n--index-url https://mirror.example.org/simple\n",
        "pyproject.toml": '[project]\nname="demo"\nrequires-python=">=3.11,<3.14"\ndependencies=["packaging>=23"]\n'
                          '[project.optional-dependencies]\nplot=["matplotlib"]\n'
                          '[dependency-groups]\nlint=["ruff"]\ntest=["coverage", {include-group="lint"}, "demo[plot]"]\n',
    })
    done = run_envman("init", "--from", "requirements.txt", "requirements-dev.txt", "--from", "pyproject.toml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    manifest = _manifest(tmp_path)
    assert manifest["python"]["version"] == "3.11"
    assert manifest["python"]["index-url"] == "https://pypi.org/simple"
    assert manifest["python"]["packages"] == ["six==1.16.0", "attrs>=22", "pytest", "packaging>=23"]
    assert manifest["environments"] == {
        "production": {},
        "plot": {"python": {"packages": ["matplotlib"]}},
        "lint": {"python": {"packages": ["ruff"]}},
        "test": {"python": {"packages": ["coverage", "ruff"]}},
    }
    assert "six==1.15.0  (python.packages: conflicts with 'six==1.16.0'" in done.stderr
    assert "python.index-url: https://mirror.example.org/simple  (differs from 'https://pypi.org/simple'" in done.stderr
    assert "requires-python '>=3.11,<3.14' -> python.version 3.11" in done.stderr
    assert "the project demo itself is not added" in done.stderr


def test_real_flask_files(tmp_path: Path) -> None:
    """pallets/flask's pip-tools requirement files (-r includes of compiled files, markers,
    name-less archive URLs) and its pyproject.toml (PEP 621 + PEP 735)."""
    shutil.copytree(REAL / "flask-requirements", tmp_path / "requirements")
    done = run_envman("init", "--from", "requirements/dev.in", "requirements/tests-dev.txt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    packages = _manifest(tmp_path)["python"]["packages"]
    assert "sphinx==8.2.3" in packages and "pytest==8.3.5" in packages and "mypy==1.15.0" in packages
    assert packages[-2:] == ["pre-commit", "tox"]
    assert done.stderr.count("cannot tell the package name of this URL") == 6  # tests-dev.txt's GitHub archives
    project = tmp_path / "p2"
    project.mkdir()
    shutil.copy(REAL / "flask-pyproject" / "pyproject.toml", project / "pyproject.toml")
    done = run_envman("init", "--from", "pyproject.toml", cwd=project)
    assert done.returncode == 0, done.stderr
    manifest = _manifest(project)
    assert manifest["python"]["version"] == "3.10"
    assert "werkzeug>=3.1.0" in manifest["python"]["packages"]
    assert manifest["environments"]["gha-update"] == {"python": {"packages": ["gha-update ; python_full_version >= '3.12'"]}}
    assert set(manifest["environments"]) >= {"production", "async", "dotenv", "dev", "docs", "tests", "typing"}
    assert run_envman("validate", cwd=project).returncode == 0


def test_an_imported_file_locks_like_uv_compiles_it(tmp_path: Path, simple_index: str) -> None:
    """Differential: the lock of the imported manifest pins what `uv pip compile` pins for the
    same requirements file (-r include, -c constraints, a marker) on the same index."""
    _write(tmp_path, {
        "requirements.txt": f"--index-url {simple_index}\n-r more.txt\n-c constraints.txt\n"
                            "gamma\ndelta ; sys_platform == 'linux'\neps ; sys_platform == 'win32'\n",
        "more.txt": "zeta\n",
        "constraints.txt": "alpha<2\ndelta==1.0\n",
    })
    done = run_envman("init", "--from", "requirements.txt", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    locked = run_envman("lock", cwd=tmp_path)
    assert locked.returncode == 0, locked.stderr
    lock = yaml.safe_load((tmp_path / "envman.lock").read_text())
    ours = {f"{e['name']}=={e['version']}" for e in lock["environments"]["default"]["linux-64"]["python"]}
    from uv import find_uv_bin

    compiled = subprocess.run(
        [find_uv_bin(), "pip", "compile", "requirements.txt", "--no-header", "--no-annotate", "--python-version", "3.11",
         "--python-platform", "x86_64-manylinux_2_28", "--no-config", "-q"],
        cwd=tmp_path, capture_output=True, text=True, check=True, env={**os.environ, "UV_NO_CONFIG": "1"},
    ).stdout
    theirs = {line.strip() for line in compiled.splitlines() if "==" in line and not line.startswith(("#", "-"))}
    assert ours == theirs == {"alpha==1.0", "gamma==1.0", "delta==1.0", "zeta==1.0"}


def test_init_without_from_offers_the_files_it_finds(tmp_path: Path) -> None:
    _write(tmp_path, {"requirements.txt": "six==1.16.0\n", "pyproject.toml": '[project]\nname="x"\ndependencies=["attrs"]\n'})
    # not on a terminal: says how, imports nothing
    done = run_envman("init", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "found pyproject.toml, requirements.txt; to import them: envman init --from" in done.stderr
    assert _manifest(tmp_path)["python"]["packages"] == []
    # --yes imports them
    done = run_envman("init", "--force", "--yes", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _manifest(tmp_path)["python"]["packages"] == ["attrs", "six==1.16.0"]
    # on a terminal it asks; "y" imports
    (tmp_path / "envman.yaml").unlink()
    screen = _on_terminal([sys.executable, "-m", "envman", "init"], tmp_path, answer=b"y\n")
    assert "import them into the manifest? [Y/n]" in screen
    assert _manifest(tmp_path)["python"]["packages"] == ["attrs", "six==1.16.0"]


def _on_terminal(argv: list[str], cwd: Path, answer: bytes, timeout: float = 60) -> str:
    """Run argv on a pseudo-terminal, type `answer` once it asks, return what it showed."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: the command, with the terminal as stdin/stdout/stderr
        os.chdir(cwd)
        os.execv(argv[0], argv)
    shown = b""
    answered = False
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([fd], [], [], 0.5)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            if not chunk:
                break
            shown += chunk
            if not answered and b"[Y/n]" in shown:
                os.write(fd, answer)
                answered = True
    finally:
        os.close(fd)
        _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, shown.decode(errors="replace")
    return shown.decode(errors="replace")


ENVIRONMENT_YAML = """\
name: ldm
channels:
  - pytorch
  - defaults
dependencies:
  - python=3.8.5
  - pip=20.3
  - cudatoolkit=11.3
  - pytorch=1.11.0
  - numpy=1.19.2
  - pip:
    - albumentations==0.4.3
    - opencv-python==4.1.2.30
    - --extra-index-url https://download.pytorch.org/whl/cu113
    - --trusted-host download.pytorch.org
    - -e git+https://github.com/CompVis/taming-transformers.git@master#egg=taming-transformers
    - -e git+https://github.com/openai/CLIP.git@main#egg=clip
    - -e .
"""


def test_a_stable_diffusion_style_environment_yaml(tmp_path: Path) -> None:
    """conda packages, and pip lines with `-e git+…#egg=` and `-e .` (the layout of
    CompVis/stable-diffusion's environment.yaml): nothing dropped silently."""
    _write(tmp_path, {"environment.yaml": ENVIRONMENT_YAML, "pyproject.toml": '[project]\nname = "latent-diffusion"\nversion = "0.0.1"\n'})
    done = run_envman("init", "--from", "environment.yaml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    manifest = _manifest(tmp_path)
    assert manifest["conda"]["packages"] == ["python=3.8.5", "pip=20.3", "cudatoolkit=11.3", "pytorch=1.11.0", "numpy=1.19.2"]
    assert manifest["python"]["extra-index-urls"] == ["https://download.pytorch.org/whl/cu113"]
    assert manifest["python"]["packages"] == [
        "albumentations==0.4.3",
        "opencv-python==4.1.2.30",
        "taming-transformers @ git+https://github.com/CompVis/taming-transformers.git@master",
        "clip @ git+https://github.com/openai/CLIP.git@main",
        "latent-diffusion @ file:.",
    ]
    assert "pip: --trusted-host download.pytorch.org  (pip option --trusted-host" in done.stderr
    assert "pip: -e git+https://github.com/openai/CLIP.git@main#egg=clip -> clip @ git+" in done.stderr
