"""What an importer for `envman init --from FILE` gives back, beside the manifest sections.

An importer carries over everything it can and lists, for the rest, each line it could not
carry over and why (`Skipped`), and each change it made that the user should know about
(`Note`: an editable install that becomes a plain one, a range read as a version). Nothing
is dropped or changed silently (docs/adoption.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Skipped", "Note", "ImportResult", "ImportContext"]


@dataclass(frozen=True)
class Skipped:
    """A line (or entry) of FILE that is not in the manifest, and why."""

    file: str
    line: int | None
    text: str
    reason: str


@dataclass(frozen=True)
class Note:
    """Something carried over differently from how the file said it."""

    file: str
    line: int | None
    text: str


@dataclass
class ImportResult:
    sections: dict[str, Any] = field(default_factory=dict)  # manifest sections (and `environments`)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # files read (a requirements file's -r includes too)


@dataclass(frozen=True)
class ImportContext:
    """What an importer may consult: where the manifest will be (paths are written relative
    to it) and repositories to fetch from (a POM's parent outside the project)."""

    manifest_dir: Path
    repositories: tuple[str, ...] = ()
    http: Any = None  # envman.http.HttpClient, when an importer needs the network
