"""Process entry: answer `lock --check` and a no-op `lock` before importing the CLI stack.

Those two run on every CI job and editor save; the fast path (envman.lockfile.fastpath) needs only
the standard library. Anything it cannot answer with certainty goes to the full CLI.
"""

from __future__ import annotations

import os
import sys

__all__ = ["run"]


def _parse_lock_args(args: list[str]) -> tuple[bool, str] | None:
    """(check, manifest path) for `[--project DIR] lock [--check] [-f FILE]`; None for anything else."""
    project = None
    if len(args) >= 2 and args[0] == "--project":
        project, args = args[1], args[2:]
    if not args or args[0] != "lock":
        return None
    check, manifest = False, None
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
    from envman.cli.project_path import find_manifest

    return check, find_manifest(manifest, project)


def _fast_lock(args: list[str]) -> int | None:
    """Exit code when the lock is provably fresh; None sends everything else to the full CLI
    (a stale lock is reported there, after the manifest is validated)."""
    parsed = _parse_lock_args(args)
    if parsed is None or os.environ.get("ENVMAN_NO_FAST_PATH"):
        return None
    check, manifest = parsed
    from envman.lockfile import fastpath as lockfast

    lock_path = os.path.join(os.path.dirname(manifest), "envman.lock")
    from envman.errors import EnvmanError
    from envman.limits import read_regular_text

    try:  # regular files within their limits only (a FIFO or /dev/zero goes to the full path, which says so)
        locked = lockfast.trusted_manifest_hashes(read_regular_text(lock_path, "lock_bytes"))
        if locked is None:
            return None
        current = lockfast.manifest_hashes_cached(read_regular_text(manifest, "manifest_bytes"))
    except (OSError, UnicodeDecodeError, EnvmanError):
        return None
    if current is None or locked != current:
        return None
    sys.stderr.write(f"{lock_path} is {'fresh' if check else 'up to date'}\n")
    return 0


def run() -> None:
    """The console script. Ctrl-C at any moment (imports included) is one line and exit 130."""
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)  # from here on: KeyboardInterrupt, caught below
    try:
        args = sys.argv[1:]
        code = _fast_lock(args)
        if code is not None:
            sys.exit(code)
        from envman.cli.main import run as full_run

        full_run()
    except KeyboardInterrupt:
        sys.stderr.write("envman: interrupted\n")
        sys.exit(130)
    finally:  # the answer is given: a Ctrl-C during interpreter shutdown must not change it
        signal.signal(signal.SIGINT, signal.SIG_IGN)
