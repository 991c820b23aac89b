"""Import-time analysis of the three commands of benchmarks/startup/run.py: where start-up goes.

    .venv/bin/python benchmarks/startup/imports.py [--runs 5]

Builds the same workloads as run.py, then runs each command `--runs` times as
`.venv/bin/python -X importtime .venv/bin/envman ARGS` (the console script, envman.cli.entry:run)
and takes per-module medians of the cumulative and self import times. Writes
benchmarks/startup/IMPORTS.md (and imports.json): per command, the top 15 cumulative import
costs with the chain that imported each, and for each heavy third-party package (typer, click,
rich, pydantic, ruamel.yaml, yaml, packaging, requests, docker, jinja2) which envman module first
pulls it in and what that first import costs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("bench_startup_run", HERE / "run.py")
startup = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = startup  # dataclasses look their module up
_spec.loader.exec_module(startup)

HEAVY = ["typer", "click", "rich", "pydantic", "ruamel.yaml", "yaml", "packaging", "requests", "docker", "jinja2"]
TOP = 15


@dataclass
class Node:
    name: str
    self_us: int
    cum_us: int
    level: int
    children: list[Node] = field(default_factory=list)
    parent: Node | None = None

    def chain(self) -> list[str]:
        out, node = [], self
        while node is not None:
            out.append(node.name)
            node = node.parent
        return out[::-1]


def parse_importtime(stderr: str) -> dict[str, Node]:
    """-X importtime prints each module after its children (post-order), 2 spaces per level."""
    pending: dict[int, list[Node]] = {}
    nodes: dict[str, Node] = {}
    for line in stderr.splitlines():
        if not line.startswith("import time:") or line.count("|") != 2:
            continue
        self_s, cum_s, name_field = line[len("import time:") :].split("|")
        if not self_s.strip().isdigit():
            continue  # the header line
        name = name_field.strip()
        level = (len(name_field) - len(name_field.lstrip(" ")) - 1) // 2
        node = Node(name, int(self_s), int(cum_s), level)
        node.children = pending.pop(level + 1, [])
        for child in node.children:
            child.parent = node
        pending.setdefault(level, []).append(node)
        nodes.setdefault(name, node)
    return nodes


def _pkg(name: str) -> str:
    return "ruamel.yaml" if name.startswith("ruamel") else name.split(".")[0]


def _is_envman(module: str) -> bool:
    return module == "envman" or module.startswith("envman.")


def trace_first_importers(argv_tail: list[str], env: dict[str, str], before=None) -> dict[str, list[list[object]]]:
    """{top-level package: frames that first imported it, innermost first} (trace_importers.py)."""
    out = Path(tempfile.mkstemp(prefix="envman-importers-", suffix=".json")[1])
    try:
        if before:
            before()
        entry = startup.ENVMAN[-1:] if startup.ENVMAN[0] != startup.PYTHON else startup.ENVMAN[1:]
        proc = subprocess.run(
            [startup.PYTHON, str(HERE / "trace_importers.py"), str(out), *entry, *argv_tail],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        if proc.returncode != 0:
            raise SystemExit(f"traced run failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-800:]}")
        return json.loads(out.read_text())
    finally:
        out.unlink(missing_ok=True)


def _fmt_frame(f: list[object]) -> str:
    return f"{f[0]}:{f[2]}" + (f" ({f[1]})" if f[1] != "<module>" else "")


def first_importer(traced: dict[str, list[list[object]]], name: str) -> dict[str, object]:
    """The envman code that asked for `name` (innermost envman frame); when the import went
    through another package first, that package's frame; and every envman frame on the stack
    at that moment, outermost first (calls and module-level imports alike)."""
    frames = traced.get(name, [])
    envman_frame = next((f for f in frames if _is_envman(str(f[0]))), None)
    inner = frames[0] if frames else None
    # the stack holds the whole story: module-level imports run nested inside their importer's frame
    chain = [_fmt_frame(f) for f in reversed(frames) if _is_envman(str(f[0]))]
    return {
        "envman": _fmt_frame(envman_frame) if envman_frame else "",
        "at_import_time": bool(envman_frame) and envman_frame[1] == "<module>",
        "via": _fmt_frame(inner) if inner and inner is not envman_frame else "",
        "envman_chain": chain,
    }


def analyse(argv: list[str], env: dict[str, str], runs: int, before=None, traced: dict | None = None) -> dict:
    parsed = []
    for _ in range(runs):
        if before:
            before()
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv[:6])} … failed ({proc.returncode}): {proc.stderr.decode(errors='replace')[-800:]}")
        parsed.append(parse_importtime(proc.stderr.decode(errors="replace")))
    first = parsed[-1]
    med = {}
    for name, node in first.items():
        cums = [p[name].cum_us for p in parsed if name in p]
        selfs = [p[name].self_us for p in parsed if name in p]
        med[name] = {
            "cum_ms": statistics.median(cums) / 1000,
            "self_ms": statistics.median(selfs) / 1000,
            "level": node.level,
            "chain": node.chain(),
        }
    top_level = [n for n, v in med.items() if v["level"] == 0]
    total = sum(med[n]["cum_ms"] for n in top_level)
    by_pkg: dict[str, float] = {}
    count_pkg: dict[str, int] = {}
    for name, v in med.items():
        by_pkg[_pkg(name)] = by_pkg.get(_pkg(name), 0.0) + v["self_ms"]
        count_pkg[_pkg(name)] = count_pkg.get(_pkg(name), 0) + 1
    top = sorted(med, key=lambda n: -med[n]["cum_ms"])[:TOP]
    heavy = {}
    for pkg in HEAVY:
        if pkg not in med:
            heavy[pkg] = None
            continue
        heavy[pkg] = {
            "own_ms": by_pkg.get(pkg, 0.0),
            "modules": count_pkg.get(pkg, 0),
            "first_cum_ms": med[pkg]["cum_ms"],
            "chain": med[pkg]["chain"],
            **first_importer(traced or {}, pkg),
        }
    return {
        "modules": len(med),
        "total_ms": total,
        "top": [{"module": n, **med[n]} for n in top],
        "by_package": sorted(([p, round(c, 2), count_pkg[p]] for p, c in by_pkg.items()), key=lambda x: -x[1])[:12],
        "heavy": heavy,
    }


def fmt_chain(chain: list[str]) -> str:
    return " → ".join(f"`{c}`" for c in chain)


def render(data: dict) -> str:
    lines = [
        "# benchmarks/startup: import-time analysis",
        "",
        f"Command: `{data['command']}` (from the repository root)  ",
        f"Run: {data['date_utc']}, envman at commit {data['commit']} ({data['tree']}); load average (1 min) "
        f"{data['load'][0]:.2f} at the start, {data['load'][1]:.2f} at the end.  ",
        f"Each command run {data['runs']} times as `python -X importtime <envman entry> ARGS`; per-module medians. "
        "`-X importtime` inflates times (roughly 1.2-1.5x): read them as shares; RESULTS.md has the wall clock. "
        "One more run per command under trace_importers.py names the code that first imports each package "
        "(module:line, and the function when the import runs inside one).",
        "",
        "Reading the tables: *cumulative* counts what was loaded for the first time under that import; a chain runs "
        "from a top-level import down to the module; a chain that starts at an envman module other than the entry "
        "(`envman`, `envman.cli.entry`, `envman.cli.main`) was imported inside a function at run time. "
        "*own* = self time of all of a package's modules, wherever imported.",
        "",
    ]
    eager: dict[tuple[str, str], dict[str, float]] = {}
    lazy: dict[tuple[str, str], dict[str, float]] = {}
    for key, cmd in data["commands"].items():
        for pkg, h in cmd["result"]["heavy"].items():
            if h and h["envman"]:
                where = eager if h["at_import_time"] else lazy
                where.setdefault((pkg, " → ".join(h["envman_chain"])), {})[key] = (h["own_ms"], h["first_cum_ms"])
    if eager or lazy:
        lines += [
            "## Summary: heavy packages and the envman code that first imports them",
            "",
            "Import chain: the envman frames on the stack when the package was first imported, outermost first "
            "(`module:line (function)`; no function = module-level code, i.e. an import statement running at import time).",
            "",
            "| package | import chain | when the package is imported | own / first-import cumulative, per command |",
            "|---|---|---|---|",
        ]
        for table, when in ((eager, "at module import (eager)"), (lazy, "inside a function (lazy)")):
            for (pkg, chain), per in sorted(table.items(), key=lambda kv: -max(v[0] for v in kv[1].values())):
                costs = "; ".join(f"{k} {own:.0f} / {cum:.0f} ms" for k, (own, cum) in per.items())
                lines.append(f"| {pkg} | {chain} | {when} | {costs} |")
        lines.append("")
    for cmd in data["commands"].values():
        res = cmd["result"]
        lines += [
            f"## {cmd['title']}",
            "",
            f"`{' '.join(cmd['argv'])}`",
            "",
            f"{res['modules']} modules, {res['total_ms']:.0f} ms of imports in all. Own import time by package: "
            + ", ".join(f"{p} {c:.0f} ms ({n})" for p, c, n in res["by_package"])
            + " (module counts in parentheses).",
            "",
            f"Top {TOP} cumulative import costs:",
            "",
            "| # | module | cumulative | self | imported via |",
            "|---:|---|---:|---:|---|",
        ]
        for i, item in enumerate(res["top"], 1):
            via = fmt_chain(item["chain"][:-1]) if len(item["chain"]) > 1 else "(top level)"
            lines.append(f"| {i} | `{item['module']}` | {item['cum_ms']:.1f} ms | {item['self_ms']:.1f} ms | {via} |")
        lines += [
            "",
            "Heavy third-party packages:",
            "",
            "| package | own | first import, cumulative | first imported by (envman line) | through | importtime chain |",
            "|---|---:|---:|---|---|---|",
        ]
        for pkg in HEAVY:
            h = res["heavy"][pkg]
            if h is None:
                lines.append(f"| {pkg} | not imported | | | | |")
                continue
            who = f"`{h['envman']}`" + ("" if h["at_import_time"] else " at run time") if h["envman"] else "(no envman frame)"
            lines.append(
                f"| {pkg} | {h['own_ms']:.1f} ms ({h['modules']}) | {h['first_cum_ms']:.1f} ms | {who} | "
                f"{'`' + h['via'] + '`' if h['via'] else 'directly'} | {fmt_chain(h['chain'])} |"
            )
        lines.append("")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    load_start = os.getloadavg()[0]
    py = startup.envman_python_argv("-X", "importtime")
    with startup.workload() as load:
        lock_path = load.r_manifest.with_name("envman.lock")
        root = str(load.root)
        specs = {
            "check": (
                "`envman check` (drift workload: python:V rlib:D jars:J)",
                load.check_argv[len(startup.ENVMAN) :],
                os.environ.copy(),
                None,
            ),
            "r_lock": (
                "warm `envman lock` (R workload, lock deleted first: full CLI path)",
                load.lock_argv[len(startup.ENVMAN) :],
                load.r_env,
                lambda: lock_path.unlink(missing_ok=True),
            ),
            "lock_check": (
                "`envman lock --check` on a fresh lock (fast path)",
                load.lock_check_argv[len(startup.ENVMAN) :],
                load.r_env,
                None,
            ),
        }
        commands = {}
        for key, (title, args_, env, before) in specs.items():
            argv = py + args_
            traced = trace_first_importers(args_, env, before)
            result = analyse(argv, env, args.runs, before, traced)
            commands[key] = {
                "title": title,
                "argv": [a.replace(root, "$TMP").replace(str(startup.REPO) + "/", "") for a in argv],
                "result": result,
            }
    m = startup.machine()
    data = {
        "command": f"{Path(startup.PYTHON).relative_to(startup.REPO) if startup.PYTHON.startswith(str(startup.REPO)) else startup.PYTHON} "
        f"benchmarks/startup/imports.py --runs {args.runs}",
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "commit": m["envman_commit"],
        "tree": "working tree under envman/: " + m["envman_tree"],
        "load": [load_start, os.getloadavg()[0]],
        "runs": args.runs,
        "commands": commands,
    }
    (HERE / "imports.json").write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    text = render(data)
    (HERE / "IMPORTS.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
