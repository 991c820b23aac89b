"""What a conda solution gives the Python section (conda and PyPI together, as pixi does).

The interpreter: the solution's `python` package (its full version, `3.11.9`). The Python
distributions conda installs, under their PyPI names:

1. the package's own metadata where it has some: the `purls` of its repodata record
   (`pkg:pypi/numpy`, `pkg:pypi/torch@2.3.1`; CEP 19 and conda-forge's recipes), which the
   lock keeps in the entry's `purls`;
2. else, for a package that depends on `python` (a Python library built for conda), its
   conda name as a PyPI name (PEP 503 normalized), at its conda version: conda-forge names
   most Python packages as PyPI does (`requests`, `python-dateutil`).

pixi adds a mapping service for the packages named differently (`pytorch` is PyPI's
`torch`); nothing on the network is asked here: a package without a `pkg:pypi` purl whose
name differs is not seen as its PyPI twin (see docs/conda.md). Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote

from envman.ecosystems.requests import Provided, ProvidedPackage

__all__ = ["PYTHON", "provided_by", "pypi_names", "depends_on_python", "normalize_pypi"]

PYTHON = "python"  # the conda package of the interpreter, and the runtime key it provides
_PURL = re.compile(r"pkg:pypi/([A-Za-z0-9][A-Za-z0-9._\-]*)(?:@([^?#\s]+))?", re.IGNORECASE)
_DEP = re.compile(r"\s*([A-Za-z0-9_][A-Za-z0-9_.\-]*)")


def normalize_pypi(name: str) -> str:
    """PEP 503: lower case, runs of `-_.` as one `-`."""
    return re.sub(r"[-_.]+", "-", name).lower()


def depends_on_python(depends: Iterable[str]) -> bool:
    for dep in depends:
        match = _DEP.match(dep)
        if match and match.group(1).lower() == PYTHON:
            return True
    return False


def pypi_names(name: str, depends: Iterable[str], purls: Iterable[str]) -> list[tuple[str, str | None]]:
    """(PyPI name, version or None for the conda version) of the distributions one conda
    package installs: from its `pkg:pypi` purls, else its own name when it depends on python."""
    found = []
    for purl in purls:
        match = _PURL.fullmatch(purl.strip())
        if match:
            found.append((normalize_pypi(unquote(match.group(1))), unquote(match.group(2)) if match.group(2) else None))
    if found:
        return found
    if name.lower() != PYTHON and depends_on_python(depends):
        return [(normalize_pypi(name), None)]
    return []


def provided_by(entries: list[Any], ecosystem: str, consumer: str = "python") -> Provided | None:
    """The interpreter and Python distributions of one environment's conda entries (None
    when the solution has neither)."""
    runtimes: dict[str, str] = {}
    packages: dict[str, ProvidedPackage] = {}
    for entry in sorted(entries, key=lambda e: e.name):
        if entry.name.lower() == PYTHON:
            runtimes[PYTHON] = str(entry.version)
        purls = list(getattr(entry, "purls", None) or [])
        for pypi, version in pypi_names(entry.name, list(entry.depends or []), purls):
            packages.setdefault(pypi, ProvidedPackage(pypi, version or str(entry.version), entry.name))
    if not runtimes and not packages:
        return None
    return Provided(by=ecosystem, runtimes=runtimes, packages={consumer: packages} if packages else {})
