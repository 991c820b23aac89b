"""Large-scale resolution over the Debian-derived index (about 1,100 real CRAN packages and
their dependency graph), checked against R's own tools::package_dependencies."""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path

import pytest

from envman.ecosystems.r import ECOSYSTEM
from envman.ecosystems.r.constants import BASE_PACKAGES
from envman.ecosystems.r.index import parse_packages
from envman.ecosystems.r.resolver import IndexSource, Root, closure, resolve
from envman.ecosystems.r.section import RSection
from tests.r.debian_index import packages_records, packages_text, write_repository
from tests.r.r_helpers import make_request, make_services

POPULAR = [
    "ggplot2", "dplyr", "tidyr", "readr", "data.table", "stringr", "lubridate", "purrr", "tibble", "shiny",
    "rmarkdown", "knitr", "jsonlite", "httr", "xml2", "caret", "randomForest", "glmnet", "Rcpp", "zoo",
    "xts", "forecast", "plotly", "DT", "devtools", "testthat", "roxygen2", "sf", "leaflet", "igraph",
]


def top_roots(n: int = 100) -> list[str]:
    """A typical project's 100 top-level packages: popular ones plus a fixed random sample."""
    names = sorted(r["Package"] for r in packages_records())
    roots = [p for p in POPULAR if p in names]
    rest = [p for p in names if p not in roots]
    roots += random.Random(4).sample(rest, n - len(roots))
    return roots


@pytest.fixture(scope="module")
def debian_repo(tmp_path_factory) -> Path:
    return write_repository(tmp_path_factory.mktemp("debian-cran"))


def test_index_is_large_and_readable():
    index = parse_packages(packages_text(), "CRAN")
    assert len(index.packages) > 1000 and not index.broken
    assert index.packages["ggplot2"][0].deps  # real dependencies came through
    assert index.packages["MASS"][0].priority == "recommended"


def test_pure_resolution_of_100_roots():
    index = parse_packages(packages_text(), "CRAN")
    roots = top_roots()
    started = time.perf_counter()
    resolution = resolve([Root(r) for r in roots], IndexSource([index]))
    elapsed = time.perf_counter() - started
    names = closure(roots, resolution)
    assert set(roots) <= set(names) and len(names) > 300
    assert not set(names) & BASE_PACKAGES
    assert elapsed < 5  # generous; benchmarks/r_lock records the real numbers


def test_closure_matches_r(debian_repo, rscript):
    roots = top_roots()
    index = parse_packages(packages_text(), "CRAN")
    ours = set(closure(roots, resolve([Root(r) for r in roots], IndexSource([index]))))
    vector = ", ".join(f'"{r}"' for r in roots)
    code = (
        f'db <- available.packages(repos = "{debian_repo.as_uri()}", type = "source", filters = list()); '
        f'deps <- tools::package_dependencies(c({vector}), db = db, recursive = TRUE, which = c("Depends", "Imports", "LinkingTo")); '
        f'cat(sort(unique(c({vector}, unlist(deps)))), sep = "\\n")'
    )
    done = subprocess.run([rscript, "-e", code], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    theirs = set(done.stdout.split()) - BASE_PACKAGES
    assert ours == theirs


def test_lock_through_the_ecosystem(debian_repo, tmp_path):
    roots = top_roots()
    section = RSection(version="4.2.2", repositories={"CRAN": debian_repo.as_uri()}, packages=roots)
    services = make_services(tmp_path / "cache")
    request = make_request(section, {"production": roots, "design": roots + ["lintr"]})
    cold = ECOSYSTEM.resolve(request, services)
    started = time.perf_counter()
    warm = ECOSYSTEM.resolve(request, services)
    elapsed = time.perf_counter() - started
    assert warm == cold
    prod = {e.name: e for e in warm["production"]["linux-64"]}
    design = {e.name: e for e in warm["design"]["linux-64"]}
    assert set(prod) < set(design) and "lintr" in design
    assert all(prod[n] == design[n] for n in prod)
    assert all(len(e.sha256) == 64 and e.md5 for e in prod.values())
    assert elapsed < 5
