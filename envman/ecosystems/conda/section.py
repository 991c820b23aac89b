"""The `conda:` manifest section: channels, match specs, and what the solve assumes.

    conda:
      channels: [conda-forge, "https://example.org/channels/internal", "file:///srv/channel"]
      channel-alias: https://conda.anaconda.org/   # a channel name N is <channel-alias>/N
      channel-priority: strict                      # strict (default) | flexible | disabled
      virtual-packages: {cuda: "12.4", glibc: "2.31"}   # see platforms.py for the defaults
      packages: ["gdal>=3.8", "python=3.11", "numpy 1.26.*"]

Packages are conda match specs, parsed by py-rattler's `MatchSpec` (the parser the solve
uses) when the manifest is validated, so a bad spec is exit 2 at FILE:LINE:COL at
`envman validate`. Shell metacharacters (`` ` $ \\ | & ``) stay refused, so conda's `|` (or)
is not available: write a range instead. A spec naming a package file by URL is refused
(it is not something a solve can choose).
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from envman.sections import Strict, Url
from envman.specs import reject_shell_meta, validate_name, validate_url

__all__ = [
    "CondaSection",
    "CondaOverlay",
    "VirtualPackages",
    "validate_conda_spec",
    "validate_channel",
    "spec_name",
    "spec_channel",
    "DEFAULT_CHANNEL_ALIAS",
]

DEFAULT_CHANNEL_ALIAS = "https://conda.anaconda.org/"

# a channel name (`conda-forge`, `conda-forge/label/dev`, `bioconda`): mapped to the alias
_CHANNEL_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.\-]*(?:/[A-Za-z0-9_][A-Za-z0-9_.\-]*)*")
# a virtual package's version (`12.4`, `2.28`, `13.0`)
_VIRTUAL_VERSION = r"^[0-9][A-Za-z0-9_.+]*$"


def _match_spec(spec: str) -> object:
    from rattler import MatchSpec
    from rattler.exceptions import InvalidMatchSpecError

    try:
        return MatchSpec(spec, strict=False)
    except InvalidMatchSpecError as exc:
        raise ValueError(f"not a valid conda match spec: {str(exc).strip().splitlines()[0][:200]}") from None
    except (ValueError, TypeError) as exc:  # the binding's own conversions
        raise ValueError(f"not a valid conda match spec: {str(exc)[:200]}") from None


def validate_conda_spec(spec: str) -> str:
    """A conda match spec as conda reads it (`name`, `name >=1.2`, `name=1.2=build_0`,
    `channel::name`, `name[version=">=1"]`), parsed by py-rattler."""
    reject_shell_meta(spec)
    if not spec:
        raise ValueError("an empty conda match spec")
    if "://" in spec_channel(spec)[1]:
        raise ValueError("a package URL is not a conda match spec: add its channel to `conda.channels` and name the package")
    _match_spec(spec)
    return spec


# `channel=VALUE` inside a spec's brackets: "quoted", 'quoted' or bare, with the comma around it
_BRACKET_CHANNEL = re.compile(r"""\s*,?\s*\bchannel\s*=\s*(?:"([^"]*)"|'([^']*)'|([^,\]\s]+))\s*,?""")


def spec_channel(spec: str) -> tuple[str | None, str]:
    """(the channel a spec names, as written, or None; the spec without it):
    `conda-forge::numpy >=1` -> ("conda-forge", "numpy >=1"), `numpy[channel=x, build=py*]`
    -> ("x", "numpy[build=py*]"). A URL channel (`https://host/ch::numpy`) is returned whole."""
    head, bracket, tail = spec.partition("[")
    if "::" in head:
        channel, _, rest = spec.partition("::")
        return channel.strip(), rest.strip()
    if not bracket:
        return None, spec
    inside, _close, after = tail.partition("]")
    match = _BRACKET_CHANNEL.search(inside)
    if match is None:
        return None, spec
    channel = next(group for group in match.groups() if group is not None)
    left, right = inside[: match.start()].strip().rstrip(","), inside[match.end():].strip().lstrip(",")
    rest_inside = ", ".join(part for part in (left.strip(), right.strip()) if part)
    rest = head + (f"[{rest_inside}]" if rest_inside else "") + after
    return channel.strip(), rest.strip()


def spec_name(spec: str) -> str:
    """The package name a (valid) match spec asks for."""
    match = _match_spec(spec)
    name = getattr(match, "name", None)
    if name is None:
        raise ValueError(f"{spec!r} names no package")
    return str(name.normalized)


def validate_channel(channel: str) -> str:
    """A channel: a name (mapped to the channel alias) or an http(s):// or file:// URL."""
    if "://" in channel:
        validate_url(channel)
        return channel
    validate_name(channel, "a channel name")
    if not _CHANNEL_NAME.fullmatch(channel):
        raise ValueError("not a channel name (letters, digits, `_ . -`, `/` between parts) or an http(s):// or file:// URL")
    return channel


CondaSpec = Annotated[str, AfterValidator(validate_conda_spec)]
Channel = Annotated[str, AfterValidator(validate_channel)]
VirtualVersion = Annotated[str, Field(pattern=_VIRTUAL_VERSION, max_length=40)]


class VirtualPackages(Strict):
    """What the machines that will run the environment have (conda's virtual packages).

    Each key sets the version of one virtual package on the platforms it applies to; unset
    keys keep the defaults of envman.ecosystems.conda.platforms (pixi's: Linux 4.18, glibc
    2.28, macOS 13.0, no CUDA)."""

    cuda: VirtualVersion | None = None  # __cuda on linux-* and win-64: only when set
    glibc: VirtualVersion | None = None  # __glibc on linux-*
    linux: VirtualVersion | None = None  # __linux (the kernel) on linux-*
    osx: VirtualVersion | None = None  # __osx on osx-*


class CondaSection(Strict):
    channels: list[Channel] = ["conda-forge"]
    channel_alias: Url = DEFAULT_CHANNEL_ALIAS
    channel_priority: Literal["strict", "flexible", "disabled"] = "strict"
    virtual_packages: VirtualPackages = VirtualPackages()
    packages: list[CondaSpec] = []


class CondaOverlay(Strict):
    packages: list[CondaSpec] = []
