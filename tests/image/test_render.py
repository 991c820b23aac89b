"""`envman render`: a Dockerfile and build context from the lock, with no engine; the same
lock gives the same bytes; a team's templates win; layer groups are read back."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from envman.errors import BadInputError
from envman.render.groups import layer_groups
from envman.render.templating import docker_quote, shell_quote
from tests.python.conftest import run_envman


def _tree(root: Path) -> dict[str, tuple[str, int, int]]:
    out = {}
    for folder, _dirs, files in os.walk(root):
        for name in files:
            path = Path(folder) / name
            info = path.stat()
            out[str(path.relative_to(root))] = (hashlib.sha256(path.read_bytes()).hexdigest(), int(info.st_mtime), info.st_mode & 0o777)
    return out


def test_render_writes_a_context_without_an_engine(locked_project):
    out = locked_project / "ctx"
    done = run_envman("render", "-o", str(out), cwd=locked_project, env={"DOCKER_HOST": "unix:///nonexistent.sock"})
    assert done.returncode == 0, done.stderr
    dockerfile = (out / "Dockerfile").read_text()
    assert "FROM envman-test-base:bookworm AS envman-system" in dockerfile
    assert "--require-hashes" in (out / "python" / "install.sh").read_text()
    assert "--no-index" in (out / "python" / "install.sh").read_text()
    wheels = sorted(p.name for p in (out / "python" / "wheels").iterdir())
    assert [w.split("-")[0] for w in wheels] == ["alpha", "delta", "gamma", "zeta"]
    assert (out / "r" / "leaves-00" / "src" / "R6_2.5.1.tar.gz").is_file()
    assert (out / "r" / "leaves-00" / "packages.txt").read_text() == "0 R6 2.5.1 R6_2.5.1.tar.gz\n"
    assert (out / "jvm" / "lib" / "org.apache.commons" / "commons-lang3-3.14.0.jar").is_file()
    assert (out / "jvm" / "classpath").read_text() == "/opt/envman/jars/lib/org.apache.commons/commons-lang3-3.14.0.jar\n"
    # layers from least to most often changed, one per ecosystem
    assert layer_groups(dockerfile) == [("jvm", 1), ("python", 1), ("r", 2)]  # the chain's library, then one leaf bucket
    # one ENV and one LABEL instruction (each is a step every rebuild runs again)
    assert dockerfile.count("\nENV ") == 1 and dockerfile.count("\nLABEL ") == 1
    assert 'PATH="/opt/envman/venv/bin:$PATH"' in dockerfile
    assert 'R_LIBS="/opt/envman/r-library"' in dockerfile
    assert '"org.envman.python"="/opt/envman/venv/bin/python"' in dockerfile


def test_render_twice_gives_identical_bytes(locked_project):
    first, second = locked_project / "a", locked_project / "b"
    for out in (first, second):
        done = run_envman("render", "-o", str(out), cwd=locked_project)
        assert done.returncode == 0, done.stderr
    assert _tree(first) == _tree(second)
    again = run_envman("render", "-o", str(first), cwd=locked_project)  # an earlier render is replaced whole
    assert again.returncode == 0, again.stderr
    assert _tree(first) == _tree(second)


def test_the_commit_of_the_lock_sets_the_epoch_and_the_revision_label(locked_project):
    """SOURCE_DATE_EPOCH and org.opencontainers.image.created come from the committer time of
    the commit that last changed envman.lock, `revision` is that commit; an unrelated later
    commit changes neither; an uncommitted lock falls back to 1980-01-01 and no revision."""
    stamp = 1767225600  # 2026-01-01T00:00:00Z
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.invalid", "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_SYSTEM": "/dev/null"}

    def git(*args: str, date: int = stamp) -> str:
        dated = {**env, "GIT_AUTHOR_DATE": f"@{date} +0000", "GIT_COMMITTER_DATE": f"@{date} +0000"}
        return subprocess.run(["git", *args], cwd=locked_project, env=dated, capture_output=True, text=True, check=True).stdout

    def render(name: str) -> str:
        done = run_envman("render", "-o", str(locked_project / name), cwd=locked_project)
        assert done.returncode == 0, done.stderr
        return (locked_project / name / "Dockerfile").read_text()

    render("before")
    git("init", "-q")
    git("add", "envman.yaml", "envman.lock")
    git("commit", "-q", "-m", "lock")
    commit = git("rev-parse", "HEAD").strip()
    (locked_project / "notes.txt").write_text("unrelated\n")
    git("add", "notes.txt")
    git("commit", "-q", "-m", "unrelated", date=stamp + 86400)
    dockerfile = render("committed")
    assert f'"org.opencontainers.image.revision"="{commit}"' in dockerfile
    assert '"org.opencontainers.image.created"="2026-01-01T00:00:00Z"' in dockerfile
    # the install steps see a fixed SOURCE_DATE_EPOCH: committing the lock re-runs none of them
    # (only the rewrite's times and the labels, after the layers, take the commit's)
    assert "SOURCE_DATE_EPOCH=315532800" in (locked_project / "committed" / "python" / "install.sh").read_text()
    for name in ("python/install.sh", "r/install.sh", "r/profile.R"):
        assert (locked_project / "committed" / name).read_bytes() == (locked_project / "before" / name).read_bytes()
    steps = [line for line in dockerfile.splitlines() if not line.startswith(("#", "LABEL", "  "))]
    assert steps == [line for line in (locked_project / "before" / "Dockerfile").read_text().splitlines()
                     if not line.startswith(("#", "LABEL", "  "))]
    manifest = locked_project / "envman.yaml"
    manifest.write_text(manifest.read_text().replace('packages: ["R6"]', 'packages: ["R6", "withr"]'))
    assert run_envman("lock", cwd=locked_project).returncode == 0  # a lock not committed yet
    dockerfile = render("dirty")
    assert "org.opencontainers.image.revision" not in dockerfile
    assert '"org.opencontainers.image.created"="1980-01-01T00:00:00Z"' in dockerfile


def test_render_refuses_a_folder_it_did_not_write(locked_project):
    out = locked_project / "mine"
    out.mkdir()
    (out / "precious.txt").write_text("keep me")
    done = run_envman("render", "-o", str(out), cwd=locked_project)
    assert done.returncode == 2
    assert "did not write" in done.stderr and "Traceback" not in done.stderr
    assert (out / "precious.txt").read_text() == "keep me"


def test_team_templates_override_single_files(locked_project):
    own = locked_project / "own-templates" / "ecosystems" / "jvm"
    own.mkdir(parents=True)
    (own / "Dockerfile.j2").write_text(
        '{%- if part == "final" %}\n# envman-layer: jvm\nCOPY jvm/ {{ f.install_dir }}/\nRUN echo "team jvm step"\n{%- endif %}\n'
    )
    manifest = locked_project / "envman.yaml"
    manifest.write_text(manifest.read_text().replace("image:\n", "image:\n  templates: own-templates\n"))
    assert run_envman("lock", cwd=locked_project).returncode == 0
    done = run_envman("render", "-o", str(locked_project / "ctx"), cwd=locked_project)
    assert done.returncode == 0, done.stderr
    dockerfile = (locked_project / "ctx" / "Dockerfile").read_text()
    assert 'RUN echo "team jvm step"' in dockerfile
    assert "AS envman-python" in dockerfile  # the shipped templates serve everything else
    assert layer_groups(dockerfile) == [("jvm", 2), ("python", 1), ("r", 2)]


def test_a_template_naming_an_unknown_value_is_an_error_not_an_empty_string(locked_project):
    own = locked_project / "own-templates" / "ecosystems" / "jvm"
    own.mkdir(parents=True)
    (own / "Dockerfile.j2").write_text('{%- if part == "final" %}\nCOPY jvm/ {{ f.no_such_field }}/\n{%- endif %}\n')
    manifest = locked_project / "envman.yaml"
    manifest.write_text(manifest.read_text().replace("image:\n", "image:\n  templates: own-templates\n"))
    assert run_envman("lock", cwd=locked_project).returncode == 0
    done = run_envman("render", "-o", str(locked_project / "ctx"), cwd=locked_project)
    assert done.returncode == 2, done.stderr
    assert "no_such_field" in done.stderr and "Traceback" not in done.stderr


def test_render_needs_an_image_section_and_a_fresh_lock(locked_project):
    manifest = locked_project / "envman.yaml"
    manifest.write_text(manifest.read_text().replace('packages: ["R6"]', 'packages: ["R6", "withr"]'))
    stale = run_envman("render", cwd=locked_project)
    assert stale.returncode == 1 and "stale" in stale.stderr
    text = manifest.read_text()
    manifest.write_text(text[: text.index("image:")])
    assert run_envman("lock", cwd=locked_project).returncode == 0
    done = run_envman("render", cwd=locked_project)
    assert done.returncode == 2 and "image" in done.stderr


def test_layer_groups_follow_the_final_stage_chain():
    text = """FROM base AS sys
# envman-layer: system
COPY ca /tmp/ca
RUN apt-get install x && \\
    rm /tmp/ca
FROM sys AS build
RUN make
FROM sys
# envman-layer: app
COPY --from=build /opt/app /opt/app
ENV A=1
LABEL b=2
"""
    assert layer_groups(text) == [("system", 2), ("app", 1)]
    assert layer_groups("FROM x\nRUN a\nRUN b\n") == [("dockerfile", 2)]


def test_values_reaching_a_dockerfile_are_quoted_and_single_line():
    assert shell_quote("a b;rm -rf /") == "'a b;rm -rf /'"
    assert docker_quote('x"y$PATH') == '"x\\"y$PATH"'
    for bad in ("a\nRUN evil", "tab\there", "\x7f"):
        with pytest.raises(BadInputError):
            shell_quote(bad)
        with pytest.raises(BadInputError):
            docker_quote(bad)
