"""The OCI image layout writer: same image, same bytes; a valid layout for skopeo, which
copies it into the engine under the image ID the rewrite computed."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from envman.build.layers import LayerGroup, RewrittenImage, rewrite_image
from envman.build.oci import (
    MEDIA_TYPE_CONFIG,
    MEDIA_TYPE_INDEX,
    MEDIA_TYPE_LAYER,
    MEDIA_TYPE_MANIFEST,
    REF_NAME_ANNOTATION,
    write_oci_layout,
)
from tests.build.test_layers import BASE, EPOCH, Chunks, D, E, layer, rewrite

ANNOTATIONS = {"org.opencontainers.image.created": "2024-01-02T03:04:05Z", "org.envman.lock": "sha256:0123"}


@pytest.fixture
def image(tmp_path: Path) -> RewrittenImage:
    return rewrite(tmp_path, [BASE, layer(D("opt"), E("opt/a", b"a")), layer(E("opt/b", b"b"))], [("one", 1), ("two", 1), ("empty", 0)])


def tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_image_gives_the_same_bytes(image: RewrittenImage, tmp_path: Path) -> None:
    first = write_oci_layout(image, tmp_path / "one", "envman/churn:1", ANNOTATIONS)
    second = write_oci_layout(image, tmp_path / "two", "envman/churn:1", ANNOTATIONS)
    assert first == second
    assert tree(tmp_path / "one") == tree(tmp_path / "two")
    before = tree(tmp_path / "one")
    assert write_oci_layout(image, tmp_path / "one", "envman/churn:1", ANNOTATIONS) == first  # replaces the layout in place
    assert tree(tmp_path / "one") == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary folders left


def test_layout_follows_the_image_spec(image: RewrittenImage, tmp_path: Path) -> None:
    out = tmp_path / "layout"
    digest = write_oci_layout(image, out, "envman/churn:1", ANNOTATIONS)
    assert json.loads((out / "oci-layout").read_bytes()) == {"imageLayoutVersion": "1.0.0"}
    for blob in (out / "blobs" / "sha256").iterdir():
        assert hashlib.sha256(blob.read_bytes()).hexdigest() == blob.name

    def blob(descriptor: dict[str, object]) -> bytes:
        data = (out / "blobs" / "sha256" / str(descriptor["digest"]).removeprefix("sha256:")).read_bytes()
        assert len(data) == descriptor["size"]
        return data

    index = json.loads((out / "index.json").read_bytes())
    assert index["schemaVersion"] == 2 and index["mediaType"] == MEDIA_TYPE_INDEX
    [descriptor] = index["manifests"]
    assert descriptor["mediaType"] == MEDIA_TYPE_MANIFEST and descriptor["digest"] == digest
    assert descriptor["annotations"] == {**ANNOTATIONS, REF_NAME_ANNOTATION: "envman/churn:1"}
    assert descriptor["platform"] == {"architecture": "amd64", "os": "linux"}
    manifest = json.loads(blob(descriptor))
    assert manifest["schemaVersion"] == 2 and manifest["mediaType"] == MEDIA_TYPE_MANIFEST
    assert manifest["annotations"] == ANNOTATIONS
    assert manifest["config"]["mediaType"] == MEDIA_TYPE_CONFIG
    assert blob(manifest["config"]) == image.config
    assert [d["mediaType"] for d in manifest["layers"]] == [MEDIA_TYPE_LAYER] * 4
    assert [d["digest"] for d in manifest["layers"]] == list(image.diff_ids)
    assert [blob(d) for d in manifest["layers"]] == [p.read_bytes() for p in image.layers]


def test_an_empty_folder_is_used_and_other_folders_are_refused(image: RewrittenImage, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    write_oci_layout(image, empty, "x", {})
    assert (empty / "index.json").is_file()

    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "notes.txt").write_text("mine")
    with pytest.raises(ValueError, match="not an OCI image layout"):
        write_oci_layout(image, busy, "x", {})
    assert tree(busy) == {"notes.txt": b"mine"}

    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(ValueError, match="not a folder"):
        write_oci_layout(image, a_file, "x", {})


@pytest.mark.parametrize("ref", ["", "-x", "a b", "a//b", "x:", "../x"])
def test_bad_reference_names_are_refused(image: RewrittenImage, tmp_path: Path, ref: str) -> None:
    with pytest.raises(ValueError, match="not a valid OCI reference name"):
        write_oci_layout(image, tmp_path / "out", ref, {})
    assert not (tmp_path / "out").exists()


# ---------------------------------------------------------------------------------------
# skopeo and the engine, on the real base image squashed into one layer


@pytest.fixture(scope="session")
def skopeo() -> str:
    path = shutil.which("skopeo")
    if path is None:
        pytest.fail("skopeo not found on PATH (Debian package skopeo); run `bash tests/run.sh` once", pytrace=False)
    return path


@pytest.mark.timeout(600)
def test_skopeo_reads_the_layout_and_the_engine_gets_the_same_id(docker_client, base_image: str, skopeo: str, tmp_path: Path) -> None:
    saved = io.BufferedReader(Chunks(docker_client.api.get_image(base_image, chunk_size=1 << 20)))
    image = rewrite_image(
        saved, tmp_path / "work", base_layers=0, groups=[LayerGroup("rootfs", 1)], epoch=EPOCH, labels={"org.envman.test": "oci"}
    )
    layout = tmp_path / "layout"
    digest = write_oci_layout(image, layout, "envman/oci-test:1", ANNOTATIONS)

    inspected = subprocess.run([skopeo, "inspect", f"oci:{layout}:envman/oci-test:1"], capture_output=True, text=True, timeout=120)
    assert inspected.returncode == 0, inspected.stderr
    info = json.loads(inspected.stdout)
    assert info["Digest"] == digest
    assert info["Layers"] == list(image.diff_ids)
    assert info["Labels"]["org.envman.test"] == "oci"
    assert info["Created"] == "2024-01-02T03:04:05Z"

    tag = f"envman-oci-test-{uuid.uuid4().hex[:8]}:1"
    copied = subprocess.run(
        [skopeo, "copy", "--quiet", f"oci:{layout}:envman/oci-test:1", f"docker-daemon:{tag}"], capture_output=True, text=True, timeout=300
    )
    try:
        assert copied.returncode == 0, copied.stderr
        engine_image = docker_client.images.get(tag)
        assert engine_image.id == image.image_id
        output = docker_client.containers.run(tag, ["cat", "/etc/debian_version"], remove=True, network_mode="none")
        assert output.decode().strip().startswith("12")
    finally:
        import docker.errors

        try:
            docker_client.images.remove(tag, force=True)
        except docker.errors.NotFound:
            pass
