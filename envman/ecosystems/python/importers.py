"""`envman init --from requirements.txt`: pip requirement files -> the python section."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from envman.ecosystems.python.section import validate_python_spec
from envman.errors import LocatedError
from envman.specs import validate_url

__all__ = ["read_requirements"]


def read_requirements(path: Path, text: str) -> dict[str, Any]:
    packages: list[str] = []
    index_url = None
    logical: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        if pending is not None:
            pending = (pending[0], pending[1] + " " + raw.strip())
        else:
            pending = (number, raw)
        if pending[1].rstrip().endswith("\\"):
            pending = (pending[0], pending[1].rstrip()[:-1])
            continue
        logical.append(pending)
        pending = None
    if pending is not None:
        logical.append(pending)
    for number, raw in logical:
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("--index-url", "-i ")):
            index_url = line.split(None, 1)[1].strip() if " " in line else line.split("=", 1)[1]
            try:
                validate_url(index_url)
            except ValueError as exc:
                raise LocatedError(str(path), number, 1, f"--index-url: {exc}") from None
            continue
        if line.startswith("-"):
            raise LocatedError(str(path), number, 1, f"option {line.split()[0]!r} cannot be imported; add it to envman.yaml by hand")
        line = re.sub(r"\s+--hash=\S+", "", line).rstrip(" \\")
        try:
            validate_python_spec(line)
        except ValueError as exc:
            raise LocatedError(str(path), number, 1, str(exc)) from None
        packages.append(line)
    section: dict[str, Any] = {"packages": packages}
    if index_url:
        section["index-url"] = index_url
    return {"python": section}
