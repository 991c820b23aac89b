"""`envman init` and `envman validate`."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import List, Optional

import typer

from envman.cli.common import emit_json, stderr_line
from envman.errors import BadInputError

__all__ = ["register"]


def init(
    from_: Optional[List[str]] = typer.Option(None, "--from", help="requirements.txt, environment.yml, renv.lock, DESCRIPTION or pom.xml (repeatable)."),
    file: str = typer.Option("envman.yaml", "-f", "--file", help="Where to write the manifest."),
    force: bool = typer.Option(False, "--force", help="Overwrite an existing manifest."),
) -> None:
    """Write a commented envman.yaml, optionally importing other tools' files."""
    from envman.init_import import import_file, render_manifest
    from envman.atomic import atomic_write_text
    from envman.manifest import parse_manifest

    path = Path(file)
    if path.exists() and not force:
        raise BadInputError(f"{path} exists; pass --force to overwrite")
    sections: dict = {}
    for source in from_ or []:
        for key, value in import_file(Path(source)).items():
            if key in sections:
                raise BadInputError(f"two --from files both define the `{key}` section")
            sections[key] = value
    name = re.sub(r"[^A-Za-z0-9_.\-]", "-", path.resolve().parent.name) or "project"
    text = render_manifest(name, sections)
    if sections:
        parse_manifest(text, str(path))  # what we write must validate
    atomic_write_text(path, text)
    stderr_line(f"wrote {path}; next: `envman lock`")


def validate(
    file: str = typer.Option("envman.yaml", "-f", "--file"),
    json_out: bool = typer.Option(False, "--json"),
) -> None:
    """Check the manifest: exit 0 when valid, 2 with FILE:LINE:COL otherwise."""
    from envman.manifest import load_manifest

    manifest = load_manifest(file)
    if json_out:
        emit_json({"valid": True, "file": file, "ecosystems": manifest.declared_ecosystems(), "environments": manifest.environment_names()})
    else:
        sys.stdout.write(f"{file}: valid ({', '.join(manifest.declared_ecosystems())}; environments: {', '.join(manifest.environment_names())})\n")


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(validate)
