"""`envman lock`, `envman export`, `envman why`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from envman.cli.common import add_manifest_option, emit_json, progress, stderr_line
from envman.errors import EXIT_DIFFERS, EXIT_OK

__all__ = ["PARSERS"]


def lock(args: argparse.Namespace) -> int:
    """Resolve envman.yaml into envman.lock (only the sections that changed)."""
    from envman.locking import LockOptions, lock_summary, stale_changes, update_lock

    manifest_path = Path(args.file)
    if args.at or args.with_manifest:
        return _lock_at(args, manifest_path)
    if args.check:
        lock_path, changes = stale_changes(manifest_path)
        if changes is None:
            stderr_line(f"{lock_path}: no lock; run `envman lock`")
            return EXIT_DIFFERS
        if args.json:
            emit_json({"fresh": not changes, "changes": changes, "lock": str(lock_path)})
        elif changes:
            stderr_line(f"{lock_path} is stale:")
            for change in changes:
                stderr_line(f"  - {change}")
            stderr_line("run `envman lock` and commit the result")
        else:
            stderr_line(f"{lock_path} is fresh")
        return EXIT_DIFFERS if changes else EXIT_OK
    import time

    from envman.lockchanges import change_lines, lock_changes

    options = LockOptions(
        upgrade=args.upgrade, upgrade_packages=frozenset(args.upgrade_package or ()), offline=args.offline, dry_run=args.dry_run
    )
    started = time.monotonic()
    with progress("locking") as update:
        lock_path, changed, outcome = update_lock(manifest_path, options, update, warn=stderr_line)
    moved = lock_changes(outcome.previous, outcome.lock) if changed else []
    if args.json:
        emit_json({
            "lock": str(lock_path), "changed": changed, "dry_run": args.dry_run, "resolved": outcome.resolved, "kept": outcome.kept,
            "changes": [c.as_dict() for c in moved],
        })
        return EXIT_OK
    for line in change_lines(moved):
        stderr_line(line)
    seconds = time.monotonic() - started
    total = sum(len(p.entries(e)) for ps in outcome.lock.environments.values() for p in ps.values() for e in ecosystems_names())
    if not outcome.resolved and not changed:
        stderr_line(f"{lock_path} is up to date")
    elif args.dry_run:
        stderr_line(f"would {'change' if changed else 'leave'} {lock_path} ({len(moved)} changes; --dry-run: nothing written)")
    else:
        verb = "wrote" if changed else "unchanged"
        stderr_line(f"{verb} {lock_path}: {lock_summary(outcome.lock)}")
        stderr_line(f"Locked {total} packages in {seconds:.1f}s")
    return EXIT_OK


def _lock_at(args: argparse.Namespace, manifest_path: Path) -> int:
    """lock --at REV [--with-manifest]: REV's lock (and manifest) written back as the current
    ones, atomically (envman.history.rollback), for a rollback commit."""
    from envman.errors import BadInputError
    from envman.history.rollback import restore_lock
    from envman.lockchanges import change_lines, lock_changes

    if not args.at:
        raise BadInputError("--with-manifest goes with --at REV")
    clash = [flag for flag, on in (("--check", args.check), ("--upgrade", args.upgrade), ("--upgrade-package", args.upgrade_package),
                                   ("--offline", args.offline), ("--dry-run", args.dry_run)) if on]
    if clash:
        raise BadInputError(f"--at writes an earlier lock back; it does not go with {', '.join(clash)}")
    at, text, before, manifest_text = restore_lock(manifest_path, args.at, args.with_manifest)
    from envman.history.lockdata import read_history_lock

    old = read_history_lock(before, "envman.lock") if before is not None else None
    moved = lock_changes(old, read_history_lock(text, "envman.lock"))
    stale = None
    if manifest_text is None:
        from envman.errors import EnvmanError
        from envman.locking import stale_changes

        try:
            stale = stale_changes(manifest_path)[1]
        except EnvmanError:  # the current manifest does not load: the lock is written all the same
            stale = None
    if args.json:
        emit_json({"lock": str(manifest_path.parent / "envman.lock"), "at": at.commit.sha, "manifest": manifest_text is not None,
                   "changes": [c.as_dict() for c in moved], "stale": stale or []})
        return EXIT_OK
    for line in change_lines(moved):
        stderr_line(line)
    wrote = "envman.lock and the manifest" if manifest_text is not None else "envman.lock"
    stderr_line(f"wrote {wrote} as of {at.describe()}: {len(moved)} package change(s); commit it to roll back")
    if stale:
        stderr_line(f"note: the manifest has changed since {at.commit.short}, so `envman lock --check` reports this lock stale "
                    f"({'; '.join(stale)}); use --with-manifest to restore it too")
    return EXIT_OK


def ecosystems_names() -> list[str]:
    from envman import ecosystems

    return list(ecosystems.names())


def export(args: argparse.Namespace) -> int:
    """Write the lock in another tool's format."""
    from envman.errors import BadInputError
    from envman.exporting import export_text

    text = export_text(Path(args.file), args.format, args.env, args.platform)
    if not args.output:
        sys.stdout.write(text)
        return EXIT_OK
    from envman.atomic import atomic_write_text

    try:
        atomic_write_text(Path(args.output), text)
    except OSError as exc:
        raise BadInputError(f"{args.output}: cannot write: {exc.strerror or exc}") from None
    return EXIT_OK


def why(args: argparse.Namespace) -> int:
    """Show the chains of requirements that bring NAME into the lock."""
    from envman.errors import BadInputError
    from envman.exporting import select
    from envman.why import explain

    manifest, env_name, platform_name, plock = select(Path(args.file), args.env, args.platform)
    found = explain(manifest, plock, env_name, args.name)
    if args.json:
        emit_json({"name": args.name, "environment": env_name, "platform": platform_name, "ecosystems": found})
        return EXIT_OK if found else EXIT_DIFFERS
    if not found:
        raise BadInputError(f"{args.name!r} is not in the lock for {env_name}@{platform_name}")
    for item in found:
        sys.stdout.write(f"{item['ecosystem']}: {item['name']} {item['version']}\n")
        for chain in item["chains"]:
            sys.stdout.write("  " + " -> ".join(["envman.yaml", *chain]) + "\n")
    return EXIT_OK


def _export_formats() -> str:
    from envman import ecosystems

    return ", ".join(ecosystems.export_formats())


def _lock_parser(commands: Any) -> None:
    parser = commands.add_parser("lock", help="Resolve envman.yaml into envman.lock (only the sections that changed).")
    add_manifest_option(parser)
    parser.add_argument("--check", action="store_true", help="Offline lock-parity gate: exit 1 when the lock is stale.")
    parser.add_argument("--upgrade", action="store_true", help="Re-resolve everything ignoring the old pins.")
    parser.add_argument("--upgrade-package", "-P", action="append", metavar="NAME", help="Let NAME move (repeatable).")
    parser.add_argument("--offline", action="store_true", help="Use only the local cache.")
    parser.add_argument("--dry-run", action="store_true", help="Resolve and show what would change; write nothing.")
    parser.add_argument("--json", action="store_true", help="Print a JSON summary with every change.")
    parser.add_argument("--at", metavar="GITREV", help="Write the lock of that git revision back as the current one (rollback).")
    parser.add_argument("--with-manifest", action="store_true", help="With --at: the manifest of that revision too.")
    parser.set_defaults(handler=lock)


def _export_parser(commands: Any) -> None:
    parser = commands.add_parser("export", help="Write the lock in another tool's format.")
    parser.add_argument("--format", required=True, metavar="FORMAT", help=f"One of: {_export_formats()}.")
    parser.add_argument("--env", help="Environment (default: the only one, or production).")
    parser.add_argument("--platform", help="Platform (default: the first declared).")
    parser.add_argument("-o", "--output", metavar="FILE", help="Write here instead of stdout.")
    add_manifest_option(parser)
    parser.set_defaults(handler=export)


def _why_parser(commands: Any) -> None:
    parser = commands.add_parser("why", help="Show the chains of requirements that bring NAME into the lock.")
    parser.add_argument("name", metavar="NAME", help="Package name (any ecosystem).")
    parser.add_argument("--env", help="Environment (default: the only one, or production).")
    parser.add_argument("--platform", help="Platform (default: the first declared).")
    add_manifest_option(parser)
    parser.add_argument("--json", action="store_true", help="Print the chains as JSON.")
    parser.set_defaults(handler=why)


def add(args: argparse.Namespace) -> int:
    """Add SPECs to envman.yaml (comments and layout kept), then lock."""
    return _edit(args, add=list(args.specs), remove=[])


def remove(args: argparse.Namespace) -> int:
    """Remove packages from envman.yaml, then lock."""
    return _edit(args, add=[], remove=list(args.names))


def _edit(args: argparse.Namespace, add: list[str], remove: list[str]) -> int:
    from envman.editing import apply_edit, edit_manifest, infer_ecosystem, owner_of
    from envman.lockchanges import change_lines, lock_changes
    from envman.locking import LockOptions, update_lock
    from envman.manifest import read_manifest

    manifest_path = Path(args.file)
    text, manifest = read_manifest(manifest_path)
    declared = list(manifest.declared_ecosystems())
    groups: dict[str, list[str]] = {}
    for item in add:
        groups.setdefault(infer_ecosystem(item, declared, args.ecosystem), []).append(item)
    for item in remove:
        groups.setdefault(owner_of(item, manifest, args.env, args.ecosystem), []).append(item)
    new_text = text
    for ecosystem, items in groups.items():
        new_text = edit_manifest(new_text, str(manifest_path), ecosystem, args.env,
                                 add=items if add else [], remove=items if remove else [])
    if args.no_lock:
        from envman.atomic import atomic_write_text
        from envman.manifest import parse_manifest

        parse_manifest(new_text, str(manifest_path))
        atomic_write_text(manifest_path, new_text)
        stderr_line(f"wrote {manifest_path} (not locked: --no-lock)")
        return EXIT_OK

    def lock() -> Any:
        with progress("locking") as update:
            return update_lock(manifest_path, LockOptions(), update, warn=stderr_line)

    lock_path, changed, outcome = apply_edit(manifest_path, new_text, text, lock)
    for line in change_lines(lock_changes(outcome.previous, outcome.lock) if changed else []):
        stderr_line(line)
    stderr_line(f"wrote {manifest_path} and {lock_path}")
    return EXIT_OK


def _edit_options(parser: Any) -> None:
    parser.add_argument("--env", help="Add to (remove from) this environment's additions instead of the top-level set.")
    group = parser.add_mutually_exclusive_group()
    from envman import ecosystems

    for name in ecosystems.names():
        group.add_argument(f"--{name}", dest="ecosystem", action="store_const", const=name, help=f"The `{name}` section.")
    parser.add_argument("--no-lock", action="store_true", help="Only edit envman.yaml.")
    add_manifest_option(parser)


def _add_parser(commands: Any) -> None:
    parser = commands.add_parser("add", help="Add packages to envman.yaml (keeping its comments and layout), then lock.")
    parser.add_argument("specs", nargs="+", metavar="SPEC", help='e.g. "pandas>=2.1", "ggplot2 (>= 3.4)", g:a:1.0')
    _edit_options(parser)
    parser.set_defaults(handler=add)


def _remove_parser(commands: Any) -> None:
    parser = commands.add_parser("remove", help="Remove packages from envman.yaml, then lock.")
    parser.add_argument("names", nargs="+", metavar="NAME")
    _edit_options(parser)
    parser.set_defaults(handler=remove)


def tree(args: argparse.Namespace) -> int:
    """Print the dependency tree of an environment across ecosystems."""
    from envman.exporting import select
    from envman.tree import tree_data, tree_lines

    manifest, env_name, _platform, plock = select(Path(args.file), args.env, args.platform)
    data = tree_data(manifest, plock, env_name, invert=args.invert)
    if args.invert and not data:
        from envman.errors import BadInputError

        raise BadInputError(f"{args.invert!r} is not in the lock of {env_name}")
    if args.json:
        emit_json({"environment": env_name, "invert": args.invert, "ecosystems": data})
    else:
        for line in tree_lines(data):
            sys.stdout.write(line + "\n")
    return EXIT_OK


def _tree_parser(commands: Any) -> None:
    parser = commands.add_parser("tree", help="Show the dependency tree of an environment across ecosystems.")
    parser.add_argument("--env", help="Environment (default: the only one, or production).")
    parser.add_argument("--platform", help="Platform (default: the first declared).")
    parser.add_argument("--invert", metavar="NAME", help="Show what brings NAME in, up to the manifest's roots.")
    add_manifest_option(parser)
    parser.add_argument("--json", action="store_true", help="Print the tree as JSON.")
    parser.set_defaults(handler=tree)


# command name -> the function that adds its subparser (envman.cli.main builds only the one run)
PARSERS = {
    "lock": _lock_parser, "export": _export_parser, "why": _why_parser, "tree": _tree_parser, "add": _add_parser, "remove": _remove_parser,
}
