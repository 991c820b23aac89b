"""The command line: argparse subcommands from the command modules; errors -> exit codes.

argparse (standard library) instead of Typer: Typer with click and rich took 0.13 to 0.25 s to
import, more than `envman check` or a warm `envman lock` take to do their work. Each command
module registers its subcommands; a handler imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import traceback

from envman.errors import EnvmanError

__all__ = ["build_parser", "run"]

COMMAND_MODULES = (
    "envman.cli.project_cmds",  # init, validate
    "envman.cli.lock_cmds",  # lock, export, why
    "envman.cli.drift_cmds",  # snapshot, check, diff, sync
)
DESCRIPTION = "One manifest, one lock across Python, R, JVM and conda; images that are the lock; drift checks."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="envman", description=DESCRIPTION)
    parser.add_argument("--debug", action="store_true", help="Show tracebacks (exit codes are unchanged).")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("ENVMAN_DEBUG") == "1"


def run(argv: list[str] | None = None) -> None:
    """Run the CLI; EnvmanError -> one message on stderr and its exit code, no traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    args = [a for a in args if a != "--debug"]
    parser = build_parser()
    if not args:
        parser.print_help()
        sys.exit(2)
    namespace = parser.parse_args(args)  # usage errors: argparse prints them and exits 2
    handler = getattr(namespace, "handler", None)
    if handler is None:
        parser.print_help()
        sys.exit(2)
    try:
        code = handler(namespace)
    except EnvmanError as exc:
        from envman.redact import redact_text

        if debug:  # the traceback too, and the same exit code
            traceback.print_exc()
        sys.stderr.write(f"envman: error: {redact_text(str(exc))}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("envman: interrupted\n")
        sys.exit(130)
    except Exception as exc:
        if debug:
            traceback.print_exc()
        sys.stderr.write(f"envman: internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)\n")
        sys.exit(70)
    sys.exit(code)
