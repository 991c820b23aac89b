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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from envman.ecosystems.base import InstalledPackage
from envman.errors import BadInputError

__all__ = ["SNAPSHOT_VERSION", "Snapshot", "load_snapshot", "dump_snapshot", "parse_snapshot", "write_snapshot"]

SNAPSHOT_VERSION = 1


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
        isinstance(runtimes, dict) and all(isinstance(v, str) for v in runtimes.values()),
        source,
        "`runtimes` must map names to version strings",
    )
    environment = data.get("environment", {})
    _require(isinstance(environment, dict), source, "`environment` must be an object")
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
            out.append(InstalledPackage(eco, name, ver, loc, sha, extra))
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
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInputError(f"{path}: no such snapshot file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read the snapshot: {exc}") from None
    return parse_snapshot(text, str(path))


def write_snapshot(path: Path, text: str) -> None:
    """Write atomically (temp file in the same folder, then rename): readers never see half a snapshot."""
    from envman.atomic import atomic_write_text

    try:
        atomic_write_text(Path(path), text)
    except OSError as exc:
        raise BadInputError(f"{path}: cannot write the snapshot: {exc.strerror}") from None
