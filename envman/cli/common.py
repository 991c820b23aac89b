"""Helpers shared by command modules: manifest/lock paths, output, progress."""

from __future__ import annotations

import json
import sys
from contextlib import contextmanager
from typing import Any, Iterator

__all__ = ["emit_json", "progress", "stderr_line"]


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False) + "\n")


def stderr_line(text: str) -> None:
    sys.stderr.write(text + "\n")


@contextmanager
def progress(title: str) -> Iterator[Any]:
    """A spinner on a TTY (stderr), nothing when piped. Yields update(message)."""
    if not sys.stderr.isatty():
        yield lambda message: None
        return
    from rich.console import Console

    console = Console(stderr=True)
    with console.status(title) as status:
        yield lambda message: status.update(f"{title}: {message}")

