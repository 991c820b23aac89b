"""Integration with real R (Debian's r-base-core): tiny packages built with `R CMD build`,
a CRAN-like repository written by R's own tools::write_PACKAGES and served over http on
127.0.0.1, locked by envman without R, installed by R from the verified tarballs in
dependency order, and probed back: the library must be exactly the lock."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from envman.ecosystems.r.resolver import install_order
from tests.probe_helpers import packages, probe

pytestmark = pytest.mark.r


PACKAGES = {
    # name: (version, DESCRIPTION extra fields, NAMESPACE, R code, archived)
    ("tinyBase", "1.0"): ({"Depends": "R (>= 3.5.0)"}, "export(base_value)", 'base_value <- function() "1.0"', True),
    ("tinyBase", "1.1"): ({"Depends": "R (>= 3.5.0)"}, "export(base_value)", 'base_value <- function() "1.1"', False),
    ("tinyHdr", "0.1"): ({}, "", "", False),
    ("tinyMid", "0.2"): ({"Imports": "tinyBase (>= 1.0), stats, utils"}, "importFrom(tinyBase, base_value)\nexport(mid_value)",
                         "mid_value <- function() paste('mid', base_value())", False),
    ("tinyTop", "2.0.1"): ({"Depends": "R (>= 4.0), tinyMid", "LinkingTo": "tinyHdr", "Suggests": "notThere"},
                           "export(top_value)", "top_value <- function() mid_value()", False),
    ("unrelated", "1.0"): ({"Imports": "tinyBase"}, "", "", False),
}


def _write_source(root: Path, name: str, version: str, extra: dict[str, str], namespace: str, code: str) -> Path:
    src = root / f"{name}-{version}" / name
    (src / "R").mkdir(parents=True)
    fields = {"Package": name, "Version": version, "Title": "Tiny Test Package", "Description": "A tiny package for envman tests.",
              "License": "MIT", "Authors@R": 'person("envman", "tests", email = "tests@example.org", role = c("aut", "cre"))', **extra}
    (src / "DESCRIPTION").write_text("".join(f"{k}: {v}\n" for k, v in fields.items()))
    (src / "NAMESPACE").write_text(namespace + "\n")
    (src / "R" / "code.R").write_text(code + "\n")
    if name == "tinyHdr":
        (src / "inst" / "include").mkdir(parents=True)
        (src / "inst" / "include" / "tinyHdr.h").write_text("#define TINY_HDR 1\n")
    return src


@pytest.fixture(scope="module")
def r_version(rscript) -> str:
    out = subprocess.run([rscript, "-e", 'cat(paste(R.version$major, R.version$minor, sep="."))'],
                         capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.fixture(scope="module")
def cran_repo(rscript, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("r-build")
    repo = root / "repo"
    contrib = repo / "src" / "contrib"
    contrib.mkdir(parents=True)
    r_bin = str(Path(rscript).with_name("R"))
    procs = []
    for (name, version), (extra, namespace, code, archived) in PACKAGES.items():
        src = _write_source(root / "src", name, version, extra, namespace, code)
        procs.append((name, version, archived, src.parent, subprocess.Popen(
            [r_bin, "CMD", "build", "--no-manual", "--no-build-vignettes", str(src)],
            cwd=src.parent, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)))
    for name, version, archived, where, proc in procs:
        out, _ = proc.communicate(timeout=120)
        assert proc.returncode == 0, out.decode()
        built = where / f"{name}_{version}.tar.gz"
        target = contrib / "Archive" / name if archived else contrib
        target.mkdir(parents=True, exist_ok=True)
        shutil.move(str(built), target / built.name)
    subprocess.run([rscript, "-e", f'tools::write_PACKAGES("{contrib}", type = "source")'], check=True, capture_output=True)
    assert "MD5sum:" in (contrib / "PACKAGES").read_text()
    return repo


def _lock_manifest(url: str, specs: list[str], version: str, project: Path, cache: Path):
    """Write envman.yaml, run `envman lock` on it, return the locked R entries."""
    import os
    import sys

    from envman.lockfile import read_lock

    project.mkdir(parents=True, exist_ok=True)
    packages = ", ".join(json.dumps(s) for s in specs)
    (project / "envman.yaml").write_text(
        f'version: 1\nname: tiny\nr:\n  version: "{version}"\n  repositories: {{local: "{url}"}}\n  packages: [{packages}]\n'
    )
    env = {**os.environ, "ENVMAN_CACHE_DIR": str(cache), "ENVMAN_HTTP_RETRIES": "0"}
    done = subprocess.run([sys.executable, "-m", "envman", "lock", "-f", str(project / "envman.yaml")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    return read_lock(project / "envman.lock").platform_lock("default", "linux-64").r


def test_lock_install_probe_roundtrip(cran_repo, rscript, r_version, serve, tmp_path, monkeypatch):
    from envman.cache import ArtifactCache

    server = serve(cran_repo)
    entries = _lock_manifest(server.url, ["tinyTop", "tinyBase (== 1.0)"], r_version, tmp_path / "project", tmp_path / "cache")
    cache = ArtifactCache(tmp_path / "cache")
    locked = {e.name: e.version for e in entries}
    assert locked == {"tinyTop": "2.0.1", "tinyMid": "0.2", "tinyBase": "1.0", "tinyHdr": "0.1"}
    assert {e.name: e.requires for e in entries}["tinyTop"] == ["tinyHdr", "tinyMid"]
    assert {e.name: e.url for e in entries}["tinyBase"].endswith("/src/contrib/Archive/tinyBase/tinyBase_1.0.tar.gz")

    # R itself agrees on the closure (Depends, Imports, LinkingTo; not Suggests) over the same index
    code = textwrap.dedent(f"""
        db <- available.packages(repos = "{server.url}", type = "source", filters = list())
        deps <- tools::package_dependencies("tinyTop", db = db, recursive = TRUE, which = c("Depends", "Imports", "LinkingTo"))
        cat(sort(c("tinyTop", deps[[1]])), sep = "\\n")
    """)
    out = subprocess.run([rscript, "-e", code], capture_output=True, text=True, check=True).stdout.split()
    base = {"stats", "utils", "methods", "graphics", "grDevices", "tools", "datasets", "base"}
    assert sorted(n for n in out if n not in base) == sorted(locked)

    # install the verified tarballs, dependencies first, with R's install.packages(repos = NULL)
    by_name = {e.name: e for e in entries}
    order = install_order(list(by_name), {e.name: e.requires for e in entries})
    assert order.index("tinyBase") < order.index("tinyMid") < order.index("tinyTop")
    files = []
    for name in order:
        path = cache.get_artifact(by_name[name].sha256)
        assert path is not None and hashlib.sha256(path.read_bytes()).hexdigest() == by_name[name].sha256
        named = tmp_path / "tarballs" / f"{name}_{by_name[name].version}.tar.gz"
        named.parent.mkdir(exist_ok=True)
        shutil.copyfile(path, named)
        files.append(str(named))
    library = tmp_path / "library"
    library.mkdir()
    install = f'install.packages(c({", ".join(json.dumps(f) for f in files)}), repos = NULL, type = "source", lib = "{library}")'
    done = subprocess.run([rscript, "-e", install], capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    check = subprocess.run([rscript, "-e", "library(tinyTop); cat(top_value())"], capture_output=True, text=True,
                           env={"R_LIBS": str(library), "PATH": "/usr/bin:/bin"})
    assert check.stdout == "mid 1.0", check.stderr

    # probing the library gives back exactly the lock
    probed = packages(f"rlib:{library}", "r")
    assert {p.name: p.version for p in probed} == locked
    assert all(p.ecosystem == "r" and Path(p.location) == library for p in probed)

    # and so does asking that R, whose own version is reported too
    monkeypatch.setenv("R_LIBS", str(library))
    snap = probe(f"rscript:{rscript}")
    assert snap.runtimes["r"] == r_version
    found = {p.name: p for p in snap.of("r") if "shadowed-by" not in p.extra}
    assert {n: found[n].version for n in locked} == locked
    assert found["stats"].extra["priority"] == "base"
    assert found["tinyTop"].location == str(library)


def test_probe_system_library_marks_priorities(rscript):
    system = Path("/usr/lib/R/library")
    probed = {p.name: p for p in packages(f"rlib:{system}", "r")}
    assert probed["base"].extra == {"priority": "base"} and probed["stats"].extra == {"priority": "base"}
    # recommended packages are separate Debian packages (r-cran-mass, …), present or not
    assert all(probed[n].extra == {"priority": "recommended"} for n in ("MASS", "Matrix", "lattice") if n in probed)
    names = {p.name for p in probe(f"rscript:{rscript}").of("r")}
    assert {"base", "stats", "utils"} <= names


def test_probe_rscript_errors(tmp_path):
    from envman.errors import UnreachableError

    with pytest.raises(UnreachableError):
        probe(f"rscript:{tmp_path / 'no-such-Rscript'}")
    with pytest.raises(UnreachableError):
        probe("rscript:false")
