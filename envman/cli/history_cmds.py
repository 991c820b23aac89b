"""`envman history`, `envman identify`, `envman report`: thin layer over envman.history and
envman.report.html."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from envman.cli.common import VERBOSITY, add_manifest_option, check_format, emit_json, places_from, stderr_line
from envman.errors import EXIT_DIFFERS, EXIT_OK

__all__ = ["PARSERS"]


def history(args: argparse.Namespace) -> int:
    """The lock's timeline from git, newest first."""
    from envman.history.text import HISTORY_FORMATS, render_history
    from envman.history.timeline import load_timeline

    check_format(args.format, HISTORY_FORMATS)
    timeline = load_timeline(Path(args.file), args.env, args.since, args.max_count)
    if args.format == "json":
        emit_json(timeline.to_data())
    else:
        sys.stdout.write(render_history(timeline, args.format, verbose=VERBOSITY["level"] > 0))
    return EXIT_OK


def _context(args: argparse.Namespace) -> Any:
    from envman.targets import ProbeContext, Project
    from envman.targets.context import probe_timeout

    return ProbeContext(
        deep=False, places=places_from(args), project=Project(Path(args.file)), platform=args.platform,
        environment=None, timeout=probe_timeout(args.timeout),
    )


def identify(args: argparse.Namespace) -> int:
    """Which lock revision TARGET matches: exit 0 exactly, 1 otherwise."""
    from envman.cli.fleet_cmds import connected
    from envman.history.git import open_repo
    from envman.history.identify import identify as run_identify
    from envman.history.text import HISTORY_FORMATS, render_identify
    from envman.targets import parse_target
    from envman.targets.checking import take_snapshot

    check_format(args.format, HISTORY_FORMATS)
    open_repo(Path(args.file))  # not a git repository: say so before probing anything
    ctx = _context(args)
    snap = take_snapshot(connected(parse_target(args.target), args), ctx)  # --ssh-config, --engine
    result = run_identify(Path(args.file), snap, args.env, args.platform)
    if args.format == "json":
        emit_json(result.to_data())
    else:
        sys.stdout.write(render_identify(result, args.format))
    return EXIT_OK if result.exact is not None else EXIT_DIFFERS


def report(args: argparse.Namespace) -> int:
    """One self-contained HTML page (or markdown): environments x packages, drift, history."""
    from envman.report.html_model import REPORT_FORMATS, collect_report, render_report

    check_format(args.format, REPORT_FORMATS)
    data = collect_report(Path(args.file), args.targets or [], args.env or [], _context(args), args.history)
    text = render_report(data, args.format)
    if args.output:
        from envman.report.files import write_output

        write_output(Path(args.output), text, "the report")
        stderr_line(f"envman: wrote {args.output} ({len(data.rows)} packages, {len(data.targets)} target(s))")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more: {text!r}")
    return value


def _timeout(parser: argparse.ArgumentParser) -> None:
    """Where to look in targets and how long each may take: the options check takes."""
    from envman.cli.drift_cmds import _add_target_options

    _add_target_options(parser)


def _history_parser(commands: Any) -> None:
    parser = commands.add_parser("history", help="The lock's timeline from git: what each commit changed, per environment and ecosystem.")
    parser.add_argument("--env", help="Only this environment's changes.")
    parser.add_argument("--since", metavar="DATE", help="Only commits since DATE (as git log --since: 2026-10-01, '2 weeks ago').")
    parser.add_argument("-n", "--max-count", type=_count, metavar="N", help="At most N commits (the newest).")
    parser.add_argument("--format", default="table", help="table | json | markdown (default: table); -v lists every package change.")
    add_manifest_option(parser)
    parser.set_defaults(handler=history)


def _identify_parser(commands: Any) -> None:
    parser = commands.add_parser("identify", help="Which lock revision TARGET matches (exit 0 exactly, 1 closest only).")
    parser.add_argument("target", metavar="TARGET", help="docker:NAME, image:REF, python:PATH, snapshot.json, … (see the README)")
    parser.add_argument("--env", help="Only this environment (default: every environment of every revision).")
    parser.add_argument("--platform", help="Platform of the lock (default: the target's own when the lock has it, else linux-64).")
    parser.add_argument("--format", default="table", help="table | json | markdown (default: table)")
    add_manifest_option(parser)
    _timeout(parser)
    parser.set_defaults(handler=identify)


def _report_parser(commands: Any) -> None:
    parser = commands.add_parser("report", help="A self-contained HTML page: environments x packages, drift per target, recent history.")
    parser.add_argument(
        "targets", nargs="*", metavar="TARGET", help="Targets to show beside the lock's environments (checked against --env's first)."
    )
    parser.add_argument("--env", action="append", metavar="E", help="Environments to show (repeatable; default: all).")
    parser.add_argument("--platform", help="Platform of the lock (default: linux-64, or the lock's only one).")
    parser.add_argument("--format", default="html", help="html | markdown (default: html)")
    parser.add_argument("--history", type=_count, default=10, metavar="N", help="Commits of history shown (default: 10; 0: none).")
    parser.add_argument("-o", "--output", metavar="FILE", help="Write here (default: stdout).")
    add_manifest_option(parser)
    _timeout(parser)
    parser.set_defaults(handler=report)


PARSERS = {"history": _history_parser, "identify": _identify_parser, "report": _report_parser}
