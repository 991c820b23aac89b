"""Inventories: an Ansible-style inventory (INI or YAML hosts and groups) or a YAML list of
targets -> the fleet's targets (pure: text in, FleetTarget list out).

Ansible variables read: ansible_host, ansible_user, ansible_port, ansible_ssh_common_args,
ansible_ssh_extra_args, ansible_connection (ssh, the default; local: this machine; docker:
the host is a container). envman's own: envman_environment (the lock environment the host
must match), envman_<place> for each ecosystem's place option (envman_python, envman_rlib,
envman_jars, envman_conda: where to look), envman_containers (containers on that host's
engine, each its own target), envman_engine (that engine: a URL or a docker context;
default: the local engine for a local host, else ssh://USER@HOST:PORT) and envman_target
(an explicit TARGET for the host). Variables are merged as Ansible merges them: `all`, then
parent groups, then child groups, then the host's own.
"""

from __future__ import annotations

import fnmatch
import re
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from envman import ecosystems
from envman.errors import BadInputError, LocatedError
from envman.targets.context import Places
from envman.targets.spec import TargetSpec, parse_target

__all__ = ["FleetTarget", "Inventory", "load_inventory", "parse_inventory", "select", "targets_of"]

_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1")
_MAX_HOSTS = 10_000


class FleetTarget(NamedTuple):
    """One target of a fleet: what to probe, which lock environment it must match, where to look."""

    spec: TargetSpec
    host: str  # the inventory host it came from (the target itself for a list of targets)
    groups: tuple[str, ...] = ()
    environment: str | None = None
    places: Places = Places()
    timeout: float | None = None  # envman_timeout: seconds this target has (default: --timeout)


class Inventory(NamedTuple):
    hosts: dict[str, dict[str, Any]]  # host -> merged variables
    groups: dict[str, set[str]]  # group -> every host in it (children included)
    listed: list[FleetTarget] | None = None  # a YAML list of targets


# -- parsing -------------------------------------------------------------------------------


def load_inventory(path: Path) -> Inventory:
    from envman.limits import read_regular_text

    try:
        text = read_regular_text(path, "lock_bytes")  # inventories of thousands of hosts are megabytes
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such inventory file") from None
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read the inventory: {exc.strerror or exc}") from None
    return parse_inventory(text, str(path))


def parse_inventory(text: str, name: str) -> Inventory:
    """INI unless the file is YAML (a mapping of groups or a list of targets)."""
    first = next((line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith(("#", ";"))), "")
    if first.startswith(("-", "---")) or (first.endswith(":") and "=" not in first) or first.startswith(("{", "all:")):
        return _parse_yaml(text, name)
    return _parse_ini(text, name)


class _Group:
    def __init__(self) -> None:
        self.hosts: dict[str, dict[str, Any]] = {}
        self.vars: dict[str, Any] = {}
        self.children: list[str] = []


_RANGE = re.compile(r"\[([0-9]+|[a-z]):([0-9]+|[a-z])(?::([0-9]+))?\]")


def _expand(pattern: str, where: tuple[str, int]) -> list[str]:
    """web[01:03].example.com -> web01…web03 (Ansible's host ranges, numeric or alphabetic)."""
    match = _RANGE.search(pattern)
    if match is None:
        return [pattern]
    start, end, step = match.group(1), match.group(2), int(match.group(3) or 1)
    if start.isdigit() != end.isdigit() or step < 1:
        raise LocatedError(where[0], where[1], None, f"bad host range {match.group(0)!r}")
    first, last = (int(start), int(end)) if start.isdigit() else (ord(start), ord(end))
    if len(range(first, last + 1, step)) > _MAX_HOSTS:  # counted before anything is built
        raise LocatedError(where[0], where[1], None, f"host range {match.group(0)!r} names more than {_MAX_HOSTS} hosts")
    if start.isdigit():
        width = len(start) if start.startswith("0") else 0
        values = [str(i).zfill(width) for i in range(first, last + 1, step)]
    else:
        values = [chr(i) for i in range(first, last + 1, step)]
    head, rest = pattern[: match.start()], pattern[match.end() :]
    return [h for v in values for h in _expand(head + v + rest, where)]


def _value(text: str) -> Any:
    """An INI value as Ansible reads it: numbers and true/false typed, the rest text."""
    if re.fullmatch(r"-?[0-9]+", text):
        return int(text)
    if text.lower() in ("true", "false", "yes", "no"):
        return text.lower() in ("true", "yes")
    return text


def _parse_ini(text: str, name: str) -> Inventory:
    groups: dict[str, _Group] = {"all": _Group(), "ungrouped": _Group()}
    section, kind = "ungrouped", "hosts"
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            match = re.fullmatch(r"\[([A-Za-z0-9_.-]+)(?::(vars|children|hosts))?\]", line)
            if match is None:
                expected = "[group], [group:vars] or [group:children]"
                raise LocatedError(name, number, 1, f"bad section header {line[:60]!r} (expected {expected})")
            section, kind = match.group(1), match.group(2) or "hosts"
            groups.setdefault(section, _Group())
            continue
        try:
            words = shlex.split(line, comments=True)
        except ValueError as exc:
            raise LocatedError(name, number, 1, f"cannot read the line: {exc}") from None
        if not words:
            continue
        group = groups[section]
        if kind == "vars":
            key, eq, value = line.partition("=")
            if not eq or not key.strip():
                raise LocatedError(name, number, 1, "expected KEY=VALUE in a :vars section")
            group.vars[key.strip()] = _value(_unquote(value.strip()))
        elif kind == "children":
            group.children.append(words[0])
        else:
            host_vars: dict[str, Any] = {}
            for word in words[1:]:
                key, eq, value = word.partition("=")
                if not eq or not key:
                    col = raw.find(word) + 1
                    raise LocatedError(name, number, col, f"expected KEY=VALUE after the host name, not {word[:40]!r}")
                host_vars[key] = _value(value)
            for host in _expand(words[0], (name, number)):
                group.hosts.setdefault(host, {}).update(host_vars)
    for gname, group in groups.items():
        for child in group.children:
            if child not in groups:
                raise BadInputError(f"{name}: group {gname!r} names a child group {child!r} that is not defined")
    return _merge(groups, name)


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    return text


def _parse_yaml(text: str, name: str) -> Inventory:
    from envman.fleet.yamlfile import load_yaml_located

    data, locate = load_yaml_located(text, name)
    if isinstance(data, list):
        return Inventory({}, {}, _listed(data, name, locate))
    if not isinstance(data, dict):
        raise BadInputError(f"{name}: an inventory is a mapping of groups (Ansible's YAML form) or a list of targets")
    groups: dict[str, _Group] = {"all": _Group(), "ungrouped": _Group()}

    def walk(gname: str, body: Any, path: tuple[Any, ...]) -> None:
        group = groups.setdefault(gname, _Group())
        if body is None:
            return
        if not isinstance(body, dict):
            raise locate(path, f"group {gname!r}: expected a mapping with hosts, vars and children")
        for key in body:
            if key not in ("hosts", "vars", "children"):
                raise locate((*path, key), f"unknown key {key!r} in group {gname!r} (hosts, vars or children)")
        for host, host_vars in (body.get("hosts") or {}).items():
            if host_vars is not None and not isinstance(host_vars, dict):
                raise locate((*path, "hosts", host), f"host {host!r}: its variables must be a mapping")
            for expanded in _expand(str(host), (name, 0)):
                group.hosts.setdefault(expanded, {}).update(host_vars or {})
        if not isinstance(body.get("vars") or {}, dict):
            raise locate((*path, "vars"), f"group {gname!r}: vars must be a mapping")
        group.vars.update(body.get("vars") or {})
        for child, child_body in (body.get("children") or {}).items():
            if str(child) not in group.children:
                group.children.append(str(child))
            walk(str(child), child_body, (*path, "children", child))

    for gname, body in data.items():
        walk(str(gname), body, (gname,))
    return _merge(groups, name)


def _merge(groups: dict[str, _Group], name: str) -> Inventory:
    """Every host's variables (all < ancestors < groups < host), every group's hosts."""
    parents: dict[str, list[str]] = {g: [] for g in groups}
    for gname, group in groups.items():
        for child in group.children:
            parents.setdefault(child, []).append(gname)

    def depth(g: str, seen: frozenset[str] = frozenset()) -> int:
        if g in seen:
            raise BadInputError(f"{name}: group {g!r} is its own ancestor")
        return 1 + max((depth(p, seen | {g}) for p in parents.get(g, [])), default=0)

    members: dict[str, set[str]] = {}

    def hosts_of(g: str, seen: frozenset[str] = frozenset()) -> set[str]:
        if g in seen:
            raise BadInputError(f"{name}: group {g!r} is its own ancestor")
        found = set(groups[g].hosts)
        for child in groups[g].children:
            found |= hosts_of(child, seen | {g})
        return found

    for g in groups:
        members[g] = hosts_of(g)
    every = set().union(*members.values())
    members["all"] = every
    grouped = set().union(*(hosts for g, hosts in members.items() if g not in ("all", "ungrouped")))
    members["ungrouped"] = {h for h in every if h not in grouped} | set(groups["ungrouped"].hosts)
    hosts: dict[str, dict[str, Any]] = {}
    order = sorted((g for g in groups if g != "all"), key=lambda g: (depth(g), g))
    for host in sorted(every):
        merged = dict(groups["all"].vars)
        for g in order:
            if host in members[g]:
                merged.update(groups[g].vars)
        for g in order:
            merged.update(groups[g].hosts.get(host, {}))
        merged.update(groups["all"].hosts.get(host, {}))
        hosts[host] = merged
    if len(hosts) > _MAX_HOSTS:
        raise BadInputError(f"{name}: more than {_MAX_HOSTS} hosts")
    return Inventory(hosts, members)


def _listed(items: list[Any], name: str, locate: Any) -> list[FleetTarget]:
    """A YAML list: TARGET strings, or mappings {target, environment, groups, engine,
    ssh_args, <place>: …}."""
    found = []
    for index, item in enumerate(items):
        if isinstance(item, str):
            item = {"target": item}
        if not isinstance(item, dict) or not isinstance(item.get("target"), str):
            raise locate((index,), "each item is a TARGET or a mapping with `target:`")
        allowed = {"target", "environment", "groups", "engine", "ssh_args", "timeout", *_place_vars().values()}
        for key in item:
            if key not in allowed:
                raise locate((index, key), f"unknown key {key!r} (one of: {', '.join(sorted(allowed))})")
        try:
            spec = parse_target(item["target"])
        except BadInputError as exc:
            raise locate((index, "target"), str(exc)) from None
        spec = _with_connection(spec, item.get("engine"), item.get("ssh_args"), f"{name}: item {index + 1}")
        groups = item.get("groups") or []
        if isinstance(groups, str):
            groups = [groups]
        timeout = _timeout(item.get("timeout"), f"{name}: item {index + 1}")
        places = _places(item, lambda v: v)
        found.append(FleetTarget(spec, spec.text, tuple(map(str, groups)), _text(item.get("environment")), places, timeout))
    return found


# -- targets ------------------------------------------------------------------------------


def _place_vars() -> dict[str, str]:
    """ecosystem -> its variable/key stem (`python` for --python, `rlib` for --rlib, …)."""
    return {eco.name: eco.place_flag.lstrip("-") for eco in ecosystems.all_ecosystems() if eco.place_flag}


def _places(variables: Mapping[str, Any], key: Any) -> Places:
    found: dict[str, tuple[str, ...]] = {}
    for eco, stem in _place_vars().items():
        value = variables.get(key(stem))
        if value:
            found[eco] = tuple(_list(value))
    return Places(found)


def _list(value: Any) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [part.strip() for part in str(value).split(",") if part.strip()]


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _with_connection(spec: TargetSpec, engine: Any, ssh_args: Any, where: str) -> TargetSpec:
    from envman.targets.ssh import check_ssh_options

    if engine and spec.kind in ("docker", "image") and spec.engine is None:
        spec = spec._replace(engine=str(engine))
    if ssh_args and spec.kind == "ssh":
        args = ssh_args if isinstance(ssh_args, list) else shlex.split(str(ssh_args))
        spec = spec._replace(ssh_options=spec.ssh_options + check_ssh_options([str(a) for a in args], where))
    return spec


def targets_of(inventory: Inventory, name: str) -> list[FleetTarget]:
    """The fleet's targets, in host order: each host (unless it only carries containers
    reached over an engine), then its containers."""
    if inventory.listed is not None:
        return list(inventory.listed)
    found: list[FleetTarget] = []
    for host, variables in inventory.hosts.items():
        groups = tuple(sorted(g for g, hosts in inventory.groups.items() if host in hosts and g not in ("all", "ungrouped")))
        environment = _text(variables.get("envman_environment"))
        places = _places(variables, lambda stem: f"envman_{stem}")
        where = f"{name}: host {host!r}"
        connection = str(variables.get("ansible_connection") or "ssh").rsplit(".", 1)[-1]
        address = str(variables.get("ansible_host") or host)
        containers = _list(variables.get("envman_containers") or [])
        timeout = _timeout(variables.get("envman_timeout"), where)
        engine = _text(variables.get("envman_engine"))
        if variables.get("envman_target"):
            try:
                spec = parse_target(str(variables["envman_target"]))
            except BadInputError as exc:
                raise BadInputError(f"{where}: envman_target: {exc}") from None
        elif connection == "local":
            spec = TargetSpec("local", "local", "")
        elif connection == "docker":
            spec = TargetSpec(f"docker:{address}", "docker", address)
        elif connection in ("ssh", "smart", "paramiko"):
            spec = _ssh_spec(host, variables, where)
        else:
            raise BadInputError(f"{where}: ansible_connection={connection} is not a connection envman can probe (ssh, local, docker)")
        if connection != "local" and engine is None and containers and spec.kind == "ssh":
            engine = _ssh_engine(address, variables) if address not in _LOCAL_HOSTS else None
        if spec.text != host and spec.value != host:
            spec = spec._replace(text=f"{host} ({spec.text})")  # the inventory's name first: hosts may share an address
        if variables.get("envman_probe_host", True) is not False or not containers:
            found.append(FleetTarget(_with_connection(spec, engine, None, where), host, groups, environment, places, timeout))
        for container in containers:
            cspec = TargetSpec(f"{host}/docker:{container}", "docker", container, engine=engine)
            found.append(FleetTarget(cspec, host, groups, environment, Places(), timeout))
    return found


def _timeout(value: Any, where: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise BadInputError(f"{where}: envman_timeout={value!r} is not a number of seconds") from None
    if not 0 < seconds < 86400:
        raise BadInputError(f"{where}: envman_timeout must be a positive number of seconds, not {value!r}")
    return seconds


def _ssh_spec(host: str, variables: Mapping[str, Any], where: str) -> TargetSpec:
    from envman.targets.ssh import check_ssh_options, parse_ssh

    address = str(variables.get("ansible_host") or host)
    user = variables.get("ansible_user") or variables.get("ansible_ssh_user")
    port = variables.get("ansible_port") or variables.get("ansible_ssh_port")
    text = (f"{user}@" if user else "") + (f"[{address}]" if ":" in address else address) + (f":{port}" if port else "")
    try:
        parse_ssh(text, f"ssh:{text}")
    except BadInputError as exc:
        raise BadInputError(f"{where}: {exc}") from None
    options: list[str] = []
    for key in ("ansible_ssh_common_args", "ansible_ssh_extra_args"):
        if variables.get(key):
            try:
                options += shlex.split(str(variables[key]))
            except ValueError as exc:
                raise BadInputError(f"{where}: {key}: {exc}") from None
    return TargetSpec(f"ssh:{text}", "ssh", text, ssh_options=check_ssh_options(options, where))


def _ssh_engine(address: str, variables: Mapping[str, Any]) -> str:
    user = variables.get("ansible_user") or variables.get("ansible_ssh_user")
    port = variables.get("ansible_port") or variables.get("ansible_ssh_port")
    return "ssh://" + (f"{user}@" if user else "") + address + (f":{port}" if port else "")


def select(targets: Sequence[FleetTarget], inventory: Inventory | None, limit: str | None, name: str) -> list[FleetTarget]:
    """--limit PATTERN: groups or hosts (glob patterns), separated by `,` or `:`; `!x`
    excludes, `&x` keeps only those also in x (Ansible's host patterns)."""
    if not limit:
        return list(targets)

    def matches(word: str) -> set[str]:
        hosts: set[str] = set()
        groups = inventory.groups if inventory is not None else {}
        listed_groups = {g for t in targets for g in t.groups}
        for g in set(groups) | listed_groups:
            if fnmatch.fnmatchcase(g, word):
                hosts |= groups.get(g, set()) | {t.host for t in targets if g in t.groups}
        hosts |= {t.host for t in targets if fnmatch.fnmatchcase(t.host, word)}
        if not hosts:
            raise BadInputError(f"--limit {limit!r}: {word!r} matches no group or host of {name}")
        return hosts

    chosen: set[str] = set()
    words = [w for w in re.split(r"[,:]", limit) if w]
    for word in words:
        if not word.startswith(("!", "&")):
            chosen |= matches(word)
    if not any(not w.startswith(("!", "&")) for w in words):
        chosen = {t.host for t in targets}
    for word in words:
        if word.startswith("&"):
            chosen &= matches(word[1:])
        elif word.startswith("!"):
            chosen -= matches(word[1:])
    return [t for t in targets if t.host in chosen]
