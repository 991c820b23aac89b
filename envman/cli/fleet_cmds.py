"""Fleet commands: `envman watch`, and `check`'s fleet options (--inventory, --limit, --jobs,
--notify, --metrics, --ssh-config, --engine). Thin layer over envman.fleet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from envman.cli.common import add_manifest_option, add_place_options, stderr_line

__all__ = ["PARSERS", "add_fleet_check_options", "add_connection_options", "connected", "wants_fleet", "check_fleet_command"]

_FLEET_OPTIONS = ("inventory", "limit", "jobs", "notify", "metrics", "ssh_config", "engine", "probe_each")


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of jobs: {text!r}") from None
    if not 1 <= value <= 256:
        raise argparse.ArgumentTypeError(f"--jobs must be between 1 and 256, not {value}")
    return value


def add_fleet_check_options(parser: argparse.ArgumentParser) -> None:
    """The options check and watch share: where the fleet is, how many at once, where to tell."""
    from envman.fleet.run import default_jobs

    parser.add_argument(
        "--inventory", metavar="FILE",
        help="Ansible-style inventory (INI or YAML hosts and groups) or a YAML list of targets; every target in it is checked.",
    )
    parser.add_argument("--limit", metavar="PATTERN", help="Only these groups or hosts of the inventory (a:b, !x, &y, globs).")
    parser.add_argument(
        "--jobs", type=_jobs, metavar="N", help=f"Targets checked at once (default: {default_jobs()}, 4 per CPU, at most 32)."
    )
    parser.add_argument(
        "--notify", action="append", metavar="URL",
        help="apprise URL (slack://, msteams://, mailto://, json://, ntfy://, …) told when a target's state changes (repeatable).",
    )
    parser.add_argument("--metrics", metavar="FILE", help="Write Prometheus text format here (node exporter's textfile collector).")
    parser.add_argument(
        "--probe-each", action="store_true",
        help="Probe every container itself (by default, containers of one image and configuration share one probe "
        "where nothing it read differs in them).",
    )


def add_connection_options(parser: argparse.ArgumentParser) -> None:
    """How to reach targets: --ssh-config for ssh:, --engine for docker:/image:."""
    parser.add_argument("--ssh-config", metavar="FILE", help="OpenSSH client configuration for ssh: targets (passed as ssh -F FILE).")
    parser.add_argument(
        "--engine", metavar="URL",
        help="Docker engine of docker:/image: targets that name none: unix://…, tcp://HOST:PORT, ssh://USER@HOST or a docker context.",
    )


def connected(spec: Any, args: argparse.Namespace) -> Any:
    """The target with --ssh-config and --engine applied."""
    if getattr(args, "ssh_config", None) and spec.kind == "ssh":
        from envman.errors import BadInputError

        if not Path(args.ssh_config).is_file():
            raise BadInputError(f"--ssh-config {args.ssh_config}: no such file")
        spec = spec._replace(ssh_options=("-F", str(args.ssh_config), *spec.ssh_options))
    if getattr(args, "engine", None) and spec.kind in ("docker", "image") and spec.engine is None:
        spec = spec._replace(engine=args.engine)
    return spec


def wants_fleet(args: argparse.Namespace) -> bool:
    return any(getattr(args, name, None) for name in _FLEET_OPTIONS)


def _fleet_targets(args: argparse.Namespace) -> list[Any]:
    """The inventory's targets (--limit applied), else the TARGETs; --ssh-config and --engine applied."""
    from envman.errors import BadInputError
    from envman.fleet.inventory import FleetTarget, load_inventory, select, targets_of
    from envman.targets import parse_target

    if args.inventory:
        if args.targets:
            raise BadInputError("give either --inventory FILE or TARGETs, not both")
        inventory = load_inventory(Path(args.inventory))
        targets = select(targets_of(inventory, args.inventory), inventory, args.limit, args.inventory)
    else:
        if args.limit:
            raise BadInputError("--limit needs --inventory FILE")
        specs = [parse_target(t) for t in (args.targets or ["local"])]
        targets = [FleetTarget(spec, spec.text) for spec in specs]
    if not targets:
        raise BadInputError(f"{args.inventory}: no targets" + (f" match --limit {args.limit!r}" if args.limit else ""))
    texts = [t.spec.text for t in targets]
    duplicates = sorted({t for t in texts if texts.count(t) > 1})
    if duplicates:
        raise BadInputError(f"the same target is listed twice: {', '.join(duplicates[:5])}")
    return [_connected(t, args) for t in targets]


def _connected(target: Any, args: argparse.Namespace) -> Any:
    return target._replace(spec=connected(target.spec, args))


def _notifier(args: argparse.Namespace) -> Any:
    if not args.notify:
        return None
    from envman.fleet.notify import Notifier

    return Notifier(args.notify)


def check_fleet_command(args: argparse.Namespace, context: Any) -> int:
    """`check` with fleet options: every target reported (the unreachable ones with their
    error), exit 1 when any drifted, else 4 when any was unreachable, else 0."""
    from envman.fleet.observe import record
    from envman.fleet.run import check_fleet, default_jobs, fleet_exit_code
    from envman.redact import redact_text
    from envman.report import render_check
    from envman.targets.checking import with_known_artifacts

    targets = _fleet_targets(args)
    notifier = _notifier(args)
    ctx = with_known_artifacts(context, [t.spec for t in targets])
    fleet = check_fleet(targets, ctx, args.jobs or default_jobs(), share=not args.probe_each)
    from envman.cli.common import color

    text = render_check(fleet.result, args.format, color=color() and not args.output)
    if args.output:
        from envman.report.files import write_output

        write_output(Path(args.output), text, "the report")
    else:
        sys.stdout.write(text)
    for error in fleet.errors:
        sys.stderr.write(f"envman: error: {redact_text(str(error))}\n")
    if notifier is not None or args.metrics:
        record(ctx.project.lock_path, fleet, notifier, Path(args.metrics) if args.metrics else None)
    return fleet_exit_code(fleet)


# -- watch ---------------------------------------------------------------------------------


def watch(args: argparse.Namespace) -> int:
    """Check the fleet every --every, notify on changes of state; SIGHUP reloads, SIGTERM stops."""
    from envman.cli.drift_cmds import _context
    from envman.fleet.observe import record
    from envman.fleet.run import check_fleet, default_jobs
    from envman.fleet.watch import Watcher, parse_every

    every = parse_every(args.every)
    from envman.targets import ssh_mux

    ssh_mux.set_persist(every + 60)  # SSH masters stay up between rounds
    notifier = _notifier(args)
    args.deep = False
    args.platform = None

    def load() -> Any:
        from envman.targets.checking import with_known_artifacts

        targets = _fleet_targets(args)
        ctx = with_known_artifacts(_context(args, False), [t.spec for t in targets])
        ctx.project.lock()  # a broken lock is bad input now (exit 2), and kept out of a reload
        return targets, ctx

    def one_round(config: Any, stop: Any) -> None:
        import time

        targets, ctx = config
        fleet = check_fleet(targets, ctx, args.jobs or default_jobs(), stop=stop, share=not args.probe_each)
        if stop.is_set():
            return  # an unfinished round is not kept
        found = record(ctx.project.lock_path, fleet, notifier, Path(args.metrics) if args.metrics else None)
        rows = fleet.result.targets
        drifted = sum(1 for r in rows if r.findings)
        unreachable = sum(1 for r in rows if r.error is not None)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        sys.stdout.write(
            f"{stamp} {len(rows)} targets: {len(rows) - drifted - unreachable} in sync, {drifted} drifted, "
            f"{unreachable} unreachable ({fleet.seconds:.1f} s); {len(found)} change(s)"
            + (" notified" if notifier is not None and found else "") + "\n"
        )
        sys.stdout.flush()

    return Watcher(load, one_round, every, rounds=args.rounds).run(stderr_line)


def _watch_parser(commands: Any) -> None:
    from envman.cli.drift_cmds import _add_timeout

    parser = commands.add_parser("watch", help="Check targets on a schedule; notify when their state changes.")
    parser.add_argument("targets", nargs="*", metavar="TARGET", help="TARGETs to watch (or --inventory FILE).")
    parser.add_argument("--every", default="5m", metavar="DURATION", help="Time between rounds: 30s, 5m, 1h (default: 5m).")
    parser.add_argument("--env", help="Environment of the lock (default: the only one, or production; envman_environment per host).")
    parser.add_argument("--rounds", type=_jobs, metavar="N", help="Stop after N rounds (default: run until SIGTERM).")
    add_manifest_option(parser)
    add_fleet_check_options(parser)
    add_place_options(parser)
    add_connection_options(parser)
    _add_timeout(parser)
    parser.set_defaults(handler=watch)


PARSERS = {"watch": _watch_parser}
