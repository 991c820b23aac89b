"""`envman run -- CMD`: keep the project's own environments in sync with the lock (as `uv
run` syncs `.venv`), then run CMD with them first: `.venv/` for Python, `.envman/r-library`
for R, `.envman/jars` for the JVM, `.envman/conda` for conda (each ecosystem names its place,
local_target). With conda and PyPI together the Python part goes into conda's prefix, whose
python is conda's (runtime_targets), as `pixi run` does."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from typing import Any, TextIO

from envman import ecosystems
from envman.errors import BadInputError

__all__ = ["run_in_environments", "merged_environment"]


def merged_environment(base: dict[str, str], updates: list[dict[str, str]]) -> dict[str, str]:
    """`$NAME` in a value is the current value of NAME; an unset NAME takes its separator along."""
    env = dict(base)
    for update in updates:
        for name, value in update.items():
            current = env.get(name, "")

            def expand(match: re.Match[str], current: str = current, name: str = name) -> str:
                return current if match.group(1) == name else env.get(match.group(1), "")

            value = re.sub(r"\$([A-Za-z_][A-Za-z0-9_]*)", expand, value)
            env[name] = value.strip(":") if not current else value
    return env


def run_in_environments(project: Any, environment: str | None, command: list[str], log: TextIO) -> int:
    """Sync each declared ecosystem's project-local target, then run command; its exit code."""
    from envman.targets import parse_target
    from envman.targets.context import DEFAULT_PLATFORM, ProbeContext
    from envman.targets.sync import sync_target

    if not command:
        raise BadInputError("envman run needs a command: envman run -- CMD [ARGS…]")
    data = project.manifest_data() or {}
    env_name = project.environment(environment)
    lock = project.lock(full=True)
    plock = lock.platform_lock(env_name, DEFAULT_PLATFORM)
    ctx = ProbeContext(project=project, environment=env_name)
    updates = []
    inside: dict[str, str] = {}  # runtime -> TARGET in a provider's location (conda's python)
    # providers first: the Python part of conda and PyPI together goes into conda's prefix
    for eco in sorted(ecosystems.all_ecosystems(), key=lambda e: not e.provider):
        if eco.name not in data or not plock.entries(eco.name):
            continue
        provided = inside.get(eco.runtime or "")
        target = provided or eco.local_target(project.manifest_path.parent.resolve())
        if target is None:
            continue
        spec = parse_target(target)
        report = io.StringIO()
        remaining = sync_target(spec, ctx, dry_run=False, out=report)
        if remaining or not report.getvalue().strip().endswith(": in sync, nothing to do"):
            log.write(report.getvalue())  # quiet when there was nothing to do
        if remaining:
            raise BadInputError(f"{target} could not be made to match the lock; see above")
        inside.update(eco.runtime_targets(spec.value))
        if not provided:  # a provider's environment already puts its location first
            updates.append(eco.run_environment(spec.value, plock.entries(eco.name)))
    env = merged_environment(dict(os.environ), updates)
    try:
        return subprocess.call(command, env=env)
    except FileNotFoundError:
        print(f"envman run: {command[0]}: command not found", file=sys.stderr)
        return 127
    except PermissionError:
        print(f"envman run: {command[0]}: permission denied", file=sys.stderr)
        return 126


