"""Entry point: builds the Typer app from the command modules and maps errors to exit codes."""

from __future__ import annotations

import importlib
import os
import sys

import typer

from envman.errors import EnvmanError

__all__ = ["app", "run"]

app = typer.Typer(
    name="envman",
    help="One manifest, one lock across Python, R, JVM and conda; images that are the lock; drift checks.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

# Each module defines register(app).
COMMAND_MODULES = (
    "envman.cli.project_cmds",  # init, validate
    "envman.cli.lock_cmds",  # lock, export, why
    "envman.cli.drift_cmds",  # snapshot, check, diff, sync
)

for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(app)


def _debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("ENVMAN_DEBUG") == "1"


def run(argv: list[str] | None = None) -> None:
    """Run the CLI; EnvmanError -> one message on stderr and its exit code, no traceback."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_requested(args)
    args = [a for a in args if a != "--debug"]
    try:
        code = app(args=args, prog_name="envman", standalone_mode=False)
    except EnvmanError as exc:
        if debug:
            raise
        from envman.redact import redact_text

        sys.stderr.write(f"envman: error: {redact_text(str(exc))}\n")
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("envman: interrupted\n")
        sys.exit(130)
    except SystemExit:
        raise
    except Exception as exc:  # click usage errors and the like (typer may vendor click)
        if hasattr(exc, "show") and hasattr(exc, "exit_code"):
            exc.show()
            sys.exit(2 if exc.exit_code in (None, 1) else exc.exit_code)
        if type(exc).__name__ == "Abort":
            sys.exit(130)
        if type(exc).__name__ == "Exit" and hasattr(exc, "exit_code"):
            sys.exit(exc.exit_code)
        if debug:
            raise
        sys.stderr.write(f"envman: internal error: {type(exc).__name__}: {exc} (run with --debug for a traceback)\n")
        sys.exit(70)
    sys.exit(code if isinstance(code, int) else 0)
