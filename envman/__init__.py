"""envman: one manifest and one lock for Python, R, JVM and conda environments."""

import os as _os
import signal as _signal
import sys as _sys

__all__ = ["__version__"]
__version__ = "0.1.0"


def _interrupted_while_starting(signum: int, frame: object) -> None:
    """Ctrl-C before the command's own handling is in place (while modules are imported):
    one line and exit 130, never a traceback. Nothing has been written yet."""
    _sys.stderr.write("envman: interrupted\n")
    _os._exit(130)


if _signal.getsignal(_signal.SIGINT) is _signal.default_int_handler:  # not when embedded with a handler of its own
    _signal.signal(_signal.SIGINT, _interrupted_while_starting)
