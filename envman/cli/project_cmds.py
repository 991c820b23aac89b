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
    """Write a commented envman.yaml, optionally importing other tools' files: everything
    they hold that envman can carry over, with a summary of what it could not (exit 0; with
    --strict, exit 2 and nothing written when anything was left out)."""
    from envman.atomic import atomic_write_text
    from envman.ecosystems.base import ImportContext
    from envman.errors import BadInputError
    from envman.importing import import_files, importable_files, render_manifest, summary_lines
    from envman.manifest import parse_manifest

    path = Path(args.file)
    if path.exists() and not args.force:
        raise BadInputError(f"{path} exists; pass --force to overwrite")
    sources = [Path(s) for s in args.from_ or []]
    if not sources:
        sources = _offer_import(importable_files(path.parent), args)
    sections: dict[str, Any] = {}
    if sources:
        context = ImportContext(manifest_dir=path.parent.resolve(), repositories=tuple(args.repository or ()))
        outcome = import_files(sources, context)
        sections = outcome.sections
        lines = summary_lines(outcome.skipped, outcome.notes)
        if args.strict and outcome.skipped:
            refused = f"--strict: {len(outcome.skipped)} line(s) could not be carried over; nothing written"
            raise BadInputError("\n".join([refused, *summary_lines(outcome.skipped, [])[1:]]))
        for line in lines:
            stderr_line(line)
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


def _offer_import(found: list[Path], args: argparse.Namespace) -> list[Path]:
    """`envman init` with no --from in a folder with importable files: ask on a terminal,
    take them with --yes, else say how (and write the default manifest)."""
    if not found or args.no_import:
        return []
    listed = " ".join(str(p) for p in found)
    if args.yes:
        return found
    if sys.stdin.isatty() and sys.stderr.isatty():
        sys.stderr.write(f"envman: found {', '.join(p.name for p in found)}; import them into the manifest? [Y/n] ")
        sys.stderr.flush()
        answer = sys.stdin.readline().strip().lower()
        return found if answer in ("", "y", "yes") else []
    stderr_line(f"envman: found {', '.join(p.name for p in found)}; to import them: envman init --from {listed}")
    return []


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
        "--from", dest="from_", action="extend", nargs="+", metavar="FILE",
        help="requirements.txt, pyproject.toml, environment.yml, conda-lock.yml, renv.lock, DESCRIPTION or pom.xml "
        "(several merge into one manifest; repeatable).",
    )
    add_manifest_option(parser, "Where to write the manifest.")
    parser.add_argument("--force", action="store_true", help="Overwrite an existing manifest.")
    parser.add_argument("--strict", action="store_true", help="Exit 2 (writing nothing) when any line cannot be carried over.")
    parser.add_argument(
        "--repository", action="append", metavar="URL",
        help="A Maven repository to fetch a pom.xml's parent or BOM from, when it is outside the project (repeatable).",
    )
    parser.add_argument("-y", "--yes", action="store_true", help="With no --from: import the files found here without asking.")
    parser.add_argument("--no-import", action="store_true", help="With no --from: write the default manifest, import nothing.")
    parser.set_defaults(handler=init)


def _validate_parser(commands: Any) -> None:
    parser = commands.add_parser("validate", help="Check the manifest: exit 0 when valid, 2 with FILE:LINE:COL otherwise.")
    add_manifest_option(parser)
    parser.add_argument("--json", action="store_true", help="Print the result as JSON.")
    parser.set_defaults(handler=validate)


# command name -> the function that adds its subparser (envman.cli.main builds only the one run)
PARSERS = {"init": _init_parser, "validate": _validate_parser, "schema": _schema_parser, "completion": _completion_parser}
