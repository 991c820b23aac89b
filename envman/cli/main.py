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

from envman import __version__
from envman.errors import EnvmanError

__all__ = ["build_parser", "run"]

# command -> the module with its handler and subparser (in `envman --help` order)
COMMANDS = {
    "init": "envman.cli.project_cmds",
    "validate": "envman.cli.project_cmds",
    "schema": "envman.cli.project_cmds",
    "completion": "envman.cli.project_cmds",
    "lock": "envman.cli.lock_cmds",
    "export": "envman.cli.lock_cmds",
    "why": "envman.cli.lock_cmds",
    "tree": "envman.cli.lock_cmds",
    "add": "envman.cli.lock_cmds",
    "remove": "envman.cli.lock_cmds",
    "render": "envman.cli.image_cmds",
    "build": "envman.cli.image_cmds",
    "snapshot": "envman.cli.drift_cmds",
    "check": "envman.cli.drift_cmds",
    "diff": "envman.cli.drift_cmds",
    "sync": "envman.cli.drift_cmds",
    "run": "envman.cli.drift_cmds",
    "watch": "envman.cli.fleet_cmds",
    "history": "envman.cli.history_cmds",
    "identify": "envman.cli.history_cmds",
    "report": "envman.cli.history_cmds",
}
DESCRIPTION = "One manifest, one lock across Python, R, JVM and conda; images that are the lock; drift checks."


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; with `command`, only that command's subparser is built in full (the
    others are names only), since a process runs one command."""
    parser = argparse.ArgumentParser(prog="envman", description=DESCRIPTION)
    parser.add_argument("--debug", action="store_true", help="Show tracebacks (exit codes are unchanged).")
    parser.add_argument("-q", "--quiet", action="store_true", help="Only results and errors (any command, anywhere on the line).")
    parser.add_argument("-v", "--verbose", action="store_true", help="Progress as plain lines with times (any command).")
    parser.add_argument("--version", action="version", version=f"envman {__version__}")
    parser.add_argument("--project", metavar="DIR", help="The project folder (default: found from the current folder upwards).")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name, module in COMMANDS.items():
        if command is None or name == command:
            importlib.import_module(module).PARSERS[name](commands)
        else:
            commands.add_parser(name)
    return parser


def _take_verbosity(args: list[str]) -> list[str]:
    """-q/--quiet and -v/--verbose anywhere before `--` (every command takes them)."""
    from envman.cli.common import VERBOSITY

    end = args.index("--") if "--" in args else len(args)
    head, tail = args[:end], args[end:]
    quiet = sum(a in ("-q", "--quiet") for a in head)
    verbose = sum(a in ("-v", "--verbose") for a in head)
    VERBOSITY["level"] = -1 if quiet else (1 if verbose else 0)
    return [a for a in head if a not in ("-q", "--quiet", "-v", "--verbose")] + tail


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("ENVMAN_DEBUG") == "1"


def run(argv: list[str] | None = None) -> None:
    """Run the CLI; EnvmanError -> one message on stderr and its exit code, no traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    args = [a for a in args if a != "--debug"]
    args = _take_verbosity(args)
    first = next((a for a in args if not a.startswith("-")), None)
    parser = build_parser(first if first in COMMANDS else None)
    if not args:
        parser.print_help()
        sys.exit(2)
    namespace = parser.parse_args(args)  # usage errors: argparse prints them and exits 2
    handler = getattr(namespace, "handler", None)
    if handler is None:
        parser.print_help()
        sys.exit(2)
    if hasattr(namespace, "file") and namespace.file is None:
        from envman.cli.project_path import MANIFEST_NAME, find_manifest

        if handler.__name__ == "init":  # init writes a new manifest here (or in --project)
            namespace.file = os.path.join(namespace.project, MANIFEST_NAME) if namespace.project else MANIFEST_NAME
        else:
            namespace.file = find_manifest(None, namespace.project)
    try:
        code = handler(namespace)
    except EnvmanError as exc:
        from envman.redact import redact_text

        if debug:  # the traceback too, and the same exit code
            import traceback

            traceback.print_exc()
        sys.stderr.write(f"envman: error: {redact_text(str(exc))}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("envman: interrupted\n")
        sys.exit(130)
    except BrokenPipeError:  # the reader went away (`envman why x | head`): like SIGPIPE, quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        sys.exit(141)
    except Exception as exc:
        if debug:
            import traceback

            traceback.print_exc()
        sys.stderr.write(f"envman: internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)\n")
        sys.exit(70)
    sys.exit(code)
