"""`envman snapshot`, `check`, `diff`, `sync`: thin layer over targets/, drift/ and report/."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, List, Optional

import typer

__all__ = ["register"]

DEFAULT_PLATFORM = "linux-64"


def _color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _places(python: str | None, rlib: list[str] | None, jars: list[str] | None, conda: list[str] | None) -> Any:
    from envman.targets import Places

    return Places.from_flags({"--python": python, "--rlib": rlib, "--jars": jars, "--conda": conda})


def _context(manifest: str, env: str | None, platform: str | None, deep: bool, places: Any) -> Any:
    from envman.targets import ProbeContext, Project

    return ProbeContext(deep=deep, places=places, project=Project(Path(manifest)), platform=platform, environment=env)


def _check_format(value: str, allowed: tuple[str, ...]) -> str:
    from envman.errors import BadInputError

    if value not in allowed:
        raise BadInputError(f"unknown --format {value!r}; use one of: {', '.join(allowed)}")
    return value


def _finish(differs: bool) -> None:
    if differs:
        raise typer.Exit(1)


PythonOpt = typer.Option(None, "--python", help="Interpreter to probe in docker:/image:/local targets.")
RlibOpt = typer.Option(None, "--rlib", help="R library folder to probe (repeatable; default: R's .libPaths()).")
JarsOpt = typer.Option(None, "--jars", help="Jar folder to probe (repeatable; default: labels, /opt, /usr/share/java).")
CondaOpt = typer.Option(None, "--conda", help="Conda prefix to probe (repeatable; default: labels, /opt/*).")
ManifestOpt = typer.Option("envman.yaml", "-f", "--file", help="The manifest; the lock is envman.lock beside it.")
PlatformOpt = typer.Option(DEFAULT_PLATFORM, "--platform", help="Platform of the lock to compare with.")


def snapshot_cmd(
    target: str = typer.Argument(..., help="TARGET (python:PATH, docker:NAME, image:REF, lock:ENV, …)"),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Write the JSON here (default: stdout)."),
    deep: bool = typer.Option(False, "--deep", help="Also hash installed files (RECORD, MD5, paths.json, jar sha256)."),
    manifest: str = ManifestOpt,
    env: Optional[str] = typer.Option(None, "--env", help="Environment, for lock: targets."),
    platform: str = PlatformOpt,
    python: Optional[str] = PythonOpt,
    rlib: Optional[List[str]] = RlibOpt,
    jars: Optional[List[str]] = JarsOpt,
    conda: Optional[List[str]] = CondaOpt,
) -> None:
    """What is installed in TARGET, as versioned JSON that `check` and `diff` accept later."""
    from envman.snapshot import dump_snapshot, write_snapshot
    from envman.targets import parse_target
    from envman.targets.checking import take_snapshot

    spec = parse_target(target)
    ctx = _context(manifest, env, platform, deep, _places(python, rlib, jars, conda))
    text = dump_snapshot(take_snapshot(spec, ctx))
    if output:
        write_snapshot(Path(output), text)
        sys.stderr.write(f"envman: wrote snapshot of {target} to {output}\n")
    else:
        sys.stdout.write(text)


def check_cmd(
    targets: Optional[List[str]] = typer.Argument(None, help="TARGETs to check (default: local). Probed concurrently."),
    env: Optional[str] = typer.Option(None, "--env", help="Environment of the lock (default: the only one, or production)."),
    fmt: str = typer.Option("table", "--format", help="table | json | markdown | junit"),
    deep: bool = typer.Option(False, "--deep", help="Also verify installed files against the artifacts' hashes."),
    manifest: str = ManifestOpt,
    platform: Optional[str] = typer.Option(None, "--platform", help="Platform of the lock (default: the target's own when the lock has it, else linux-64)."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Write the report to this file instead of stdout (the exit code is unchanged)."),
    python: Optional[str] = PythonOpt,
    rlib: Optional[List[str]] = RlibOpt,
    jars: Optional[List[str]] = JarsOpt,
    conda: Optional[List[str]] = CondaOpt,
) -> None:
    """Check TARGETs against the lock. Exit 0 in sync, 1 drift."""
    from envman.report import CHECK_FORMATS, render_check
    from envman.targets import parse_target
    from envman.targets.checking import run_check

    _check_format(fmt, CHECK_FORMATS)
    specs = [parse_target(t) for t in (targets or ["local"])]
    ctx = _context(manifest, env, platform, deep, _places(python, rlib, jars, conda))
    result, errors = run_check(specs, ctx)
    if errors and not result.targets:
        raise errors[0]
    text = render_check(result, fmt, color=_color() and not output)
    if output:
        Path(output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if errors:  # the reachable targets are reported; the exit code says some were not
        for error in errors[1:]:
            sys.stderr.write(f"envman: error: {error}\n")
        raise errors[0]
    _finish(not result.in_sync)


def diff_cmd(
    left: str = typer.Argument(..., help="TARGET A"),
    right: str = typer.Argument(..., help="TARGET B"),
    fmt: str = typer.Option("table", "--format", help="table | json | markdown"),
    manifest: str = ManifestOpt,
    env: Optional[str] = typer.Option(None, "--env", help="Environment for lock: targets written without one."),
    platform: str = PlatformOpt,
    python: Optional[str] = PythonOpt,
    rlib: Optional[List[str]] = RlibOpt,
    jars: Optional[List[str]] = JarsOpt,
    conda: Optional[List[str]] = CondaOpt,
) -> None:
    """Differences between two targets. Exit 0 identical, 1 different."""
    from envman.report import DIFF_FORMATS, render_diff
    from envman.targets import parse_target
    from envman.targets.checking import run_diff

    _check_format(fmt, DIFF_FORMATS)
    ctx = _context(manifest, env, platform, False, _places(python, rlib, jars, conda))
    result = run_diff(parse_target(left), parse_target(right), ctx)
    sys.stdout.write(render_diff(result, fmt, color=_color()))
    _finish(not result.identical)


def sync_cmd(
    target: str = typer.Argument(..., help="python:PATH (a venv), rlib:DIR, jars:DIR or conda:PREFIX"),
    env: Optional[str] = typer.Option(None, "--env", help="Environment of the lock."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the plan, change nothing."),
    manifest: str = ManifestOpt,
    platform: str = PlatformOpt,
) -> None:
    """Install, upgrade and remove until TARGET matches the lock (hash-verified artifacts)."""
    from envman.targets import parse_target
    from envman.targets.sync import sync_target

    spec = parse_target(target)
    ctx = _context(manifest, env, platform, True, _places(None, None, None, None))
    remaining = sync_target(spec, ctx, dry_run=dry_run, out=sys.stdout)
    _finish(remaining)


def register(app: typer.Typer) -> None:
    app.command("snapshot")(snapshot_cmd)
    app.command("check")(check_cmd)
    app.command("diff")(diff_cmd)
    app.command("sync")(sync_cmd)
