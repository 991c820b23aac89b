"""`envman init --from FILE…`: other tools' files -> one manifest, never silently.

read.py finds the ecosystem importer of each file and runs it; merge.py merges the sections
of several files (conflicting pins and settings are reported, the first kept); summary.py
words what could not be carried over; render.py writes the commented manifest; discover.py
finds importable files in a folder (`envman init` with no --from).
"""

from __future__ import annotations

from envman.importing.discover import importable_files
from envman.importing.merge import merge_sections
from envman.importing.read import ImportOutcome, import_file, import_files
from envman.importing.render import render_manifest
from envman.importing.summary import summary_lines

__all__ = ["ImportOutcome", "import_file", "import_files", "merge_sections", "render_manifest", "summary_lines", "importable_files"]
