"""The system stage's own build context: which files its COPY lines read (pure), and the tar
holding only those."""

from __future__ import annotations

import tarfile
from pathlib import Path

from envman.build.stagecontext import stage_context, stage_sources

DOCKERFILE = """\
# comment
FROM base@sha256:0123 AS envman-system
# envman-layer: system
COPY system/ /tmp/envman-system/
RUN ["/bin/sh", "/tmp/envman-system/install.sh"]

FROM envman-system AS envman-python
COPY --chown=0:0 python/ /tmp/envman/python/
RUN ["/bin/sh", "/tmp/envman/python/install.sh"]

FROM envman-python AS later
COPY ["r/install.sh", "r/profile.R", "/tmp/envman/r/"]

FROM envman-system
COPY --from=envman-python /opt/envman/venv /opt/envman/venv
COPY jvm/ /opt/envman/jars/
"""


def test_the_sources_of_a_stage_and_of_the_stages_it_is_made_from():
    assert stage_sources(DOCKERFILE, "envman-system") == ["system"]
    assert stage_sources(DOCKERFILE, "ENVMAN-PYTHON") == ["python", "system"]
    assert stage_sources(DOCKERFILE, "later") == ["r/install.sh", "r/profile.R", "python", "system"]


def test_what_cannot_be_told_for_sure_means_the_whole_context():
    for line in ("COPY *.txt /x/", "ADD https://example.invalid/a.tgz /x/", "COPY . /x/", "COPY ../up /x/", "COPY onlyone"):
        assert stage_sources(f"FROM b AS s\n{line}\n", "s") is None, line
    assert stage_sources("RUN x\nFROM b AS s\n", "s") is None  # an instruction before FROM


def test_the_stage_context_holds_the_dockerfile_and_those_files_only(tmp_path: Path):
    root = tmp_path / "ctx"
    (root / "system" / "debs").mkdir(parents=True)
    (root / "system" / "debs" / "a.deb").write_bytes(b"deb")
    (root / "system" / "install.sh").write_text("#!/bin/sh\n")
    (root / "python" / "wheels").mkdir(parents=True)
    (root / "python" / "wheels" / "big.whl").write_bytes(b"x" * 1000)
    (root / "Dockerfile").write_text(DOCKERFILE)
    with open(tmp_path / "c.tar", "w+b") as handle:
        stage_context(root, ["system"], handle)
        handle.seek(0)
        with tarfile.open(fileobj=handle) as tar:
            names = sorted(tar.getnames())
    assert names == ["Dockerfile", "system", "system/debs", "system/debs/a.deb", "system/install.sh"]


def test_the_whole_build_finds_the_stage_built_from_its_own_context_in_the_cache(docker_client, base_image: str, tmp_path: Path):
    """Built first from the small context (and `nocache`, so nothing earlier is reused), the
    stage's steps are then served from the cache to the build of the whole context."""
    import uuid

    root = tmp_path / "ctx"
    (root / "system").mkdir(parents=True)
    (root / "system" / "data.txt").write_text(f"{uuid.uuid4()}\n")
    (root / "other").mkdir()
    (root / "other" / "big.bin").write_bytes(b"y" * 4096)
    (root / "Dockerfile").write_text(
        f"FROM {base_image} AS envman-system\nCOPY system/ /tmp/s/\nRUN cat /tmp/s/data.txt > /tmp/copied\n"
        "FROM envman-system\nCOPY other/ /tmp/o/\n"
    )
    sources = stage_sources((root / "Dockerfile").read_text(), "envman-system")
    assert sources == ["system"]
    made: list[str] = []
    try:
        with open(tmp_path / "c.tar", "w+b") as handle:
            stage_context(root, sources, handle)
            handle.seek(0)
            first = list(docker_client.api.build(fileobj=handle, custom_context=True, target="envman-system", nocache=True,
                                                 rm=True, decode=True))
        stage_id = next(c["aux"]["ID"] for c in first if isinstance(c.get("aux"), dict) and "ID" in c["aux"])
        made.append(stage_id)
        whole = list(docker_client.api.build(path=str(root), target="envman-system", rm=True, decode=True))
        made.append(next(c["aux"]["ID"] for c in whole if isinstance(c.get("aux"), dict) and "ID" in c["aux"]))
        text = "".join(c.get("stream", "") for c in whole)
        assert text.count("Using cache") == 2, text
        assert made[1] == stage_id
    finally:
        for image in made:
            try:
                docker_client.images.remove(image, force=True)
            except Exception:
                pass
