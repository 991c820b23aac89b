"""Map envman (conda-style) platform names to uv's --python-platform targets."""

from __future__ import annotations

from envman.errors import BadInputError

__all__ = ["uv_platform", "host_platform", "DEFAULT_PYTHON_VERSION"]

# The interpreter version resolved for when python.version is not set. Fixed (not the
# running interpreter's) so that every machine writes the same lock.
DEFAULT_PYTHON_VERSION = "3.11"

_UV_PLATFORMS = {
    "linux-64": "x86_64-manylinux_2_28",
    "linux-aarch64": "aarch64-manylinux_2_28",
    "osx-64": "x86_64-apple-darwin",
    "osx-arm64": "aarch64-apple-darwin",
    "win-64": "x86_64-pc-windows-msvc",
}


def uv_platform(platform: str) -> str:
    try:
        return _UV_PLATFORMS[platform]
    except KeyError:
        raise BadInputError(f"platform {platform!r} has no Python target; known: {', '.join(_UV_PLATFORMS)}") from None


_HOST = {
    ("linux", "x86_64"): "linux-64", ("linux", "amd64"): "linux-64",
    ("linux", "aarch64"): "linux-aarch64", ("linux", "arm64"): "linux-aarch64",
    ("darwin", "x86_64"): "osx-64", ("darwin", "arm64"): "osx-arm64",
    ("win32", "amd64"): "win-64", ("win32", "x86_64"): "win-64",
}


def host_platform() -> str | None:
    """The envman platform of the machine running envman (None when it is none of them)."""
    import platform
    import sys

    return _HOST.get((sys.platform, platform.machine().lower()))
