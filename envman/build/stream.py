"""The engine's build output, as it arrives: progress for people (a rich status line on a
TTY, plain lines otherwise), the steps served from the build cache, and the step that
failed with the tail of its log for the error message."""

from __future__ import annotations

import re
import sys
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from envman.errors import BuildError

__all__ = ["BuildLog", "follow"]

_STEP = re.compile(r"^Step (\d+)/(\d+) : (.*)$")


@dataclass
class BuildLog:
    image_id: str | None = None
    steps: list[str] = field(default_factory=list)  # "Step n/m : INSTRUCTION"
    cached: list[str] = field(default_factory=list)  # the instructions served from the build cache
    tail: deque[str] = field(default_factory=lambda: deque(maxlen=30))


def follow(chunks: Iterable[dict[str, Any]], what: str, say: Callable[[str], None]) -> BuildLog:
    """Consume docker's decoded build stream; BuildError (exit 5) naming the failed step."""
    log = BuildLog()
    for chunk in chunks:
        if "error" in chunk or "errorDetail" in chunk:
            message = (chunk.get("errorDetail") or {}).get("message") or chunk.get("error") or "unknown error"
            step = log.steps[-1] if log.steps else "before the first step"
            tail = "\n".join(f"  | {line}" for line in log.tail)
            raise BuildError(f"{what}: {step} failed: {message.strip()}" + (f"\nlast lines of its log:\n{tail}" if tail else ""))
        if "aux" in chunk and isinstance(chunk["aux"], dict) and "ID" in chunk["aux"]:
            log.image_id = chunk["aux"]["ID"]
        text = chunk.get("stream")
        if not isinstance(text, str):
            continue
        for line in text.splitlines():
            line = line.rstrip()
            if not line:
                continue
            match = _STEP.match(line)
            if match:
                log.steps.append(line)
                log.tail.clear()
                say(f"step {match.group(1)}/{match.group(2)}: {_short(match.group(3))}")
            elif line.strip() == "---> Using cache" and log.steps:
                log.cached.append(_STEP.sub(r"\3", log.steps[-1]))
            elif line.startswith("Successfully built "):
                log.image_id = log.image_id or line.split()[-1]
            elif not line.startswith(" ---> ") and not line.startswith("Removing intermediate container"):
                log.tail.append(line)
    return log


def _short(instruction: str, width: int = 90) -> str:
    flat = " ".join(instruction.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def plain_or_rich(title: str) -> tuple[Callable[[str], None], Callable[[], None]]:
    """(say, close): a status line on a TTY, else one line per message on stderr."""
    if sys.stderr.isatty():
        from rich.console import Console

        status = Console(stderr=True).status(title)
        status.start()
        return (lambda message: status.update(f"{title}: {message}")), status.stop
    return (lambda message: print(f"{title}: {message}", file=sys.stderr, flush=True)), (lambda: None)
