"""`envman init --from pom.xml`: a project's own dependencies, read as Maven reads them.

The project's POM and the parents found locally through `<relativePath>` (default
`../pom.xml`) are built into an effective model (profiles, properties, inherited
dependencies, dependencyManagement), without any network. Compile and runtime dependencies
become manifest items; test, provided and system ones are left out (they never reach a
runtime classpath). A version that only a parent or BOM outside the project could supply is
reported, naming the dependency, so it can be written by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from envman.ecosystems.jvm.activation import ActivationContext
from envman.ecosystems.jvm.model import Gav, ModelBuilder, ModelError
from envman.ecosystems.jvm.pom import PomError, RawPom, parent_relative_path, parse_pom
from envman.errors import BadInputError
from envman.limits import read_regular_file

__all__ = ["dependencies_from_pom"]


def _local_lineage(path: Path) -> dict[Gav, RawPom]:
    poms: dict[Gav, RawPom] = {}
    current = path.resolve()
    seen: set[Path] = set()
    while current not in seen and current.is_file():
        seen.add(current)
        try:  # a regular file within the manifest_bytes limit (a FIFO or /dev/zero is refused)
            data = read_regular_file(current, "manifest_bytes", str(current))
        except OSError as exc:
            raise BadInputError(f"{current}: cannot read: {exc.strerror}") from None
        raw = parse_pom(data, str(current))
        parent = raw.parent
        group = raw.group or (parent[0] if parent else "")
        version = raw.version or (parent[2] if parent else "")
        poms[(group, raw.artifact or "", version)] = raw
        if parent is None:
            break
        relative = parent_relative_path(data, str(current)) or "../pom.xml"
        candidate = (current.parent / relative).resolve()
        if candidate.is_dir():
            candidate = candidate / "pom.xml"
        current = candidate
    return poms


def dependencies_from_pom(path: Path, java: str = "17") -> dict[str, Any]:
    """{"jvm": {"dependencies": [...]}} for a project's pom.xml (manifest items)."""
    try:
        local = _local_lineage(path)
    except PomError as exc:
        raise BadInputError(str(exc)) from None
    own = next(iter(local))

    def fetch(gav: Gav) -> RawPom:
        if gav in local:
            return local[gav]
        raise ModelError(f"{':'.join(gav)} is not in this project (envman init reads no repository)")

    try:
        model = ModelBuilder(fetch, ActivationContext(java=java)).build(own)
    except ModelError as exc:
        raise BadInputError(f"{path}: {exc}") from None
    items: list[Any] = []
    for dep in model.dependencies:
        scope = dep.scope or "compile"
        if scope not in ("compile", "runtime"):
            continue
        name = f"{dep.group}:{dep.artifact}"
        if not dep.version or "${" in (dep.version + (dep.group or "") + (dep.artifact or "")):
            raise BadInputError(
                f"{path}: dependency {name} has no version envman can read here "
                f"({dep.version or 'managed outside this project'}); add it by hand"
            )
        coords = f"{name}:{dep.version}"
        if dep.classifier:
            coords += f":{dep.classifier}"
        if dep.type and dep.type != "jar":
            coords += f"@{dep.type}"
        exclusions = [f"{g}:{a}" for g, a in dep.exclusions if g and a]
        if scope == "compile" and not exclusions:
            items.append(coords)
        else:
            item: dict[str, Any] = {"artifact": coords}
            if scope != "compile":
                item["scope"] = scope
            if exclusions:
                item["exclusions"] = exclusions
            items.append(item)
    return {"jvm": {"dependencies": items}}
