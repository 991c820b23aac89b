"""Profile activation for POMs read from a repository, as Maven 3 does it for dependencies.

Maven activates profiles of dependency POMs with the properties of the JVM it runs on; envman
evaluates them for the declared `jvm.java` major version on Linux/amd64 (jars are the same on
every platform), with no user properties and no environment variables, so locks do not depend
on the machine that wrote them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from envman.ecosystems.jvm.pom import RawProfile

__all__ = ["ActivationContext", "active_profiles"]


@dataclass(frozen=True)
class ActivationContext:
    java: str = "17"
    os_name: str = "linux"
    os_family: str = "unix"
    os_arch: str = "amd64"
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def java_version(self) -> str:
        major = int(self.java) if self.java.isdigit() else 17
        return f"1.{major}.0" if major <= 8 else f"{major}.0.0"

    def system_properties(self) -> dict[str, str]:
        major = int(self.java) if self.java.isdigit() else 17
        props = {
            "java.version": self.java_version,
            "java.specification.version": f"1.{major}" if major <= 8 else str(major),
            "os.name": "Linux",
            "os.arch": self.os_arch,
            "file.separator": "/",
            "path.separator": ":",
            "line.separator": "\n",
            "file.encoding": "UTF-8",
        }
        props.update(self.extra)
        return props


def _version_tuple(text: str) -> list[object]:
    parts: list[object] = []
    for token in re.split(r"[.\-_]", text.strip()):
        parts.append(int(token) if token.isdigit() else token)
    while parts and parts[-1] == 0:
        parts.pop()
    return parts


def _cmp(left: str, right: str) -> int:
    a, b = _version_tuple(left), _version_tuple(right)
    for x, y in zip(a, b, strict=False):
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return -1 if x < y else 1
        return -1 if str(x) < str(y) else 1
    return (len(a) > len(b)) - (len(a) < len(b))


def _jdk_matches(spec: str, version: str) -> bool:
    spec = spec.strip()
    negate = spec.startswith("!")
    if negate:
        spec = spec[1:]
    if spec.startswith("[") or spec.startswith("("):
        result = False
        for piece in re.findall(r"[\[(][^\])]*[\])]", spec):
            low, _, high = piece[1:-1].partition(",")
            if "," not in piece:
                high = low
            ok = True
            if low.strip():
                c = _cmp(version, low)
                ok = c > 0 or (c == 0 and piece[0] == "[")
            if ok and high.strip():
                c = _cmp(version, high)
                ok = c < 0 or (c == 0 and piece[-1] == "]")
            result = result or ok
    else:
        result = version.startswith(spec)
    return result != negate


def _os_matches(conditions: dict[str, str], ctx: ActivationContext) -> bool:
    for key, value in conditions.items():
        negate = value.startswith("!")
        wanted = value[1:] if negate else value
        if key == "name":
            actual = wanted.lower() == ctx.os_name
        elif key == "family":
            actual = wanted.lower() in (ctx.os_family, ctx.os_name)
        elif key == "arch":
            actual = wanted.lower() == ctx.os_arch
        else:  # version: unknown here
            actual = False
        if actual == negate:
            return False
    return True


def _property_matches(condition: tuple[str, str | None], props: dict[str, str]) -> bool:
    name, value = condition
    if not name:
        return False
    if name.startswith("!"):
        return name[1:] not in props
    if value is None or value == "":
        return name in props
    if value.startswith("!"):
        return props.get(name) != value[1:]
    return props.get(name) == value


def _file_matches(condition: dict[str, str]) -> bool:
    # Repository POMs have no project directory: `${basedir}` paths never match; others are
    # taken as absent (envman never looks at the local file system here).
    if "exists" in condition:
        return False
    missing = condition.get("missing")
    return bool(missing and "${" not in missing)


def _is_active(profile: RawProfile, ctx: ActivationContext, props: dict[str, str]) -> bool:
    activation = profile.activation
    if not activation:
        return False
    checks = []
    if "jdk" in activation:
        checks.append(_jdk_matches(activation["jdk"], ctx.java_version))
    if "os" in activation:
        checks.append(_os_matches(activation["os"], ctx))
    if "property" in activation:
        checks.append(_property_matches(activation["property"], props))
    if "file" in activation:
        checks.append(_file_matches(activation["file"]))
    return bool(checks) and all(checks)


def active_profiles(profiles: list[RawProfile], ctx: ActivationContext) -> list[RawProfile]:
    """Profiles active by their activation; else those marked activeByDefault."""
    props = ctx.system_properties()
    active = [p for p in profiles if _is_active(p, ctx, props)]
    if active:
        return active
    return [p for p in profiles if p.active_by_default]
