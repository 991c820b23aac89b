"""Which of the manifest's Python requirements a lock for one platform must hold.

A requirement whose PEP 508 marker is false for the platform and interpreter (say
`pywin32 ; sys_platform == "win32"` on linux-64) is rightly absent from that platform's
lock; every other requirement must be there (locking.check_nothing_vanished).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from envman.ecosystems.python.probe import normalize_name

__all__ = ["marker_environment", "required_names"]

# The PEP 508 environment markers of each platform envman resolves for (the interpreter is
# CPython; python_version comes from python.version).
_PLATFORM_MARKERS: dict[str, dict[str, str]] = {
    "linux-64": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "x86_64"},
    "linux-aarch64": {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix", "platform_machine": "aarch64"},
    "osx-64": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "x86_64"},
    "osx-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "os_name": "posix", "platform_machine": "arm64"},
    "win-64": {"sys_platform": "win32", "platform_system": "Windows", "os_name": "nt", "platform_machine": "AMD64"},
}


def marker_environment(platform: str, python_version: str) -> dict[str, str]:
    parts = (python_version.split(".") + ["0", "0"])[:3]
    full = ".".join(parts)
    return {
        **_PLATFORM_MARKERS.get(platform, {}),
        "python_version": ".".join(parts[:2]),
        "python_full_version": full,
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "implementation_version": full,
    }


def required_names(requirements: Sequence[Any], platform: str, python_version: str) -> set[str]:
    from packaging.markers import UndefinedEnvironmentName
    from packaging.requirements import Requirement

    environment = marker_environment(platform, python_version)
    names = set()
    for item in requirements:
        requirement = Requirement(str(item))
        if requirement.marker is not None:
            try:
                applies = requirement.marker.evaluate({**environment, "extra": ""})
            except UndefinedEnvironmentName:  # a marker on a name this table lacks: cannot tell, so required
                applies = True
            if not applies:
                continue
        names.add(normalize_name(requirement.name))
    return names
