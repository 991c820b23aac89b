"""`envman render` and `envman build`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from envman.cli.common import add_manifest_option, emit_json, progress, stderr_line
from envman.errors import EXIT_OK

__all__ = ["PARSERS"]


def render(args: argparse.Namespace) -> int:
    """Write the Dockerfile and build context of one environment (no engine needed)."""
    from envman.cache import ArtifactCache
    from envman.ecosystems.base import Services
    from envman.http import HttpClient
    from envman.render.context import write_context
    from envman.render.plan import plan_image

    manifest_path = Path(args.file)
    with progress("render") as update:
        services = Services(http=HttpClient(progress=update), cache=ArtifactCache(), progress=update)
        plan = plan_image(manifest_path, args.env, args.platform, services)
        out = Path(args.output) if args.output else manifest_path.parent / "envman-render" / plan.environment
        write_context(plan, out, services)
    for note in plan.notes:
        stderr_line(f"note: {note}")
    if args.json:
        emit_json({"context": str(out), "environment": plan.environment, "platform": plan.platform, "base": plan.base,
                   "layers": [f.ecosystem for f in plan.fragments], "source_date_epoch": plan.epoch})
    else:
        stderr_line(f"wrote {out}/Dockerfile and its build context ({plan.environment}, {plan.platform}, base {plan.base})")
    return EXIT_OK


def build(args: argparse.Namespace) -> int:
    """Build the image of one environment, reproducibly, and tag it when all went well."""
    if args.at:  # rollback: the manifest and lock of that revision, with its provenance
        from envman.history.rollback import materialized

        with materialized(Path(args.file), args.at) as (manifest_path, at):
            stderr_line(f"envman: building the lock at {at.describe()} (last changed in {at.lock_change.short})")
            return _build(args, manifest_path, at.lock_change.sha, at.lock_change.time)
    return _build(args, Path(args.file), None, None)


def _build(args: argparse.Namespace, manifest_path: Path, revision: str | None, epoch: int | None) -> int:
    from envman.build.run import BuildRequest, build_image
    from envman.build.stream import plain_or_rich

    oci_dir = None
    if args.output:
        from envman.errors import BadInputError

        if not args.output.startswith("oci:") or len(args.output) == 4:
            raise BadInputError(f"--output {args.output!r}: expected oci:DIR")
        oci_dir = Path(args.output[4:])
    request = BuildRequest(
        manifest_path=manifest_path,
        revision=revision,
        epoch=epoch,
        environment=args.env,
        platform=args.platform,
        tag=args.tag,
        no_cache=args.no_cache,
        ca_cert=Path(args.ca_cert) if args.ca_cert else None,
        oci_dir=oci_dir,
        network=args.network,
    )
    say, close = plain_or_rich("build")
    try:
        result = build_image(request, say)
    finally:
        close()
    for note in result.notes:
        stderr_line(f"note: {note}")
    if args.json:
        emit_json({"image": result.image_id, "tag": result.tag, "environment": result.environment,
                   "layers": [{"group": g, "diff_id": d} for g, d in result.layers], "cached": result.cached,
                   "oci_digest": result.oci_digest})
    else:
        sys.stdout.write(f"{result.tag} {result.image_id}\n")
        for group, diff_id in result.layers:
            stderr_line(f"  layer {group:<10} {diff_id[:19]}")
    return EXIT_OK


def _common(parser: Any) -> None:
    parser.add_argument("--env", help="Environment (default: the only one, or production).")
    parser.add_argument("--platform", help="Platform (default: the first declared).")
    add_manifest_option(parser)
    parser.add_argument("--json", action="store_true", help="Print a JSON summary.")


def _render_parser(commands: Any) -> None:
    parser = commands.add_parser("render", help="Write the Dockerfile and build context of an environment (no engine needed).")
    parser.add_argument("-o", "--output", metavar="DIR", help="Where (default: envman-render/ENV beside the manifest).")
    _common(parser)
    parser.set_defaults(handler=render)


def _build_parser(commands: Any) -> None:
    parser = commands.add_parser("build", help="Build the image of an environment, bit-for-bit reproducibly (engine: DOCKER_HOST).")
    parser.add_argument("--tag", "-t", metavar="T", help="Image name[:tag] (default: PROJECT:ENV).")
    parser.add_argument("--no-cache", action="store_true", help="Do not use the engine's build cache.")
    parser.add_argument("--ca-cert", metavar="FILE", help="CA certificate apt needs behind a TLS-inspecting proxy (in no image layer).")
    parser.add_argument("--output", metavar="oci:DIR", help="Also write an OCI image layout to DIR.")
    parser.add_argument("--network", metavar="MODE", help="Docker network mode for the build's apt steps (default: the engine's).")
    parser.add_argument("--at", metavar="GITREV", help="Build the lock of that git revision (rollback; nothing is checked out).")
    _common(parser)
    parser.set_defaults(handler=build)


PARSERS = {"render": _render_parser, "build": _build_parser}
