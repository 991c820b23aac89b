"""`envman lock`, `envman export`, `envman why`."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import List, Optional

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
    from envman.lock import lock_path_for, manifest_hashes, read_lock, stale_sections
    from envman.manifest import load_manifest

    manifest_path = Path(file)
    manifest = load_manifest(manifest_path)
    lock_path = lock_path_for(manifest_path)
    current_hashes = manifest_hashes(manifest_path.read_text(encoding="utf-8"))
    if check:
        if not lock_path.exists():
            stderr_line(f"{lock_path}: no lock; run `envman lock`")
            raise typer.Exit(EXIT_DIFFERS)
        existing = read_lock(lock_path)
        changes = stale_sections(existing.manifest_hash, current_hashes)
        if json_out:
            emit_json({"fresh": not changes, "changes": changes, "lock": str(lock_path)})
        if changes:
            if not json_out:
                stderr_line(f"{lock_path} is stale:")
                for change in changes:
                    stderr_line(f"  - {change}")
                stderr_line("run `envman lock` and commit the result")
            raise typer.Exit(EXIT_DIFFERS)
        if not json_out:
            stderr_line(f"{lock_path} is fresh")
        return

    from envman.lock import dump_lock, write_lock_atomic

    previous = read_lock(lock_path) if lock_path.exists() else None
    from envman.cache import ArtifactCache
    from envman.ecosystems.base import Services
    from envman.http import HttpClient
    from envman.locking import LockOptions, is_fresh, lock_project

    if previous is not None and not upgrade and not upgrade_package and is_fresh(current_hashes, previous):
        if json_out:
            emit_json({"lock": str(lock_path), "changed": False, "resolved": [], "kept": manifest.declared_ecosystems()})
        else:
            stderr_line(f"{lock_path} is up to date")
        return
    options = LockOptions(upgrade=upgrade, upgrade_packages=frozenset(upgrade_package or ()), offline=offline)
    with progress("locking") as update:
        services = Services(http=HttpClient(), cache=ArtifactCache(), progress=update)
        outcome = lock_project(manifest, current_hashes, manifest_path.parent.resolve(), previous, options, services, update)
    try:
        changed = write_lock_atomic(lock_path, dump_lock(outcome.lock))
    except OSError as exc:
        raise BadInputError(f"{lock_path}: cannot write the lock: {exc.strerror or exc}") from None
    if json_out:
        emit_json({"lock": str(lock_path), "changed": changed, "resolved": outcome.resolved, "kept": outcome.kept})
        return
    counts = _counts(outcome.lock)
    stderr_line(f"{'wrote' if changed else 'unchanged'} {lock_path}: {counts}")


def _counts(lock) -> str:
    parts = []
    for env, platforms in sorted(lock.environments.items()):
        for platform, plock in sorted(platforms.items()):
            eco = ", ".join(f"{len(getattr(plock, e))} {e}" for e in ("python", "r", "jvm", "conda") if getattr(plock, e))
            parts.append(f"{env}@{platform} ({eco or 'empty'})")
    return "; ".join(parts)


def _select(lock, manifest, env: Optional[str], platform: Optional[str]):
    env = env or manifest.default_environment()
    platform = platform or manifest.platforms[0]
    return env, platform, lock.platform_lock(env, platform)


def export(
    format: str = typer.Option(..., "--format", help="requirements | renv | maven | conda-lock | explicit | cyclonedx"),
    env: Optional[str] = typer.Option(None, "--env", help="Environment (default: the only one, or production)."),
    platform: Optional[str] = typer.Option(None, "--platform", help="Platform (default: the first declared)."),
    output: Optional[str] = typer.Option(None, "-o", "--output", help="Write here instead of stdout."),
    file: str = ManifestOpt,
) -> None:
    """Write the lock in another tool's format."""
    from envman.ecosystems import export_formats, get_ecosystem
    from envman.lock import atomic_write_text, lock_path_for, read_lock
    from envman.manifest import load_manifest

    formats = export_formats()
    if format not in formats:
        raise BadInputError(f"unknown export format {format!r}; choose one of {', '.join(formats)}")
    manifest = load_manifest(file)
    lock = read_lock(lock_path_for(file))
    env_name, platform_name, plock = _select(lock, manifest, env, platform)
    context = {"manifest": manifest, "environment": env_name, "platform": platform_name, "lock": lock}
    ecosystem = formats[format]
    if ecosystem == "*":
        from envman.sbom import cyclonedx_json

        text = cyclonedx_json(manifest, plock, env_name, platform_name)
    else:
        if getattr(manifest, ecosystem) is None:
            raise BadInputError(f"--format {format} exports the `{ecosystem}` section, which the manifest does not declare")
        try:
            implementation = get_ecosystem(ecosystem)
        except (ModuleNotFoundError, NotImplementedError):
            raise BadInputError(f"export format {format!r} is not supported by this envman yet") from None
        text = implementation.export(list(getattr(plock, ecosystem)), format, context)
    if output:
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
    from envman.lock import lock_path_for, read_lock
    from envman.manifest import load_manifest
    from envman.why import explain

    manifest = load_manifest(file)
    lock = read_lock(lock_path_for(file))
    env_name, platform_name, plock = _select(lock, manifest, env, platform)
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
