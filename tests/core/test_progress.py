"""Progress on long work (issue 13): `-v` prints each step as a plain line with its time,
piped output without `-v` is exactly the result, and downloads report their bytes."""

from __future__ import annotations

import re

from envman.http import HttpClient
from tests.image.conftest import manifest_text
from tests.python.conftest import run_envman
from tests.python.servers import serve_directory

STEP = re.compile(r"^(checking|syncing): .+ \(\d+\.\d+s\)$")


def test_sync_and_check_show_each_step_with_v_and_nothing_extra_when_piped(tmp_path, repos_url, rscript):
    (tmp_path / "envman.yaml").write_text(manifest_text(repos_url))
    assert run_envman("lock", cwd=tmp_path).returncode == 0
    rlib = tmp_path / "rlib"
    jars = tmp_path / "jars"
    for target in (f"rlib:{rlib}", f"jars:{jars}"):
        done = run_envman("-v", "sync", target, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        steps = [line for line in done.stderr.splitlines() if line.startswith("syncing: ")]
        assert steps and all(STEP.match(line) for line in steps), done.stderr
        assert done.stderr.splitlines()[-1].startswith(f"Synced {target} in ")
    r_steps = run_envman("-v", "sync", "--dry-run", f"rlib:{tmp_path / 'other'}", cwd=tmp_path)
    assert r_steps.returncode == 1
    synced = run_envman("-v", "sync", f"rlib:{tmp_path / 'r2'}", cwd=tmp_path).stderr
    assert re.search(r"syncing: r: fetching R6 \S+ \(1/1\)", synced), synced
    assert "syncing: r: installing 1 package(s) with R CMD INSTALL" in synced

    checked = run_envman("-v", "check", f"rlib:{rlib}", f"jars:{jars}", "--rlib", str(rlib), cwd=tmp_path)
    lines = checked.stderr.splitlines()
    assert any(re.match(r"checking: probed rlib:\S+ \(1/2\)", line) for line in lines), checked.stderr
    assert any(re.match(r"checking: probed jars:\S+ \(2/2\)", line) for line in lines), checked.stderr
    assert lines[-1].startswith("Checked 2 target(s) in ")

    quiet = run_envman("check", f"jars:{jars}", cwd=tmp_path)  # piped, no -v: only the report
    assert quiet.returncode == 0, quiet.stdout + quiet.stderr
    assert quiet.stderr == ""


def test_a_large_download_reports_its_bytes_and_a_small_one_does_not(tmp_path):
    (tmp_path / "big.bin").write_bytes(b"x" * 3_000_000)
    (tmp_path / "small.bin").write_bytes(b"y" * 1000)
    heard: list[str] = []
    with serve_directory(tmp_path) as url:
        client = HttpClient(progress=heard.append)
        assert len(client.get(f"{url}/big.bin", max_bytes=10_000_000)) == 3_000_000
        assert heard, "no progress for a 3 MB download"
        assert heard[-1] == "downloading big.bin 3.0/3.0 MB"  # the last chunk is always reported
        assert all(re.fullmatch(r"downloading big\.bin \d+\.\d/3\.0 MB", m) for m in heard)
        heard.clear()
        assert client.get(f"{url}/small.bin") == b"y" * 1000
        assert heard == []
