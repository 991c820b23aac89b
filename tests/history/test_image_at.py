"""An image rebuilt from an old lock (`build --at REV`) has the image ID it had then, and
`identify image:REF` names that revision. One small image: a venv of one tiny wheel over
the runtime test image."""

from __future__ import annotations

import json

from tests.history.repo import START, git
from tests.python.conftest import run_envman


def _manifest(url: str, core: str, base: str) -> str:
    return (
        f'version: 1\nname: history-image\npython:\n  version: "3.11"\n  index-url: {url}/pypi/simple\n'
        f'  packages: ["hist-core=={core}"]\nimage:\n  base: {base}\n'
    )


def test_build_at_an_old_revision_gives_the_same_image_id(tmp_path, history_url, runtime_image, docker_client):
    root = tmp_path / "repo"
    project = root / "app"
    project.mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    tag = f"envman-test-history-{tmp_path.name.lower()}"
    built: list[str] = []
    containers: list = []
    try:
        (project / "envman.yaml").write_text(_manifest(history_url, "1.0.0", runtime_image))
        assert run_envman("lock", cwd=project).returncode == 0
        git(root, "add", "app")
        git(root, "commit", "-q", "-m", "first image", when=START)
        first = git(root, "rev-parse", "HEAD")
        then = run_envman("build", "--tag", f"{tag}:then", "--json", cwd=project)
        assert then.returncode == 0, then.stderr
        then_id = json.loads(then.stdout)["image"]
        built.append(f"{tag}:then")
        (project / "envman.yaml").write_text(_manifest(history_url, "1.1.0", runtime_image))
        assert run_envman("lock", cwd=project).returncode == 0
        git(root, "commit", "-q", "-am", "bump core", when=START + 86400)
        (project / "NOTES").write_text("after\n")
        git(root, "add", "app/NOTES")
        git(root, "commit", "-q", "-m", "notes", when=START + 2 * 86400)
        again = run_envman("build", "--at", first[:9], "--tag", f"{tag}:again", "--json", cwd=project)
        assert again.returncode == 0, again.stderr
        built.append(f"{tag}:again")
        assert json.loads(again.stdout)["image"] == then_id  # bit for bit the image of that lock
        labels = docker_client.images.get(f"{tag}:again").labels
        assert labels["org.opencontainers.image.revision"] == first
        assert "hist-core==1.1.0" in (project / "envman.yaml").read_text()  # the project stays at its newest revision
        assert git(root, "status", "--porcelain") == ""  # nothing checked out, nothing written in the project
        ident = run_envman("identify", f"image:{tag}:again", "--format", "json", cwd=project)
        assert ident.returncode == 0, ident.stdout + ident.stderr
        assert json.loads(ident.stdout)["match"]["commit"] == first
        container = docker_client.containers.run(f"{tag}:again", ["sleep", "300"], detach=True, network_mode="none", name=tag)
        containers.append(container)
        ident = run_envman("identify", f"docker:{tag}", cwd=project)  # a running container of it
        assert ident.returncode == 0, ident.stdout + ident.stderr
        assert f"matches lock:default at {first[:7]}" in ident.stdout
    finally:
        for container in containers:
            container.remove(force=True)
        for ref in [*built, "envman-build/history-image-default:raw"]:  # the build's own cache tag too
            try:
                docker_client.images.remove(ref, force=True)
            except Exception:
                pass
