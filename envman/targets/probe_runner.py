"""Host side of the probe: assemble the in-target script from the registry, run it with a
target's interpreter, or compute the same result in this process.

The script is each registered ecosystem's probe_target module (stdlib only), a `_PROBES`
list of (ecosystem, section function), then probe_script.py, concatenated; docstrings and
`__all__` lists are dropped (the target compiles it on every run; the full texts stay
readable beside each ecosystem).
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Callable, Collection, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from envman import ecosystems
from envman.ecosystems.base import Runner
from envman.errors import UnreachableError
from envman.snapshot import MAX_DEPTH, depth_over

if TYPE_CHECKING:
    from envman.cache import ArtifactCache

__all__ = ["probe_source", "encode_options", "run_probe", "in_process", "probe_functions"]

_source_cache: dict[tuple[tuple[tuple[str, int], ...], tuple[str, ...] | None], str] = {}

# probe_script is untyped by design (Python 3.6, standard library only): the signatures of
# the functions called from here, declared where they are bound.
_Probe = tuple[str, Callable[..., Any]]
_Encode = Callable[[dict[str, Any]], list[str]]
_Collect = Callable[[dict[str, Any], list[_Probe]], dict[str, Any]]


def _probing() -> list[Any]:
    return [eco for eco in ecosystems.all_ecosystems() if eco.probe_module and eco.probe_function]


def _module_file(eco: Any) -> Path:
    package = importlib.import_module(type(eco).__module__)
    return Path(package.__file__ or "").resolve().parent / str(eco.probe_module)


def encode_options(options: dict[str, Any]) -> list[str]:
    from envman.targets.probe_script import encode_options as untyped_encode

    encode: _Encode = untyped_encode
    return list(encode(options))


def probe_source(only: Collection[str] | None = None) -> str:
    """The probe script as sent to targets, with the probe modules of `only` those
    ecosystems (default: all): cached in this process, and on disk in the envman cache under
    the sha256 of its inputs (stripping docstrings with ast costs ~40 ms, more than probing
    a container)."""
    key = (ecosystems.signature(), tuple(sorted(only)) if only is not None else None)
    if key in _source_cache:
        return _source_cache[key]
    import hashlib

    probing = [eco for eco in _probing() if only is None or eco.name in only]
    # first: the working folder out of the import path (`-c` and `-` put it first), so
    # nothing in the target's working folder is ever imported by the probe
    parts = ["import sys\nif sys.path and sys.path[0] == '':\n    del sys.path[0]"]
    parts += [_module_file(eco).read_text(encoding="utf-8") for eco in probing]
    parts.append("_PROBES = [" + ", ".join(f"({eco.name!r}, {eco.probe_function})" for eco in probing) + "]")
    parts.append(Path(__file__).with_name("probe_script.py").read_text(encoding="utf-8"))
    text = "\n\n".join(parts)
    memo = "envman-probe-source-v1:" + hashlib.sha256(text.encode("utf-8")).hexdigest()
    cache = _cache()
    found: bytes | None = cache.get_index(memo) if cache is not None else None
    if found is not None:
        source = found.decode("utf-8")
    else:
        source = _strip_docstrings(text)
        if cache is not None:
            try:
                cache.put_index(memo, source.encode("utf-8"))
            except OSError:
                pass  # a read-only cache: strip again next time
    _source_cache[key] = source
    return source


def _cache() -> ArtifactCache | None:
    try:
        from envman.cache import ArtifactCache

        return ArtifactCache()
    except OSError:
        return None


def _strip_docstrings(text: str) -> str:
    """The script without docstrings and `__all__` lists (the target compiles it every run)."""
    import ast

    tree = ast.parse(text)
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
    tree.body = [
        n for n in tree.body if not (isinstance(n, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets))
    ]
    return ast.unparse(tree) + "\n"


def probe_functions() -> list[_Probe]:
    """(ecosystem, section function) pairs from the imported probe_target modules."""
    found = []
    for eco in _probing():
        module = importlib.import_module(f"{type(eco).__module__}.{Path(str(eco.probe_module)).stem}")
        found.append((eco.name, getattr(module, str(eco.probe_function))))
    return found


def in_process(options: dict[str, Any]) -> dict[str, Any]:
    """The probe's result computed here, by the same modules the in-target script is
    assembled from (local folders: no interpreter to start)."""
    from envman.targets.probe_script import collect as untyped_collect

    collect: _Collect = untyped_collect
    return collect(options, probe_functions())


def run_probe(
    runner: Runner, interpreter: str, options: dict[str, Any], what: str, timeout: float = 60, nominal: float | None = None
) -> dict[str, Any]:
    """Run the probe script with `interpreter` through `runner`; the parsed JSON result.

    `what` names the target in errors: an interpreter that cannot run, does not answer
    within `timeout` seconds (it is killed; the message says `nominal`, the --timeout the
    user gave, when the time left was less), prints too much or prints something that is
    not a probe result is exit 4, in one line."""
    from envman.report.text import printable, tail
    from envman.targets.context import timed_out
    from envman.targets.runners import OutputTooLarge, RunTimeout

    shown = printable(interpreter)
    wanted = [name for name, value in options.items() if isinstance(value, dict)]
    argv: Sequence[str] = [interpreter, "-c", probe_source(wanted), *encode_options(options)]
    try:
        result = runner.run(argv, timeout=timeout)
    except RunTimeout:
        raise UnreachableError(timed_out(what, nominal or timeout, f"the probe with {shown}")) from None
    except OutputTooLarge as exc:
        raise UnreachableError(f"{what}: the probe with {printable(exc)}") from None
    except FileNotFoundError:
        raise NoInterpreter(f"{what}: no interpreter at {shown}") from None
    except OSError as exc:
        raise UnreachableError(f"{what}: cannot run {shown}: {printable(exc.strerror or exc)}") from None
    if result.returncode != 0:
        detail = tail(result.stderr) or f"exit {result.returncode}"
        raise UnreachableError(f"{what}: the probe failed with {shown}: {detail}")
    return parse_result(result.stdout, what, f"with {shown}")


# nesting of a probe result: envman's own is 5 levels deep ({"python": {"packages": [{"extra":
# {"modified": [...]}}]}}); anything much deeper is not a probe result
MAX_RESULT_DEPTH = MAX_DEPTH


def parse_result(stdout: bytes, what: str, where: str) -> dict[str, Any]:
    """The probe's JSON result: the last line of its output, a bounded, well-formed object.

    A target may print anything: deep nesting (RecursionError in the parser), integers over
    Python's digit limit, invalid UTF-8, a list: each is an UnreachableError naming it."""
    end = stdout.rstrip()
    line = end[end.rfind(b"\n") + 1 :]
    if not line:
        raise UnreachableError(f"{what}: the probe printed no result {where}")
    try:
        data = json.loads(line.decode("utf-8", "replace"))
    except RecursionError:
        raise UnreachableError(f"{what}: the probe printed a result nested too deeply {where}") from None
    except ValueError as exc:  # JSONDecodeError, or an integer over sys.get_int_max_str_digits()
        reason = "" if isinstance(exc, json.JSONDecodeError) else f" ({str(exc)[:120]})"
        raise UnreachableError(f"{what}: the probe printed no result {where}{reason}") from None
    if not isinstance(data, dict):
        raise UnreachableError(f"{what}: the probe printed an unexpected result {where}")
    if depth_over(data, MAX_RESULT_DEPTH):
        raise UnreachableError(f"{what}: the probe printed a result nested more than {MAX_RESULT_DEPTH} levels deep {where}")
    return data


class NoInterpreter(UnreachableError):
    """The target has no Python to run the probe with (callers may read its files instead)."""
