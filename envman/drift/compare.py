"""Pure comparison: expected (a lock or a snapshot) vs installed -> findings; A vs B -> differences.

Names are compared normalized (PEP 503 for Python), versions as versions (PEP 440 for
Python, R's `1.2-3` == `1.2.3`), so no false drift. Installer tooling the lock does not
name (pip, setuptools, wheel; R's base and recommended packages) is not drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable

from envman.ecosystems.base import InstalledPackage
from envman.snapshot import Snapshot

__all__ = [
    "Finding",
    "Difference",
    "KINDS",
    "INSTALLER_TOOLING",
    "check",
    "diff",
    "package_key",
    "same_version",
    "runtime_matches",
]

KINDS = ("missing", "extra", "changed", "modified", "runtime")
INSTALLER_TOOLING = frozenset({"pip", "setuptools", "wheel"})
# R's own packages (shipped with R itself; `translations` carries no Priority field).
R_BASE = frozenset({
    "base", "compiler", "datasets", "graphics", "grDevices", "grid", "methods", "parallel",
    "splines", "stats", "stats4", "tcltk", "tools", "translations", "utils",
})
RUNTIME_OF = {"python": "python", "r": "r", "jvm": "java"}
RUNTIME_LABEL = {"python": "python", "r": "R", "java": "java"}
_NORMALIZE = re.compile(r"[-_.]+")


@dataclass(frozen=True)
class Finding:
    ecosystem: str
    name: str
    kind: str
    expected: str | None
    actual: str | None
    detail: str | None = None

    def to_data(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ecosystem": self.ecosystem,
            "name": self.name,
            "kind": self.kind,
            "expected": self.expected,
            "actual": self.actual,
        }
        if self.detail:
            data["detail"] = self.detail
        return data


@dataclass(frozen=True)
class Difference:
    ecosystem: str
    name: str
    left: str | None
    right: str | None

    def to_data(self) -> dict[str, Any]:
        return {"ecosystem": self.ecosystem, "name": self.name, "left": self.left, "right": self.right}


# -- names and versions ---------------------------------------------------------------


def package_key(ecosystem: str, name: str) -> str:
    if ecosystem == "python":
        return _NORMALIZE.sub("-", name).lower()
    return name


def _python_version(value: str) -> Any:
    from packaging.version import InvalidVersion, Version

    try:
        return Version(value)
    except InvalidVersion:
        return value


def _r_version(value: str) -> Any:
    parts = re.split(r"[.\-]", value.strip())
    if all(p.isdigit() for p in parts):
        numbers = [int(p) for p in parts]
        while len(numbers) > 1 and numbers[-1] == 0:
            numbers.pop()
        return tuple(numbers)
    return value


def same_version(ecosystem: str, a: InstalledPackage, b: InstalledPackage) -> bool:
    if ecosystem == "python":
        return _python_version(a.version) == _python_version(b.version)
    if ecosystem == "r":
        return _r_version(a.version) == _r_version(b.version)
    if ecosystem == "conda":
        build_a, build_b = a.extra.get("build"), b.extra.get("build")
        return a.version == b.version and (not build_a or not build_b or build_a == build_b)
    return a.version == b.version


def shown(pkg: InstalledPackage | None) -> str | None:
    if pkg is None:
        return None
    if pkg.ecosystem == "conda" and pkg.extra.get("build"):
        return f"{pkg.version} {pkg.extra['build']}"
    return pkg.version


def _runtime_parts(name: str, value: str) -> list[str]:
    value = value.strip()
    if name == "java" and value.startswith("1."):
        value = value[2:]
    return [p for p in re.split(r"[._+\-]", value) if p]


def runtime_matches(name: str, expected: str, actual: str) -> bool:
    """`3.11` matches `3.11.2`; `17` matches `17.0.9` and `1.8` matches `8`-style versions."""
    want, have = _runtime_parts(name, expected), _runtime_parts(name, actual)
    n = min(len(want), len(have))
    return n > 0 and want[:n] == have[:n]


def ignorable_extra(pkg: InstalledPackage) -> bool:
    """Installed but not locked, and not drift: installer tooling, R's own packages."""
    if pkg.ecosystem == "python":
        return package_key("python", pkg.name) in INSTALLER_TOOLING
    if pkg.ecosystem == "r":
        return pkg.extra.get("priority") in ("base", "recommended") or pkg.name in R_BASE
    return False


def _applies(pkg: InstalledPackage, environment: dict[str, Any]) -> bool:
    """A lock entry with a marker that does not hold for the target is not expected there."""
    marker = pkg.extra.get("marker")
    markers = environment.get("python-markers")
    if not marker or not markers:
        return True
    from packaging.markers import InvalidMarker, Marker, UndefinedComparison, UndefinedEnvironmentName

    try:
        return bool(Marker(marker).evaluate({**markers, "extra": ""}))
    except (InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
        return True


def _group(packages: Iterable[InstalledPackage]) -> dict[str, list[InstalledPackage]]:
    grouped: dict[str, list[InstalledPackage]] = {}
    for pkg in packages:
        grouped.setdefault(package_key(pkg.ecosystem, pkg.name), []).append(pkg)
    return grouped


def _primary(rows: list[InstalledPackage], want: InstalledPackage | None = None) -> InstalledPackage:
    """The copy in effect: the first not shadowed on the search path (for jar folders, the locked version if present)."""
    if want is not None and want.ecosystem == "jvm":
        for row in rows:
            if row.version == want.version:
                return row
    for row in rows:
        if "shadowed-by" not in row.extra:
            return row
    return rows[0]


def _modified_detail(expected: InstalledPackage, actual: InstalledPackage) -> str | None:
    files = actual.extra.get("modified")
    if files:
        count = int(actual.extra.get("modified-count", len(files)))
        listed = ", ".join(files[:5]) + (", …" if count > 5 else "")
        return f"{count} installed file(s) differ from the recorded hashes: {listed}"
    if expected.ecosystem == "jvm" and expected.sha256 and actual.sha256 and expected.sha256 != actual.sha256:
        return f"jar sha256 {actual.sha256[:16]}… is not the locked {expected.sha256[:16]}…"
    return None


def _duplicate_detail(row: InstalledPackage, primary: InstalledPackage) -> str:
    where = row.location or "?"
    return f"second copy at {where} (the one in effect is at {primary.location or '?'})"


def expected_names(expected: Snapshot, installed: Snapshot, ecosystem: str) -> list[str]:
    """Names the lock expects in `installed` (entries whose markers hold there)."""
    return sorted({p.name for p in expected.of(ecosystem) if _applies(p, installed.environment)})


def covered(expected: Snapshot, installed: Snapshot) -> list[str]:
    return [eco for eco in ("python", "r", "jvm", "conda") if eco in expected.ecosystems and eco in installed.ecosystems]


# -- check ----------------------------------------------------------------------------


def check(expected: Snapshot, installed: Snapshot, deep: bool = False) -> list[Finding]:
    """Findings of `installed` against `expected`, over the ecosystems both cover."""
    findings: list[Finding] = []
    ecosystems = covered(expected, installed)
    for eco in ecosystems:
        wanted = {package_key(eco, p.name): p for p in expected.of(eco) if _applies(p, installed.environment)}
        have = _group(installed.of(eco))
        for key in sorted(wanted):
            exp = wanted[key]
            rows = have.get(key)
            if not rows:
                findings.append(Finding(eco, exp.name, "missing", shown(exp), None))
                continue
            primary = _primary(rows, exp)
            if not same_version(eco, exp, primary):
                findings.append(Finding(eco, exp.name, "changed", shown(exp), shown(primary)))
            elif deep:
                detail = _modified_detail(exp, primary)
                if detail:
                    findings.append(Finding(eco, exp.name, "modified", shown(exp), shown(primary), detail))
            for row in rows:
                if row is not primary:
                    findings.append(Finding(eco, exp.name, "extra", None, shown(row), _duplicate_detail(row, primary)))
        for key in sorted(set(have) - set(wanted)):
            rows = have[key]
            if ignorable_extra(rows[0]):
                continue
            primary = _primary(rows)
            for row in rows:
                detail = None
                if row is not primary:
                    detail = _duplicate_detail(row, primary)
                elif row.extra.get("unidentified"):
                    detail = f"jar with no Maven coordinates and a sha256 the lock does not know: {row.location}"
                findings.append(Finding(eco, row.name, "extra", None, shown(row), detail))
    for eco in ecosystems:
        runtime = RUNTIME_OF.get(eco)
        want, got = expected.runtimes.get(runtime or ""), installed.runtimes.get(runtime or "")
        if runtime and want and got and not runtime_matches(runtime, want, got):
            findings.append(Finding(eco, RUNTIME_LABEL[runtime], "runtime", want, got))
    return findings


# -- diff -----------------------------------------------------------------------------


def diff(left: Snapshot, right: Snapshot) -> list[Difference]:
    """Package differences over the ecosystems both sides cover, then runtime differences."""
    out: list[Difference] = []
    ecosystems = covered(left, right)
    for eco in ecosystems:
        lmap = {k: _primary(v) for k, v in _group(p for p in left.of(eco) if _applies(p, right.environment)).items()}
        rmap = {k: _primary(v) for k, v in _group(p for p in right.of(eco) if _applies(p, left.environment)).items()}
        for key in sorted(set(lmap) | set(rmap)):
            lp, rp = lmap.get(key), rmap.get(key)
            if ignorable_extra(lp or rp):  # type: ignore[arg-type]
                continue  # installer tooling and R's own packages: not part of the environment
            if lp is not None and rp is not None and same_version(eco, lp, rp):
                continue
            name = (lp or rp).name  # type: ignore[union-attr]
            out.append(Difference(eco, name, shown(lp), shown(rp)))
    for eco in ecosystems:
        runtime = RUNTIME_OF.get(eco)
        lv, rv = left.runtimes.get(runtime or ""), right.runtimes.get(runtime or "")
        if runtime and lv and rv and not runtime_matches(runtime, lv, rv):
            out.append(Difference("runtime", runtime, lv, rv))
    return out
