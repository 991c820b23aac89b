"""`envman lock`, `envman export`, `envman why`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, List, Optional

import typer

from envman.cli.common import emit_json, progress, stderr_line
from envman.errors import EXIT_DIFFERS, BadInputError

__all__ = ["register"]

ManifestOpt = typer.Option("envman.yaml", "-f", "--file", help="The manifest; the lock is envman.lock beside it.")


def lock(
    file: str = ManifestOpt,
    check: bool = typer.Option(False, "--check", help="Offline lock-parity gate: exit 1 when the lock is stale."),
    upgrade: bool = typer.Option(False, "--upgrade", help="Re-resolve everything ignoring the old pins."),
    upgrade_package: Optional[List[str]] = typer.Option(None, "--upgrade-package", "-P", help="Let NAME move (repeatable)."),
    offline: bool = typer.Option(False, "--offline", help="Use only the local cache."),
    json_out: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Resolve envman.yaml into envman.lock (only the sections that changed)."""
    from envman.locking import LockOptions, lock_summary, stale_changes, update_lock

    manifest_path = Path(file)
    if check:
        lock_path, changes = stale_changes(manifest_path)
        if changes is None:
            stderr_line(f"{lock_path}: no lock; run `envman lock`")
            raise typer.Exit(EXIT_DIFFERS)
        if json_out:
            emit_json({"fresh": not changes, "changes": changes, "lock": str(lock_path)})
        elif changes:
            stderr_line(f"{lock_path} is stale:")
            for change in changes:
                stderr_line(f"  - {change}")
            stderr_line("run `envman lock` and commit the result")
        else:
            stderr_line(f"{lock_path} is fresh")
        if changes:
            raise typer.Exit(EXIT_DIFFERS)
        return
    options = LockOptions(upgrade=upgrade, upgrade_packages=frozenset(upgrade_package or ()), offline=offline)
    with progress("locking") as update:
        lock_path, changed, outcome = update_lock(manifest_path, options, update)
    if json_out:
        emit_json({"lock": str(lock_path), "changed": changed, "resolved": outcome.resolved, "kept": outcome.kept})
    elif not outcome.resolved and not changed:
        stderr_line(f"{lock_path} is up to date")
    else:
        stderr_line(f"{'wrote' if changed else 'unchanged'} {lock_path}: {lock_summary(outcome.lock)}")


def export(
    format: str = typer.Option(..., "--format", help="requirements | renv | maven | cyclonedx"),
    env: Optional[str] = typer.Option(None, "--env", help="Environment (default: the only one, or production)."),
    platform: Optional[str] = typer.Option(None, "--platform", help="Platform (default: the first declared)."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Write here instead of stdout."),
    file: str = ManifestOpt,
) -> None:
    """Write the lock in another tool's format."""
    from envman.exporting import export_text

    text = export_text(Path(file), format, env, platform)
    if output:
        from envman.atomic import atomic_write_text

        try:
            atomic_write_text(Path(output), text)
        except OSError as exc:
            raise BadInputError(f"{output}: cannot write: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(text)


def why(
    name: str = typer.Argument(..., help="Package name (any ecosystem)."),
    env: Optional[str] = typer.Option(None, "--env"),
    platform: Optional[str] = typer.Option(None, "--platform"),
    file: str = ManifestOpt,
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Show the chains of requirements that bring NAME into the lock."""
    from envman.exporting import select
    from envman.why import explain

    manifest, env_name, platform_name, plock = select(Path(file), env, platform)
    found = explain(manifest, plock, env_name, name)
    if json_out:
        emit_json({"name": name, "environment": env_name, "platform": platform_name, "ecosystems": found})
    else:
        if not found:
            raise BadInputError(f"{name!r} is not in the lock for {env_name}@{platform_name}")
        for item in found:
            sys.stdout.write(f"{item['ecosystem']}: {item['name']} {item['version']}\n")
            for chain in item["chains"]:
                sys.stdout.write("  " + " -> ".join(["envman.yaml", *chain]) + "\n")
    if not found:
        raise typer.Exit(EXIT_DIFFERS)


def register(app: typer.Typer) -> None:
    app.command()(lock)
    app.command()(export)
    app.command()(why)
