"""The protocol every ecosystem implements, and the data that crosses it.

Ecosystems compose (a registry orders them); none subclasses another. Each takes its
inputs as values and gets I/O (HTTP, cache, subprocess runner) passed in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Protocol, Sequence

if TYPE_CHECKING:  # annotations only: keeps pydantic off the import path of `envman check`
    from pydantic import BaseModel

__all__ = [
    "ResolveRequest",
    "Services",
    "InstalledPackage",
    "Runner",
    "RunResult",
    "Fragment",
    "Ecosystem",
]


@dataclass(frozen=True)
class Services:
    """I/O handed to ecosystems: one HTTP client, one cache, a progress callback."""

    http: Any
    cache: Any
    progress: Callable[[str], None] = lambda message: None


@dataclass(frozen=True)
class ResolveRequest:
    """What to resolve for one ecosystem.

    environments: environment name -> its requirements (top-level set plus its additions),
    as written in the manifest (strings, or JvmDependency objects for jvm).
    previous: environment -> platform -> entries of the old lock, used as preferences
    (keep these pins unless a requirement forbids them or an upgrade is asked for).
    """

    section: Any
    environments: dict[str, list[Any]]
    platforms: list[str]
    previous: dict[str, dict[str, list[BaseModel]]] = field(default_factory=dict)
    upgrade: bool = False
    upgrade_packages: frozenset[str] = frozenset()
    offline: bool = False
    project_dir: str = "."


@dataclass(frozen=True)
class InstalledPackage:
    """One package found in a live environment."""

    ecosystem: str
    name: str
    version: str
    location: str | None = None
    sha256: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunResult:
    returncode: int
    stdout: bytes
    stderr: bytes


class Runner(Protocol):
    """Runs commands and reads files where a target lives (this machine, a container)."""

    def run(self, argv: Sequence[str], input: bytes | None = None, timeout: float = 120) -> RunResult: ...

    def read_file(self, path: str) -> bytes: ...


@dataclass(frozen=True)
class Fragment:
    """Data an ecosystem contributes to an image (never Dockerfile text)."""

    ecosystem: str
    apt: list[str] = field(default_factory=list)
    files: dict[str, bytes] = field(default_factory=dict)
    steps: list[dict[str, Any]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)


class Ecosystem(Protocol):
    name: str
    export_formats: tuple[str, ...]

    def resolve(self, request: ResolveRequest, services: Services) -> dict[str, dict[str, list[BaseModel]]]:
        """environment -> platform -> locked entries. One resolution shared by all environments."""

    def export(self, entries: list[BaseModel], fmt: str, context: dict[str, Any]) -> str: ...
