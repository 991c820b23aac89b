"""Process entry: answer `lock --check` and a no-op `lock` before importing the CLI stack.

Those two run on every CI job and editor save; the fast path (envman.lockfast) needs only
the standard library. Anything it cannot answer with certainty goes to the full CLI.
"""

from __future__ import annotations

import os
import sys

__all__ = ["run"]


def _parse_lock_args(args: list[str]) -> tuple[bool, str] | None:
    """(check, manifest path) for `lock [--check] [-f FILE]`; None for anything else."""
    if not args or args[0] != "lock":
        return None
    check, manifest = False, "envman.yaml"
    rest = args[1:]
    index = 0
    while index < len(rest):
        token = rest[index]
        if token == "--check":
            check = True
        elif token in ("-f", "--file") and index + 1 < len(rest):
            manifest = rest[index + 1]
            index += 1
        elif token.startswith("--file="):
            manifest = token.split("=", 1)[1]
        else:
            return None
        index += 1
    return check, manifest


def _fast_lock(args: list[str]) -> int | None:
    parsed = _parse_lock_args(args)
    if parsed is None or os.environ.get("ENVMAN_NO_FAST_PATH"):
        return None
    check, manifest = parsed
    from envman import lockfast

    try:
        with open(manifest, "rb") as handle:
            manifest_bytes = handle.read()
        current = lockfast.read_memo(manifest_bytes)
        if current is None:
            return None
        lock_path = os.path.join(os.path.dirname(manifest), "envman.lock")
        with open(lock_path, encoding="utf-8") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError):
        return None
    locked = lockfast.trusted_manifest_hashes(text)
    if locked is None:
        return None
    changes = lockfast.stale_sections(locked, current)
    if check:
        if changes:
            sys.stderr.write(f"{lock_path} is stale:\n")
            for change in changes:
                sys.stderr.write(f"  - {change}\n")
            sys.stderr.write("run `envman lock` and commit the result\n")
            return 1
        sys.stderr.write(f"{lock_path} is fresh\n")
        return 0
    if not changes and locked == current:
        sys.stderr.write(f"{lock_path} is up to date\n")
        return 0
    return None


def run() -> None:
    args = sys.argv[1:]
    code = _fast_lock(args)
    if code is not None:
        sys.exit(code)
    from envman.cli.main import run as full_run

    full_run()
