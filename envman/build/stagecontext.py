"""The build context of one stage: the Dockerfile plus only the files that stage's COPY/ADD
lines name, so the system stage (built first, alone, to check the base's runtimes) does not
upload the whole context (GBs of wheels) a second time.

The tar is made by the docker SDK's own `create_archive` from the same files with the same
headers as the whole context, so the engine hashes those files alike and the whole build
finds the system stage's steps in its cache."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import IO, Any

__all__ = ["stage_sources", "stage_context"]

_FROM = re.compile(r"^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$", re.IGNORECASE)
_GLOB = frozenset("*?[")


def stage_sources(dockerfile: str, stage: str) -> list[str] | None:
    """Context paths the COPY/ADD lines of `stage` (and of the stages it is made FROM) read;
    None when that cannot be told for sure (a wildcard, a URL, a line not understood)."""
    from envman.render.groups import logical_lines

    stages: dict[str, tuple[str, list[str]]] = {}
    current: list[str] | None = None
    for line in logical_lines(dockerfile):
        if line.startswith("#"):
            continue
        match = _FROM.match(line)
        if match:
            current = []
            stages[(match.group(2) or f"#{len(stages)}").lower()] = (match.group(1).lower(), current)
        elif current is not None:
            current.append(line)
        elif not line.upper().startswith("ARG "):
            return None
    sources: list[str] = []
    name, seen = stage.lower(), set()
    while name in stages and name not in seen:
        seen.add(name)
        parent, lines = stages[name]
        for line in lines:
            word, _, rest = line.partition(" ")
            if word.upper() not in ("COPY", "ADD"):
                continue
            found = _sources(rest.strip())
            if found is None:
                return None
            sources += found
        name = parent
    if name in seen:
        return None
    return sources


def _sources(rest: str) -> list[str] | None:
    args: list[str]
    if rest.startswith("["):
        try:
            parsed = json.loads(rest)
        except ValueError:
            return None
        if not isinstance(parsed, list) or not all(isinstance(a, str) for a in parsed):
            return None
        args = parsed
    else:
        args = rest.split()
    while args and args[0].startswith("--"):
        if args[0].startswith("--from"):
            return []
        args = args[1:]
    if len(args) < 2:
        return None
    out = []
    for source in args[:-1]:
        if _GLOB & set(source) or "://" in source or source.startswith(("/", "..")) or "/../" in source:
            return None
        path = os.path.normpath(source)
        if path == ".":
            return None  # the whole context: nothing to leave out
        out.append(path)
    return out


def stage_context(root: Path, sources: list[str], fileobj: IO[bytes]) -> IO[bytes]:
    """A tar of the Dockerfile and `sources` (folders with all they hold) under `root`."""
    from docker.utils.build import create_archive

    names: set[str] = {"Dockerfile"}
    for source in sources:
        path = root / source
        names.add(source)
        if path.is_dir():
            for folder, dirs, files in os.walk(path):
                rel = os.path.relpath(folder, root)
                names.update(os.path.join(rel, d) for d in dirs)
                names.update(os.path.join(rel, f) for f in files)
    result: Any = create_archive(str(root), files=sorted(names), fileobj=fileobj)
    return result  # type: ignore[no-any-return]
