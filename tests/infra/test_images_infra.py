"""The image-test infrastructure: runtime and builder images, the local registry, a second engine.

Real containers without network, the real registry and skopeo, a real second dockerd.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

import docker
import pytest

pytestmark = pytest.mark.docker

SETUP = Path(__file__).resolve().parents[1] / "setup"
KEY_LABEL = "org.envman.test-image.key"


def run(client, image: str, script: str) -> str:
    out = client.containers.run(image, ["sh", "-c", script], remove=True, network_mode="none", stderr=True)
    return out.decode()


def test_runtime_image_has_python_r_java_and_no_compiler(docker_client, runtime_image):
    out = run(docker_client, runtime_image,
              "python3 --version; python3 -m venv /tmp/v && echo venv-ok; R --version | head -n1;"
              " java -version 2>&1 | head -n1; for c in gcc cc g++ make; do command -v $c || echo no-$c; done;"
              " test -s /etc/ssl/certs/ca-certificates.crt && echo ca")
    lines = out.splitlines()
    assert lines[0].startswith("Python 3.11."), out
    assert "venv-ok" in lines
    assert any(line.startswith("R version 4.2.") for line in lines), out
    assert any(line.startswith('openjdk version "17.') for line in lines), out
    assert {"no-gcc", "no-cc", "no-g++", "no-make"} <= set(lines), out
    assert "ca" in lines


def test_runtime_image_is_trimmed_like_the_base(docker_client, runtime_image):
    out = run(docker_client, runtime_image,
              "find /usr/share/doc /usr/share/man /usr/share/locale /var/lib/apt/lists -mindepth 1 | wc -l;"
              " find /var/cache/apt -name '*.deb' -o -name '*.bin' | wc -l")
    assert out.split() == ["0", "0"], out


def test_builder_image_has_compilers_and_r_headers(docker_client, builder_image):
    out = run(docker_client, builder_image,
              "gcc --version | head -n1; R CMD config CC; test -f /usr/share/R/include/R.h && echo R.h;"
              " command -v make gfortran g++ >/dev/null && echo tools")
    lines = out.splitlines()
    assert lines[0].startswith("gcc (Debian 12."), out
    assert lines[1].startswith("gcc"), out
    assert lines[2:] == ["R.h", "tools"], out


def test_builder_is_runtime_plus_one_layer(docker_client, runtime_image, builder_image):
    """Same package versions: the builder's filesystem is the runtime's, plus r-base-dev."""
    runtime = docker_client.images.get(runtime_image)
    builder = docker_client.images.get(builder_image)
    rt_layers = runtime.attrs["RootFS"]["Layers"]
    bd_layers = builder.attrs["RootFS"]["Layers"]
    assert bd_layers[: len(rt_layers)] == rt_layers and len(bd_layers) == len(rt_layers) + 1
    assert runtime.labels[KEY_LABEL] == builder.labels[KEY_LABEL] and len(runtime.labels[KEY_LABEL]) == 16
    assert (runtime.labels["org.envman.test-image.role"], builder.labels["org.envman.test-image.role"]) == ("runtime", "builder")
    assert builder.attrs["Config"]["Cmd"] == ["bash"]
    assert not [e for e in builder.attrs["Config"]["Env"] if not e.startswith(("PATH=", "LANG="))]


def test_r_package_compiled_in_builder_runs_in_runtime(docker_client, runtime_image, builder_image, tmp_path):
    """The use of the pair: compile an R package with C code in a builder stage, copy the
    library into the runtime stage, load it there. Classic builder, no network."""
    pkg = tmp_path / "hellocc"
    (pkg / "R").mkdir(parents=True)
    (pkg / "src").mkdir()
    (pkg / "DESCRIPTION").write_text("Package: hellocc\nVersion: 0.1\nTitle: t\nDescription: t.\n"
                                     "License: MIT\nAuthor: a\nMaintainer: a <a@example.org>\n")
    (pkg / "NAMESPACE").write_text("useDynLib(hellocc, .registration = TRUE)\nexport(twice)\n")
    (pkg / "R" / "twice.R").write_text("twice <- function(x) .Call(C_twice, as.numeric(x))\n")
    (pkg / "src" / "twice.c").write_text(
        "#include <R.h>\n#include <Rinternals.h>\n#include <R_ext/Rdynload.h>\n"
        "SEXP C_twice(SEXP x) { SEXP r = PROTECT(allocVector(REALSXP, 1)); REAL(r)[0] = 2 * REAL(x)[0]; UNPROTECT(1); return r; }\n"
        "static const R_CallMethodDef calls[] = {{\"C_twice\", (DL_FUNC) &C_twice, 1}, {NULL, NULL, 0}};\n"
        "void R_init_hellocc(DllInfo *dll) { R_registerRoutines(dll, NULL, calls, NULL, NULL); R_useDynamicSymbols(dll, FALSE); }\n"
    )
    # Two builds rather than one multi-stage build: removing both tags then removes every
    # intermediate image (the classic builder would leave the unnamed stage behind).
    build_tag = f"envman-test-infra:{tmp_path.name.lower()}-build"
    final_tag = f"envman-test-infra:{tmp_path.name.lower()}"
    (tmp_path / "Dockerfile.build").write_text(
        f"FROM {builder_image}\nCOPY hellocc /src/hellocc\n"
        "RUN mkdir /opt/rlib && R CMD INSTALL --no-docs -l /opt/rlib /src/hellocc\n"
    )
    (tmp_path / "Dockerfile").write_text(
        f"FROM {runtime_image}\nCOPY --from={build_tag} /opt/rlib /opt/rlib\nENV R_LIBS_SITE=/opt/rlib\n"
        'CMD ["Rscript", "-e", "writeLines(format(hellocc::twice(21)))"]\n'
    )
    built = []
    try:
        for dockerfile, tag in (("Dockerfile.build", build_tag), ("Dockerfile", final_tag)):
            image, _ = docker_client.images.build(path=str(tmp_path), dockerfile=dockerfile, tag=tag,
                                                  rm=True, forcerm=True, network_mode="none")
            built.append(image.id)
        assert docker_client.containers.run(final_tag, remove=True, network_mode="none") == b"42\n"
    finally:
        for image_id in reversed(built):
            docker_client.images.remove(image_id, force=True)


def test_registry_serves_runtime_ref(docker_client, runtime_image, registry_runtime_ref, skopeo):
    done = subprocess.run([skopeo, "inspect", "--tls-verify=false", f"docker://{registry_runtime_ref}"],
                          capture_output=True, text=True, timeout=60, check=True)
    info = json.loads(done.stdout)
    assert info["Digest"].startswith("sha256:") and len(info["Digest"]) == 71
    assert info["Labels"][KEY_LABEL] == docker_client.images.get(runtime_image).labels[KEY_LABEL]
    raw = subprocess.run([skopeo, "inspect", "--tls-verify=false", "--raw", f"docker://{registry_runtime_ref}"],
                         capture_output=True, text=True, timeout=60, check=True)
    assert json.loads(raw.stdout)["config"]["digest"] == docker_client.images.get(runtime_image).id


def test_engine_pulls_from_local_registry(docker_client, runtime_image, registry_runtime_ref):
    """127.0.0.0/8 is an insecure registry by default: a plain-http pull works. The pulled
    image is the runtime image itself (same ID); the extra tag is left in place."""
    pulled = docker_client.images.pull(registry_runtime_ref)
    assert pulled.id == docker_client.images.get(runtime_image).id


def test_second_engine_is_separate_and_has_the_images(docker_client, second_engine, runtime_image, builder_image):
    assert second_engine.startswith("unix://")
    other = docker.DockerClient(base_url=second_engine, timeout=120)
    try:
        assert other.ping()
        assert other.info()["DockerRootDir"] != docker_client.info()["DockerRootDir"]
        for name in (runtime_image, builder_image):
            assert other.images.get(name).id == docker_client.images.get(name).id
        out = other.containers.run(runtime_image, ["sh", "-c", "python3 -c 'print(3)'; ls /sys/class/net"],
                                   remove=True, network_mode="none")
        assert out.split() == [b"3", b"lo"]
    finally:
        other.close()


def test_second_engine_outlives_another_users_release(second_engine):
    """Reference counting: another process acquiring and releasing does not stop the engine
    this session still uses."""
    helper = subprocess.Popen(["sleep", "60"])
    try:
        script = str(SETUP / "second-engine.sh")
        got = subprocess.run(["bash", script, "acquire", str(helper.pid)], capture_output=True, text=True, timeout=120)
        assert got.returncode == 0 and got.stdout.strip() == second_engine, got.stderr
        rel = subprocess.run(["bash", script, "release", str(helper.pid)], capture_output=True, text=True, timeout=120)
        assert rel.returncode == 0 and "still used" in rel.stderr, rel.stderr
        other = docker.DockerClient(base_url=second_engine, timeout=30)
        try:
            assert other.ping()
        finally:
            other.close()
    finally:
        helper.kill()
        helper.wait()


@pytest.mark.parametrize("script", ["runtime-images.sh", "registry.sh"])
def test_setup_rerun_is_fast(script, runtime_image, builder_image, registry_runtime_ref):
    """After tests/run.sh, the image steps are no-ops that answer within seconds."""
    start = time.monotonic()
    done = subprocess.run(["bash", str(SETUP / script)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert time.monotonic() - start < 10, done.stderr
    assert "building" not in done.stderr and "pushing" not in done.stderr and "loading" not in done.stderr
