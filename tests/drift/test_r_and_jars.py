"""A real R library (packages built and installed with R CMD INSTALL) and a real jar folder, against a lock."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from envman.ecosystems.jvm.entry import JvmEntry
from envman.ecosystems.r.entry import REntry
from envman.lockfile import PlatformLock
from tests.drift.builders import make_jar, make_r_package, serve_directory, sha256_file
from tests.drift.conftest import run_envman, write_project


def _findings(proc) -> list[tuple]:
    data = json.loads(proc.stdout)
    return sorted((f["ecosystem"], f["name"], f["kind"], f["expected"], f["actual"]) for t in data["targets"] for f in t["findings"])


def _r_entry(tarball: Path, name: str, version: str, requires: list[str] | None = None, base_url: str | None = None) -> REntry:
    url = f"{base_url}/src/contrib/{tarball.name}" if base_url else tarball.as_uri()
    return REntry(name=name, version=version, sha256=sha256_file(tarball), repository="TEST", url=url, requires=requires or [])


@pytest.fixture()
def cran_like(tmp_path):
    """A CRAN-like repository folder (src/contrib) served over HTTP on 127.0.0.1."""
    root = tmp_path / "cran"
    (root / "src" / "contrib").mkdir(parents=True)
    with serve_directory(root) as url:
        yield root / "src" / "contrib", url


def test_r_library_check_and_sync(rscript, tmp_path, cran_like):
    repo, base_url = cran_like
    tar = {
        ("pkgA", "1.0"): make_r_package(repo, "pkgA", "1.0"),
        ("pkgB", "0.5-1"): make_r_package(repo, "pkgB", "0.5-1", imports=["pkgA"]),
        ("pkgB", "0.6"): make_r_package(repo, "pkgB", "0.6", imports=["pkgA"]),
        ("pkgC", "2.0"): make_r_package(repo, "pkgC", "2.0"),
        ("pkgD", "1.2.3"): make_r_package(repo, "pkgD", "1.2.3", imports=["pkgB"]),
    }
    plock = PlatformLock(r=[
        _r_entry(tar[("pkgA", "1.0")], "pkgA", "1.0", base_url=base_url),
        _r_entry(tar[("pkgB", "0.5-1")], "pkgB", "0.5.1", ["pkgA"], base_url=base_url),   # R: 0.5-1 == 0.5.1
        _r_entry(tar[("pkgD", "1.2.3")], "pkgD", "1.2.3", ["pkgB"], base_url=base_url),
    ])
    manifest = write_project(tmp_path / "project", "version: 1\nr:\n  version: '4.2'\n  packages: [pkgA, pkgB, pkgD]\n",
                             {"linux-64": plock})
    lib = tmp_path / "lib"
    lib.mkdir()
    env = dict(os.environ, R_LIBS=str(lib))
    subprocess.run(["R", "CMD", "INSTALL", "--no-test-load", "-l", str(lib),
                    str(tar[("pkgA", "1.0")]), str(tar[("pkgB", "0.6")]), str(tar[("pkgC", "2.0")])],
                   check=True, capture_output=True, env=env)

    check = ("check", "-f", str(manifest), "--format", "json", f"rlib:{lib}")
    proc = run_envman(*check)
    assert proc.returncode == 1, proc.stderr
    assert _findings(proc) == [
        ("r", "pkgB", "changed", "0.5.1", "0.6"),
        ("r", "pkgC", "extra", None, "2.0"),
        ("r", "pkgD", "missing", "1.2.3", None),
    ]
    # every library of that R: base and recommended packages are R's own, not drift
    proc = run_envman("check", "-f", str(manifest), "--format", "json", f"rscript:{rscript}", env={"R_LIBS": str(lib)})
    assert _findings(proc) == [
        ("r", "pkgB", "changed", "0.5.1", "0.6"),
        ("r", "pkgC", "extra", None, "2.0"),
        ("r", "pkgD", "missing", "1.2.3", None),
    ]

    synced = run_envman("sync", "-f", str(manifest), f"rlib:{lib}")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert run_envman(*check).returncode == 0
    assert run_envman("check", "-f", str(manifest), f"rscript:{rscript}", env={"R_LIBS": str(lib)}).returncode == 0
    # the runtime: manifest says R 4.2; an R 3.6 manifest is a runtime finding
    old = write_project(tmp_path / "old", "version: 1\nr:\n  version: '3.6'\n  packages: [pkgA]\n", {"linux-64": plock})
    proc = run_envman("check", "-f", str(old), "--format", "json", f"rscript:{rscript}", env={"R_LIBS": str(lib)})
    assert [f[2] for f in _findings(proc)] == ["runtime"]


def test_r_sync_refuses_a_tarball_with_the_wrong_hash(rscript, tmp_path):
    repo = tmp_path / "repo"
    good = make_r_package(repo, "pkgA", "1.0")
    entry = REntry(name="pkgA", version="1.0", sha256="0" * 64, repository="TEST", url=good.as_uri())
    manifest = write_project(tmp_path / "project", "version: 1\nr:\n  packages: [pkgA]\n", {"linux-64": PlatformLock(r=[entry])})
    lib = tmp_path / "lib"
    lib.mkdir()
    proc = run_envman("sync", "-f", str(manifest), f"rlib:{lib}")
    assert proc.returncode == 5 and "sha256 mismatch" in proc.stderr
    assert list(lib.iterdir()) == []


def test_jar_folder_check_deep_and_sync(tmp_path):
    source = tmp_path / "m2"
    a = make_jar(source, "com.example", "lib-a", "1.0")
    b20 = make_jar(source, "com.example", "lib-b", "2.0")
    b21 = make_jar(source, "com.example", "lib-b", "2.1")
    tests = make_jar(source, "com.example", "lib-a", "1.0", classifier="tests")
    nopom = make_jar(source / "nopom", "org.shaded", "nopom", "3.0", pom_properties=False)
    junk = make_jar(source / "junk", "org.junk", "junk", "0.1", pom_properties=False)

    def entry(path: Path, name: str, version: str) -> JvmEntry:
        return JvmEntry(name=name, version=version, sha256=sha256_file(path), url=path.as_uri())

    plock = PlatformLock(jvm=[
        entry(a, "com.example:lib-a", "1.0"),
        entry(b20, "com.example:lib-b", "2.0"),
        entry(tests, "com.example:lib-a:tests", "1.0"),
        entry(nopom, "org.shaded:nopom", "3.0"),   # no pom.properties: identified by sha256
    ])
    manifest = write_project(tmp_path / "project",
                             "version: 1\njvm:\n  dependencies: ['com.example:lib-a:1.0', 'com.example:lib-b:2.0']\n",
                             {"linux-64": plock})
    folder = tmp_path / "jars"
    (folder / "sub").mkdir(parents=True)
    for jar in (a, b21, tests):
        (folder / jar.name).write_bytes(jar.read_bytes())
    (folder / "sub" / nopom.name).write_bytes(nopom.read_bytes())
    (folder / junk.name).write_bytes(junk.read_bytes())

    check = ("check", "-f", str(manifest), "--format", "json", f"jars:{folder}")
    proc = run_envman(*check)
    assert proc.returncode == 1, proc.stderr
    assert _findings(proc) == [
        ("jvm", "com.example:lib-b", "changed", "2.0", "2.1"),
        ("jvm", junk.name, "extra", None, ""),
    ]
    with open(folder / a.name, "ab") as handle:   # tampered jar: same coordinates, other bytes
        handle.write(b"\0tampered")
    deep = run_envman(*check, "--deep")
    assert ("jvm", "com.example:lib-a", "modified", "1.0", "1.0") in _findings(deep)

    synced = run_envman("sync", "-f", str(manifest), f"jars:{folder}")
    assert synced.returncode == 0, synced.stdout + synced.stderr
    assert run_envman(*check, "--deep").returncode == 0
    assert not (folder / b21.name).exists() and (folder / b20.name).exists() and not (folder / junk.name).exists()
    assert sha256_file(folder / a.name) == sha256_file(a)


def test_java_runtime_of_the_local_target(tmp_path):
    """`local` covers jars under $ENVMAN_JARS and the java on PATH: jvm.java is its major version."""
    import shutil

    java = shutil.which("java")
    assert java, "java (default-jre-headless) is needed"
    jar = make_jar(tmp_path / "src", "com.example", "lib-a", "1.0")
    folder = tmp_path / "jars"
    folder.mkdir()
    (folder / jar.name).write_bytes(jar.read_bytes())
    version = subprocess.run([java, "-version"], capture_output=True, text=True).stderr
    major = version.split('"')[1].split(".")[0]
    plock = PlatformLock(jvm=[JvmEntry(name="com.example:lib-a", version="1.0", sha256=sha256_file(jar), url=jar.as_uri())])
    env = {"ENVMAN_JARS": str(folder), "PATH": os.path.dirname(java) + os.pathsep + "/usr/bin:/bin"}
    same = write_project(tmp_path / "same", f"version: 1\njvm:\n  java: '{major}'\n  dependencies: ['com.example:lib-a:1.0']\n",
                         {"linux-64": plock})
    other = write_project(tmp_path / "other", "version: 1\njvm:\n  java: '8'\n  dependencies: ['com.example:lib-a:1.0']\n",
                          {"linux-64": plock})
    ok = run_envman("check", "-f", str(same), "--format", "json", "local", env=env)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    bad = run_envman("check", "-f", str(other), "--format", "json", "local", env=env)
    assert [(f["kind"], f["name"], f["expected"]) for f in json.loads(bad.stdout)["targets"][0]["findings"]] == [("runtime", "java", "8")]
