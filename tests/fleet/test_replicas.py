"""Replicas share one probe, and only where nothing the probe read differs (real containers
on the default engine; the engine's exec events tell which containers were probed)."""

from __future__ import annotations

import io
import json
import os
import tarfile
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

from envman.targets.overlay import Changes, Entry
from envman.targets.replicas import touched
from tests.drift.builders import make_jar
from tests.drift.conftest import run_envman
from tests.fleet.conftest import remove_quietly

SITE = "/opt/venv/lib/python3.11/site-packages"
REPLICAS = ("plain-a", "plain-b", "plain-c")
VARIANTS = ("pip-removed", "jar-changed", "jar-added", "volume", "pythonpath")


def _put(container: Any, folder: str, name: str, data: bytes) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo(name)
        info.size = len(data)
        archive.addfile(info, io.BytesIO(data))
    assert container.put_archive(folder, buffer.getvalue())


@pytest.fixture(scope="module")
def jar_project(fleet_project, fleet_wheels, tmp_path_factory) -> tuple[Path, Path]:
    """(the fleet's lock plus the jar lib 1.0, that jar): the check reads jar folders too."""
    from envman.ecosystems.jvm.entry import JvmEntry
    from envman.ecosystems.python.entry import PythonEntry
    from envman.lockfile import PlatformLock
    from tests.drift.builders import sha256_file
    from tests.drift.conftest import write_project
    from tests.fleet.conftest import LOCKED, _wheel

    jar = make_jar(tmp_path_factory.mktemp("replica-jars"), "org.example", "lib", "1.0")
    plock = PlatformLock(
        python_version="3.11",
        python=[PythonEntry(name=n, version=v, hashes=["sha256:" + sha256_file(_wheel(fleet_wheels, wn, wv))]) for n, v, wn, wv in LOCKED],
        jvm=[JvmEntry(name="org.example:lib", version="1.0", sha256=sha256_file(jar), url=jar.as_uri())],
    )
    manifest = fleet_project.read_text() + "jvm:\n  dependencies: ['org.example:lib:1.0']\n"
    return write_project(tmp_path_factory.mktemp("replica-project"), manifest, {"linux-64": plock}, environment="production"), jar


@pytest.fixture(scope="module")
def replicas(fleet, docker_client, jar_project, tmp_path_factory) -> Any:
    """Containers of one image with a jar folder: plain replicas and one of each variant."""
    client, base_tag = fleet["images"]["one"]
    context = tmp_path_factory.mktemp("replica-image")
    (context / "jars").mkdir()
    (context / "jars" / "lib-1.0.jar").write_bytes(jar_project[1].read_bytes())
    (context / "Dockerfile").write_text(f"FROM {base_tag}\nCOPY jars /opt/lib/\n")
    tag = f"envman-test-replicas:{uuid.uuid4().hex[:8]}"
    client.images.build(path=str(context), tag=tag, rm=True, forcerm=True, network_mode="none")
    empty = tmp_path_factory.mktemp("empty-site")
    token = uuid.uuid4().hex[:6]
    names = {}
    try:
        for role in REPLICAS + VARIANTS:
            extra: dict[str, Any] = {}
            if role == "volume":
                extra["volumes"] = {str(empty): {"bind": SITE, "mode": "ro"}}
            if role == "pythonpath":
                extra["environment"] = {"PYTHONPATH": "/wh"}
            name = f"envman-replica-{role}-{token}"
            client.containers.run(tag, entrypoint=["sleep", "infinity"], name=name, detach=True, network_mode="none", **extra)
            names[role] = name
        containers = {role: client.containers.get(name) for role, name in names.items()}
        done = containers["pip-removed"].exec_run(["/opt/venv/bin/pip", "uninstall", "-q", "-y", "gamma"])
        assert done.exit_code == 0, done.output
        other = make_jar(context / "other", "org.example", "lib", "1.1")
        _put(containers["jar-changed"], "/opt/lib", "lib-1.0.jar", other.read_bytes())  # same name, other contents
        _put(containers["jar-added"], "/opt/lib", "lib-1.1.jar", other.read_bytes())
        service = "mkdir -p /var/log/app && echo started > /var/log/app/log && touch /tmp/x"
        for container in containers.values():  # what a running service leaves: nothing the probe reads
            assert container.exec_run(["sh", "-c", service]).exit_code == 0
        yield names
    finally:
        remove_quietly(client, list(names.values()), tag)


def _probed(client: Any, since: float, until: float, names: dict[str, str]) -> set[str]:
    """The roles whose containers got an exec between since and until."""
    by_name = {name: role for role, name in names.items()}
    found = set()
    for event in client.api.events(since=since, until=until, filters={"type": "container"}, decode=True):
        if str(event.get("Action", "")).startswith("exec_create"):
            name = (event.get("Actor") or {}).get("Attributes", {}).get("name")
            if name in by_name:
                found.add(by_name[name])
    return found


def _check(project: Path, inventory: Path, *extra: str) -> tuple[dict[str, Any], float, float]:
    since = time.time()
    done = run_envman("check", "-f", str(project), "--inventory", str(inventory), "--jobs", "4", "--format", "json", *extra)
    until = time.time() + 1
    assert done.returncode in (0, 1), done.stderr
    rows = {row["target"]: row for row in json.loads(done.stdout)["targets"]}
    return rows, since, until


def test_replicas_share_a_probe_and_every_difference_is_probed(replicas, docker_client, jar_project, tmp_path):
    project = jar_project[0]
    inventory = tmp_path / "hosts.ini"
    inventory.write_text("[app]\n" + "".join(f"{name} ansible_connection=docker\n" for name in replicas.values()))
    shared, since, until = _check(project, inventory)
    probed = _probed(docker_client, since, until, replicas)
    # one plain replica was probed for the group; every variant was probed itself
    assert set(VARIANTS) <= probed, probed
    assert len(probed & set(REPLICAS)) == 1, probed
    each, since, until = _check(project, inventory, "--probe-each")
    assert _probed(docker_client, since, until, replicas) == set(replicas)
    # the same report either way (differential), and the variants' differences are in it
    assert shared == each
    rows = {role: shared[f"docker:{name}"] for role, name in replicas.items()}
    plain = rows["plain-a"]
    for role in REPLICAS:
        assert rows[role]["findings"] == plain["findings"] and rows[role].get("error") is None
    assert plain["in_sync"], plain["findings"]

    def names_of(row: dict[str, Any]) -> set[tuple[str, str]]:
        return {(f["name"], f["kind"]) for f in row["findings"]}

    assert ("gamma", "missing") in names_of(rows["pip-removed"]), rows["pip-removed"]
    assert {"alpha-pkg", "beta", "gamma"} <= {n for n, k in names_of(rows["volume"]) if k == "missing"}, rows["volume"]
    assert rows["pythonpath"]["findings"] == plain["findings"]
    assert ("org.example:lib", "extra") in names_of(rows["jar-added"]), rows["jar-added"]
    assert rows["jar-changed"]["findings"] and not rows["jar-changed"]["in_sync"], rows["jar-changed"]


def _entry(kind: str) -> Entry:
    import stat

    kinds = {"dir": stat.S_IFDIR, "file": stat.S_IFREG, "link": stat.S_IFLNK}
    return Entry(kinds[kind], 0o755, 0, 0)


class _Fixed(Changes):
    def __init__(self, upper: dict[str, Entry], lower: dict[str, Entry]) -> None:
        super().__init__(upper, [])
        self.image = lower

    def lower(self, path: str) -> Entry | None:
        return self.image.get(path)


READS = {"trees": ["/opt/venv/lib/python3.11/site-packages"], "lists": ["/opt"], "nodes": ["/opt/venv/bin/python", "/usr"],
         "untraceable": []}
IMAGE = {p: _entry("dir") for p in ("/opt", "/opt/venv", "/opt/venv/lib", "/opt/venv/lib/python3.11", SITE, "/usr", "/var", "/var/log")}
IMAGE["/opt/venv/bin/python"] = _entry("link")


@pytest.mark.parametrize(
    ("upper", "mounts", "reason"),
    [
        ({"/var": _entry("dir"), "/var/log": _entry("dir"), "/var/log/x": _entry("file")}, [], None),
        ({"/opt": _entry("dir"), "/opt/venv": _entry("dir"), "/opt/venv/lib": _entry("dir")}, [], None),  # copied up only
        ({"/opt": _entry("dir"), "/opt/new": _entry("dir")}, [], "/opt/new was added"),  # a name in a listed folder
        ({"/opt": _entry("dir"), "/opt/venv": _entry("link")}, [], "/opt/venv changed"),  # a folder became a symlink
        ({"/opt": _entry("dir"), "/opt/venv": _entry("dir")._replace(opaque=True)}, [], "/opt/venv changed"),
        ({"/opt": _entry("dir"), "/opt/venv": _entry("dir")._replace(mode=0o700)}, [], "/opt/venv changed"),
        ({SITE: _entry("dir"), f"{SITE}/x.pth": _entry("file")}, [], f"{SITE}/x.pth changed"),  # inside an import path
        ({"/usr": _entry("dir")._replace(uid=1)}, [], "/usr changed"),
        ({}, [SITE], f"{SITE} is mounted"),
        ({}, [f"{SITE}/sub"], f"{SITE}/sub is mounted inside"),
        ({}, ["/opt/venv"], "/opt/venv is mounted"),  # on the way to what was read
        ({}, ["/data", "/etc/hosts"], None),
    ],
)
def test_what_touches_what_the_probe_read(upper, mounts, reason):
    found = touched(_Fixed(upper, IMAGE), mounts, READS)
    if reason is None:
        assert found is None
    else:
        assert found is not None and found.startswith(reason), found


def test_an_interpreter_found_on_path_counts_every_path_entry():
    from envman.targets.replicas import launch_nodes

    attrs = {"Config": {"Env": ["PATH=/opt/venv/bin:/usr/bin"], "WorkingDir": "/app"}}
    assert launch_nodes(attrs, "python3") == ["/opt/venv/bin/python3", "/usr/bin/python3"]
    assert launch_nodes({"Config": {}}, "python3")[:2] == ["/usr/local/sbin/python3", "/usr/local/bin/python3"]
    assert launch_nodes(attrs, "/usr/bin/python3") == []
    reads = {**READS, "nodes": READS["nodes"] + launch_nodes(attrs, "python3")}
    upper = {"/opt": _entry("dir"), "/opt/venv": _entry("dir"), "/opt/venv/bin": _entry("dir"), "/opt/venv/bin/python3": _entry("file")}
    image = {**IMAGE, "/opt/venv/bin": _entry("dir")}
    assert (touched(_Fixed(upper, image), [], reads) or "").startswith("/opt/venv/bin/python3 changed")


def test_an_untraceable_probe_is_never_shared():
    assert "could not be traced" in (touched(_Fixed({}, IMAGE), [], {**READS, "untraceable": ["it started a program (Rscript)"]}) or "")


def test_the_probe_reports_what_it_read(tmp_path):
    """reads=1 on this machine: import paths as trees, listed folders, opened files and the
    symlinks on the way; a probe that starts a program is untraceable."""
    import subprocess
    import sys

    from envman.targets.probe_runner import encode_options, probe_source

    jars = tmp_path / "real-jars"
    jar = make_jar(jars / "sub", "org.example", "lib", "1.0")
    (tmp_path / "jars").symlink_to(jars)

    def reads(options: dict[str, Any]) -> dict[str, Any]:
        argv = [sys.executable, "-c", probe_source(), *encode_options({"reads": True, "python": {}, **options})]
        done = subprocess.run(argv, capture_output=True, check=True, cwd=tmp_path)
        return dict(json.loads(done.stdout.splitlines()[-1])["reads"])

    found = reads({"jvm": {"dirs": [str(tmp_path / "jars")]}})
    assert found["untraceable"] == []
    child = json.loads(subprocess.run([sys.executable, "-c", "import sys, json; print(json.dumps(sys.path[1:]))"],
                                      capture_output=True, check=True, cwd=tmp_path).stdout)
    for entry in filter(os.path.isabs, child):  # every import path is a tree, or inside one
        assert any(entry == tree or entry.startswith(tree.rstrip("/") + "/") for tree in found["trees"]), (entry, found["trees"])
    assert {str(tmp_path / "jars"), str(jars), str(jars / "sub")} <= set(found["lists"]), found["lists"]
    assert {str(tmp_path / "jars"), str(jar), str(tmp_path / "jars" / "sub" / jar.name)} <= set(found["nodes"]), found["nodes"]
    assert os.path.realpath(sys.executable) in found["nodes"]
    started = reads({"r": {"libs": [], "rscript": "/bin/true"}})
    assert any("started a program" in why or "subprocess" in why for why in started["untraceable"]), started
