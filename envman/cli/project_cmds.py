"""`envman init` and `envman validate`."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any

from envman.cli.common import add_manifest_option, emit_json, stderr_line

__all__ = ["PARSERS"]


def init(args: argparse.Namespace) -> int:
    """Write a commented envman.yaml, optionally importing other tools' files."""
    from envman.atomic import atomic_write_text
    from envman.errors import BadInputError
    from envman.init_import import import_file, render_manifest
    from envman.manifest import parse_manifest

    path = Path(args.file)
    if path.exists() and not args.force:
        raise BadInputError(f"{path} exists; pass --force to overwrite")
    sections: dict[str, Any] = {}
    for source in args.from_ or []:
        for key, value in import_file(Path(source)).items():
            if key in sections:
                raise BadInputError(f"two --from files both define the `{key}` section")
            sections[key] = value
    name = re.sub(r"[^A-Za-z0-9_.\-]", "-", path.resolve().parent.name) or "project"
    text = render_manifest(name, sections)
    if sections:
        parse_manifest(text, str(path))  # what we write must validate
    try:
        atomic_write_text(path, text)
        schema = write_schemas(path.parent / SCHEMA_DIR)
    except OSError as exc:
        raise BadInputError(f"{path}: cannot write the manifest: {exc.strerror or exc}") from None
    stderr_line(f"wrote {path} (editors validate it offline against {schema}); next: `envman lock`")
    return 0


SCHEMA_DIR = ".envman"  # init writes the schemas here; the manifest's $schema line names it


def write_schemas(folder: Path) -> Path:
    """The JSON Schemas of this envman's manifest and lock; returns the manifest's."""
    from envman.atomic import atomic_write_text
    from envman.schemas import render_schemas

    folder.mkdir(parents=True, exist_ok=True)
    for name, text in render_schemas().items():
        atomic_write_text(folder / name, text)
    return folder / "envman.schema.json"


def schema(args: argparse.Namespace) -> int:
    """Write the JSON Schemas of envman.yaml and envman.lock (for editors and CI)."""
    from envman.errors import BadInputError

    try:
        written = write_schemas(Path(args.output))
    except OSError as exc:
        raise BadInputError(f"{args.output}: cannot write: {exc.strerror or exc}") from None
    stderr_line(f"wrote {written} and envman-lock.schema.json beside it")
    return 0


def completion(args: argparse.Namespace) -> int:
    """Print a shell completion script built from the full command line (shtab)."""
    import shtab

    from envman.cli.main import build_parser

    sys.stdout.write(shtab.complete(build_parser(), shell=args.shell))
    return 0


def _completion_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "completion",
        help="Print a shell completion script: `envman completion bash > /etc/bash_completion.d/envman`, "
        "or `eval \"$(envman completion zsh)\"` in ~/.zshrc.",
    )
    parser.add_argument("shell", choices=["bash", "zsh", "tcsh"], help="The shell.")
    parser.set_defaults(handler=completion)


def _schema_parser(commands: Any) -> None:
    parser = commands.add_parser("schema", help="Write the JSON Schemas of envman.yaml and envman.lock.")
    parser.add_argument("-o", "--output", metavar="DIR", default=SCHEMA_DIR, help=f"Folder (default: {SCHEMA_DIR}).")
    parser.set_defaults(handler=schema)


def validate(args: argparse.Namespace) -> int:
    """Check the manifest: exit 0 when valid, 2 with FILE:LINE:COL otherwise."""
    from envman.errors import EnvmanError, LocatedError
    from envman.manifest import load_manifest

    try:
        manifest = load_manifest(args.file)
    except EnvmanError as exc:
        if not args.json:
            raise
        where = exc if isinstance(exc, LocatedError) else None
        emit_json({
            "valid": False,
            "file": args.file,
            "errors": [{
                "file": where.file if where else args.file,
                "line": where.line if where else None,
                "column": where.col if where else None,
                "message": where.detail if where else exc.message,
            }],
        })
        return exc.exit_code
    ecosystems, environments = manifest.declared_ecosystems(), manifest.environment_names()
    if args.json:
        emit_json({"valid": True, "file": args.file, "ecosystems": ecosystems, "environments": environments})
    else:
        sys.stdout.write(f"{args.file}: valid ({', '.join(ecosystems)}; environments: {', '.join(environments)})\n")
    return 0


def _init_parser(commands: Any) -> None:
    parser = commands.add_parser("init", help="Write a commented envman.yaml (optionally imported from other tools' files).")
    parser.add_argument(
        "--from", dest="from_", action="append", metavar="FILE",
        help="requirements.txt, environment.yml, renv.lock, DESCRIPTION or pom.xml (repeatable).",
    )
    add_manifest_option(parser, "Where to write the manifest.")
    parser.add_argument("--force", action="store_true", help="Overwrite an existing manifest.")
    parser.set_defaults(handler=init)


def _validate_parser(commands: Any) -> None:
    parser = commands.add_parser("validate", help="Check the manifest: exit 0 when valid, 2 with FILE:LINE:COL otherwise.")
    add_manifest_option(parser)
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    parser.set_defaults(handler=validate)


# command name -> the function that adds its subparser (envman.cli.main builds only the one run)
PARSERS = {"init": _init_parser, "validate": _validate_parser, "schema": _schema_parser, "completion": _completion_parser}
