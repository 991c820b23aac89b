"""The setup scripts: mirror discovery (pure) and fast, idempotent reruns."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import time
from pathlib import Path

import pytest

SETUP = Path(__file__).resolve().parents[1] / "setup"


def _load_apt_mirror():
    spec = importlib.util.spec_from_file_location("apt_mirror", SETUP / "apt_mirror.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


apt_mirror = _load_apt_mirror()


def test_mirror_from_deb822(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "debian.sources").write_text(
        "Types: deb\n# a comment\nURIs: http://mirror.example/debian/\nSuites: bookworm bookworm-updates\n"
        "Components: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
        "Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n"
    )
    assert apt_mirror.pick_mirror(apt_mirror.read_sources(tmp_path)) == "http://mirror.example/debian"


def test_mirror_from_one_line_format_skips_other_repos(tmp_path):
    (tmp_path / "sources.list").write_text(
        "# deb http://old.example/debian bookworm main\n"
        "deb-src http://src.example/debian bookworm main\n"
        "deb [arch=amd64 signed-by=/k.gpg] https://nodes.example/node nodistro main\n"
        "deb https://deb.example/debian bookworm main contrib\n"
    )
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "x.list.disabled").write_text("deb http://no.example/debian bookworm main\n")
    assert apt_mirror.pick_mirror(apt_mirror.read_sources(tmp_path)) == "https://deb.example/debian"


def test_mirror_disabled_stanza_and_other_release(tmp_path):
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "sources.list.d" / "a.sources").write_text(
        "Enabled: no\nTypes: deb\nURIs: http://off.example/debian\nSuites: bookworm\nComponents: main\n\n"
        "Types: deb deb-src\nURIs: http://on.example/debian\nSuites: trixie\nComponents: main\n"
    )
    assert apt_mirror.pick_mirror(apt_mirror.read_sources(tmp_path)) == "http://on.example/debian"


def test_mirror_default_when_nothing_usable(tmp_path):
    (tmp_path / "sources.list").write_text("deb cdrom:[Debian]/ bookworm main\n")
    assert apt_mirror.pick_mirror(apt_mirror.read_sources(tmp_path)) == apt_mirror.DEFAULT_MIRROR


@pytest.mark.docker
@pytest.mark.parametrize("script", ["apt.sh", "dockerd.sh", "base-image.sh"])
def test_setup_rerun_is_fast(script, docker_client, base_image):
    """After tests/run.sh, every setup step is a no-op that answers within seconds."""
    start = time.monotonic()
    done = subprocess.run(["bash", str(SETUP / script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < 10, done.stderr
    assert "installing" not in done.stderr and "debootstrap" not in done.stderr


def test_setup_scripts_pass_shellcheck():
    scripts = [str(p) for p in sorted(SETUP.glob("*.sh"))] + [str(SETUP.parent / "run.sh"), str(SETUP.parents[1] / ".ci" / "run")]
    done = subprocess.run(["shellcheck", "-x", *scripts], cwd=SETUP.parents[1], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr
