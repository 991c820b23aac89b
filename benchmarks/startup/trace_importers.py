"""Run a Python entry script and record who first imports each top-level package (and each envman module).

    python benchmarks/startup/trace_importers.py OUT.json SCRIPT [ARGS...]
    python benchmarks/startup/trace_importers.py OUT.json -m MODULE [ARGS...]

A finder placed first on sys.meta_path sees every first import (find_spec is not called for
modules already in sys.modules), records the Python frames that asked for it (module, function,
line; importlib's own frames left out) and lets the normal finders do the work. Unlike
`-X importtime`, this also names the function behind an import done at run time. Used by
imports.py; the timings there come from `-X importtime`, not from this.
"""

from __future__ import annotations

import atexit
import json
import runpy
import sys

OUT = sys.argv[1]
RECORDS: dict[str, list[list[object]]] = {}
EXTRA = {"ruamel.yaml"}  # ruamel is a namespace; the package that matters is ruamel.yaml


class _FirstImportTracer:
    @staticmethod
    def find_spec(fullname, path=None, target=None):
        if ("." in fullname and fullname not in EXTRA and not fullname.startswith("envman.")) or fullname in RECORDS:
            return None
        frames = []
        frame = sys._getframe(1)
        while frame is not None and len(frames) < 40:
            module = frame.f_globals.get("__name__", "?")
            if not module.startswith("importlib") and frame.f_code.co_filename != __file__:
                frames.append([module, frame.f_code.co_name, frame.f_lineno])
            frame = frame.f_back
        RECORDS[fullname] = frames  # innermost first
        return None


def _dump() -> None:
    with open(OUT, "w", encoding="utf-8") as handle:
        json.dump(RECORDS, handle)


sys.meta_path.insert(0, _FirstImportTracer())
atexit.register(_dump)

if sys.argv[2] == "-m":
    sys.argv = [sys.argv[3], *sys.argv[4:]]
    runpy.run_module(sys.argv[0], run_name="__main__", alter_sys=True)
else:
    script = sys.argv[2]
    sys.argv = sys.argv[2:]
    runpy.run_path(script, run_name="__main__")
