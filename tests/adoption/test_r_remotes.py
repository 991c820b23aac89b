"""R packages from git remotes, locked to a commit and the sha256 of the tarball made from
it: a git repository served with git's smart HTTP (`git http-backend`) on 127.0.0.1, its
dependency from a CRAN-like repository; the tarball installs with the real R."""

from __future__ import annotations

import gzip
import hashlib
import os
import subprocess
from pathlib import Path

import yaml

from tests.adoption.conftest import git, run_envman
from tests.adoption.githttp import serve_git
from tests.drift.builders import make_r_package
from tests.python.servers import serve_directory

DESCRIPTION = "Package: ghpkg\nVersion: {version}\nTitle: A Test Package\nDescription: From git.\nLicense: MIT\nImports: R6\n"


def _remote(root: Path) -> tuple[Path, str, str]:
    work = root / "work"
    work.mkdir(parents=True)
    (work / "R").mkdir()
    (work / "R" / "hello.R").write_text("hello <- function() 'hi'\n")
    (work / "NAMESPACE").write_text("export(hello)\n")
    (work / "DESCRIPTION").write_text(DESCRIPTION.format(version="0.3.1"))
    git("init", "-q", "-b", "main", cwd=work)
    git("add", ".", cwd=work)
    git("commit", "-qm", "0.3.1", cwd=work)
    git("tag", "v0.3.1", cwd=work)
    tagged = git("rev-parse", "HEAD", cwd=work)
    (work / "DESCRIPTION").write_text(DESCRIPTION.format(version="0.3.2"))
    git("commit", "-qam", "0.3.2", cwd=work)
    head = git("rev-parse", "HEAD", cwd=work)
    served = root / "served"
    (served / "owner").mkdir(parents=True)
    git("clone", "-q", "--bare", str(work), str(served / "owner" / "ghpkg.git"), cwd=root)
    return served, tagged, head


def _tarball(bare: Path, commit: str) -> bytes:
    tar = subprocess.run(["git", "archive", "--format=tar", "--prefix=ghpkg/", commit], cwd=bare, capture_output=True, check=True).stdout
    return gzip.compress(tar, compresslevel=9, mtime=0)


def _relocks_identically(project: Path, after: float = 0.0) -> None:
    """Lock again from scratch (after `after` seconds): the lock must be byte-identical."""
    import time

    before = (project / "envman.lock").read_text()
    time.sleep(after)
    (project / "envman.lock").unlink()
    assert run_envman("lock", cwd=project).returncode == 0
    assert (project / "envman.lock").read_text() == before


def _sync_with_an_empty_cache(project: Path, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """Sync a new R library with an empty artifact cache; (the library, the env that says so)."""
    rlib = tmp_path / "rlib"
    rlib.mkdir()
    fresh = {"ENVMAN_CACHE_DIR": str(tmp_path / "fresh-cache")}
    done = run_envman("sync", f"rlib:{rlib}", cwd=project, env=fresh)
    assert done.returncode == 0, done.stdout + done.stderr
    return rlib, fresh


def test_git_and_github_remotes_are_locked_to_a_commit_and_tarball(tmp_path: Path, rscript: str) -> None:
    served, tagged, head = _remote(tmp_path / "git")
    r6 = make_r_package(tmp_path / "cran" / "src" / "contrib", "R6", "2.5.1")  # a real (tiny) R package
    (tmp_path / "cran" / "src" / "contrib" / "PACKAGES").write_text(
        f"Package: R6\nVersion: 2.5.1\nNeedsCompilation: no\nMD5sum: {hashlib.md5(r6.read_bytes()).hexdigest()}\n")
    with serve_git(served) as git_url, serve_directory(tmp_path / "cran") as cran:
        project = tmp_path / "project"
        project.mkdir()
        manifest = {"version": 1, "r": {
            "version": "4.2.2", "repositories": {"CRAN": cran}, "github-url": git_url,
            "packages": [f"ghpkg (git: {git_url}/owner/ghpkg.git@v0.3.1)"],
        }, "environments": {"production": {}, "design": {"r": {"packages": ["R6"]}}}}
        (project / "envman.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        done = run_envman("lock", cwd=project)
        assert done.returncode == 0, done.stderr
        lock = yaml.safe_load((project / "envman.lock").read_text())
        entries = {e["name"]: e for e in lock["environments"]["production"]["linux-64"]["r"]}
        ghpkg = entries["ghpkg"]
        assert ghpkg["version"] == "0.3.1" and ghpkg["commit"] == tagged and ghpkg["repository"] == "git"
        assert ghpkg["url"] == f"git+{git_url}/owner/ghpkg.git@{tagged}"
        data = _tarball(served / "owner" / "ghpkg.git", tagged)
        assert ghpkg["sha256"] == hashlib.sha256(data).hexdigest()
        assert ghpkg["requires"] == ["R6"] and entries["R6"]["repository"] == "CRAN"
        # the same commit always gives the same tarball: a fresh lock is byte-identical
        _relocks_identically(project)

        # sync into an R library on a machine whose cache lacks the tarball: made again from
        # the locked commit, checked against the locked sha256, installed with R CMD INSTALL
        rlib, fresh = _sync_with_an_empty_cache(project, tmp_path)
        assert "Version: 0.3.1" in (rlib / "ghpkg" / "DESCRIPTION").read_text()
        assert run_envman("check", f"rlib:{rlib}", cwd=project, env=fresh).returncode == 0

        # the GitHub form (owner/repo, no ref: HEAD), under r.github-url
        manifest["r"]["packages"] = ["ghpkg (github: owner/ghpkg)"]
        (project / "envman.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        done = run_envman("lock", cwd=project)
        assert done.returncode == 0, done.stderr
        lock = yaml.safe_load((project / "envman.lock").read_text())
        ghpkg = {e["name"]: e for e in lock["environments"]["design"]["linux-64"]["r"]}["ghpkg"]
        assert (ghpkg["repository"], ghpkg["commit"], ghpkg["version"]) == ("github", head, "0.3.2")

        # a ref the remote does not have: exit 3 naming it
        manifest["r"]["packages"] = [f"ghpkg (git: {git_url}/owner/ghpkg.git@v9)"]
        (project / "envman.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        done = run_envman("lock", cwd=project)
        assert done.returncode == 3 and "no branch, tag or commit 'v9'" in done.stderr, done.stderr

    # the locked tarball is a real R source package: R installs it (beside a real R6 stand-in)
    lib = tmp_path / "lib"
    lib.mkdir()
    (tmp_path / "ghpkg_0.3.1.tar.gz").write_bytes(data)
    r_cmd = str(Path(rscript).parent / "R")
    for tarball in (make_r_package(tmp_path / "r6", "R6", "2.5.1"), tmp_path / "ghpkg_0.3.1.tar.gz"):
        installed = subprocess.run([r_cmd, "CMD", "INSTALL", "--no-docs", "-l", str(lib), str(tarball)],
                                   capture_output=True, text=True, check=False, env={**os.environ, "R_LIBS": str(lib)})
        assert installed.returncode == 0, installed.stdout + installed.stderr
    assert "Version: 0.3.1" in (lib / "ghpkg" / "DESCRIPTION").read_text()


def test_malformed_remote_specs_are_bad_input(tmp_path: Path) -> None:
    for spec in ["ghpkg (github: not-a-repo)", "ghpkg (git: ftp://x/y.git)", "ghpkg (git: http://h/x.git@bad ref)"]:
        (tmp_path / "envman.yaml").write_text(yaml.safe_dump({"version": 1, "r": {"packages": [spec]}}))
        done = run_envman("validate", cwd=tmp_path)
        assert done.returncode == 2 and "envman.yaml:" in done.stderr, (spec, done.stderr)


def test_an_image_installs_an_r_git_remote_from_its_locked_commit(tmp_path: Path, runtime_image: str, docker_client) -> None:
    """The image layer takes the remote's tarball the way sync does: made again from the
    locked commit when the cache lacks it (a fresh cache here), checked against the locked
    sha256, installed in dependency order; `check image:` finds the image in sync."""
    import json

    served, _, _ = _remote(tmp_path / "git")
    r6 = make_r_package(tmp_path / "cran" / "src" / "contrib", "R6", "2.5.1")
    (tmp_path / "cran" / "src" / "contrib" / "PACKAGES").write_text(
        f"Package: R6\nVersion: 2.5.1\nNeedsCompilation: no\nMD5sum: {hashlib.md5(r6.read_bytes()).hexdigest()}\n")
    tag = "envman-e2e/r-remote:1"
    with serve_git(served) as git_url, serve_directory(tmp_path / "cran") as cran:
        project = tmp_path / "project"
        project.mkdir()
        manifest = {"version": 1, "name": "r-remote-image", "r": {
            "version": "4.2.2", "repositories": {"CRAN": cran},
            "packages": [f"ghpkg (git: {git_url}/owner/ghpkg.git@v0.3.1)"],
        }, "image": {"base": runtime_image}}
        (project / "envman.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        assert run_envman("lock", cwd=project).returncode == 0
        fresh = {"ENVMAN_CACHE_DIR": str(tmp_path / "fresh-cache")}
        done = run_envman("build", "--tag", tag, cwd=project, env=fresh, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
    try:
        ran = subprocess.run(["docker", "run", "--rm", "--network", "none", tag, "Rscript", "-e",
                              "library(ghpkg); cat(hello(), as.character(packageVersion('ghpkg')), '\\n')"],
                             capture_output=True, text=True, timeout=300)
        assert ran.returncode == 0, ran.stderr
        assert ran.stdout.split() == ["hi", "0.3.1"], ran.stdout
        check = run_envman("check", f"image:{tag}", "--format", "json", cwd=project, timeout=600)
        assert check.returncode == 0, check.stdout + check.stderr
        assert json.loads(check.stdout)["in_sync"] is True
    finally:
        try:
            docker_client.images.remove(tag, force=True)
        except Exception:
            pass


def test_a_remote_in_a_repository_folder_is_that_folders_tree(tmp_path: Path, rscript: str) -> None:
    """remotes' `owner/repo/subdir` (renv's RemoteSubdir): the package is the folder's tree at
    the locked commit, the URL says `#subdirectory=`, sync remakes the same tarball from it."""
    import json

    work = tmp_path / "mono"
    (work / "pkgs" / "ghpkg" / "R").mkdir(parents=True)
    (work / "README").write_text("a repository holding an R package in pkgs/ghpkg\n")
    (work / "pkgs" / "ghpkg" / "R" / "hello.R").write_text("hello <- function() 'hi from a folder'\n")
    (work / "pkgs" / "ghpkg" / "NAMESPACE").write_text("export(hello)\n")
    (work / "pkgs" / "ghpkg" / "DESCRIPTION").write_text(DESCRIPTION.format(version="1.0.0").replace("Imports: R6\n", ""))
    git("init", "-q", "-b", "main", cwd=work)
    git("add", ".", cwd=work)
    git("commit", "-qm", "one", cwd=work)
    commit = git("rev-parse", "HEAD", cwd=work)
    served = tmp_path / "served"
    (served / "owner").mkdir(parents=True)
    git("clone", "-q", "--bare", str(work), str(served / "owner" / "mono.git"), cwd=tmp_path)
    (tmp_path / "cran" / "src" / "contrib").mkdir(parents=True)
    (tmp_path / "cran" / "src" / "contrib" / "PACKAGES").write_text("")
    with serve_git(served) as git_url, serve_directory(tmp_path / "cran") as cran:
        project = tmp_path / "project"
        project.mkdir()
        manifest = {"version": 1, "r": {"version": "4.2.2", "github-url": git_url, "repositories": {"CRAN": cran},
                                         "packages": ["ghpkg (github: owner/mono/pkgs/ghpkg@main)"]}}
        (project / "envman.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        done = run_envman("lock", cwd=project)
        assert done.returncode == 0, done.stderr
        (entry,) = yaml.safe_load((project / "envman.lock").read_text())["environments"]["default"]["linux-64"]["r"]
        assert entry["url"] == f"git+{git_url}/owner/mono.git@{commit}#subdirectory=pkgs/ghpkg" and entry["commit"] == commit
        # the folder's tree, every entry dated with the commit (git dates a tree's archive "now")
        import io
        import tarfile

        from envman.cache import ArtifactCache

        made = ArtifactCache().get_artifact(entry["sha256"])
        assert made is not None
        tree = subprocess.run(["git", "archive", "--format=tar", "--prefix=ghpkg/", f"{commit}:pkgs/ghpkg"],
                              cwd=served / "owner" / "mono.git", capture_output=True, check=True).stdout
        when = int(git("show", "-s", "--format=%ct", commit, cwd=work))

        def members(data: bytes) -> dict[str, tuple[bytes, int]]:
            with tarfile.open(fileobj=io.BytesIO(data)) as archive:
                return {m.name: ((archive.extractfile(m) or io.BytesIO()).read() if m.isfile() else b"", m.mtime) for m in archive}

        ours, theirs = members(made.read_bytes()), members(tree)
        assert {n: c for n, (c, _) in ours.items()} == {n: c for n, (c, _) in theirs.items()}
        assert {t for _, t in ours.values()} == {when}
        # the same commit gives the same bytes a second later (a fresh lock is byte-identical)
        _relocks_identically(project, after=1.1)
        rlib, fresh = _sync_with_an_empty_cache(project, tmp_path)
        assert not (rlib / "ghpkg" / "README").exists() and (rlib / "ghpkg" / "DESCRIPTION").is_file()
        check = run_envman("check", f"rlib:{rlib}", "--format", "json", cwd=project, env=fresh)
        assert check.returncode == 0 and json.loads(check.stdout)["in_sync"] is True, check.stdout + check.stderr
        # a folder the commit does not have: exit 3 naming it
        manifest["r"]["packages"] = ["ghpkg (github: owner/mono/pkgs/nothere@main)"]
        (project / "envman.yaml").write_text(yaml.safe_dump(manifest, sort_keys=False))
        done = run_envman("lock", cwd=project)
        assert done.returncode == 3 and "no DESCRIPTION in pkgs/nothere/" in done.stderr, done.stderr
    # renv.lock's RemoteSubdir is carried over as that spec
    renv = {"R": {"Version": "4.2.2", "Repositories": [{"Name": "CRAN", "URL": "https://cloud.r-project.org"}]},
            "Packages": {"ghpkg": {"Package": "ghpkg", "Version": "1.0.0", "Source": "GitHub", "RemoteType": "github",
                                   "RemoteUsername": "owner", "RemoteRepo": "mono", "RemoteSubdir": "pkgs/ghpkg",
                                   "RemoteSha": commit}}}
    imported = tmp_path / "imported"
    imported.mkdir()
    (imported / "renv.lock").write_text(json.dumps(renv))
    done = run_envman("init", "--from", "renv.lock", cwd=imported)
    assert done.returncode == 0, done.stderr
    r = yaml.safe_load((imported / "envman.yaml").read_text())["r"]
    assert r["packages"] == [f"ghpkg (github: owner/mono/pkgs/ghpkg@{commit})"]
    for bad in ["ghpkg (github: owner/mono/../x)", "ghpkg (github: owner/mono/./x)"]:
        (imported / "envman.yaml").write_text(yaml.safe_dump({"version": 1, "r": {"packages": [bad]}}))
        done = run_envman("validate", cwd=imported)
        assert done.returncode == 2 and "envman.yaml:" in done.stderr, (bad, done.stderr)
