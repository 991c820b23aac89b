"""TARGET strings: parse them into a TargetSpec (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from envman.errors import BadInputError

__all__ = ["TargetSpec", "parse_target", "TARGET_FORMS", "KNOWN_PLATFORMS"]

TARGET_FORMS = (
    "python:PATH",
    "rlib:DIR",
    "rscript:PATH",
    "jars:DIR",
    "conda:PREFIX",
    "docker:CONTAINER",
    "image:REF",
    "lock:ENV[@PLATFORM][@GITREV]",
    "PATH.json",
    "local",
)
KNOWN_PLATFORMS = ("linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64")
_KINDS = ("python", "rlib", "rscript", "jars", "conda", "docker", "image", "lock")


@dataclass(frozen=True)
class TargetSpec:
    """kind: python | rlib | rscript | jars | conda | docker | image | lock | snapshot | local.

    value: the path, container, image reference or (for lock) the environment name ("" for
    the default one); platform and rev only for lock targets.
    """

    text: str
    kind: str
    value: str
    platform: str | None = None
    rev: str | None = None

    @property
    def single_ecosystem(self) -> str | None:
        return {"python": "python", "rlib": "r", "rscript": "r", "jars": "jvm", "conda": "conda"}.get(self.kind)


def parse_target(text: str) -> TargetSpec:
    """Parse one TARGET; anything else is bad input (exit 2) listing the forms."""
    raw = text.strip()
    if raw == "local":
        return TargetSpec(raw, "local", "")
    kind, sep, value = raw.partition(":")
    if sep and kind in _KINDS:
        if kind == "lock":
            return _parse_lock(raw, value)
        if not value:
            raise BadInputError(f"target {raw!r}: `{kind}:` needs a value, as in {_form(kind)}")
        return TargetSpec(raw, kind, value)
    if raw.endswith(".json"):
        return TargetSpec(raw, "snapshot", raw)
    if raw == "lock":
        return TargetSpec(raw, "lock", "")
    raise BadInputError(f"unknown target {raw!r}; use one of: {', '.join(TARGET_FORMS)}")


def _form(kind: str) -> str:
    return next(f for f in TARGET_FORMS if f.startswith(kind + ":"))


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
