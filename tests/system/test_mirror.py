"""system.apt against Debian's real mirror, as the runtime test image's own sources reach it:
envman's lock beside a bare `apt-get install --simulate` in another container of the same
base (the same packages and versions), and every locked .deb downloaded on the host to
match the recorded size and sha256."""

from __future__ import annotations

import hashlib
import re
import subprocess
import urllib.request

import yaml

from tests.system.conftest import project, run_envman

SPECS = ["hello", "jq (>= 1.6)"]


def test_lock_agrees_with_apt_and_the_mirror(tmp_path, runtime_image):
    folder = project(tmp_path, runtime_image, SPECS)
    done = run_envman("lock", cwd=folder)
    assert done.returncode == 0, done.stderr
    lock = yaml.safe_load((folder / "envman.lock").read_text())
    entries = {e["name"]: e for e in lock["environments"]["default"]["linux-64"]["system"] if not e.get("base")}
    simulate = subprocess.run(
        ["docker", "run", "--rm", "--network", "host", runtime_image, "sh", "-c",
         "apt-get update -qq >/dev/null 2>&1; apt-get install -s -q --no-install-recommends hello jq"],
        capture_output=True, text=True, timeout=300,
    )
    assert simulate.returncode == 0, simulate.stdout + simulate.stderr
    apt = dict(re.findall(r"^Inst (\S+) \((\S+) ", simulate.stdout, flags=re.M))
    assert {name: e["version"] for name, e in entries.items()} == apt
    assert {"hello", "jq", "libjq1", "libonig5"} <= set(entries)
    for entry in entries.values():
        assert entry["url"] == "http://deb.debian.org/debian/" + entry["filename"]
        with urllib.request.urlopen(entry["url"], timeout=60) as response:
            data = response.read()
        assert len(data) == entry["size"] and hashlib.sha256(data).hexdigest() == entry["sha256"], entry["name"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", entry["release-date"])
    again = run_envman("lock", "--upgrade", cwd=folder)  # warm: the same answer, byte for byte
    assert again.returncode == 0, again.stderr
    assert yaml.safe_load((folder / "envman.lock").read_text()) == lock
