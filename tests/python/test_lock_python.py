"""envman lock for the python section against a real local index (uv and pip-tools)."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.python.conftest import run_envman

BASIC = """\
version: 1
python:
  version: "3.11.7"
  index-url: INDEX
  packages: [zeta, "beta"]
"""


def load(path: Path) -> dict:
    return yaml.safe_load((path / "envman.lock").read_text())


def pins(lock: dict, env: str = "default", platform: str = "linux-64") -> dict[str, str]:
    return {e["name"]: e["version"] for e in lock["environments"][env][platform].get("python", [])}


def test_lock_pins_hashes_requires_source(project, simple_index):
    root = project(BASIC)
    done = run_envman("lock", cwd=root)
    assert done.returncode == 0, done.stderr
    lock = load(root)
    assert lock["version"] == 1
    entries = {e["name"]: e for e in lock["environments"]["default"]["linux-64"]["python"]}
    assert pins(lock) == {"alpha": "1.0", "beta": "1.0", "delta": "1.1", "gamma": "1.0", "zeta": "1.0"}
    assert entries["zeta"]["requires"] == ["delta", "gamma"]
    assert entries["gamma"]["requires"] == ["alpha"]
    assert entries["zeta"]["source"] == simple_index
    # the hash is the real wheel's sha256
    import urllib.request

    data = urllib.request.urlopen(simple_index.rsplit("/simple", 1)[0] + "/files/alpha-1.0-py3-none-any.whl").read()
    assert entries["alpha"]["hashes"] == ["sha256:" + hashlib.sha256(data).hexdigest()]
    assert set(lock["manifest-hash"]) >= {"all", "python"}


def test_relock_is_byte_identical_and_resolves_nothing(project, failing_index):
    root = project(BASIC)
    assert run_envman("lock", cwd=root).returncode == 0
    before = (root / "envman.lock").read_bytes()
    # point nothing at the network: an unchanged manifest must not resolve at all
    done = run_envman("lock", "--json", cwd=root)
    assert done.returncode == 0
    assert '"resolved": []' in done.stdout
    assert (root / "envman.lock").read_bytes() == before
    # deleting and re-locking gives the same bytes (deterministic)
    (root / "envman.lock").unlink()
    assert run_envman("lock", cwd=root).returncode == 0
    assert (root / "envman.lock").read_bytes() == before


def test_lock_check_parity_gate(project):
    root = project(BASIC)
    assert run_envman("lock", "--check", cwd=root).returncode == 1  # no lock yet
    assert run_envman("lock", cwd=root).returncode == 0
    assert run_envman("lock", "--check", cwd=root).returncode == 0
    text = (root / "envman.yaml").read_text().replace("packages: [zeta, \"beta\"]", "packages: [zeta, beta, delta]")
    (root / "envman.yaml").write_text(text)
    done = run_envman("lock", "--check", cwd=root)
    assert done.returncode == 1
    assert "python" in done.stderr and "default" in done.stderr
    slow = run_envman("lock", "--check", cwd=root, env={"ENVMAN_NO_FAST_PATH": "1"})
    assert slow.returncode == 1 and slow.stderr == done.stderr


def test_lock_check_fast_path_agrees_with_full_path(project):
    """A fresh lock is answered without the CLI stack, in a fresh checkout too (no cache)."""
    root = project(BASIC)
    assert run_envman("lock", cwd=root).returncode == 0
    fast = run_envman("lock", "--check", cwd=root, env={"ENVMAN_CACHE_DIR": str(root / "empty-cache")})
    full = run_envman("lock", "--check", cwd=root, env={"ENVMAN_NO_FAST_PATH": "1"})
    assert fast.returncode == full.returncode == 0
    assert fast.stderr == full.stderr
    # comments and formatting do not make a lock stale; a changed value does
    manifest = root / "envman.yaml"
    manifest.write_text("# a comment\n" + manifest.read_text().replace("packages: [zeta, \"beta\"]", "packages:\n    - zeta\n    - beta"))
    assert run_envman("lock", "--check", cwd=root).returncode == 0
    # a manifest made invalid is exit 2 with its location, never "fresh" or "stale"
    manifest.write_text(manifest.read_text().replace("packages:", "pakages:"))
    bad = run_envman("lock", "--check", cwd=root)
    assert bad.returncode == 2 and "envman.yaml:" in bad.stderr and "did you mean" in bad.stderr


def test_lock_check_refuses_hand_edited_lock(project):
    root = project(BASIC)
    assert run_envman("lock", cwd=root).returncode == 0
    lock_file = root / "envman.lock"
    text = lock_file.read_text().replace("version: '1.0'", "version: [1, 0]", 1)
    lock_file.write_text(text)
    done = run_envman("lock", "--check", cwd=root)
    assert done.returncode == 2, done.stderr
    assert "envman.lock:" in done.stderr and "Traceback" not in done.stderr


def test_environments_share_one_resolution(project):
    """production alone would take alpha 2.0; design adds beta (alpha<2): both get 1.0."""
    root = project("""\
version: 1
python:
  version: "3.11.7"
  index-url: INDEX
  packages: [alpha]
environments:
  production: {}
  design:
    python: {packages: [beta]}
""")
    done = run_envman("lock", cwd=root)
    assert done.returncode == 0, done.stderr
    lock = load(root)
    assert pins(lock, "production") == {"alpha": "1.0"}
    assert pins(lock, "design") == {"alpha": "1.0", "beta": "1.0"}
    # and the control: production alone (fresh project, no old pins) resolves differently
    alone = root / "alone"
    alone.mkdir()
    (alone / "envman.yaml").write_text((root / "envman.yaml").read_text().split("environments:")[0])
    assert run_envman("lock", cwd=alone).returncode == 0
    assert pins(load(alone)) == {"alpha": "2.0"}


def test_incremental_relock_keeps_pins_and_upgrade_moves_them(project):
    root = project(BASIC.replace("[zeta, \"beta\"]", "[\"alpha<2\", delta]"))
    assert run_envman("lock", cwd=root).returncode == 0
    assert pins(load(root))["alpha"] == "1.0"
    # loosen alpha and add gamma: a fresh resolution would pick alpha 2.0, the old pin stays
    (root / "envman.yaml").write_text((root / "envman.yaml").read_text().replace("[\"alpha<2\", delta]", "[alpha, delta, gamma]"))
    assert run_envman("lock", cwd=root).returncode == 0
    assert pins(load(root)) == {"alpha": "1.0", "delta": "1.1", "gamma": "1.0"}
    done = run_envman("lock", "--upgrade-package", "alpha", cwd=root)
    assert done.returncode == 0, done.stderr
    assert pins(load(root))["alpha"] == "2.0"


def test_upgrade_flag(project):
    root = project(BASIC.replace("[zeta, \"beta\"]", "[\"alpha<2\"]"))
    assert run_envman("lock", cwd=root).returncode == 0
    (root / "envman.yaml").write_text((root / "envman.yaml").read_text().replace("[\"alpha<2\"]", "[alpha]"))
    assert run_envman("lock", cwd=root).returncode == 0
    assert pins(load(root))["alpha"] == "1.0"
    assert run_envman("lock", "--upgrade", cwd=root).returncode == 0
    assert pins(load(root))["alpha"] == "2.0"


def test_unsatisfiable_exits_3_naming_conflict_and_keeps_lock(project):
    root = project(BASIC)
    assert run_envman("lock", cwd=root).returncode == 0
    before = (root / "envman.lock").read_bytes()
    (root / "envman.yaml").write_text((root / "envman.yaml").read_text().replace("[zeta, \"beta\"]", "[beta, eps]"))
    done = run_envman("lock", cwd=root)
    assert done.returncode == 3, done.stderr
    assert "alpha" in done.stderr and "beta" in done.stderr and "eps" in done.stderr
    assert "Traceback" not in done.stderr
    assert (root / "envman.lock").read_bytes() == before


def test_index_answering_500_exits_4_naming_index(tmp_path, failing_index):
    (tmp_path / "envman.yaml").write_text(f"version: 1\npython:\n  index-url: {failing_index}\n  packages: [alpha]\n")
    old_lock = "version: 1\nmanifest-hash: {all: 'sha256:old'}\nenvironments: {}\n"
    (tmp_path / "envman.lock").write_text(old_lock)
    done = run_envman("lock", cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    assert failing_index.split("/simple")[0] in done.stderr
    assert "Traceback" not in done.stderr
    assert (tmp_path / "envman.lock").read_text() == old_lock


def test_credentials_never_reach_lock_or_output(project, simple_index):
    secret_url = simple_index.replace("http://", "http://alice:s3cr3t-token@")
    root = project(BASIC.replace("INDEX", secret_url))
    done = run_envman("lock", cwd=root)
    assert done.returncode == 0, done.stderr
    lock_text = (root / "envman.lock").read_text()
    assert "s3cr3t" not in lock_text and "alice" not in lock_text
    exported = run_envman("export", "--format", "requirements", cwd=root)
    assert exported.returncode == 0 and "s3cr3t" not in exported.stdout


def test_credentials_redacted_in_errors(tmp_path, failing_index):
    url = failing_index.replace("http://", "http://bob:hunter2@")
    (tmp_path / "envman.yaml").write_text(f"version: 1\npython:\n  index-url: {url}\n  packages: [alpha]\n")
    done = run_envman("lock", cwd=tmp_path)
    assert done.returncode == 4
    assert "hunter2" not in done.stderr + done.stdout


def test_export_requirements_installs_with_require_hashes(project, simple_index, tmp_path_factory):
    root = project(BASIC)
    assert run_envman("lock", cwd=root).returncode == 0
    out = root / "requirements.txt"
    done = run_envman("export", "--format", "requirements", "-o", str(out), cwd=root)
    assert done.returncode == 0, done.stderr
    assert "--hash=sha256:" in out.read_text()
    venv = tmp_path_factory.mktemp("venv")
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    install = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(venv / "bin" / "python"), "install", "--no-cache-dir",
         "--require-hashes", "--no-deps", "-r", str(out)],
        capture_output=True, text=True,
        env={"PATH": "/usr/bin:/bin", "PIP_CONFIG_FILE": "/dev/null", "PIP_CERT": "/etc/ssl/certs/ca-certificates.crt"},
    )
    assert install.returncode == 0, install.stderr + install.stdout
    freeze = subprocess.run([str(venv / "bin" / "python"), "-c", "import zeta, alpha; print(alpha.__version__)"],
                            capture_output=True, text=True)
    assert freeze.stdout.strip() == "1.0"


def test_why_shows_chain(project):
    root = project(BASIC)
    assert run_envman("lock", cwd=root).returncode == 0
    done = run_envman("why", "alpha", cwd=root)
    assert done.returncode == 0, done.stderr
    assert "envman.yaml -> beta -> alpha" in done.stdout
    assert "envman.yaml -> zeta -> gamma -> alpha" in done.stdout
    assert run_envman("why", "nothere", cwd=root).returncode == 2


def test_pip_tools_resolver_gives_same_pins(project):
    root = project(BASIC)
    assert run_envman("lock", cwd=root).returncode == 0
    uv_pins = pins(load(root))
    (root / "envman.lock").unlink()
    (root / "envman.yaml").write_text((root / "envman.yaml").read_text().replace(
        'version: "3.11.7"', f'version: "{sys.version_info.major}.{sys.version_info.minor}"\n  resolver: pip-tools'))
    done = run_envman("lock", cwd=root)
    assert done.returncode == 0, done.stderr
    assert pins(load(root)) == uv_pins


def test_killing_lock_never_leaves_a_partial_lock(project):
    """SIGKILL envman lock at many points: the lock is always the old or the new one, whole."""
    import signal
    import time

    root = project(BASIC)
    assert run_envman("lock", cwd=root).returncode == 0
    old = (root / "envman.lock").read_text()
    (root / "envman.yaml").write_text((root / "envman.yaml").read_text().replace("[zeta, \"beta\"]", "[zeta]"))
    new = None
    for delay in (0.05, 0.15, 0.3, 0.5, 0.8, 1.2, 2.0):
        process = subprocess.Popen([sys.executable, "-m", "envman", "lock"], cwd=root, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait()
        text = (root / "envman.lock").read_text()
        if text != old:
            new = new or text
            assert text == new
            assert text.endswith("\n") and "zeta" in text
            (root / "envman.lock").write_text(old)
        # a kill can leave the temp file of an unfinished write (nothing can remove it), never
        # anything else: envman.lock itself is always whole (checked above)
        leftovers = [p.name for p in root.iterdir() if p.name.startswith(".envman.lock.")]
        assert all(name.endswith(".tmp") for name in leftovers), leftovers
    done = run_envman("lock", cwd=root)
    assert done.returncode == 0
    assert run_envman("lock", "--check", cwd=root).returncode == 0


@pytest.mark.network
def test_lock_against_real_pypi(tmp_path):
    (tmp_path / "envman.yaml").write_text('version: 1\npython:\n  version: "3.11.9"\n  packages: ["six==1.16.0", "idna>=3,<4"]\n')
    done = run_envman("lock", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    entries = {e["name"]: e for e in load(tmp_path)["environments"]["default"]["linux-64"]["python"]}
    assert entries["six"]["version"] == "1.16.0"
    assert entries["six"]["source"] == "https://pypi.org/simple"
    # six 1.16.0 publishes one wheel and one sdist: both hashes, nothing else
    assert len(entries["six"]["hashes"]) == 2


def test_index_down_exits_4(tmp_path):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    (tmp_path / "envman.yaml").write_text(f"version: 1\npython:\n  index-url: http://127.0.0.1:{port}/simple\n  packages: [alpha]\n")
    done = run_envman("lock", cwd=tmp_path)
    assert done.returncode == 4, done.stderr
    assert f"127.0.0.1:{port}" in done.stderr


def test_offline_lock_uses_only_the_cache(project, tmp_path_factory):
    cache = tmp_path_factory.mktemp("envman-cache")
    root = project(BASIC)
    assert run_envman("lock", cwd=root, env={"ENVMAN_CACHE_DIR": str(cache)}).returncode == 0
    (root / "envman.lock").unlink()
    done = run_envman("lock", "--offline", cwd=root, env={"ENVMAN_CACHE_DIR": str(cache)})
    assert done.returncode == 0, done.stderr
    assert pins(load(root))["zeta"] == "1.0"
    (root / "envman.lock").unlink()
    empty = tmp_path_factory.mktemp("empty-cache")
    done = run_envman("lock", "--offline", cwd=root, env={"ENVMAN_CACHE_DIR": str(empty)})
    assert done.returncode == 4, done.stderr
    assert "offline" in done.stderr
    assert not (root / "envman.lock").exists()


def test_cyclonedx_export(project):
    import json

    root = project(BASIC)
    assert run_envman("lock", cwd=root).returncode == 0
    done = run_envman("export", "--format", "cyclonedx", cwd=root)
    assert done.returncode == 0, done.stderr
    bom = json.loads(done.stdout)
    purls = {c["purl"] for c in bom["components"]}
    assert "pkg:pypi/alpha@1.0" in purls
    zeta = next(d for d in bom["dependencies"] if d["ref"] == "pkg:pypi/zeta@1.0")
    assert zeta["dependsOn"] == ["pkg:pypi/delta@1.1", "pkg:pypi/gamma@1.0"]


@pytest.mark.network
def test_hashes_are_narrowed_per_platform_on_real_pypi(tmp_path):
    """markupsafe 2.1.5 ships per-platform wheels: each platform keeps only its own + the sdist."""
    (tmp_path / "envman.yaml").write_text(
        'version: 1\nplatforms: [linux-64, osx-arm64]\npython:\n  version: "3.11.9"\n  packages: ["markupsafe==2.1.5"]\n'
    )
    done = run_envman("lock", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lock = load(tmp_path)
    linux = set(lock["environments"]["default"]["linux-64"]["python"][0]["hashes"])
    mac = set(lock["environments"]["default"]["osx-arm64"]["python"][0]["hashes"])
    sdist = "sha256:d283d37a890ba4c1ae73ffadf8046435c76e7bc2247bbb63c00bd1a709c6544b"
    assert sdist in linux and sdist in mac
    assert linux != mac
    assert 2 <= len(linux) <= 4 and 2 <= len(mac) <= 4  # of the ~50 files published
