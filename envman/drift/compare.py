"""Pure comparison: expected (a lock or a snapshot) vs installed -> findings; A vs B -> differences.

Each ecosystem says how its names normalize, how its versions compare, which installed
packages the lock need not name (installer tooling, base packages) and which copy of a
duplicated package is in effect (Ecosystem in envman.ecosystems.base); this module applies
those rules to any ecosystem the registry lists.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

from envman import ecosystems
from envman.ecosystems.base import InstalledPackage
from envman.snapshot import Snapshot

__all__ = [
    "Finding",
    "Difference",
    "KINDS",
    "check",
    "diff",
    "package_key",
    "same_version",
    "covered",
    "expected_names",
]

KINDS = ("missing", "extra", "changed", "modified", "runtime")


class Finding(NamedTuple):
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


class Difference(NamedTuple):
    ecosystem: str
    name: str
    left: str | None
    right: str | None

    def to_data(self) -> dict[str, Any]:
        return {"ecosystem": self.ecosystem, "name": self.name, "left": self.left, "right": self.right}


# -- names and versions: each ecosystem's own rules ---------------------------------------


def package_key(ecosystem: str, name: str) -> str:
    return ecosystems.get(ecosystem).normalize_name(name)


def same_version(ecosystem: str, a: InstalledPackage, b: InstalledPackage) -> bool:
    return ecosystems.get(ecosystem).same_version(a, b)


def shown(pkg: InstalledPackage | None) -> str | None:
    return None if pkg is None else ecosystems.get(pkg.ecosystem).shown(pkg)


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


def _duplicate_detail(row: InstalledPackage, primary: InstalledPackage) -> str:
    where = row.location or "?"
    return f"second copy at {where} (the one in effect is at {primary.location or '?'})"


def expected_names(expected: Snapshot, installed: Snapshot, ecosystem: str) -> list[str]:
    """Names the lock expects in `installed` (entries whose markers hold there)."""
    return sorted({p.name for p in expected.of(ecosystem) if _applies(p, installed.environment)})


def covered(expected: Snapshot, installed: Snapshot) -> list[str]:
    """The ecosystems both sides inspected, in registry order."""
    return [eco for eco in ecosystems.names() if eco in expected.ecosystems and eco in installed.ecosystems]


# -- check ----------------------------------------------------------------------------


def check(expected: Snapshot, installed: Snapshot, deep: bool = False) -> list[Finding]:
    """Findings of `installed` against `expected`, over the ecosystems both cover."""
    findings: list[Finding] = []
    names = covered(expected, installed)
    for eco in names:
        rules = ecosystems.get(eco)
        wanted = {rules.normalize_name(p.name): p for p in expected.of(eco) if _applies(p, installed.environment)}
        have = _group(installed.of(eco))
        for key in sorted(wanted):
            exp = wanted[key]
            rows = have.get(key)
            if not rows:
                findings.append(Finding(eco, exp.name, "missing", shown(exp), None))
                continue
            primary = rules.primary(rows, exp)
            if not rules.same_version(exp, primary):
                findings.append(Finding(eco, exp.name, "changed", shown(exp), shown(primary)))
            elif deep:
                detail = rules.modified_detail(exp, primary)
                if detail:
                    findings.append(Finding(eco, exp.name, "modified", shown(exp), shown(primary), detail))
            for row in rows:
                if row is not primary:
                    findings.append(Finding(eco, exp.name, "extra", None, shown(row), _duplicate_detail(row, primary)))
        for key in sorted(set(have) - set(wanted)):
            rows = have[key]
            if rules.ignorable_extra(rows[0]):
                continue
            primary = rules.primary(rows, None)
            for row in rows:
                detail = _duplicate_detail(row, primary) if row is not primary else rules.extra_detail(row)
                findings.append(Finding(eco, row.name, "extra", None, shown(row), detail))
    for eco, label, want, got in _runtime_mismatches(names, expected, installed):
        findings.append(Finding(eco, label, "runtime", want, got))
    return findings


def _runtime_mismatches(names: list[str], a: Snapshot, b: Snapshot) -> Iterator[tuple[str, str, str, str]]:
    """(ecosystem, runtime label, version in a, version in b) where both know the runtime
    and the versions do not match by that ecosystem's rule."""
    for eco in names:
        rules = ecosystems.get(eco)
        if rules.runtime is None:
            continue
        left, right = a.runtimes.get(rules.runtime), b.runtimes.get(rules.runtime)
        if left and right and not rules.runtime_matches(left, right):
            yield eco, rules.runtime_label or rules.runtime, left, right


# -- diff -----------------------------------------------------------------------------


def diff(left: Snapshot, right: Snapshot) -> list[Difference]:
    """Package differences over the ecosystems both sides cover, then runtime differences."""
    out: list[Difference] = []
    names = covered(left, right)
    for eco in names:
        rules = ecosystems.get(eco)
        lmap = {k: rules.primary(v, None) for k, v in _group(p for p in left.of(eco) if _applies(p, right.environment)).items()}
        rmap = {k: rules.primary(v, None) for k, v in _group(p for p in right.of(eco) if _applies(p, left.environment)).items()}
        for key in sorted(set(lmap) | set(rmap)):
            lp, rp = lmap.get(key), rmap.get(key)
            either = lp or rp
            if either is None or rules.ignorable_extra(either):
                continue  # installer tooling and R's own packages: not part of the environment
            if lp is not None and rp is not None and rules.same_version(lp, rp):
                continue
            out.append(Difference(eco, either.name, shown(lp), shown(rp)))
    for eco, _label, lv, rv in _runtime_mismatches(names, left, right):
        out.append(Difference("runtime", ecosystems.get(eco).runtime or eco, lv, rv))
    return out
