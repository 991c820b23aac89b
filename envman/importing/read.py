"""Read each file with the first ecosystem importer that claims its name (the fallback last)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envman.ecosystems.base import ImportContext, ImportResult, Note, Skipped
from envman.errors import BadInputError
from envman.importing.merge import merge_sections

__all__ = ["ImportOutcome", "import_file", "import_files"]


@dataclass
class ImportOutcome:
    sections: dict[str, Any] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    files: list[str] = field(default_factory=list)  # every file read, includes too


def _read_text(path: Path) -> str:
    from envman.limits import read_regular_text

    try:
        return read_regular_text(path, "manifest_bytes", str(path))
    except UnicodeDecodeError:
        raise BadInputError(f"{path}: cannot read: not UTF-8 text") from None
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read: {exc.strerror or exc}") from None


def import_file(path: Path, context: ImportContext | None = None) -> ImportResult:
    """One file's sections, lines not carried over and notes (its importer's result)."""
    from envman import ecosystems

    context = context or ImportContext(manifest_dir=Path.cwd())
    text = _read_text(path)
    name = path.name.lower()
    importers = [imp for eco in ecosystems.all_ecosystems() for imp in eco.importers()]
    for importer in sorted(importers, key=lambda imp: imp.fallback):
        if importer.matches(name):
            if importer.read_in is not None:
                result = importer.read_in(path, text, context)
                if not isinstance(result, ImportResult):
                    raise TypeError(f"{importer.description}: read_in returned {type(result).__name__}")
                return result
            return ImportResult(sections=importer.read(path, text), files=[str(path)])
    raise BadInputError(f"{path}: no importer reads this kind of file")


def import_files(paths: list[Path], context: ImportContext) -> ImportOutcome:
    """Every file imported and merged in the order given; a file that no importer reads, or
    that cannot be read, is exit 2 (an argument error); inside files nothing stops the import."""
    outcome = ImportOutcome()
    for path in paths:
        result = import_file(path, context)
        outcome.skipped.extend(result.skipped)
        outcome.notes.extend(result.notes)
        outcome.files.extend(result.files or [str(path)])
        outcome.sections, conflicts = merge_sections(outcome.sections, result.sections, str(path))
        outcome.skipped.extend(conflicts)
    outcome.sections = _ordered(outcome.sections)
    return outcome


def _ordered(sections: dict[str, Any]) -> dict[str, Any]:
    """Ecosystem sections in registry order, then the rest, `environments` last."""
    from envman import ecosystems

    names = [n for n in ecosystems.names() if n in sections]
    rest = [k for k in sections if k not in names and k != "environments"]
    tail = ["environments"] if "environments" in sections else []
    return {key: _fields_in_model_order(key, sections[key]) if key in names else sections[key] for key in [*names, *rest, *tail]}


def _fields_in_model_order(ecosystem: str, section: Any) -> Any:
    """A section's keys in the order its model declares them (version before packages)."""
    from envman import ecosystems

    if not isinstance(section, dict):
        return section
    fields = ecosystems.get(ecosystem).section_model().model_fields
    order = [info.alias or name for name, info in fields.items()] + [name.replace("_", "-") for name in fields]
    rank = {key: index for index, key in enumerate(order)}
    return dict(sorted(section.items(), key=lambda item: rank.get(item[0], len(rank))))
