"""Helpers shared by command modules: options every command takes, output, progress."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

__all__ = [
    "Handler",
    "emit_json",
    "progress",
    "stderr_line",
    "color",
    "check_format",
    "add_manifest_option",
    "add_place_options",
    "places_from",
]

# A command: the parsed arguments in, the exit code out (errors are raised as EnvmanError).
Handler = Callable[[argparse.Namespace], int]


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


# -q/--quiet and -v/--verbose, accepted anywhere on the command line (envman.cli.main)
VERBOSITY = {"level": 0}  # -1 quiet, 0 normal, 1 verbose


def stderr_line(text: str) -> None:
    """A message for people on stderr (progress, notes, summaries); -q silences it. Errors
    and results never go through here."""
    if VERBOSITY["level"] >= 0:
        sys.stderr.write(text + "\n")


def color() -> bool:
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def check_format(value: str, allowed: tuple[str, ...]) -> str:
    from envman.errors import BadInputError

    if value not in allowed:
        raise BadInputError(f"unknown --format {value!r}; use one of: {', '.join(allowed)}")
    return value


def add_manifest_option(parser: argparse.ArgumentParser, help: str = "The manifest; the lock is envman.lock beside it.") -> None:
    parser.add_argument(
        "-f", "--file", default=None, metavar="FILE",
        help=help + " (default: the nearest envman.yaml in this folder or a parent, or in --project DIR)",
    )


def add_place_options(parser: argparse.ArgumentParser) -> None:
    """Where to look in docker:/image:/local targets: one option per ecosystem that has one."""
    from envman import ecosystems

    for eco in ecosystems.all_ecosystems():
        if eco.place_flag:
            parser.add_argument(
                eco.place_flag,
                dest=f"place_{eco.name}",
                action="append" if eco.place_repeatable else "store",
                metavar="PATH",
                help=eco.place_help,
            )


def places_from(args: argparse.Namespace) -> Any:
    from envman import ecosystems
    from envman.targets import Places

    flags = {eco.place_flag: getattr(args, f"place_{eco.name}", None) for eco in ecosystems.all_ecosystems() if eco.place_flag}
    return Places.from_flags(flags)


@contextmanager
def progress(title: str) -> Iterator[Callable[[str], None]]:
    """A spinner on a TTY (stderr), nothing when piped (with -v: one line per step, with the
    time since the start; -q: nothing). Yields update(message)."""
    if VERBOSITY["level"] > 0:
        import time

        started = time.monotonic()

        def line(message: str) -> None:
            sys.stderr.write(f"{title}: {message} ({time.monotonic() - started:.1f}s)\n")

        yield line
        return
    if VERBOSITY["level"] < 0 or not sys.stderr.isatty():
        yield lambda message: None
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status(title) as status:
        yield lambda message: status.update(f"{title}: {message}")
