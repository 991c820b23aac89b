"""Rebuilds on the real engine: R installed in cached chunks (adding one root re-runs only
its leaf bucket), squashed layers reused from envman's cache give the same image as a
`--no-cache` build, only the layers the engine lacks are loaded, and an unchanged lock is
only tagged."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
from pathlib import Path

import pytest

from envman.ecosystems.r.chunks import plan_chunks
from tests.python.conftest import run_envman
from tests.python.servers import serve_directory

pytestmark = pytest.mark.timeout(900)
JAR = "org.apache.commons:commons-lang3:3.14.0"


def _tarball(name: str, version: str, imports: list[str], code: str | None = None) -> bytes:
    """An installable R source package whose NAMESPACE imports its dependencies (so a wrong
    install order fails)."""
    desc = {"Package": name, "Version": version, "Title": "Test", "Description": "Test package.",
            "Author": "envman tests", "Maintainer": "envman tests <tests@example.invalid>", "License": "MIT"}
    if imports:
        desc["Imports"] = ", ".join(imports)
    ident = re.sub(r"[^A-Za-z0-9_]", "_", name)
    files = {
        f"{name}/DESCRIPTION": "".join(f"{k}: {v}\n" for k, v in desc.items()),
        f"{name}/NAMESPACE": "\n".join([f"export({ident}_id)", *(f"import({d})" for d in imports)]) + "\n",
        f"{name}/R/{ident}.R": code if code is not None else f'{ident}_id <- function() "{name} {version}"\n',
    }
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as gz, tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size, info.mtime = len(data), 1700000000
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


# a chain (base <- mid.a, mid.b) and 16 leaves (nothing depends on them), plus the root added later
GRAPH = {"base0": [], "mid.a": ["base0"], "mid.b": ["base0"]}
GRAPH |= {f"leaf{i:02d}": (["mid.a"] if i % 2 else ["mid.b"]) for i in range(16)}
ADDED = "zadded"
GRAPH[ADDED] = ["base0"]
BROKEN = "broken"  # its R code does not parse: R CMD INSTALL fails


@pytest.fixture(scope="module")
def cran_url(tmp_path_factory):
    root = tmp_path_factory.mktemp("chunk-cran")
    contrib = root / "src" / "contrib"
    contrib.mkdir(parents=True)
    records = []
    for name, imports in {**GRAPH, BROKEN: ["base0"]}.items():
        data = _tarball(name, "1.0", imports, "broken_id <- function( {\n" if name == BROKEN else None)
        (contrib / f"{name}_1.0.tar.gz").write_bytes(data)
        record = f"Package: {name}\nVersion: 1.0\n" + (f"Imports: {', '.join(imports)}\n" if imports else "")
        records.append(record + f"MD5sum: {hashlib.md5(data).hexdigest()}\n")
    (contrib / "PACKAGES").write_text("\n".join(records))
    with serve_directory(root) as url:
        yield url


def _manifest(cran: str, repos: str, runtime: str, roots: list[str]) -> str:
    return (
        f'version: 1\nname: chunks\nr:\n  version: "4.2"\n  repositories: {{LOCAL: "{cran}"}}\n  packages: {json.dumps(roots)}\n'
        f'jvm:\n  java: "17"\n  repositories: ["{repos}/maven"]\n  dependencies: ["{JAR}"]\n'
        f"image:\n  base: {runtime}\n"
    )


def _build(project: Path, *args: str, cache: Path) -> tuple[dict, str]:
    done = run_envman("build", "--json", *args, cwd=project, env={"ENVMAN_CACHE_DIR": str(cache)})
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout), done.stderr


def _r_runs(summary_or_dockerfile: list[str]) -> list[str]:
    return [s for s in summary_or_dockerfile if "/tmp/envman/r/install.sh" in s and s.startswith("RUN")]


def test_adding_one_r_root_reruns_only_its_bucket_and_reused_layers_equal_a_no_cache_build(
    tmp_path, cran_url, repos_url, runtime_image, docker_client, worker_id
):
    roots = [n for n in GRAPH if n.startswith("leaf")]
    project = tmp_path / "p"
    project.mkdir()
    manifest = project / "envman.yaml"
    manifest.write_text(_manifest(cran_url, repos_url, runtime_image, roots))
    assert run_envman("lock", cwd=project).returncode == 0
    cache = tmp_path / "cache"
    tags = [f"envman-e2e/chunks-{worker_id}:{n}" for n in ("a", "b", "c")]
    try:
        first, _ = _build(project, "--tag", tags[0], "--no-cache", cache=cache)  # no steps of an earlier run
        # the chunks the R ecosystem planned: the chain (base0, then mid.a and mid.b), leaf buckets
        chunks = plan_chunks(list(GRAPH), GRAPH)
        leaves_before = {c.name: c.packages for c in plan_chunks([n for n in GRAPH if n != ADDED], GRAPH) if c.leaves}
        assert len(leaves_before) >= 2

        manifest.write_text(_manifest(cran_url, repos_url, runtime_image, [*roots, ADDED]))
        assert run_envman("lock", cwd=project).returncode == 0
        dockerfile = run_envman("render", "-o", str(tmp_path / "ctx"), cwd=project, env={"ENVMAN_CACHE_DIR": str(cache)})
        assert dockerfile.returncode == 0, dockerfile.stderr
        runs = _r_runs((tmp_path / "ctx" / "Dockerfile").read_text().splitlines())
        second, err = _build(project, "--tag", tags[1], cache=cache)
        changed = [c.name for c in chunks if c.leaves and c.packages != leaves_before.get(c.name)]
        assert len(changed) == 1 and any(ADDED in p for c in chunks if c.name == changed[0] for p in c.packages)
        rerun = [r for r in runs if r not in _r_runs(second["cached"])]
        assert rerun == [f'RUN ["/bin/sh", "/tmp/envman/r/install.sh", "{changed[0]}", "/tmp/envman/r-out"]'], rerun
        # the JVM layer's squash came from envman's cache; the engine got the new R layer only
        assert "reusing 1 squashed layer" in err, err[-2000:]
        assert re.search(r"loading the image into the engine \(1 of \d+ layers sent\)", err), err[-2000:]
        before = dict((layer["group"], layer["diff_id"]) for layer in first["layers"])
        after = dict((layer["group"], layer["diff_id"]) for layer in second["layers"])
        assert after["jvm"] == before["jvm"] and after["r"] != before["r"]

        # the same lock from nothing (no build cache, no squashed layers reused): the same image
        fresh, _ = _build(project, "--tag", tags[2], "--no-cache", cache=cache)
        assert fresh["image"] == second["image"]
        script = f'library({ADDED}); library(leaf03); cat({ADDED}_id(), nrow(installed.packages(lib.loc = "/opt/envman/r-library")))'
        listing = subprocess_out(["docker", "run", "--rm", "--network", "none", tags[2], "Rscript", "-e", script])
        assert listing.split() == [ADDED, "1.0", str(len(GRAPH))]

        # unchanged lock: nothing streamed out, squashed or loaded; only tagged
        again, err = _build(project, "--tag", tags[1], cache=cache)
        assert again["image"] == second["image"]
        assert "the image is unchanged" in err and "making the image reproducible" not in err
    finally:
        for tag in [*tags, "envman-build/chunks-default:raw"]:
            try:
                docker_client.images.remove(tag, force=True)
            except Exception:
                pass


def subprocess_out(argv: list[str]) -> str:
    import subprocess

    done = subprocess.run(argv, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_package_that_fails_to_install_is_exit_5_naming_it_with_its_log(tmp_path, cran_url, repos_url, runtime_image, docker_client):
    project = tmp_path / "p"
    project.mkdir()
    (project / "envman.yaml").write_text(_manifest(cran_url, repos_url, runtime_image, [BROKEN]))
    assert run_envman("lock", cwd=project).returncode == 0
    done = run_envman("build", "--tag", "envman-e2e/broken:1", cwd=project, env={"ENVMAN_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 5, done.stderr[-3000:]
    assert 'RUN ["/bin/sh", "/tmp/envman/r/install.sh", "leaves-00", "/tmp/envman/r-out"]' in done.stderr
    assert f"envman: R package {BROKEN} of leaves-00 failed to install; the last lines of its log:" in done.stderr
    assert "unexpected" in done.stderr  # R's parse error, from the package's own log
    assert "Traceback" not in done.stderr
    import docker.errors

    with pytest.raises(docker.errors.ImageNotFound):
        docker_client.images.get("envman-e2e/broken:1")
