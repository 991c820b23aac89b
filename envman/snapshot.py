"""The snapshot: what is installed in one target, as versioned JSON that check/diff read later.

```json
{"envman-snapshot": 1, "target": "docker:api-1", "created": "2026-11-25T16:00:00Z",
 "ecosystems": ["python", "r", "jvm", "conda"],
 "runtimes": {"python": "3.11.2", "r": "4.2.2", "java": "17.0.9"},
 "environment": {"python-markers": {...}},
 "packages": {"python": [{"name": "requests", "version": "2.32.3", "location": "/…/site-packages"}]},
 "problems": []}
```
`ecosystems` lists what the target covers (looked for), so an ecosystem with no package
found there is known to be empty rather than not inspected.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from envman.ecosystems.base import InstalledPackage
from envman.errors import BadInputError

__all__ = [
    "SNAPSHOT_VERSION",
    "Snapshot",
    "load_snapshot",
    "dump_snapshot",
    "parse_snapshot",
    "write_snapshot",
    "package_problem",
    "environment_problem",
    "MAX_NAME_CHARS",
    "MAX_DEPTH",
    "depth_over",
]

SNAPSHOT_VERSION = 1

# Names, versions and runtime versions longer than this are not real (and a version of
# thousands of digits breaks int() in version comparisons); locations may be paths.
MAX_NAME_CHARS = 1024
MAX_PATH_CHARS = 8192
MAX_DEPTH = 32  # nesting of a snapshot file or a probe result


class Snapshot:
    """What one target holds: packages per ecosystem, runtime versions, facts, problems."""

    __slots__ = ("target", "ecosystems", "packages", "runtimes", "environment", "problems", "created")

    def __init__(
        self,
        target: str,
        ecosystems: list[str],
        packages: dict[str, list[InstalledPackage]] | None = None,
        runtimes: dict[str, str] | None = None,
        environment: dict[str, Any] | None = None,
        problems: list[str] | None = None,
        created: str = "",
    ) -> None:
        self.target = target
        self.ecosystems = ecosystems
        self.packages: dict[str, list[InstalledPackage]] = packages if packages is not None else {}
        self.runtimes: dict[str, str] = runtimes if runtimes is not None else {}
        self.environment: dict[str, Any] = environment if environment is not None else {}
        self.problems: list[str] = problems if problems is not None else []
        self.created = created

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Snapshot) and all(getattr(self, k) == getattr(other, k) for k in self.__slots__)

    def __repr__(self) -> str:
        return f"Snapshot(target={self.target!r}, ecosystems={self.ecosystems!r}, {self.count()} packages)"

    def of(self, ecosystem: str) -> list[InstalledPackage]:
        return self.packages.get(ecosystem, [])

    def count(self) -> int:
        return sum(len(v) for v in self.packages.values())

    def to_data(self) -> dict[str, Any]:
        packages: dict[str, Any] = {}
        for eco in sorted(self.packages):
            rows = []
            for pkg in sorted(self.packages[eco], key=lambda p: (p.name.lower(), p.version, p.location or "")):
                row: dict[str, Any] = {"name": pkg.name, "version": pkg.version}
                if pkg.location:
                    row["location"] = pkg.location
                if pkg.sha256:
                    row["sha256"] = pkg.sha256
                if pkg.extra:
                    row["extra"] = pkg.extra
                rows.append(row)
            packages[eco] = rows
        return {
            "envman-snapshot": SNAPSHOT_VERSION,
            "target": self.target,
            "created": self.created or now_iso(),
            "ecosystems": sorted(self.ecosystems),
            "runtimes": dict(sorted(self.runtimes.items())),
            "environment": self.environment,
            "packages": packages,
            "problems": list(self.problems),
        }


# -- shapes of untrusted data (a probe's result, a snapshot file) -------------------------

_Scalar = (str, int, float, bool, type(None))
# extra fields every reader relies on, with their types
_EXTRA_TYPES: dict[str, tuple[type, ...]] = {"modified": (list,), "modified-count": (int,), "marker": (str,), "shadowed-by": (str,)}


def _text_problem(value: object, field: str, maximum: int, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        return f"`{field}` must be a string, not {type(value).__name__}"
    if len(value) > maximum:
        return f"`{field}` is {len(value):,} characters long (at most {maximum:,})"
    return None


def _plain_problem(value: object, field: str) -> str | None:
    """A scalar, or a list of strings (what snapshot fields may hold)."""
    if isinstance(value, list):
        if not all(isinstance(item, str) for item in value):
            return f"`{field}` must be a list of strings"
        return None
    if not isinstance(value, _Scalar):
        return f"`{field}` must be a string, number, boolean or list of strings, not {type(value).__name__}"
    return None


def depth_over(value: Any, maximum: int) -> bool:
    """True when containers nest more than `maximum` levels (iterative: no recursion limit)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > maximum:
            return True
        if isinstance(item, dict):
            stack.extend((v, depth + 1) for v in item.values() if isinstance(v, (dict, list)))
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item if isinstance(v, (dict, list)))
    return False


def package_problem(pkg: InstalledPackage) -> str | None:
    """What is wrong with a package read from a target or a snapshot (None: it is usable)."""
    problem = (
        _text_problem(pkg.name, "name", MAX_NAME_CHARS)
        or _text_problem(pkg.version, "version", MAX_NAME_CHARS)
        or _text_problem(pkg.location, "location", MAX_PATH_CHARS, optional=True)
        or _text_problem(pkg.sha256, "sha256", MAX_NAME_CHARS, optional=True)
    )
    if problem:
        return problem
    if not isinstance(pkg.extra, Mapping) or not all(isinstance(key, str) for key in pkg.extra):
        return "`extra` must be an object"
    for key, value in pkg.extra.items():
        wanted = _EXTRA_TYPES.get(key)
        if wanted is not None and (not isinstance(value, wanted) or isinstance(value, bool)):
            return f"`extra.{key}` must be {' or '.join(t.__name__ for t in wanted)}, not {type(value).__name__}"
        problem = _plain_problem(value, f"extra.{key}")
        if problem:
            return problem
    return None


def environment_problem(environment: object) -> str | None:
    """What is wrong with a snapshot's `environment` (None: usable): an object whose values
    are plain values or objects of them; `python-markers` maps marker names to strings."""
    if not isinstance(environment, Mapping):
        return "`environment` must be an object"
    for key, value in environment.items():
        if isinstance(value, Mapping):
            for inner, item in value.items():
                problem = _plain_problem(item, f"environment.{key}.{inner}")
                if problem:
                    return problem
        else:
            problem = _plain_problem(value, f"environment.{key}")
            if problem:
                return problem
    markers = environment.get("python-markers")
    if markers is not None and not (isinstance(markers, Mapping) and all(isinstance(v, str) for v in markers.values())):
        return "`environment.python-markers` must map names to strings"
    return None


def now_iso() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def dump_snapshot(snapshot: Snapshot) -> str:
    return json.dumps(snapshot.to_data(), indent=2, sort_keys=False) + "\n"


def _require(cond: bool, source: str, message: str) -> None:
    if not cond:
        raise BadInputError(f"{source}: not a valid envman snapshot: {message}")


def parse_snapshot(text: str, source: str = "snapshot.json") -> Snapshot:
    """Parse snapshot JSON; anything malformed or of another version is BadInputError (exit 2)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"{source}:{exc.lineno}:{exc.colno}: not a valid envman snapshot: invalid JSON: {exc.msg}") from None
    except RecursionError:
        raise BadInputError(f"{source}: not a valid envman snapshot: nested too deeply") from None
    except ValueError as exc:  # an integer over sys.get_int_max_str_digits()
        raise BadInputError(f"{source}: not a valid envman snapshot: {str(exc)[:120]}") from None
    _require(not depth_over(data, MAX_DEPTH), source, f"nested more than {MAX_DEPTH} levels deep")
    _require(isinstance(data, dict) and "envman-snapshot" in data, source, "no `envman-snapshot` version field")
    version = data["envman-snapshot"]
    if version != SNAPSHOT_VERSION:
        raise BadInputError(f"{source}: unsupported snapshot version {version!r}; this envman reads version {SNAPSHOT_VERSION}")
    target = data.get("target")
    _require(isinstance(target, str), source, "`target` must be a string")
    from envman.ecosystems import names

    known = names()
    ecosystems = data.get("ecosystems", [])
    _require(isinstance(ecosystems, list) and all(e in known for e in ecosystems), source, f"`ecosystems` must list {', '.join(known)}")
    runtimes = data.get("runtimes", {})
    _require(
        isinstance(runtimes, dict) and all(isinstance(v, str) and len(v) <= MAX_NAME_CHARS for v in runtimes.values()),
        source,
        "`runtimes` must map names to version strings",
    )
    environment = data.get("environment", {})
    problem = environment_problem(environment)
    _require(problem is None, source, str(problem))
    problems = data.get("problems", [])
    _require(isinstance(problems, list) and all(isinstance(p, str) for p in problems), source, "`problems` must be a list of strings")
    raw_packages = data.get("packages", {})
    _require(isinstance(raw_packages, dict), source, "`packages` must be an object")
    packages: dict[str, list[InstalledPackage]] = {}
    for eco, rows in raw_packages.items():
        _require(eco in known, source, f"unknown ecosystem {eco!r} in `packages`")
        _require(isinstance(rows, list), source, f"`packages.{eco}` must be a list")
        out = []
        for i, row in enumerate(rows):
            where = f"packages.{eco}[{i}]"
            _require(isinstance(row, dict), source, f"{where} must be an object")
            name, ver = row.get("name"), row.get("version")
            _require(isinstance(name, str) and name != "" and isinstance(ver, str), source, f"{where} needs string `name` and `version`")
            loc, sha, extra = row.get("location"), row.get("sha256"), row.get("extra", {})
            _require(loc is None or isinstance(loc, str), source, f"{where}.location must be a string")
            _require(sha is None or isinstance(sha, str), source, f"{where}.sha256 must be a string")
            _require(isinstance(extra, dict), source, f"{where}.extra must be an object")
            pkg = InstalledPackage(eco, name, ver, loc, sha, extra)
            problem = package_problem(pkg)
            _require(problem is None, source, f"{where}: {problem}")
            out.append(pkg)
        packages[eco] = out
    return Snapshot(
        target=target,
        ecosystems=list(ecosystems),
        packages=packages,
        runtimes=dict(runtimes),
        environment=environment,
        problems=list(problems),
        created=str(data.get("created", "")),
    )


def load_snapshot(path: str | Path) -> Snapshot:
    """A snapshot file: a regular file no larger than limit("lock_bytes") (a FIFO or a device is refused)."""
    from envman.limits import read_regular_file

    path = Path(path)
    try:
        text = read_regular_file(path, "lock_bytes", f"{path}").decode("utf-8")
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such snapshot file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read the snapshot: {getattr(exc, 'strerror', None) or exc}") from None
    return parse_snapshot(text, str(path))


def write_snapshot(path: Path, text: str) -> None:
    """Write atomically (temp file in the same folder, then rename): readers never see half a
    snapshot; a full or read-only disk is exit 2 and leaves no partial file."""
    from envman.report.files import write_output

    write_output(Path(path), text, "the snapshot")
