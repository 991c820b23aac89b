"""R sources renv users have: Bioconductor (`r.bioconductor` shorthand, renv.lock's release)
and remotes, which are listed as not carried over instead of becoming CRAN pins.

The Bioconductor mirror and CRAN are CRAN-like repositories served over http on 127.0.0.1
(stub tarballs with real DESCRIPTION files, as tests/r builds them)."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from tests.adoption.conftest import run_envman
from tests.python.servers import serve_directory
from tests.r.debian_index import write_repository


def _repos(root: Path) -> None:
    write_repository(root / "cran", [
        {"Package": "R6", "Version": "2.5.1", "NeedsCompilation": "no"},
        {"Package": "BiocGenerics", "Version": "0.1.0", "NeedsCompilation": "no"},  # an old copy on CRAN
    ])
    write_repository(root / "bioc-mirror" / "packages" / "3.16" / "bioc", [
        {"Package": "BiocGenerics", "Version": "0.44.0", "NeedsCompilation": "no"},
        {"Package": "S4Vectors", "Version": "0.36.2", "Imports": "BiocGenerics (>= 0.37.0), R6", "NeedsCompilation": "yes"},
    ])
    for extra in ("data/annotation", "data/experiment", "workflows"):
        write_repository(root / "bioc-mirror" / "packages" / "3.16" / extra, [])


def test_bioconductor_shorthand_adds_the_release_ahead_of_cran(tmp_path: Path) -> None:
    _repos(tmp_path / "srv")
    with serve_directory(tmp_path / "srv") as url:
        manifest = {"version": 1, "r": {
            "version": "4.2.2", "repositories": {"CRAN": f"{url}/cran"},
            "bioconductor": "3.16", "bioconductor-mirror": f"{url}/bioc-mirror", "packages": ["S4Vectors"],
        }}
        (tmp_path / "envman.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        done = run_envman("lock", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        lock = yaml.safe_load((tmp_path / "envman.lock").read_text())
        entries = {e["name"]: e for e in lock["environments"]["default"]["linux-64"]["r"]}
        assert entries["S4Vectors"]["repository"] == "BioCsoft"
        assert entries["BiocGenerics"]["version"] == "0.44.0" and entries["BiocGenerics"]["repository"] == "BioCsoft"
        assert entries["R6"]["repository"] == "CRAN"
        exported = run_envman("export", "--format", "renv", cwd=tmp_path)
        assert exported.returncode == 0, exported.stderr
        names = [r["Name"] for r in json.loads(exported.stdout)["R"]["Repositories"]]
        assert names == ["BioCsoft", "BioCann", "BioCexp", "BioCworkflows", "CRAN"]


RENV_LOCK = {
    "R": {"Version": "4.2.2", "Repositories": [{"Name": "CRAN", "URL": "https://cloud.r-project.org"}]},
    "Bioconductor": {"Version": "3.16"},
    "Packages": {
        "R6": {"Package": "R6", "Version": "2.5.1", "Source": "Repository", "Repository": "CRAN"},
        "S4Vectors": {"Package": "S4Vectors", "Version": "0.36.2", "Source": "Bioconductor",
                      "git_url": "https://git.bioconductor.org/packages/S4Vectors", "git_branch": "RELEASE_3_16"},
        "mime": {"Package": "mime", "Version": "0.12.1", "Source": "GitHub", "RemoteType": "github",
                 "RemoteHost": "api.github.com", "RemoteUsername": "yihui", "RemoteRepo": "mime", "RemoteRef": "main",
                 "RemoteSha": "1763e0dcb72fb58d97bab97bb834fc71f1e012bc"},
        "mylocal": {"Package": "mylocal", "Version": "0.0.1", "Source": "Local", "RemoteType": "local", "RemoteUrl": "~/src/mylocal"},
    },
}


def test_renv_lock_with_bioconductor_and_remotes(tmp_path: Path) -> None:
    (tmp_path / "renv.lock").write_text(json.dumps(RENV_LOCK, indent=2))
    done = run_envman("init", "--from", "renv.lock", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    r = yaml.safe_load((tmp_path / "envman.yaml").read_text())["r"]
    assert r["bioconductor"] == "3.16"
    # the GitHub package stays a GitHub package, at its commit; the local one is not a CRAN pin
    assert r["packages"] == ["R6 (== 2.5.1)", "S4Vectors (== 0.36.2)", "mime (github: yihui/mime@1763e0dcb72fb58d97bab97bb834fc71f1e012bc)"]
    assert "Packages.mime 0.12.1 -> mime (github: yihui/mime@1763e0dcb72f" in done.stderr
    assert "not replaced by a CRAN version" in done.stderr
    assert "Packages.mylocal 0.0.1  (local remote" in done.stderr
    assert "Bioconductor 3.16 -> r.bioconductor" in done.stderr
    assert run_envman("init", "--force", "--strict", "--from", "renv.lock", cwd=tmp_path).returncode == 2


def test_description_remotes_become_remote_specs(tmp_path: Path) -> None:
    (tmp_path / "DESCRIPTION").write_text(
        "Package: mypkg\nVersion: 0.1\nDepends: R (>= 4.1)\nImports:\n    data.table (>= 1.14),\n    mime,\n    ghonly\n"
        "Remotes:\n    yihui/mime@v0.12,\n    git::https://git.example.org/r/ghonly.git,\n    bioc::release/S4Vectors\n"
    )
    done = run_envman("init", "--from", "DESCRIPTION", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    r = yaml.safe_load((tmp_path / "envman.yaml").read_text())["r"]
    assert r["packages"] == ["data.table (>= 1.14)", "mime (github: yihui/mime@v0.12)", "ghonly (git: https://git.example.org/r/ghonly.git)"]
    assert "Remotes: bioc::release/S4Vectors  (a remote envman cannot lock" in done.stderr
    assert run_envman("validate", cwd=tmp_path).returncode == 0
