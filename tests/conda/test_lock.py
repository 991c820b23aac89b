"""`envman lock` of a `conda:` section, through the CLI, against channels served on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

from tests.conda.channel import PackageSpec, build_channel, standard_packages
from tests.conda.conftest import run_envman
from tests.conda.helpers import pins, read_lock, write_manifest

TWO_PLATFORMS = "platforms: [linux-64, osx-arm64]\n"


def test_lock_for_two_platforms_from_linux(tmp_path: Path, channel_url: str, channel_dir: Path) -> None:
    project = write_manifest(tmp_path, f'version: 1\n{TWO_PLATFORMS}conda:\n  channels: ["{channel_url}"]\n  packages: [app, plugin]\n')
    done = run_envman("lock", cwd=project)
    assert done.returncode == 0, done.stderr
    # linux-64: app 2.0 needs core 2 -> libz 2, which plugin forbids: back to app 1.5
    assert pins(project, "default", "linux-64") == {"app": "1.5", "core": "1.1", "helper": "1.0", "libz": "1.2.13", "plugin": "1.0"}
    # osx-arm64: plugin accepts libz 2 there; app 3.0 is held back by helper's constrains
    assert pins(project, "default", "osx-arm64") == {"app": "2.0", "core": "2.1", "helper": "1.0", "libz": "2.1.0", "plugin": "1.0"}
    lock = read_lock(project)
    entries = {e["name"]: e for e in lock["environments"]["default"]["linux-64"]["conda"]}
    libz = entries["libz"]
    assert set(libz) >= {"name", "version", "build", "build-number", "subdir", "channel", "url", "sha256", "md5", "requires", "depends"}
    assert libz["subdir"] == "linux-64" and libz["channel"] == channel_url and libz["depends"] == ["__glibc >=2.17"]
    assert entries["app"]["subdir"] == "noarch" and entries["app"]["requires"] == ["core", "helper"]
    for entry in entries.values():  # every sha256 and md5 is the served file's
        data = (channel_dir / entry["subdir"] / entry["url"].rsplit("/", 1)[1]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest() and entry["md5"] == hashlib.md5(data).hexdigest()
        assert entry["url"].startswith(f"{channel_url}/{entry['subdir']}/")
    text = (project / "envman.lock").read_text()
    assert run_envman("lock", "--check", cwd=project).returncode == 0
    (project / "envman.lock").unlink()
    assert run_envman("lock", cwd=project).returncode == 0
    assert (project / "envman.lock").read_text() == text  # byte-identical from the same channel


def test_one_version_across_environments(tmp_path: Path, channel_url: str) -> None:
    """Alone, `app` would be 2.0 on linux-64; with design's plugin in the union, 1.5 everywhere."""
    project = write_manifest(tmp_path, f"""version: 1
{TWO_PLATFORMS}conda:
  channels: ["{channel_url}"]
  packages: [app]
environments:
  production: {{}}
  design:
    conda: {{packages: [plugin, tools]}}
""")
    done = run_envman("lock", cwd=project)
    assert done.returncode == 0, done.stderr
    production, design = pins(project, "production", "linux-64"), pins(project, "design", "linux-64")
    assert production == {"app": "1.5", "core": "1.1", "helper": "1.0", "libz": "1.2.13"}
    assert design == {**production, "plugin": "1.0", "tools": "1.2"}
    assert pins(project, "production", "osx-arm64")["app"] == "2.0"
    why = run_envman("why", "libz", "--env", "production", cwd=project)
    assert why.returncode == 0, why.stderr
    assert "app" in why.stdout and "core" in why.stdout


def test_old_pins_are_kept_and_upgrade_package_moves_one(tmp_path: Path, serve) -> None:
    channel = tmp_path / "channel"
    old = [PackageSpec("tools", "1.0"), PackageSpec("tools", "1.1"), PackageSpec("helper", "1.0"), PackageSpec("extra", "1.0")]
    url = serve(build_channel(channel, old))
    project = write_manifest(tmp_path / "p", f'version: 1\nconda:\n  channels: ["{url}"]\n  packages: [tools, helper]\n')
    assert run_envman("lock", cwd=project).returncode == 0
    assert pins(project, "default", "linux-64") == {"tools": "1.1", "helper": "1.0"}
    # the channel publishes newer versions; the manifest changes, so conda is solved again
    build_channel(channel, [*old, PackageSpec("tools", "1.2"), PackageSpec("helper", "1.1")])
    # The test server's Last-Modified has whole seconds: a rebuild within the second of the
    # first fetch would be answered 304 Not Modified, and the solver would rightly keep the
    # cached repodata. Date the new files later, as a real channel's next publication is.
    later = time.time() + 2
    for path in channel.rglob("*"):
        os.utime(path, (later, later))
    write_manifest(project, f'version: 1\nconda:\n  channels: ["{url}"]\n  packages: [tools, helper, extra]\n')
    done = run_envman("lock", cwd=project)
    assert done.returncode == 0, done.stderr
    assert pins(project, "default", "linux-64") == {"tools": "1.1", "helper": "1.0", "extra": "1.0"}
    done = run_envman("lock", "--upgrade-package", "tools", cwd=project)
    assert done.returncode == 0, done.stderr
    assert pins(project, "default", "linux-64") == {"tools": "1.2", "helper": "1.0", "extra": "1.0"}
    assert "tools" in done.stderr and "1.1 -> v1.2" in done.stderr
    assert run_envman("lock", "--upgrade", cwd=project).returncode == 0
    assert pins(project, "default", "linux-64") == {"tools": "1.2", "helper": "1.1", "extra": "1.0"}


def test_a_spec_that_forbids_the_old_pin_wins(tmp_path: Path, serve) -> None:
    url = serve(build_channel(tmp_path / "c", [PackageSpec("tools", "1.0"), PackageSpec("tools", "1.1")]))
    project = write_manifest(tmp_path / "p", f'version: 1\nconda:\n  channels: ["{url}"]\n  packages: [tools]\n')
    assert run_envman("lock", cwd=project).returncode == 0
    write_manifest(project, f'version: 1\nconda:\n  channels: ["{url}"]\n  packages: ["tools <1.1"]\n')
    assert run_envman("lock", cwd=project).returncode == 0
    assert pins(project, "default", "linux-64") == {"tools": "1.0"}


def test_cuda_only_when_the_manifest_declares_it(tmp_path: Path, channel_url: str) -> None:
    body = f'version: 1\n{TWO_PLATFORMS}conda:\n  channels: ["{channel_url}"]\n  packages: [gpu-kernels]\n'
    project = write_manifest(tmp_path / "cpu", body)
    assert run_envman("lock", cwd=project).returncode == 0
    builds = {p: read_lock(project)["environments"]["default"][p]["conda"][0]["build"] for p in ("linux-64", "osx-arm64")}
    assert builds == {"linux-64": "cpu_0", "osx-arm64": "cpu_0"}
    project = write_manifest(tmp_path / "gpu", body + '  virtual-packages: {cuda: "12.4"}\n')
    done = run_envman("lock", cwd=project)
    assert done.returncode == 0, done.stderr
    builds = {p: read_lock(project)["environments"]["default"][p]["conda"][0]["build"] for p in ("linux-64", "osx-arm64")}
    assert builds == {"linux-64": "cuda12_1", "osx-arm64": "cpu_0"}  # no __cuda on macOS


def test_strict_channel_priority_by_default(tmp_path: Path, serve) -> None:
    first = serve(build_channel(tmp_path / "first", [PackageSpec("tools", "1.0")]))
    second = serve(build_channel(tmp_path / "second", [PackageSpec("tools", "1.2"), PackageSpec("helper", "1.0")]))
    body = f'version: 1\nconda:\n  channels: ["{first}", "{second}"]\n  packages: [tools, helper]\n'
    project = write_manifest(tmp_path / "strict", body)
    assert run_envman("lock", cwd=project).returncode == 0
    entries = {e["name"]: e for e in read_lock(project)["environments"]["default"]["linux-64"]["conda"]}
    assert (entries["tools"]["version"], entries["tools"]["channel"]) == ("1.0", first)
    assert entries["helper"]["channel"] == second
    project = write_manifest(tmp_path / "disabled", body + "  channel-priority: disabled\n")
    assert run_envman("lock", cwd=project).returncode == 0
    entries = {e["name"]: e for e in read_lock(project)["environments"]["default"]["linux-64"]["conda"]}
    assert (entries["tools"]["version"], entries["tools"]["channel"]) == ("1.2", second)


def test_channel_names_go_through_the_channel_alias(tmp_path: Path, serve) -> None:
    build_channel(tmp_path / "served" / "team-channel", [PackageSpec("tools", "1.0")])
    url = serve(tmp_path / "served")
    body = f'version: 1\nconda:\n  channel-alias: "{url}/"\n  channels: [team-channel]\n  packages: [tools]\n'
    project = write_manifest(tmp_path / "p", body)
    done = run_envman("lock", cwd=project)
    assert done.returncode == 0, done.stderr
    entry = read_lock(project)["environments"]["default"]["linux-64"]["conda"][0]
    assert entry["channel"] == "team-channel" and entry["url"].startswith(f"{url}/team-channel/noarch/tools-1.0-")


def test_file_channels(tmp_path: Path) -> None:
    root = build_channel(tmp_path / "c", [PackageSpec("tools", "1.0")])
    project = write_manifest(tmp_path / "p", f'version: 1\nconda:\n  channels: ["{root.as_uri()}"]\n  packages: [tools]\n')
    done = run_envman("lock", cwd=project)
    assert done.returncode == 0, done.stderr
    assert read_lock(project)["environments"]["default"]["linux-64"]["conda"][0]["url"].startswith(root.as_uri())


def test_credentials_never_reach_the_lock_nor_the_cache(tmp_path: Path) -> None:
    """A channel that asks for HTTP Basic credentials: they are sent as a header, and neither
    the lock, an export, a message nor py-rattler's repodata cache holds them."""
    import base64
    import functools
    import http.server
    import threading

    root = build_channel(tmp_path / "c", [PackageSpec("tools", "1.0")])
    expected = "Basic " + base64.b64encode(b"deploy:s3cret-token").decode()

    class Guarded(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.headers.get("Authorization") != expected:
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            super().do_GET()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Guarded, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    cache = tmp_path / "cache"
    try:
        secret = url.replace("http://", "http://deploy:s3cret-token@")
        project = write_manifest(tmp_path / "p", f'version: 1\nconda:\n  channels: ["{secret}"]\n  packages: [tools]\n')
        done = run_envman("lock", cwd=project, env={"ENVMAN_CACHE_DIR": str(cache)})
        assert done.returncode == 0, done.stderr
        text = (project / "envman.lock").read_text()
        assert "s3cret" not in text and "deploy" not in text and url in text
        export = run_envman("export", "--format", "conda-lock", cwd=project)
        assert export.returncode == 0 and "s3cret" not in export.stdout
        cached = [p for p in cache.rglob("*") if p.is_file() and b"s3cret" in p.read_bytes()]
        assert cached == []
        # without the credentials the channel refuses: exit 4, and the message names it
        project = write_manifest(tmp_path / "q", f'version: 1\nconda:\n  channels: ["{url}/"]\n  packages: [tools]\n')
        done = run_envman("lock", cwd=project, env={"ENVMAN_CACHE_DIR": str(tmp_path / "cache2")})
        assert done.returncode == 4 and url in done.stderr, done.stderr
    finally:
        server.shutdown()
        server.server_close()


def test_a_channel_without_sha256_is_hashed_from_the_files(tmp_path: Path, serve) -> None:
    import json

    root = build_channel(tmp_path / "c", [PackageSpec("tools", "1.0")], formats=(".tar.bz2",))
    repodata = root / "noarch" / "repodata.json"
    document = json.loads(repodata.read_text())
    for record in document["packages"].values():
        del record["sha256"]
    repodata.write_text(json.dumps(document))
    url = serve(root)
    project = write_manifest(tmp_path / "p", f'version: 1\nconda:\n  channels: ["{url}"]\n  packages: [tools]\n')
    done = run_envman("lock", cwd=project)
    assert done.returncode == 0, done.stderr
    entry = read_lock(project)["environments"]["default"]["linux-64"]["conda"][0]
    data = (root / "noarch" / entry["url"].rsplit("/", 1)[1]).read_bytes()
    assert entry["sha256"] == hashlib.sha256(data).hexdigest()


def test_offline_lock_uses_the_cache(tmp_path: Path, serve) -> None:
    from tests.python.servers import serve_directory

    cache = {"ENVMAN_CACHE_DIR": str(tmp_path / "cache")}
    root = build_channel(tmp_path / "c", standard_packages())
    with serve_directory(root) as url:
        project = write_manifest(tmp_path / "p", f'version: 1\nconda:\n  channels: ["{url}"]\n  packages: [app, plugin]\n')
        assert run_envman("lock", cwd=project, env=cache).returncode == 0
    # the server is gone: the manifest changes, the lock is solved again from the cache
    write_manifest(project, f'version: 1\nconda:\n  channels: ["{url}"]\n  packages: [app, plugin, tools]\n')
    done = run_envman("lock", "--offline", cwd=project, env=cache)
    assert done.returncode == 0, done.stderr
    assert pins(project, "default", "linux-64")["tools"] == "1.2"
    # nothing cached for this project's platform: exit 4, naming the channel
    write_manifest(project, f'version: 1\nplatforms: [win-64]\nconda:\n  channels: ["{url}"]\n  packages: [tools]\n')
    done = run_envman("lock", "--offline", cwd=project, env=cache)
    assert done.returncode == 4, done.stderr
    assert url in done.stderr and "cache" in done.stderr and "Traceback" not in done.stderr


def test_every_platform_solves_from_this_host(tmp_path: Path, serve) -> None:
    """linux-aarch64, osx-64 and win-64 too (noarch packages; no subdir of theirs exists)."""
    url = serve(build_channel(tmp_path / "c", [PackageSpec("tools", "1.1")]))
    project = write_manifest(
        tmp_path / "p",
        f'version: 1\nplatforms: [linux-64, linux-aarch64, osx-64, osx-arm64, win-64]\n'
        f'conda:\n  channels: ["{url}"]\n  packages: [tools]\n',
    )
    done = run_envman("lock", cwd=project)
    assert done.returncode == 0, done.stderr
    platforms = read_lock(project)["environments"]["default"]
    assert sorted(platforms) == ["linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64"]
    assert {p["conda"][0]["version"] for p in platforms.values()} == {"1.1"}


def test_a_spec_can_name_one_of_the_channels(tmp_path: Path, serve) -> None:
    build_channel(tmp_path / "served" / "first", [PackageSpec("tools", "1.0")])
    build_channel(tmp_path / "served" / "second", [PackageSpec("tools", "2.0")])
    url = serve(tmp_path / "served")
    head = f'version: 1\nconda:\n  channel-alias: "{url}"\n  channels: [first, second]\n  channel-priority: disabled\n'
    project = write_manifest(tmp_path / "p", head + '  packages: ["first::tools"]\n')
    done = run_envman("lock", cwd=project)
    assert done.returncode == 0, done.stderr
    entry = read_lock(project)["environments"]["default"]["linux-64"]["conda"][0]
    assert (entry["version"], entry["channel"]) == ("1.0", "first")
    # the bracket form names it too, by name or by URL, and `channel-alias` applies
    for spec, version in (('tools[channel=second]', "2.0"), (f'tools[channel="{url}/first/", version=">=1"]', "1.0")):
        project = write_manifest(tmp_path / f"b{version}", head + f"  packages: ['{spec}']\n")
        done = run_envman("lock", cwd=project)
        assert done.returncode == 0, done.stderr
        assert read_lock(project)["environments"]["default"]["linux-64"]["conda"][0]["version"] == version
    # a channel the section does not list: exit 2 at its place, at validate already (and lock)
    for spec, where in (('"third::tools"', "6:14"), ("'tools[channel=third]'", "6:14")):
        project = write_manifest(tmp_path / "q", head + f"  packages: [{spec}]\n")
        for command in ("validate", "lock"):
            done = run_envman(command, cwd=project)
            assert done.returncode == 2 and f"envman.yaml:{where}:" in done.stderr, done.stderr
            assert "'third'" in done.stderr and "first, second" in done.stderr, done.stderr
    project = write_manifest(
        tmp_path / "o", head + "  packages: [tools]\nenvironments:\n  design:\n    conda: {packages: ['third::x']}\n"
    )
    done = run_envman("validate", cwd=project)
    assert done.returncode == 2 and "envman.yaml:9:24: environments.design.conda.packages.0:" in done.stderr, done.stderr
