"""Probe a Python interpreter: run it with the self-contained probe script, read its distributions.

envman need not be installed in the target: the script (the ecosystems' probe_target
modules and probe_script.py beside this file, assembled by probe_source) uses only the
standard library and is passed with `-c`. Duplicates on sys.path are kept
(the later copies are marked `shadowed`), never hidden.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any, Sequence

from envman.ecosystems.base import InstalledPackage, Runner
from envman.errors import UnreachableError

__all__ = ["probe_source", "encode_options", "run_probe", "probe_python", "python_packages", "normalize_name"]

_NORMALIZE = re.compile(r"[-_.]+")


def normalize_name(name: str) -> str:
    """PEP 503 normalized name."""
    return _NORMALIZE.sub("-", name).lower()


def encode_options(options: dict[str, Any]) -> list[str]:
    from envman.ecosystems.python.probe_script import encode_options as encode

    return encode(options)


@lru_cache(maxsize=1)
def probe_source() -> str:
    """The probe script as sent to targets: each ecosystem's probe_target module, then the
    driver (probe_script.py), concatenated; docstrings and comments removed (the target
    compiles it on every run; the full texts stay readable beside each ecosystem)."""
    import ast

    from envman.ecosystems.python.probe_script import PROBE_MODULES

    root = Path(__file__).resolve().parent.parent
    parts = [root / rel for rel in PROBE_MODULES] + [Path(__file__).with_name("probe_script.py")]
    text = "\n\n".join(part.read_text(encoding="utf-8") for part in parts)
    tree = ast.parse(text)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None), ast.Constant) and isinstance(body[0].value.value, str):
            node.body = body[1:] or [ast.Pass()]
    # the modules' `__all__` lists mean nothing in one script
    tree.body = [n for n in tree.body if not (isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets))]
    return ast.unparse(tree) + "\n"


def run_probe(runner: Runner, interpreter: str, options: dict[str, Any], what: str, timeout: float = 300) -> dict[str, Any]:
    """Run the probe script with `interpreter` through `runner`; the parsed JSON result.

    `what` names the target in errors (an interpreter that cannot run is exit 4).
    """
    argv: Sequence[str] = [interpreter, "-c", probe_source(), *encode_options(options)]
    try:
        result = runner.run(argv, timeout=timeout)
    except FileNotFoundError:
        raise UnreachableError(f"{what}: no interpreter at {interpreter}") from None
    except OSError as exc:
        raise UnreachableError(f"{what}: cannot run {interpreter}: {exc}") from None
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or [f"exit {result.returncode}"]
        raise UnreachableError(f"{what}: the probe failed with {interpreter}: {detail[0]}")
    try:
        data = json.loads(result.stdout.decode("utf-8", "replace").strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise UnreachableError(f"{what}: the probe printed no result with {interpreter}") from None
    if not isinstance(data, dict):
        raise UnreachableError(f"{what}: the probe printed an unexpected result")
    return data


def python_packages(section: dict[str, Any]) -> list[InstalledPackage]:
    """InstalledPackage rows from the probe's python section; later duplicates marked shadowed."""
    seen: dict[str, str] = {}
    out: list[InstalledPackage] = []
    for row in section.get("packages", []):
        name = str(row.get("name", ""))
        if not name:
            continue
        key = normalize_name(name)
        extra: dict[str, Any] = {}
        if key in seen:
            extra["shadowed-by"] = seen[key]
        else:
            seen[key] = str(row.get("location", ""))
        if row.get("modified"):
            extra["modified"] = list(row["modified"])
            extra["modified-count"] = int(row.get("modified_count", len(row["modified"])))
        out.append(InstalledPackage("python", key, str(row.get("version", "")), row.get("location"), None, extra))
    return out


def probe_python(runner: Runner, interpreter: str, deep: bool = False, what: str | None = None) -> tuple[dict[str, Any], list[InstalledPackage]]:
    """(python section of the probe result: version, markers, paths…, packages) of one interpreter."""
    data = run_probe(runner, interpreter, {"python": True, "deep": deep}, what or f"python:{interpreter}")
    section = data.get("python") or {}
    return section, python_packages(section)
