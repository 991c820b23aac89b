"""`envman init --from pom.xml` -> the jvm section."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["read_pom", "import_pom_file"]


def read_pom(path: Path, text: str) -> dict[str, Any]:
    """Compile/runtime dependencies, with properties, local parents and management applied."""
    from envman.ecosystems.jvm.project import dependencies_from_pom

    return dependencies_from_pom(path)


def import_pom_file(path: Path, text: str, context: Any) -> Any:
    """The fuller form: parents and BOMs outside the project fetched from the repositories."""
    from envman.ecosystems.jvm.project import import_pom

    return import_pom(path, context)
