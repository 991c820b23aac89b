"""The resolver against brute force on many small random indexes: it finds a valid
resolution exactly when one exists, and what it returns is valid."""

from __future__ import annotations

import itertools
import random

import pytest

from envman.ecosystems.r.index import parse_packages
from envman.ecosystems.r.resolver import IndexSource, Root, closure, resolve
from envman.ecosystems.r.versions import parse_constraint, satisfies
from envman.errors import ResolutionError
from tests.r.r_helpers import dcf

NAMES = ["pa", "pb", "pc", "pd", "pe"]
OPS = [">=", "<", "==", "<=", ">"]


def universe(rng: random.Random):
    records = []
    for name in NAMES:
        for version in sorted(rng.sample(["1.0", "1.1", "2.0", "2.5", "3.0"], rng.randint(1, 3))):
            deps = []
            for other in rng.sample([n for n in NAMES if n != name], rng.randint(0, 2)):
                if rng.random() < 0.5:
                    deps.append(f"{other} ({rng.choice(OPS)} {rng.choice(['1.0', '1.1', '2.0', '2.5', '3.0'])})")
                else:
                    deps.append(other)
            record = {"Package": name, "Version": version}
            if deps:
                record["Imports"] = ", ".join(deps)
            records.append(record)
    return records


def brute_force(index, roots) -> bool:
    options = {name: [None] + [c for c in index.packages.get(name, [])] for name in NAMES}
    for combo in itertools.product(*(options[n] for n in NAMES)):
        chosen = {n: c for n, c in zip(NAMES, combo, strict=True) if c is not None}
        if valid(chosen, roots):
            return True
    return False


def valid(chosen, roots) -> bool:
    for root in roots:
        if root.name not in chosen or not satisfies(chosen[root.name].key, root.constraints):
            return False
    for cand in chosen.values():
        for dep in cand.deps:
            if dep.name not in chosen or not satisfies(chosen[dep.name].key, dep.constraints):
                return False
    return True


@pytest.mark.parametrize("seed", range(400))
def test_matches_brute_force(seed):
    rng = random.Random(seed)
    index = parse_packages(dcf(universe(rng)), "CRAN")
    roots = []
    for name in rng.sample(NAMES, rng.randint(1, 3)):
        constraints = (parse_constraint(rng.choice(OPS), rng.choice(["1.0", "2.0", "2.5"])),) if rng.random() < 0.4 else ()
        roots.append(Root(name, constraints))
    expected = brute_force(index, roots)
    try:
        resolution = resolve(roots, IndexSource([index]))
    except ResolutionError:
        assert not expected, f"seed {seed}: a resolution exists but none was found"
        return
    assert expected, f"seed {seed}: resolver returned an invalid resolution"
    assert valid(resolution.chosen, roots)
    # nothing left over from abandoned branches: every chosen package is needed
    assert set(closure([r.name for r in roots], resolution)) == set(resolution.chosen)
