"""Files in a folder that `envman init` can import (offered when no --from is given)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["importable_files", "CANDIDATES"]

# What projects keep at their top, in the order offered (the first names of each tool).
CANDIDATES = (
    "pyproject.toml", "requirements.txt", "requirements.in", "requirements-dev.txt", "dev-requirements.txt",
    "environment.yml", "environment.yaml", "conda-lock.yml", "renv.lock", "DESCRIPTION", "pom.xml",
)


def importable_files(folder: Path) -> list[Path]:
    """The candidate files present in folder (regular files only), in CANDIDATES order."""
    found = []
    for name in CANDIDATES:
        path = folder / name
        if path.is_file() and not path.is_symlink():
            found.append(path)
    return found
