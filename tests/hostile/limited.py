"""Run the real CLI under memory and CPU limits (resource.setrlimit in the child), as the
hostile corpus requires: a case that would exhaust memory or spin fails instead of hanging
the suite."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
from pathlib import Path

MEMORY_BYTES = 2 << 30  # address space of the envman process (2 GiB)
CPU_SECONDS = 60


def _limit() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def run_limited(*args: str, cwd: Path, timeout: float = 120, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "envman", *args],
        cwd=cwd, capture_output=True, text=True, timeout=timeout, env=full_env, preexec_fn=_limit,
    )
