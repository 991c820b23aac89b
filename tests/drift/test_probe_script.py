"""The in-target probe script is assembled from each ecosystem's probe_target module: the
same functions run inside a target and in this process, and the script stays runnable by
an old, bare Python."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import envman.targets.probe_runner as runner
from envman import ecosystems
from envman.targets.probe_runner import encode_options, in_process, probe_source
from tests.drift.builders import make_jar

MODULES = [
    *(runner._module_file(eco) for eco in ecosystems.all_ecosystems() if eco.probe_module),
    Path(runner.__file__).with_name("probe_script.py"),
]


def test_modules_are_standalone_and_old_python_compatible():
    defined: dict[str, tuple[str, str]] = {}
    for path in MODULES:
        tree = ast.parse(path.read_text(encoding="utf-8"), feature_version=(3, 6))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                assert node.level == 0 and node.module != "__future__", f"{path.name}: {ast.unparse(node)}"
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert all(n.split(".")[0] in sys.stdlib_module_names for n in names), f"{path}: {ast.unparse(node)}"
        # one script: a top-level name two modules define must mean the same thing
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                name, code = node.name, ast.dump(node)
            elif isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
                name, code = node.targets[0].id, ast.dump(node.value)
            else:
                continue
            if name == "__all__":
                continue
            if name in defined:
                assert defined[name][1] == code, f"{name} defined differently in {defined[name][0]} and {path}"
            defined[name] = (str(path), code)
    ast.parse(probe_source(), feature_version=(3, 6))


def _library(root: Path) -> Path:
    lib = root / "rlib"
    for name, version, extra in (("pkgA", "1.0", ""), ("MASS", "7.3-60", "Priority: recommended\n")):
        (lib / name).mkdir(parents=True)
        (lib / name / "DESCRIPTION").write_text(f"Package: {name}\nVersion: {version}\n{extra}")
    (lib / "00LOCK-pkgB").mkdir()
    (lib / "00LOCK-pkgB" / "DESCRIPTION").write_text("Package: pkgB\nVersion: 1\n")
    return lib


def test_in_target_script_and_in_process_agree(tmp_path):
    lib = _library(tmp_path)
    jars = tmp_path / "jars"
    make_jar(jars, "com.example", "lib-a", "1.0")
    make_jar(jars, "com.example", "lib-a", "1.0", classifier="tests")
    make_jar(jars / "nopom", "org.x", "nopom", "3.0", pom_properties=False)
    (jars / "broken-1.0.jar").write_bytes(b"not a zip")
    prefix = tmp_path / "conda"
    (prefix / "conda-meta").mkdir(parents=True)
    (prefix / "conda-meta" / "zlib-1.3-0.json").write_text(json.dumps({"name": "zlib", "version": "1.3", "build": "0"}))
    options = {"deep": True, "r": {"libs": [str(lib)]}, "jvm": {"dirs": [str(jars)]}, "conda": {"prefixes": [str(prefix)]}}
    here = in_process(options)
    proc = subprocess.run([sys.executable, "-I", "-c", probe_source(), *encode_options(options)], capture_output=True, check=True)
    there = json.loads(proc.stdout)
    assert there == here
    assert [(r["name"], r["version"]) for r in here["r"]["packages"]] == [("MASS", "7.3-60"), ("pkgA", "1.0")]
    rows = {Path(r["file"]).name: r for r in here["jvm"]["packages"]}
    assert (rows["lib-a-1.0.jar"]["name"], rows["lib-a-1.0-tests.jar"]["name"]) == ("com.example:lib-a", "com.example:lib-a:tests")
    assert "name" not in rows["nopom-3.0.jar"] and len(rows["nopom-3.0.jar"]["sha256"]) == 64
    assert rows["broken-1.0.jar"]["problem"] == "not a readable jar"
    assert [p["name"] for p in here["conda"]["packages"]] == ["zlib"]
