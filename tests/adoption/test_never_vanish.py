"""A requirement never vanishes: every requirement of the manifest is in the lock (by name,
in every environment and platform that asks for it), or `lock` fails naming it.

End to end with the real resolvers (uv over PyPI and 127.0.0.1, git, R and Maven over the
example's real repositories), for every kind of requirement each ecosystem accepts; the core
check itself (locking.check_nothing_vanished) against a resolver that drops one."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest
import yaml

from envman import ecosystems
from envman.ecosystems.base import ResolveRequest
from envman.errors import ResolutionError
from envman.locking import check_nothing_vanished
from tests.adoption.conftest import Sources, run_envman
from tests.python.servers import serve_directory

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _lock(project: Path) -> dict:
    return yaml.safe_load((project / "envman.lock").read_text())


def _entries(lock: dict, env: str, eco: str, platform: str = "linux-64") -> dict[str, dict]:
    return {e["name"]: e for e in lock["environments"][env][platform].get(eco, [])}


def test_the_issue_example_keeps_the_vcs_requirement(tmp_path: Path, sources: Sources) -> None:
    (tmp_path / "envman.yaml").write_text(
        f'version: 1\npython:\n  version: "3.11"\n  packages: ["six==1.16.0", "gitpkg @ git+{sources.git_url}"]\n'
    )
    done = run_envman("lock", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    entries = _entries(_lock(tmp_path), "default", "python")
    assert entries["six"]["version"] == "1.16.0"
    assert entries["gitpkg"]["commit"] == sources.head_commit
    assert entries["gitpkg"]["url"] == f"git+{sources.git_url}@{sources.head_commit}"
    assert entries["gitpkg"]["version"] == "1.0"


def test_every_kind_of_python_requirement_is_locked(sources: Sources) -> None:
    project = sources.root / "every-kind"
    project.mkdir(exist_ok=True)
    kinds = [
        "six==1.16.0",  # pinned, from the index
        "packaging>=23",  # a range
        "iniconfig ; sys_platform == 'linux'",  # a marker that holds on linux-64
        "pywin32 ; sys_platform == 'win32'",  # a marker that does not: rightly absent
        f"urlpkg @ {sources.wheel_url}",  # an archive URL (http on 127.0.0.1)
        "pathwheel @ file:../dist/pathwheel-3.0-py3-none-any.whl",  # a wheel by relative path
        "pathsdist @ file:../dist/pathsdist-4.0.tar.gz",  # an sdist by relative path
        "localpkg @ file:../localpkg",  # a local project folder
    ]
    manifest = {
        "version": 1,
        "python": {"version": "3.11", "packages": kinds},
        "environments": {"production": {}, "design": {"python": {"packages": [f"gitpkg @ git+{sources.git_url}@v1"]}}},
    }
    (project / "envman.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    done = run_envman("lock", cwd=project)
    assert done.returncode == 0, done.stderr
    lock = _lock(project)
    for env in ("production", "design"):
        entries = _entries(lock, env, "python")
        for name in ("six", "packaging", "iniconfig", "urlpkg", "pathwheel", "pathsdist", "localpkg"):
            assert name in entries, (env, name, sorted(entries))
        assert "pywin32" not in entries
        assert entries["urlpkg"]["url"] == sources.wheel_url and entries["urlpkg"]["version"] == "2.0"
        assert entries["urlpkg"]["hashes"] and entries["urlpkg"]["hashes"][0].startswith("sha256:")
        assert entries["pathwheel"]["url"] == "file:../dist/pathwheel-3.0-py3-none-any.whl"  # relative, as written
        assert entries["pathwheel"]["version"] == "3.0" and len(entries["pathwheel"]["hashes"]) == 1
        assert entries["pathsdist"]["version"] == "4.0" and len(entries["pathsdist"]["hashes"]) == 1
        assert entries["localpkg"]["url"] == "file:../localpkg" and entries["localpkg"]["version"] == "5.0"
    design = _entries(lock, "design", "python")
    assert design["gitpkg"]["commit"] == sources.v1_commit  # the tag, locked to its full commit
    assert "gitpkg" not in _entries(lock, "production", "python")  # only the environment that asks
    # the lock is stable: locking again changes nothing, and `lock --check` holds
    before = (project / "envman.lock").read_text()
    assert run_envman("lock", "--check", cwd=project).returncode == 0
    assert run_envman("lock", "--upgrade", cwd=project).returncode == 0
    assert (project / "envman.lock").read_text() == before


def test_a_requirement_the_resolver_drops_fails_the_lock(tmp_path: Path) -> None:
    """pip-compile leaves setuptools out of its output (an "unsafe" package): envman refuses
    the lock and names it, instead of writing a lock without it."""
    host = f"{sys.version_info.major}.{sys.version_info.minor}"  # pip-tools resolves for the running interpreter
    (tmp_path / "envman.yaml").write_text(
        f'version: 1\npython:\n  version: "{host}"\n  resolver: pip-tools\n  packages: ["six==1.16.0", "setuptools==69.5.1"]\n'
    )
    done = run_envman("lock", cwd=tmp_path)
    assert done.returncode == 3, done.stderr
    assert "setuptools (in default@linux-64)" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "envman.lock").exists()


def test_r_and_jvm_requirements_of_every_kind(tmp_path: Path) -> None:
    """R: a name, a name with a version bound, one added by an environment; JVM: a
    coordinate, a dependency with a scope, a classifier-less coordinate in an environment."""
    repos = tmp_path / "repos"
    shutil.copytree(EXAMPLES / "multi-language" / "repos", repos)
    with serve_directory(repos) as url:
        manifest = {
            "version": 1,
            "r": {"version": "4.2.2", "repositories": {"LOCAL": f"{url}/cran"}, "packages": ["desc (>= 1.4)", "R6"]},
            "jvm": {
                "java": "17",
                "repositories": [f"{url}/maven"],
                "dependencies": [
                    "com.fasterxml.jackson.core:jackson-databind:2.17.2",
                    {"artifact": "org.apache.commons:commons-text:1.12.0", "scope": "runtime"},
                ],
            },
            "environments": {"production": {}, "design": {"r": {"packages": ["withr"]}}},
        }
        (tmp_path / "envman.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        done = run_envman("lock", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lock = _lock(tmp_path)
    for env in ("production", "design"):
        assert {"desc", "R6"} <= set(_entries(lock, env, "r"))
        assert {"com.fasterxml.jackson.core:jackson-databind", "org.apache.commons:commons-text"} <= set(_entries(lock, env, "jvm"))
    assert "withr" in _entries(lock, "design", "r")


def test_conda_requirements_of_every_kind(tmp_path: Path, channel_url: str) -> None:
    """conda: a bare name, a version range, a channel-qualified spec, an exact version=build
    pin, one added by an environment; on two platforms (py-rattler solves each)."""
    manifest = {
        "version": 1, "platforms": ["linux-64", "osx-arm64"],
        "conda": {"channels": [channel_url], "packages": ["app", "core >=1,<3", f"{channel_url}::helper", "tools=1.1"]},
        "environments": {"production": {}, "design": {"conda": {"packages": ["plugin"]}}},
    }
    (tmp_path / "envman.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
    done = run_envman("lock", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lock = _lock(tmp_path)
    for platform in ("linux-64", "osx-arm64"):
        for env in ("production", "design"):
            assert {"app", "core", "helper", "tools"} <= set(_entries(lock, env, "conda", platform))
        assert "plugin" in _entries(lock, "design", "conda", platform)
        assert "plugin" not in _entries(lock, "production", "conda", platform)


@pytest.mark.parametrize(
    ("ecosystem", "requirements", "platform", "wanted"),
    [
        ("python", ["Six==1.16", "Requests[socks]>=2", "a.b_c", "pywin32; sys_platform=='win32'", "uvloop; sys_platform!='win32'",
                    "old; python_version<'3.8'", "x @ git+https://h/x@v1", "y @ file:./y", "z @ https://h/z-1.whl ; os_name=='posix'"],
         "linux-64", {"six", "requests", "a-b-c", "uvloop", "x", "y", "z"}),
        ("python", ["pywin32; sys_platform=='win32'", "uvloop; sys_platform!='win32'", "m; platform_machine=='arm64'"],
         "win-64", {"pywin32"}),
        ("python", ["m; platform_machine=='arm64'", "d; sys_platform=='darwin'"], "osx-arm64", {"m", "d"}),
        ("r", ["data.table", "ggplot2 (>= 3.4)", "Rcpp (== 1.0.12)"], "linux-64", {"data.table", "ggplot2", "Rcpp"}),
        ("conda", ["numpy", "conda-forge::gdal>=3.8", "python=3.11", "zlib 1.2.13 h166bdaf_4"], "linux-64",
         {"numpy", "gdal", "python", "zlib"}),
    ],
)
def test_required_names_of_every_kind(ecosystem: str, requirements: list[str], platform: str, wanted: set[str]) -> None:
    eco = ecosystems.get(ecosystem)
    section = eco.section_model().model_validate({"version": "3.11"} if ecosystem == "python" else {})
    assert eco.required_names(requirements, platform, section) == wanted


def test_required_names_of_jvm_dependencies() -> None:
    eco = ecosystems.get("jvm")
    section = eco.section_model().model_validate({
        "dependencies": ["g:a:1.0", "g:b:1.0:linux-x86_64", "g:c:[1.0,2.0)@zip", {"artifact": "g:d:2", "scope": "runtime"}]
    })
    assert eco.required_names(section.dependencies, "linux-64", section) == {"g:a", "g:b:linux-x86_64", "g:c", "g:d"}


def test_the_core_check_names_what_a_resolver_left_out() -> None:
    eco = ecosystems.get("r")
    request = ResolveRequest(section=None, environments={"production": ["desc", "R6"], "design": ["desc", "R6", "withr"]},
                             platforms=["linux-64"])
    entry = eco.entry_model()
    desc = entry(name="desc", version="1.4.2", sha256="0" * 64, repository="x", url="http://x")
    r6 = entry(name="R6", version="2.5.1", sha256="0" * 64, repository="x", url="http://x")
    complete = {"production": {"linux-64": [desc, r6]}, "design": {"linux-64": [desc, r6, desc.model_copy(update={"name": "withr"})]}}
    check_nothing_vanished(eco, request, complete)
    dropped = {"production": {"linux-64": [desc, r6]}, "design": {"linux-64": [desc, r6]}}
    with pytest.raises(ResolutionError, match=r"withr \(in design@linux-64\)"):
        check_nothing_vanished(eco, request, dropped)
