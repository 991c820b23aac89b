"""`envman snapshot`, `check`, `diff`, `sync`: thin layer over targets/, drift/ and report/."""

from __future__ import annotations

import argparse
import functools
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from envman.cli.common import add_manifest_option, add_place_options, check_format, color, places_from, progress, stderr_line
from envman.errors import EXIT_DIFFERS, EXIT_OK, EnvmanError

__all__ = ["PARSERS"]

DEFAULT_PLATFORM = "linux-64"
MAX_MESSAGE_CHARS = 4000  # an error line may quote a target: never megabytes of it


def _context(args: argparse.Namespace, deep: bool, with_places: bool = True) -> Any:
    from envman.targets import Places, ProbeContext, Project
    from envman.targets.context import probe_timeout

    places = places_from(args) if with_places else Places()
    return ProbeContext(
        deep=deep,
        places=places,
        project=Project(Path(args.file)),
        platform=args.platform,
        environment=args.env,
        timeout=probe_timeout(args.timeout),
    )


def _clean(error: EnvmanError) -> EnvmanError:
    """The error with a message fit for a terminal: control characters from a target (ESC,
    BEL, CSI, …) escaped, and not longer than MAX_MESSAGE_CHARS."""
    from envman.report.text import printable_lines, shorten

    message = printable_lines(shorten(error.message, MAX_MESSAGE_CHARS))
    if message != error.message:
        error.message = message
        error.args = (message,)
    return error


def _clean_errors(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    @functools.wraps(handler)
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except EnvmanError as error:
            raise _clean(error) from None

    return run


def _finished(line: str) -> None:
    """The closing "Checked 3 target(s) in 0.41s" line, on stderr, where progress is shown
    (a terminal, or -v); piped output without -v stays exactly the report."""
    from envman.cli.common import VERBOSITY
    from envman.report.text import printable

    if VERBOSITY["level"] > 0 or (VERBOSITY["level"] == 0 and sys.stderr.isatty()):
        stderr_line(printable(line))


@_clean_errors
def snapshot(args: argparse.Namespace) -> int:
    """What is installed in TARGET, as versioned JSON that `check` and `diff` accept later."""
    from envman.cli.fleet_cmds import connected
    from envman.snapshot import dump_snapshot, write_snapshot
    from envman.targets import parse_target
    from envman.targets.checking import take_snapshot

    text = dump_snapshot(take_snapshot(connected(parse_target(args.target), args), _context(args, args.deep)))
    if args.output:
        from envman.report.text import printable

        write_snapshot(Path(args.output), text)
        stderr_line(f"envman: wrote snapshot of {printable(args.target)} to {printable(args.output)}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


@_clean_errors
def check(args: argparse.Namespace) -> int:
    """Check TARGETs against the lock. Exit 0 in sync, 1 drift."""
    from envman.report import CHECK_FORMATS, render_check
    from envman.targets import parse_target
    from envman.targets.checking import run_check

    check_format(args.format, CHECK_FORMATS)
    from envman.cli.fleet_cmds import check_fleet_command, wants_fleet

    if wants_fleet(args):  # --inventory, --notify, --jobs, …: every target reported, fleet exit codes
        return check_fleet_command(args, _context(args, args.deep))
    specs = [parse_target(t) for t in (args.targets or ["local"])]
    started = time.monotonic()
    with progress("checking") as update:
        result, errors = run_check(specs, _context(args, args.deep), update)
    _finished(f"Checked {len(specs)} target(s) in {time.monotonic() - started:.2f}s")
    text = render_check(result, args.format, color=color() and not args.output)
    if args.output:
        from envman.report.files import write_output

        write_output(Path(args.output), text, "the report")
    else:
        sys.stdout.write(text)
    drifted = any(t.error is None and not t.in_sync for t in result.targets)
    if errors:  # the reachable targets are reported; the exit code says some were not
        from envman.redact import redact_text

        # drift outranks unreachable (exit 1, as `check --inventory` does): a target that
        # answered with drift is the news; every unchecked one is still named on stderr
        for error in errors if drifted else errors[1:]:
            sys.stderr.write(f"envman: error: {redact_text(str(_clean(error)))}\n")
        if not drifted:
            raise errors[0]
    return EXIT_OK if result.in_sync else EXIT_DIFFERS


@_clean_errors
def diff(args: argparse.Namespace) -> int:
    """Differences between two targets. Exit 0 identical, 1 different."""
    from envman.report import DIFF_FORMATS, render_diff
    from envman.targets import parse_target
    from envman.targets.checking import run_diff

    check_format(args.format, DIFF_FORMATS)
    from envman.cli.fleet_cmds import connected

    left, right = (connected(parse_target(t), args) for t in (args.left, args.right))
    result = run_diff(left, right, _context(args, False))
    sys.stdout.write(render_diff(result, args.format, color=color()))
    return EXIT_OK if result.identical else EXIT_DIFFERS


@_clean_errors
def sync(args: argparse.Namespace) -> int:
    """Install, upgrade and remove until TARGET matches the lock (hash-verified artifacts)."""
    from envman.targets import parse_target
    from envman.targets.sync import sync_target

    spec = parse_target(args.target)
    rev = None
    if args.at:  # rollback: the lock of that revision, read with git show (history.rollback)
        from envman.history.rollback import at_revision

        at = at_revision(Path(args.file), args.at)
        rev = at.commit.sha
        stderr_line(f"envman: syncing to the lock at {at.describe()}")
    started = time.monotonic()
    with progress("syncing") as update:
        remaining = sync_target(
            spec, _context(args, True, with_places=False), dry_run=args.dry_run, out=sys.stdout, progress=update, rev=rev
        )
    _finished(f"{'Planned' if args.dry_run else 'Synced'} {args.target} in {time.monotonic() - started:.2f}s")
    return EXIT_DIFFERS if remaining else EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Sync the project's own environments with the lock, then run a command with them first."""
    from envman.running import run_in_environments
    from envman.targets import Project

    command = list(args.command)
    if command[:1] == ["--"]:
        command = command[1:]
    return run_in_environments(Project(Path(args.file)), args.env, command, sys.stderr)


def _run_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "run", help="Run a command in the project's environments (.venv, .envman/r-library, .envman/jars), synced with the lock first."
    )
    parser.add_argument("--env", help="Environment (default: the only one, or production).")
    add_manifest_option(parser)
    parser.add_argument("command", nargs=argparse.REMAINDER, metavar="-- CMD", help="The command and its arguments.")
    parser.set_defaults(handler=run)


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds: {text!r}")
    return value


def _add_timeout(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--timeout",
        type=_seconds,
        metavar="SECONDS",
        help="Seconds each target has to answer; past it, it is reported unreachable (exit 4). "
        "Default: $ENVMAN_PROBE_TIMEOUT, else 60.",
    )


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    """Where to look in targets (one option per ecosystem), how to reach them, how long each may take."""
    from envman.cli.fleet_cmds import add_connection_options

    add_place_options(parser)
    add_connection_options(parser)
    _add_timeout(parser)


def _snapshot_parser(commands: Any) -> None:
    parser = commands.add_parser("snapshot", help="What is installed in TARGET, as JSON that `check` and `diff` accept later.")
    parser.add_argument("target", metavar="TARGET", help="python:PATH, docker:NAME, image:REF, lock:ENV, … (see the README)")
    parser.add_argument("-o", "--output", metavar="FILE", help="Write the JSON here (default: stdout).")
    parser.add_argument("--deep", action="store_true", help="Also hash installed files (RECORD, MD5, paths.json, jar sha256).")
    add_manifest_option(parser)
    parser.add_argument("--env", help="Environment, for lock: targets.")
    parser.add_argument("--platform", default=DEFAULT_PLATFORM, help=f"Platform of lock: targets (default: {DEFAULT_PLATFORM}).")
    _add_target_options(parser)
    parser.set_defaults(handler=snapshot)


def _check_parser(commands: Any) -> None:
    parser = commands.add_parser("check", help="Check TARGETs against the lock. Exit 0 in sync, 1 drift.")
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="TARGETs to check (default: local). Probed concurrently.")
    parser.add_argument("--env", help="Environment of the lock (default: the only one, or production).")
    parser.add_argument("--format", default="table", help="table | json | markdown | junit (default: table)")
    parser.add_argument("--deep", action="store_true", help="Also verify installed files against the artifacts' hashes.")
    add_manifest_option(parser)
    parser.add_argument(
        "--platform", help="Platform of the lock (default: the target's own when the lock has it, else linux-64)."
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="Write the report to this file instead of stdout (the exit code is unchanged)."
    )
    _add_target_options(parser)
    from envman.cli.fleet_cmds import add_fleet_check_options

    add_fleet_check_options(parser)
    parser.set_defaults(handler=check)


def _diff_parser(commands: Any) -> None:
    parser = commands.add_parser("diff", help="Differences between two targets. Exit 0 identical, 1 different.")
    parser.add_argument("left", metavar="A", help="TARGET A")
    parser.add_argument("right", metavar="B", help="TARGET B")
    parser.add_argument("--format", default="table", help="table | json | markdown (default: table)")
    add_manifest_option(parser)
    parser.add_argument("--env", help="Environment for lock: targets written without one.")
    parser.add_argument("--platform", default=DEFAULT_PLATFORM, help=f"Platform of lock: targets (default: {DEFAULT_PLATFORM}).")
    _add_target_options(parser)
    parser.set_defaults(handler=diff)


def _sync_parser(commands: Any) -> None:
    parser = commands.add_parser("sync", help="Install, upgrade and remove until TARGET matches the lock.")
    parser.add_argument("target", metavar="TARGET", help="python:PATH (a venv), rlib:DIR, jars:DIR or conda:PREFIX")
    parser.add_argument("--env", help="Environment of the lock.")
    parser.add_argument("--dry-run", action="store_true", help="Print the plan, change nothing.")
    add_manifest_option(parser)
    parser.add_argument("--platform", default=DEFAULT_PLATFORM, help=f"Platform of the lock (default: {DEFAULT_PLATFORM}).")
    parser.add_argument("--at", metavar="GITREV", help="Sync to the lock of that git revision (rollback; nothing is checked out).")
    _add_timeout(parser)
    parser.set_defaults(handler=sync)


# command name -> the function that adds its subparser (envman.cli.main builds only the one run)
PARSERS = {"run": _run_parser, "snapshot": _snapshot_parser, "check": _check_parser, "diff": _diff_parser, "sync": _sync_parser}
