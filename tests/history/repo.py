"""A git repository of real lock edits: a project whose envman.yaml moves through 32 commits
(Python pins up and down, R and JVM packages added and removed, a second environment), each
followed by a real lock (envman.locking.update_lock, in process: the lock `envman lock`
writes) and a commit."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from tests.python.wheelhouse import write_simple_index

# name, version, requirements of the index the history project locks from
CORE_VERSIONS = [f"1.{i}.0" for i in range(12)]
WHEELS: list[tuple[str, str, list[str]]] = [
    *(("hist-core", v, []) for v in CORE_VERSIONS),
    *(("hist-util", v, ["hist-core>=1.0"]) for v in ("0.1", "0.2", "0.3", "0.4")),
    ("hist-extra", "2.0", []),
    ("hist-extra", "2.1", []),
]


def write_repos(root: Path) -> Path:
    """The example's R and Maven repositories plus this history's PEP 503 index, under root."""
    example = Path(__file__).resolve().parents[2] / "examples" / "multi-language" / "repos"
    shutil.copytree(example, root, dirs_exist_ok=True)
    write_simple_index(root / "pypi", WHEELS)
    return root


@dataclass
class Step:
    subject: str
    core: str  # hist-core pin
    util: str | None = None
    r: tuple[str, ...] = ()
    jvm: tuple[str, ...] = ()
    design_extra: str | None = None  # design environment adds hist-extra==this


LANG3 = "org.apache.commons:commons-lang3:3.14.0"
TEXT = "org.apache.commons:commons-text:1.12.0"
JACKSON = "com.fasterxml.jackson.core:jackson-databind:2.17.2"


def _steps() -> list[Step]:
    """32 lock edits: 10 in Python (pins up and down, a package added and dropped, the design
    environment's own package), 22 in R and the JVM (packages added, removed, added back)."""
    python = {  # step -> (core, util, design extra)
        0: ("1.0.0", None, None), 3: ("1.1.0", None, None), 6: ("1.2.0", "0.1", None), 9: ("1.2.0", "0.1", "2.0"),
        12: ("1.3.0", "0.2", "2.0"), 15: ("1.1.0", "0.2", "2.0"), 18: ("1.4.0", "0.2", "2.1"), 21: ("1.4.0", None, "2.1"),
        25: ("1.5.0", "0.3", "2.1"), 29: ("1.3.0", "0.3", "2.1"),
    }
    r_states = [(), ("R6",), ("R6", "withr"), ("withr",), ("R6", "rprojroot"), ("R6", "withr", "rprojroot"), ("rprojroot",)]
    jvm_states = [(), (LANG3,), (LANG3, TEXT), (TEXT,), (JACKSON,), (LANG3, JACKSON)]
    steps: list[Step] = []
    core, util, extra = "1.0.0", None, None
    r_i = j_i = 0
    for i in range(32):
        if i in python:
            core, util, extra = python[i]
            what = f"python: core {core}" + (f", util {util}" if util else ", no util") + (f", design extra {extra}" if extra else "")
        elif i % 2:
            r_i = (r_i + 1) % len(r_states)
            what = f"r: {', '.join(r_states[r_i]) or 'none'}"
        else:
            j_i = (j_i + 1) % len(jvm_states)
            what = f"jvm: {', '.join(d.split(':')[1] for d in jvm_states[j_i]) or 'none'}"
        steps.append(Step(what, core, util, r_states[r_i], jvm_states[j_i], extra))
    return steps


STEPS = _steps()


def manifest_text(url: str, step: Step) -> str:
    python = [f"hist-core=={step.core}"] + ([f"hist-util=={step.util}"] if step.util else [])
    lines = [
        "version: 1",
        "name: history-test",
        "python:",
        '  version: "3.11"',
        f"  index-url: {url}/pypi/simple",
        f"  packages: {python!r}".replace("'", '"'),
    ]
    if step.r:
        lines += ["r:", '  version: "4.2"', f'  repositories: {{LOCAL: "{url}/cran"}}', f"  packages: {list(step.r)!r}".replace("'", '"')]
    if step.jvm:
        lines += ["jvm:", '  java: "17"', f'  repositories: ["{url}/maven"]', f"  dependencies: {list(step.jvm)!r}".replace("'", '"')]
    lines += ["environments:", "  production: {}"]
    if step.design_extra:
        lines += [f'  design: {{python: {{packages: ["hist-extra=={step.design_extra}"]}}}}']
    else:
        lines += ["  design: {}"]
    return "\n".join(lines) + "\n"


GIT_ENV = {
    "GIT_AUTHOR_NAME": "Ada Analyst",
    "GIT_AUTHOR_EMAIL": "ada@example.org",
    "GIT_COMMITTER_NAME": "Ada Analyst",
    "GIT_COMMITTER_EMAIL": "ada@example.org",
}


def git(folder: Path, *args: str, when: int | None = None) -> str:
    env = {**os.environ, **GIT_ENV}
    if when is not None:
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = f"@{when} +0000"
    done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


@dataclass
class HistoryRepo:
    root: Path  # the repository (the project is in root/project)
    project: Path
    url: str
    commits: list[str] = field(default_factory=list)  # one per step, oldest first
    locks: list[str] = field(default_factory=list)  # the lock text at each step


START = 1_790_000_000  # 2026-09-21: commit times are fixed, one day apart


def build_history(root: Path, url: str, steps: list[Step] = STEPS) -> HistoryRepo:
    from envman.locking import LockOptions, update_lock

    project = root / "project"
    project.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("history test\n")
    git(root, "add", "README.md")
    git(root, "commit", "-q", "-m", "initial", when=START - 86400)
    repo = HistoryRepo(root, project, url)
    for i, step in enumerate(steps):
        (project / "envman.yaml").write_text(manifest_text(url, step))
        update_lock(project / "envman.yaml", LockOptions())
        git(root, "add", "project/envman.yaml", "project/envman.lock")
        git(root, "commit", "-q", "-m", step.subject, when=START + i * 86400)
        repo.commits.append(git(root, "rev-parse", "HEAD"))
        repo.locks.append((project / "envman.lock").read_text())
    (root / "NOTES.md").write_text("a commit that does not touch the lock\n")
    git(root, "add", "NOTES.md")
    git(root, "commit", "-q", "-m", "docs only", when=START + len(steps) * 86400)
    return repo
