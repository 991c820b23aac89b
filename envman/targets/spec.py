"""TARGET strings: parse them into a TargetSpec (pure)."""

from __future__ import annotations

from typing import NamedTuple

from envman.errors import BadInputError

__all__ = ["TargetSpec", "parse_target", "target_forms", "KNOWN_PLATFORMS"]

_GENERAL_FORMS = (
    "docker:CONTAINER",
    "docker://HOST[:PORT]/CONTAINER",
    "image:REF",
    "lock:ENV[@PLATFORM][@GITREV]",
    "ssh:[USER@]HOST[:PORT][/PATH-TO-PYTHON]",
    "PATH.json",
    "local",
)
_GENERAL_KINDS = ("docker", "image", "lock", "ssh")
KNOWN_PLATFORMS = ("linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64")


def target_forms() -> tuple[str, ...]:
    """Every TARGET form: each ecosystem's own (python:PATH, rlib:DIR, …), then the general ones."""
    from envman import ecosystems

    return (*(form for eco in ecosystems.all_ecosystems() for form in eco.target_forms), *_GENERAL_FORMS)


def _kinds() -> tuple[str, ...]:
    from envman import ecosystems

    return (*(kind for eco in ecosystems.all_ecosystems() for kind in eco.target_kinds), *_GENERAL_KINDS)


class TargetSpec(NamedTuple):
    """kind: an ecosystem's own kind (python, rlib, jars, …) | docker | image | lock | snapshot | local.

    value: the path, container, image reference or (for lock) the environment name ("" for
    the default one); platform and rev only for lock targets. engine: the Docker engine of a
    docker:/image: target (a URL or a context name; None: the environment's). ssh_options:
    extra OpenSSH client arguments of an ssh: target (-F FILE, inventory common args).
    """

    text: str
    kind: str
    value: str
    platform: str | None = None
    rev: str | None = None
    engine: str | None = None
    ssh_options: tuple[str, ...] = ()


def parse_target(text: str) -> TargetSpec:
    """Parse one TARGET; anything else is bad input (exit 2) listing the forms."""
    raw = text.strip()
    if raw == "local":
        return TargetSpec(raw, "local", "")
    kind, sep, value = raw.partition(":")
    if sep and kind in _kinds():
        if kind == "lock":
            return _parse_lock(raw, value)
        if not value:
            raise BadInputError(f"target {raw!r}: `{kind}:` needs a value, as in {_form(kind)}")
        if kind in ("docker", "image") and value.startswith("//"):
            return _parse_engine_target(raw, kind, value[2:])
        if kind == "ssh":
            from envman.targets.ssh import parse_ssh

            parse_ssh(value, raw)  # bad input now, not when it is probed
        return TargetSpec(raw, kind, value)
    if raw.endswith(".json"):
        return TargetSpec(raw, "snapshot", raw)
    if raw == "lock":
        return TargetSpec(raw, "lock", "")
    raise BadInputError(f"unknown target {raw!r}; use one of: {', '.join(target_forms())}")


def _parse_engine_target(raw: str, kind: str, rest: str) -> TargetSpec:
    """docker://HOST[:PORT]/CONTAINER (image://HOST[:PORT]/REF): the engine at tcp://HOST:PORT
    (2375 by default; TLS as $DOCKER_TLS_VERIFY/$DOCKER_CERT_PATH say is not applied: use
    --engine or a context for TLS engines)."""
    import re

    host, sep, name = rest.partition("/")
    if not sep or not name or not re.fullmatch(r"(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9][A-Za-z0-9.-]*)(:[0-9]{1,5})?", host):
        raise BadInputError(f"target {raw!r}: expected {kind}://HOST[:PORT]/{'CONTAINER' if kind == 'docker' else 'REF'}")
    if not re.search(r":[0-9]{1,5}$", host):
        host += ":2375"
    return TargetSpec(raw, kind, name, engine=f"tcp://{host}")


def _form(kind: str) -> str:
    return next(f for f in target_forms() if f.startswith(kind + ":"))


def _parse_lock(raw: str, value: str) -> TargetSpec:
    parts = value.split("@")
    env = parts[0]
    platform = rev = None
    rest = parts[1:]
    if len(rest) > 2 or any(p == "" for p in rest):
        raise BadInputError(f"target {raw!r}: expected lock:ENV, lock:ENV@PLATFORM, lock:ENV@GITREV or lock:ENV@PLATFORM@GITREV")
    if rest and rest[0] in KNOWN_PLATFORMS:
        platform = rest.pop(0)
    if rest:
        rev = rest.pop(0)
        if rev in KNOWN_PLATFORMS or rev.startswith("-"):
            raise BadInputError(f"target {raw!r}: {rev!r} is not a git revision here (write lock:ENV@PLATFORM@GITREV)")
    return TargetSpec(raw, "lock", env, platform, rev)
