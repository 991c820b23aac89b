"""TARGET strings: parse them into a TargetSpec (pure)."""

from __future__ import annotations

from typing import NamedTuple

from envman.errors import BadInputError

__all__ = ["TargetSpec", "parse_target", "target_forms", "KNOWN_PLATFORMS"]

_GENERAL_FORMS = ("docker:CONTAINER", "image:REF", "lock:ENV[@PLATFORM][@GITREV]", "PATH.json", "local")
_GENERAL_KINDS = ("docker", "image", "lock")
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
    the default one); platform and rev only for lock targets.
    """

    text: str
    kind: str
    value: str
    platform: str | None = None
    rev: str | None = None


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
        return TargetSpec(raw, kind, value)
    if raw.endswith(".json"):
        return TargetSpec(raw, "snapshot", raw)
    if raw == "lock":
        return TargetSpec(raw, "lock", "")
    raise BadInputError(f"unknown target {raw!r}; use one of: {', '.join(target_forms())}")


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
