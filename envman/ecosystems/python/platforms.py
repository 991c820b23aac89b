"""Map envman (conda-style) platform names to uv's --python-platform targets."""

from __future__ import annotations

from envman.errors import BadInputError

__all__ = ["uv_platform", "DEFAULT_PYTHON_VERSION"]

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
