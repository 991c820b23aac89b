"""Adding an ecosystem is one package plus one registry entry.

The toy ecosystem (tests/core/toy_ecosystem/: a manifest section, a resolver over a dict,
a probe, an export) is registered here, at run time, and every command takes it in:
validate, lock, lock --check, export (its own format and the SBOM), why, check and diff of
a `toys:DIR` target, snapshot. Nothing under envman/ names it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from envman import ecosystems
from envman.cli.main import run
from tests.core.toy_ecosystem import ECOSYSTEM

MANIFEST = """\
version: 1
toy:
  packages: [alpha, beta==2.0]
environments:
  production: {}
  design:
    toy: {packages: [delta]}
"""


@pytest.fixture()
def toy() -> Iterator[None]:
    ecosystems.register(ECOSYSTEM)
    try:
        yield
    finally:
        ecosystems.unregister(ECOSYSTEM.name)


def envman(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exited:
        run(list(argv))
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


def test_a_registered_ecosystem_goes_through_every_command(toy, tmp_path, capsys):
    manifest = tmp_path / "envman.yaml"
    manifest.write_text(MANIFEST)
    f = ["-f", str(manifest)]

    code, out, _ = envman(capsys, "validate", *f)
    assert code == 0 and "valid (toy; environments: design, production)" in out

    code, _, err = envman(capsys, "lock", *f)
    assert code == 0, err
    lock_text = (tmp_path / "envman.lock").read_text()
    assert "toy:" in lock_text and "manifest-hash" in lock_text and "toy@design" in lock_text
    code, _, err = envman(capsys, "lock", "--check", *f)
    assert code == 0 and "fresh" in err

    code, out, _ = envman(capsys, "export", "--format", "toy-list", "--env", "production", *f)
    assert out == "alpha 1.1\nbeta 2.0\ngamma 0.5\n"
    code, out, _ = envman(capsys, "export", "--format", "toy-list", "--env", "design", *f)
    assert out == "alpha 1.1\nbeta 2.0\ndelta 4.2\ngamma 0.5\n"  # one resolution: same versions
    code, out, _ = envman(capsys, "export", "--format", "cyclonedx", "--env", "production", *f)
    assert {c["purl"] for c in json.loads(out)["components"]} == {"pkg:generic/alpha@1.1", "pkg:generic/beta@2.0", "pkg:generic/gamma@0.5"}

    code, out, _ = envman(capsys, "why", "gamma", "--env", "production", *f)
    assert code == 0 and "envman.yaml -> alpha -> gamma" in out and "envman.yaml -> beta -> gamma" in out

    installed = tmp_path / "toys"
    installed.mkdir()
    for name in ("alpha-1.1", "beta-3.0", "gamma-0.5", "zeta-9"):
        (installed / f"{name}.toy").write_text("")
    code, out, _ = envman(capsys, "check", "--env", "production", "--format", "json", *f, f"toys:{installed}")
    assert code == 1
    findings = {(x["name"], x["kind"], x["expected"], x["actual"]) for x in json.loads(out)["targets"][0]["findings"]}
    assert findings == {("beta", "changed", "2.0", "3.0"), ("zeta", "extra", None, "9")}

    code, out, _ = envman(capsys, "diff", "--format", "json", *f, "lock:design", f"toys:{installed}")
    differences = {(d["name"], d["left"], d["right"]) for d in json.loads(out)["differences"]}
    assert code == 1 and differences == {("beta", "2.0", "3.0"), ("delta", "4.2", None), ("zeta", None, "9")}

    code, out, _ = envman(capsys, "snapshot", *f, "--toys", str(installed), "local")
    assert code == 0 and [p["name"] for p in json.loads(out)["packages"]["toy"]] == ["alpha", "beta", "gamma", "zeta"]

    # its spec grammar is enforced with the manifest's FILE:LINE:COL
    manifest.write_text(MANIFEST.replace("beta==2.0", "'beta>=2'"))
    code, _, err = envman(capsys, "validate", *f)
    assert code == 2 and f"{manifest}:3:" in err and "not a toy spec" in err


def test_nothing_outside_the_registry_knows_the_toy():
    """The toy ecosystem's files are the test's own: envman's tree never mentions it."""
    root = Path(ecosystems.__file__).resolve().parents[1]
    assert not [p for p in root.rglob("*.py") if "toy" in p.read_text(encoding="utf-8").lower()]
