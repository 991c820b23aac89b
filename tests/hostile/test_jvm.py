"""Hostile Maven repositories, locks and jar folders (issue 9): the real CLI, under memory and
CPU limits, answers with its documented exit code and one `envman: error:` line, and writes
nothing outside its place."""

from __future__ import annotations

import json
import os
import struct
import time
import zlib
from pathlib import Path

import pytest

from tests.drift.builders import make_jar, sha256_file
from tests.hostile.limited import run_limited
from tests.jvm.conftest import serve_directory
from tests.jvm.mavenrepo import FixtureRepo


@pytest.fixture()
def served():
    servers = []

    def start(directory: Path) -> str:
        server = serve_directory(directory)
        servers.append(server)
        return server.url

    yield start
    for server in servers:
        server.server.shutdown()
        server.server.server_close()


def _files(root: Path, skip: tuple[str, ...] = ("cache",)) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.relative_to(root).parts[0] not in skip}


def _one_error(done, code: int) -> str:
    assert done.returncode == code, (done.returncode, done.stdout[-2000:], done.stderr[-2000:])
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("envman: error:")]
    assert len(errors) == 1, done.stderr
    assert "\x1b" not in done.stderr and "\x00" not in done.stderr
    return errors[0]


def _lock_project(tmp_path: Path, served, repo: FixtureRepo, root: str = "g.app:app:1", env: dict | None = None, tamper=None):
    repo.finish()
    if tamper is not None:
        tamper()
    url = served(repo.root)
    project = tmp_path / "project"
    project.mkdir()
    (project / "envman.yaml").write_text(f"version: 1\njvm:\n  repositories: ['{url}']\n  dependencies: ['{root}']\n")
    before = _files(tmp_path)
    started = time.monotonic()
    done = run_limited("lock", "-f", "envman.yaml", cwd=project, env={"ENVMAN_CACHE_DIR": str(tmp_path / "cache"), **(env or {})})
    elapsed = time.monotonic() - started
    assert not (project / "envman.lock").exists()
    assert _files(tmp_path) == before  # (besides envman's own cache)
    return done, elapsed


# -- 1. coordinates from a repository ---------------------------------------------------------

BAD_DEPENDENCIES = {
    "artifact-traversal": {"g": "g.evil", "a": "../../../../PWN", "v": "1"},
    "artifact-slash": {"g": "g.evil", "a": "lib/PWN", "v": "1"},
    "artifact-tab": {"g": "g.evil", "a": "lib\tPWN", "v": "1"},
    "artifact-dots": {"g": "g.evil", "a": "..", "v": "1"},
    "group-dots": {"g": "..", "a": "evil", "v": "1"},
    "version-traversal": {"g": "g.evil", "a": "evil", "v": "../../1"},
    "classifier-traversal": {"g": "g.evil", "a": "evil", "v": "1", "classifier": "../../../PWN"},
    "type-traversal": {"g": "g.evil", "a": "evil", "v": "1", "type": "../../PWN"},
    "shell": {"g": "g.evil", "a": "$(touch PWN)", "v": "1"},
}


@pytest.mark.parametrize("case", sorted(BAD_DEPENDENCIES))
def test_invalid_transitive_coordinates_are_refused_when_read(tmp_path, served, case):
    repo = FixtureRepo(tmp_path / "repo")
    repo.add("g.app:app:1", deps=[BAD_DEPENDENCIES[case]])
    done, _ = _lock_project(tmp_path, served, repo)
    line = _one_error(done, 3)
    assert "invalid Maven" in line and "path: g.app:app:1 -> " in line, line


def test_invalid_coordinates_through_a_property_and_a_parent(tmp_path, served):
    repo = FixtureRepo(tmp_path / "repo")
    repo.add("g.app:app:1", deps=["g.mid:mid:1"])
    repo.add("g.mid:mid:1", deps=["g.evil:${evil}:1"], properties={"evil": "../../../../PWN"})
    done, _ = _lock_project(tmp_path, served, repo)
    line = _one_error(done, 3)
    assert "'g.evil:../../../../PWN:1'" in line or "g.evil:../../../../PWN:1" in line, line
    assert "g.app:app:1 -> g.mid:mid:1 -> " in line, line

    other = tmp_path / "other"
    other.mkdir()
    repo = FixtureRepo(other / "repo")
    repo.add("g.app:app:1", parent="g.evil:../../../../PWN:1")
    done, _ = _lock_project(other, served, repo)
    line = _one_error(done, 3)
    assert "invalid Maven artifactId" in line and "g.app:app:1" in line, line


def test_relocation_to_an_invalid_artifact_is_refused(tmp_path, served):
    repo = FixtureRepo(tmp_path / "repo")
    repo.add("g.app:app:1", deps=["g.old:old:1"])
    repo.add("g.old:old:1", relocation={"artifactId": "../../PWN"})
    done, _ = _lock_project(tmp_path, served, repo)
    line = _one_error(done, 3)
    assert "invalid Maven artifactId" in line and "g.app:app:1" in line, line


def _sync_project(tmp_path: Path) -> tuple[Path, Path, Path]:
    from envman.ecosystems.jvm.entry import JvmEntry
    from envman.lockfile import PlatformLock
    from tests.drift.conftest import write_project

    jar = make_jar(tmp_path / "m2", "com.example", "lib-a", "1.0")
    entry = JvmEntry(name="com.example:lib-a", version="1.0", sha256=sha256_file(jar), url=jar.as_uri())
    manifest = write_project(tmp_path / "project", "version: 1\njvm:\n  dependencies: ['com.example:lib-a:1.0']\n",
                             {"linux-64": PlatformLock(jvm=[entry])})
    folder = tmp_path / "a" / "b" / "jars"
    folder.mkdir(parents=True)
    return manifest, folder, jar


TAMPERED = {
    "traversal": ("name: com.example:lib-a", "name: com.example:../../PWN"),
    "slash": ("name: com.example:lib-a", "name: com.example:lib/PWN"),
    "nul": ("name: com.example:lib-a", 'name: "com.example:lib\\0a"'),
    "escape": ("name: com.example:lib-a", 'name: "com.example:lib\\ea"'),
    "classifier": ("name: com.example:lib-a", "name: com.example:lib-a:../../PWN"),
    "version": ("version: '1.0'", "version: ../../PWN"),
    "sha256": ("sha256: ", "sha256: ../../"),
}


@pytest.mark.parametrize("case", sorted(TAMPERED))
def test_sync_refuses_a_tampered_lock(tmp_path, case):
    manifest, folder, _ = _sync_project(tmp_path)
    lock = manifest.parent / "envman.lock"
    old, new = TAMPERED[case]
    text = lock.read_text()
    assert old in text, text
    lock.write_text(text.replace(old, new, 1))
    before = _files(tmp_path)
    done = run_limited("sync", "-f", str(manifest), f"jars:{folder}", cwd=tmp_path, env={"ENVMAN_CACHE_DIR": str(tmp_path / "cache")})
    line = _one_error(done, 2)
    assert "envman.lock" in line, line
    assert _files(tmp_path) == before
    assert not list(folder.iterdir())


def test_sync_writes_nothing_through_a_symlink_leading_out(tmp_path):
    manifest, folder, jar = _sync_project(tmp_path)
    victim = tmp_path / "outside" / "victim"
    victim.parent.mkdir()
    victim.write_bytes(b"precious")
    (folder / ".lib-a-1.0.jar.envman-tmp").symlink_to(victim)
    done = run_limited("sync", "-f", str(manifest), f"jars:{folder}", cwd=tmp_path, env={"ENVMAN_CACHE_DIR": str(tmp_path / "cache")})
    line = _one_error(done, 2)
    assert "symlink" in line, line
    assert victim.read_bytes() == b"precious"
    assert not (folder / "lib-a-1.0.jar").exists()
    # without the planted link, the same sync places the jar (valid input: unchanged behaviour)
    (folder / ".lib-a-1.0.jar.envman-tmp").unlink()
    done = run_limited("sync", "-f", str(manifest), f"jars:{folder}", cwd=tmp_path, env={"ENVMAN_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stdout + done.stderr
    assert sha256_file(folder / "lib-a-1.0.jar") == sha256_file(jar)
    assert sorted(p.name for p in folder.iterdir()) == ["lib-a-1.0.jar"]


# -- 2. property interpolation ------------------------------------------------------------------


def test_nested_property_references_do_not_expand_to_gigabytes(tmp_path, served):
    levels = 31  # 2**30 copies of "xx": 2 GiB when expanded without a bound (depth 31 < 32)
    properties = {"p0": "xx"} | {f"p{i}": f"${{p{i - 1}}}${{p{i - 1}}}" for i in range(1, levels)}
    repo = FixtureRepo(tmp_path / "repo")
    repo.add("g.app:app:1", deps=["g.bomb:bomb:1"])
    repo.add("g.bomb:bomb:1", deps=[{"g": "g.x", "a": "x", "v": f"${{p{levels - 1}}}"}], properties=properties)
    assert len(repo.pom_text("g.bomb:bomb:1", properties=properties)) < 3000
    done, elapsed = _lock_project(tmp_path, served, repo)
    line = _one_error(done, 3)
    assert "the POM of g.bomb:bomb:1" in line and "65,536 characters" in line, line
    assert elapsed < 30


def test_property_references_nest_at_most_32_levels(tmp_path, served):
    properties = {f"p{i}": f"${{p{i + 1}}}" for i in range(40)} | {"p40": "1"}
    repo = FixtureRepo(tmp_path / "repo")
    repo.add("g.app:app:1", deps=["g.deep:deep:1"])
    repo.add("g.deep:deep:1", deps=[{"g": "g.x", "a": "x", "v": "${p0}"}], properties=properties)
    done, _ = _lock_project(tmp_path, served, repo)
    line = _one_error(done, 3)
    assert "the POM of g.deep:deep:1" in line and "deeper than 32 levels" in line, line


def test_many_references_to_a_large_value_are_bounded_per_model(tmp_path, served):
    big = "x" * 60_000
    deps = [{"g": "g.x", "a": f"x{i}", "v": "1", "scope": "test", "classifier": "${big}"} for i in range(80)]
    repo = FixtureRepo(tmp_path / "repo")
    repo.add("g.app:app:1", deps=["g.wide:wide:1"])
    repo.add("g.wide:wide:1", deps=deps, properties={"big": big})
    done, _ = _lock_project(tmp_path, served, repo)
    line = _one_error(done, 3)
    assert "the POM of g.wide:wide:1" in line and "in all" in line, line


# -- 4. sizes of repository documents -------------------------------------------------------------


def test_pom_over_the_index_limit_is_refused(tmp_path, served):
    repo = FixtureRepo(tmp_path / "repo")
    repo.add("g.app:app:1", deps=["g.big:big:1"])
    repo.add("g.big:big:1", extra="<!--" + "x" * 20_000 + "-->")
    done, _ = _lock_project(tmp_path, served, repo, env={"ENVMAN_MAX_POM_BYTES": "10000"})
    line = _one_error(done, 3)
    assert "POM of g.big:big:1" in line and "ENVMAN_MAX_POM_BYTES" in line, line


def test_metadata_over_the_index_limit_is_refused(tmp_path, served):
    repo = FixtureRepo(tmp_path / "repo")
    repo.add("g.app:app:1", deps=[{"g": "g.r", "a": "r", "v": "[1,2)"}])
    repo.add("g.r:r:1")
    metadata = tmp_path / "repo" / "g" / "r" / "r" / "maven-metadata.xml"

    def grow() -> None:
        metadata.write_text(metadata.read_text().replace("<versions>", "<versions>" + "<version>0.1</version>" * 1000))

    done, _ = _lock_project(tmp_path, served, repo, env={"ENVMAN_MAX_POM_BYTES": "10000"}, tamper=grow)
    line = _one_error(done, 3)
    assert "maven-metadata.xml of g.r:r" in line and "ENVMAN_MAX_POM_BYTES" in line, line


def test_oversized_checksum_file_is_refused(tmp_path, served):
    repo = FixtureRepo(tmp_path / "repo", checksums="sha256")
    repo.add("g.app:app:1")
    checksum = repo.path("g.app", "app", "1", "jar").with_name("app-1.jar.sha256")
    checksum.write_text(checksum.read_text() + " " * 100_000)
    done, _ = _lock_project(tmp_path, served, repo)
    line = _one_error(done, 3)
    assert "checksum file" in line and "app-1.jar.sha256" in line, line


def test_valid_dependencies_still_lock(tmp_path, served):
    repo = FixtureRepo(tmp_path / "repo")
    repo.add("g.app:app:1", deps=["g.lib:lib-core_2.13:1.0.0-RC1+build.5", {"g": "g.lib", "a": "lib-core_2.13", "v": "1.0.0-RC1+build.5",
                                                                              "classifier": "tests", "type": "test-jar"}],
             properties={"v": "2"})
    repo.add("g.lib:lib-core_2.13:1.0.0-RC1+build.5", deps=["g.leaf:leaf:${v}"], properties={"v": "2"}, classifiers=("tests",))
    repo.add("g.leaf:leaf:2")
    repo.finish()
    url = served(repo.root)
    project = tmp_path / "project"
    project.mkdir()
    (project / "envman.yaml").write_text(f"version: 1\njvm:\n  repositories: ['{url}']\n  dependencies: ['g.app:app:1']\n")
    done = run_limited("lock", "-f", "envman.yaml", cwd=project, env={"ENVMAN_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode == 0, done.stderr
    text = (project / "envman.lock").read_text()
    assert "g.lib:lib-core_2.13:tests" in text and "g.leaf:leaf" in text


# -- 3. jars read by the probe --------------------------------------------------------------------


def _deflate_zeros(size: int) -> bytes:
    """A raw deflate stream of `size` zero bytes (a multiple of 16 MiB), built in well under a second."""
    block = bytes(16 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    again = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    return first + again * (size // len(block) - 1) + compressor.flush()


def _zip_with_member(path: Path, name: str, data: bytes, size: int, method: int = 8) -> None:
    """A one-member zip whose central directory states `size` (what the data inflates to)."""
    encoded = name.encode()
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, method, 0, 0, 0, len(data), size, len(encoded), 0) + encoded
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, method, 0, 0, 0, len(data), size,
                          len(encoded), 0, 0, 0, 0, 0, 0) + encoded
    offset = len(local) + len(data)
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central), offset, 0)
    path.write_bytes(local + data + central + end)


def _check_jars(tmp_path: Path, *folders: Path, deep: bool = False, fmt: str = "json"):
    from envman.lockfile import PlatformLock
    from tests.drift.conftest import write_project

    manifest = write_project(tmp_path / "project", "version: 1\njvm:\n  dependencies: []\n", {"linux-64": PlatformLock(jvm=[])})
    args = ["check", "-f", str(manifest), "--format", fmt, *(f"jars:{f}" for f in folders)] + (["--deep"] if deep else [])
    started = time.monotonic()
    done = run_limited(*args, cwd=tmp_path, env={"ENVMAN_CACHE_DIR": str(tmp_path / "cache")})
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stderr
    return (json.loads(done.stdout) if fmt == "json" else done.stdout), time.monotonic() - started


def _good_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "good"
    make_jar(folder, "com.example", "fine", "1.0")
    return folder


def test_a_huge_pom_properties_member_is_not_read(tmp_path):
    folder = tmp_path / "jars"
    folder.mkdir()
    _zip_with_member(folder / "evil-1.0.jar", "META-INF/maven/g/evil/pom.properties", _deflate_zeros(2 << 30), 2 << 30)
    assert (folder / "evil-1.0.jar").stat().st_size < 3 << 20
    # the same, lying: the central directory says 20 bytes, the data inflates to 2 GiB
    _zip_with_member(folder / "liar-1.0.jar", "META-INF/maven/g/liar/pom.properties", _deflate_zeros(2 << 30), 20)
    report, elapsed = _check_jars(tmp_path, folder, _good_folder(tmp_path))
    findings = {f["name"]: f for t in report["targets"] for f in t["findings"]}
    assert {"evil-1.0.jar", "liar-1.0.jar", "com.example:fine"} <= set(findings)  # both targets reported
    assert elapsed < 30
    rows = _probe_rows(folder)
    assert "over the limit of 1048576" in rows["evil-1.0.jar"]["problem"]
    assert "inflates to more than 1048576" in rows["liar-1.0.jar"]["problem"]
    assert all("sha256" in row and "name" not in row for row in rows.values())


def _limited_python(code: str, *args: str) -> str:
    """stdout of `python -c code args` under the hostile memory and CPU limits."""
    import subprocess
    import sys

    from tests.hostile import limited

    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, preexec_fn=limited._limit)
    assert done.returncode == 0, done.stderr
    return done.stdout


def _probe_rows(folder: Path) -> dict[str, dict]:
    """The probe's rows (the probe module is stdlib-only; it runs in targets too)."""
    code = ("import json, sys\nfrom envman.ecosystems.jvm.probe_target import jvm_section\n"
            "section = jvm_section({'dirs': [sys.argv[1]], 'max_bytes': 1048576}, False, [])\n"
            "print(json.dumps(section['packages']))\n")
    return {os.path.basename(row["file"]): row for row in json.loads(_limited_python(code, str(folder)))}


def _jar_problem(path: Path) -> str | None:
    code = "import sys\nfrom envman.ecosystems.jvm.probe_target import jar_coordinates\nprint(jar_coordinates(sys.argv[1])[1])\n"
    return _limited_python(code, str(path)).strip()


def test_a_fifo_named_jar_is_skipped_not_opened(tmp_path):
    folder = tmp_path / "jars"
    folder.mkdir()
    os.mkfifo(folder / "blocked-1.0.jar")
    make_jar(folder, "com.example", "other", "2.0")
    report, elapsed = _check_jars(tmp_path, folder, _good_folder(tmp_path), deep=True, fmt="table")
    assert elapsed < 60
    assert "blocked-1.0.jar: not a regular file" in " ".join(report.split()), report
    assert "com.example:other" in report and "com.example:fine" in report  # the other target too


def test_a_sparse_6_gib_jar_is_read_by_its_tail(tmp_path):
    import zipfile

    folder = tmp_path / "jars"
    folder.mkdir()
    path = folder / "sparse-1.0.jar"
    with open(path, "wb") as handle:
        handle.seek(6 << 30)  # a hole: nothing on disk; zip64 offsets past 4 GiB
        with zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("META-INF/maven/com.example/sparse/pom.properties", "groupId=com.example\nartifactId=sparse\nversion=1.0\n")
    assert path.stat().st_blocks * 512 < 1 << 20
    report, elapsed = _check_jars(tmp_path, folder)
    assert [(f["name"], f["actual"]) for t in report["targets"] for f in t["findings"]] == [("com.example:sparse", "1.0")]
    assert elapsed < 30


def test_a_central_directory_claiming_gigabytes_is_not_read_and_hashing_reads_in_chunks(tmp_path):
    folder = tmp_path / "jars"
    folder.mkdir()
    path = folder / "claims-1.0.jar"
    size = 9 << 28  # 2.25 GiB, over the child's 2 GiB address space: neither the directory nor the file fits
    with open(path, "wb") as handle:
        handle.seek(size - 22)
        handle.write(struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, size - 64, 16, 0))
    assert path.stat().st_blocks * 512 < 1 << 20
    assert "central directory" in _jar_problem(path)
    report, _ = _check_jars(tmp_path, folder, _good_folder(tmp_path))  # unnamed: hashed
    findings = {f["name"]: f for t in report["targets"] for f in t["findings"]}
    assert set(findings) == {"claims-1.0.jar", "com.example:fine"}  # the other target is reported too
