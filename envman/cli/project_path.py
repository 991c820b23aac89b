"""Which envman.yaml a command means: `-f FILE`, else `--project DIR`, else the nearest
envman.yaml in this folder or a parent (as uv and pixi find their projects). Standard
library only: the `lock --check` fast path uses it too."""

from __future__ import annotations

import os

__all__ = ["MANIFEST_NAME", "find_manifest"]

MANIFEST_NAME = "envman.yaml"


def find_manifest(file: str | None, project: str | None = None, start: str | None = None) -> str:
    """The manifest path to use. Without -f and --project, walk up from `start` (the current
    folder) to the first folder holding envman.yaml; when there is none, `envman.yaml` (so the
    error names the file that was expected)."""
    if file:
        return file
    if project:
        return os.path.join(project, MANIFEST_NAME)
    here = os.path.abspath(start or os.getcwd())
    folder = here
    while True:
        candidate = os.path.join(folder, MANIFEST_NAME)
        if os.path.lexists(candidate):
            return os.path.relpath(candidate, here) if folder != here else MANIFEST_NAME
        parent = os.path.dirname(folder)
        if parent == folder:
            return MANIFEST_NAME
        folder = parent
