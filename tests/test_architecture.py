"""Architecture rules of DESIGN.md §4, checked on the source tree.

- every module under envman/ imports on its own in a fresh interpreter (no import cycles;
  like pip-tools' tests/test_circular_imports.py);
- nothing outside envman/ecosystems/ branches on an ecosystem's name, lists the ecosystems,
  reaches into an ecosystem's section by name, or imports a specific ecosystem package;
- ruff and mypy (configured in pyproject.toml) pass.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "envman"

# Modules that are not importable by design, each with the reason.
NOT_IMPORTABLE = {
    # Runs the CLI at import time (`python -m envman`); checked by `python -m envman --help` instead.
    "envman.__main__",
}

# Names the registry may list that are not ecosystems for the purpose of these rules (yet).
NOT_ECOSYSTEM_NAMES: set[str] = set()

# The only ecosystem modules code outside envman/ecosystems/ may import.
ALLOWED_ECOSYSTEM_IMPORTS = {"envman.ecosystems", "envman.ecosystems.base"}


def _python_files(root: Path) -> Iterator[Path]:
    for path in sorted(root.rglob("*.py")):
        if "__pycache__" not in path.parts:
            yield path


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _subprocess_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


# ---------------------------------------------------------------------------------------
# (a) every module imports alone


def _import_alone(args: list[str]) -> tuple[list[str], int, str]:
    # cwd=REPO and `-c`/`-m` put the checkout first on sys.path: this tree is what is imported.
    proc = subprocess.run(
        [sys.executable, *args], cwd=REPO, env=_subprocess_env(), capture_output=True, text=True, timeout=120
    )
    return args, proc.returncode, (proc.stdout + proc.stderr)[-3000:]


def test_every_module_imports_alone() -> None:
    modules = [_module_name(p) for p in _python_files(PACKAGE)]
    assert len(modules) > 20, modules
    jobs = [["-c", f"import {m}"] for m in modules if m not in NOT_IMPORTABLE]
    jobs.append(["-m", "envman", "--help"])
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(_import_alone, jobs))
    failures = [f"$ python {' '.join(args)}  -> exit {rc}\n{out}" for args, rc, out in results if rc != 0]
    assert not failures, f"{len(failures)} of {len(jobs)} modules do not import alone:\n\n" + "\n\n".join(failures)


# ---------------------------------------------------------------------------------------
# (b) no ecosystem names outside envman/ecosystems/


def ecosystem_names() -> frozenset[str]:
    """The registry's ecosystem names: `names()` when the registry has it, else `ORDER`."""
    import envman.ecosystems as registry

    names_fn = getattr(registry, "names", None)
    names = names_fn() if callable(names_fn) else registry.ORDER
    result = frozenset(str(n) for n in names) - NOT_ECOSYSTEM_NAMES
    assert result, f"no ecosystem names found in the registry ({names!r})"
    return result


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    rule: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: [{self.rule}] {self.what}"


class _EcosystemNameVisitor(ast.NodeVisitor):
    """Finds the four kinds of ecosystem-name knowledge outside envman/ecosystems/:

    compare    a comparison or `match` case against an ecosystem-name string literal
    literal    a tuple/list/set literal with two or more ecosystem names, or a dict
               literal with an ecosystem name as a key
    attribute  `x.python`, `getattr(x, "r")` and friends, and the same by key: `x["jvm"]`,
               `x.get("conda")`
    import     an import of a specific ecosystem package (only the registry and base)
    """

    def __init__(self, path: str, module: str, is_package: bool, names: frozenset[str]) -> None:
        self.path = path
        self.module = module
        self.is_package = is_package
        self.names = names
        self.found: list[Violation] = []
        self._reported: set[int] = set()  # ids of collection nodes already part of a finding

    # helpers -----------------------------------------------------------------------------

    def _add(self, node: ast.AST, rule: str, what: str) -> None:
        self.found.append(Violation(self.path, getattr(node, "lineno", 0), rule, what))

    def _name_of(self, node: ast.AST | None) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in self.names:
            return node.value
        return None

    def _names_in(self, node: ast.AST) -> list[str]:
        """Ecosystem names among a literal's elements (and its directly nested tuples/lists)."""
        found: list[str] = []
        name = self._name_of(node)
        if name:
            return [name]
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            for elt in node.elts:
                name = self._name_of(elt)
                if name:
                    found.append(name)
                elif isinstance(elt, (ast.Tuple, ast.List)):
                    found += [n for n in (self._name_of(e) for e in elt.elts) if n]
        return found

    def _mark(self, node: ast.AST) -> None:
        for sub in ast.walk(node):
            if isinstance(sub, (ast.Tuple, ast.List, ast.Set, ast.Dict)):
                self._reported.add(id(sub))

    # (i) comparisons and match cases ------------------------------------------------------

    def visit_Compare(self, node: ast.Compare) -> None:
        found: list[str] = []
        for operand in (node.left, *node.comparators):
            names = self._names_in(operand)
            if names:
                found += names
                self._mark(operand)
        if found:
            self._add(node, "compare", f"compares to {', '.join(repr(n) for n in dict.fromkeys(found))}: {ast.unparse(node)[:120]}")
        self.generic_visit(node)

    def visit_match_case(self, node: ast.match_case) -> None:
        found: list[str] = []
        for sub in ast.walk(node.pattern):
            if isinstance(sub, ast.MatchValue):
                name = self._name_of(sub.value)
                if name:
                    found.append(name)
            elif isinstance(sub, ast.MatchMapping):
                found += [n for n in (self._name_of(k) for k in sub.keys) if n]
            elif isinstance(sub, ast.MatchClass):
                found += [a for a in sub.kwd_attrs if a in self.names]
        if found:
            self._add(node.pattern, "compare", f"match case on {', '.join(repr(n) for n in dict.fromkeys(found))}")
        self.generic_visit(node)

    # (ii) hand-written lists of ecosystems ------------------------------------------------

    def _visit_collection(self, node: ast.Tuple | ast.List | ast.Set) -> None:
        if id(node) not in self._reported:
            names = self._names_in(node)
            if len(set(names)) >= 2:
                self._mark(node)
                self._add(node, "literal", f"lists ecosystems {', '.join(repr(n) for n in dict.fromkeys(names))}")
        self.generic_visit(node)

    visit_Tuple = visit_List = visit_Set = _visit_collection

    def visit_Dict(self, node: ast.Dict) -> None:
        if id(node) not in self._reported:
            keys = [n for n in (self._name_of(k) for k in node.keys) if n]
            if keys:
                self._mark(node)
                self._add(node, "literal", f"dict keyed by ecosystem {', '.join(repr(n) for n in keys)}")
        self.generic_visit(node)

    # (iii) attributes named like an ecosystem ---------------------------------------------

    def visit_Attribute(self, node: ast.Attribute) -> None:
        if node.attr in self.names:
            self._add(node, "attribute", f"attribute .{node.attr}: {ast.unparse(node)[:120]}")
        self.generic_visit(node)

    def visit_Subscript(self, node: ast.Subscript) -> None:
        name = self._name_of(node.slice)
        if name:
            self._add(node, "attribute", f"key [{name!r}]: {ast.unparse(node)[:120]}")
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        fname = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
        if fname in ("getattr", "hasattr", "setattr", "delattr") and len(node.args) >= 2:
            name = self._name_of(node.args[1])
            if name:
                self._add(node, "attribute", f"{fname}(..., {name!r})")
        if isinstance(func, ast.Attribute) and fname in ("get", "pop", "setdefault") and node.args:
            name = self._name_of(node.args[0])
            if name:
                self._add(node, "attribute", f"key .{fname}({name!r}): {ast.unparse(node)[:120]}")
        if fname in ("import_module", "__import__") and node.args:
            target = node.args[0]
            if isinstance(target, ast.Constant) and isinstance(target.value, str):
                self._check_module(node, target.value, f"{fname}({target.value!r})")
        self.generic_visit(node)

    # (iv) imports of a specific ecosystem package -----------------------------------------

    def _check_module(self, node: ast.AST, module: str, text: str) -> None:
        if (module == "envman.ecosystems" or module.startswith("envman.ecosystems.")) and module not in ALLOWED_ECOSYSTEM_IMPORTS:
            self._add(node, "import", f"imports {module} ({text})")

    def _absolute(self, node: ast.ImportFrom) -> str:
        if not node.level:
            return node.module or ""
        package = self.module.split(".") if self.is_package else self.module.split(".")[:-1]
        base = package[: len(package) - (node.level - 1)]
        return ".".join([*base, *([node.module] if node.module else [])])

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._check_module(node, alias.name, f"import {alias.name}")
        self.generic_visit(node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        module = self._absolute(node)
        text = f"from {'.' * node.level}{node.module or ''} import {', '.join(a.name for a in node.names)}"
        if module == "envman.ecosystems":
            for alias in node.names:  # `from envman.ecosystems import python` imports the package
                self._check_module(node, f"{module}.{alias.name}" if alias.name in self.names else module, text)
        else:
            self._check_module(node, module, text)
        self.generic_visit(node)


def find_ecosystem_name_violations(names: frozenset[str]) -> list[Violation]:
    ecosystems_dir = PACKAGE / "ecosystems"
    found: list[Violation] = []
    for path in _python_files(PACKAGE):
        if path.is_relative_to(ecosystems_dir):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        visitor = _EcosystemNameVisitor(str(path.relative_to(REPO)), _module_name(path), path.name == "__init__.py", names)
        visitor.visit(tree)
        found += visitor.found
    return sorted(found, key=lambda v: (v.path, v.line, v.rule))


def test_no_ecosystem_names_outside_ecosystems() -> None:
    names = ecosystem_names()
    violations = find_ecosystem_name_violations(names)
    by_rule: dict[str, int] = {}
    for v in violations:
        by_rule[v.rule] = by_rule.get(v.rule, 0) + 1
    summary = f"{len(violations)} place(s) outside envman/ecosystems/ know ecosystem names {sorted(names)} ({by_rule})"
    print(summary)
    assert not violations, (
        summary + "; move this knowledge behind the ecosystem protocol (DESIGN.md §4):\n" + "\n".join(map(str, violations))
    )


# ---------------------------------------------------------------------------------------
# (c) lint and types


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    "command",
    [
        pytest.param(["-m", "ruff", "check", "--no-cache", "envman", "tests"], id="ruff"),
        pytest.param(["-m", "mypy"], id="mypy"),  # files and strictness come from pyproject.toml
    ],
)
def test_lint(command: list[str]) -> None:
    proc = subprocess.run([sys.executable, *command], cwd=REPO, env=_subprocess_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"$ python {' '.join(command)}  -> exit {proc.returncode}\n{proc.stdout}{proc.stderr}"
