"""The virtual packages a solve assumes, per target platform (never the host's: a lock for
osx-arm64 made on Linux assumes a Mac, not this machine).

| platform      | virtual packages (name=version=build)                                  |
|---------------|------------------------------------------------------------------------|
| linux-64      | __unix=0=0, __linux=4.18=0, __glibc=2.28=0, __archspec=1=x86_64         |
| linux-aarch64 | __unix=0=0, __linux=4.18=0, __glibc=2.28=0, __archspec=1=aarch64        |
| osx-64        | __unix=0=0, __osx=13.0=0, __archspec=1=x86_64                           |
| osx-arm64     | __unix=0=0, __osx=13.0=0, __archspec=1=m1                               |
| win-64        | __win=0=0, __archspec=1=x86_64                                          |

The versions are pixi's default system requirements; the archspec names are rattler's minimal
ones per platform (`m1`: the first Apple silicon). `conda.virtual-packages` changes
them (`glibc`, `linux`, `osx`) and adds `__cuda` (`cuda`) on linux-* and win-64; CUDA is
never assumed, so a package that needs a GPU is chosen only when the manifest says the
machines have one. Standard library only.
"""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["VirtualPackage", "DEFAULTS", "virtual_packages", "shown"]


class VirtualPackage(NamedTuple):
    name: str
    version: str
    build: str = "0"


# per platform: the virtual packages a machine of that platform has by default
DEFAULTS: dict[str, tuple[VirtualPackage, ...]] = {
    "linux-64": (VirtualPackage("__unix", "0"), VirtualPackage("__linux", "4.18"), VirtualPackage("__glibc", "2.28"),
                 VirtualPackage("__archspec", "1", "x86_64")),
    "linux-aarch64": (VirtualPackage("__unix", "0"), VirtualPackage("__linux", "4.18"), VirtualPackage("__glibc", "2.28"),
                      VirtualPackage("__archspec", "1", "aarch64")),
    "osx-64": (VirtualPackage("__unix", "0"), VirtualPackage("__osx", "13.0"), VirtualPackage("__archspec", "1", "x86_64")),
    "osx-arm64": (VirtualPackage("__unix", "0"), VirtualPackage("__osx", "13.0"), VirtualPackage("__archspec", "1", "m1")),
    "win-64": (VirtualPackage("__win", "0"), VirtualPackage("__archspec", "1", "x86_64")),
}

# manifest key -> (virtual package, the platforms' prefixes where it exists)
_KEYS = {
    "glibc": ("__glibc", ("linux-",)),
    "linux": ("__linux", ("linux-",)),
    "osx": ("__osx", ("osx-",)),
    "cuda": ("__cuda", ("linux-", "win-")),
}


def virtual_packages(platform: str, overrides: Any = None) -> list[VirtualPackage]:
    """The virtual packages of platform, with the manifest's `virtual-packages` (a model or
    a mapping of key -> version) applied; sorted by name."""
    if platform not in DEFAULTS:
        raise ValueError(f"no virtual packages are known for platform {platform!r}")
    found = {vp.name: vp for vp in DEFAULTS[platform]}
    values = overrides.model_dump() if hasattr(overrides, "model_dump") else dict(overrides or {})
    for key, version in sorted(values.items()):
        if version is None:
            continue
        name, prefixes = _KEYS[key]
        if platform.startswith(prefixes):
            found[name] = VirtualPackage(name, str(version))
    return [found[name] for name in sorted(found)]


def shown(packages: list[VirtualPackage]) -> str:
    """`__glibc=2.28, __linux=4.18, …` for messages."""
    return ", ".join(f"{vp.name}={vp.version}" for vp in packages)
