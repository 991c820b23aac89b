"""The `r:` manifest section and its requirement grammar (`name` or `name (op version)`)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from envman.ecosystems.r.grammar import R_NAME
from envman.sections import Strict, Url, VersionText
from envman.specs import reject_shell_meta, validate_name

__all__ = ["RSection", "ROverlay", "parse_r_spec", "validate_r_spec", "R_NAME"]

_R_SPEC = re.compile(
    r"^\s*(?P<name>[A-Za-z][A-Za-z0-9.]*)\s*(?:\(\s*(?P<op>>=|<=|==|>|<|=)\s*(?P<version>[0-9][0-9.\-]*)\s*\))?\s*$"
)


def parse_r_spec(spec: str) -> tuple[str, str | None, str | None]:
    """`name` or `name (op version)` -> (name, op, version); a git remote
    (`name (github: owner/repo@ref)`, remotes.py) -> (name, None, None)."""
    reject_shell_meta(spec)
    from envman.ecosystems.r.remotes import parse_remote

    remote = parse_remote(spec)
    if remote is not None:
        return remote.name, None, None
    match = _R_SPEC.match(spec)
    if not match or not R_NAME.match(match.group("name")):
        raise ValueError("not a valid R package spec (expected `name` or `name (>= 1.2.3)`)")
    op = match.group("op")
    if op == "=":
        op = "=="
    return match.group("name"), op, match.group("version")


def validate_r_spec(spec: str) -> str:
    parse_r_spec(spec)
    return spec


RSpec = Annotated[str, AfterValidator(validate_r_spec)]


class RSection(Strict):
    version: Annotated[str, VersionText, Field(pattern=r"^\d+\.\d+(\.\d+)?$")] | None = None
    repositories: dict[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]*$"), AfterValidator(validate_name)], Url] = {}
    # A Bioconductor release ("3.16"): its repositories come ahead of `repositories`
    # (bioconductor.py); the mirror is https://bioconductor.org unless set.
    bioconductor: Annotated[str, Field(pattern=r"^\d+\.\d+$")] | None = None
    bioconductor_mirror: Url | None = None
    github_url: Url | None = None  # the base of `(github: owner/repo)` remotes (default https://github.com)
    packages: list[RSpec] = []


class ROverlay(Strict):
    packages: list[RSpec] = []
