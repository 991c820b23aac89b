"""`envman init --from pom.xml`: a project's own dependencies, read as Maven reads them.

The project's POM and the parents found locally through `<relativePath>` (default
`../pom.xml`) are built into an effective model (profiles, properties, inherited
dependencies, dependencyManagement). A parent or imported BOM outside the project is fetched,
as Maven does, from the repositories given (`init --repository URL`, else Maven Central);
those repositories become `jvm.repositories`.
Compile and runtime dependencies become manifest items; test, provided and system ones are
left out (they never reach a runtime classpath). A dependency whose version cannot be told
is listed as not carried over, naming it; the others are imported.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from envman.ecosystems.base import ImportResult, Note, Skipped
from envman.ecosystems.jvm.activation import ActivationContext
from envman.ecosystems.jvm.model import Gav, ModelBuilder, ModelError
from envman.ecosystems.jvm.pom import PomError, RawPom, parent_relative_path, parse_pom
from envman.ecosystems.jvm.repository import DEFAULT_REPOSITORY, MavenRepositories
from envman.errors import BadInputError, ResolutionError, UnreachableError
from envman.limits import read_regular_file
from envman.redact import redact_url

__all__ = ["dependencies_from_pom", "import_pom"]


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
    from envman.ecosystems.base import ImportContext

    return import_pom(path, ImportContext(manifest_dir=Path.cwd()), java, remote=False).sections


def import_pom(path: Path, context: Any, java: str = "17", remote: bool = True) -> ImportResult:
    """The jvm section of a project's pom.xml, each dependency it could not carry over listed."""
    result = ImportResult(files=[str(path)])
    try:
        local = _local_lineage(path)
    except PomError as exc:
        raise BadInputError(str(exc)) from None
    own = next(iter(local))
    urls = list(getattr(context, "repositories", ()) or ())
    urls = urls or [DEFAULT_REPOSITORY]
    remote_poms: list[MavenRepositories] = []
    fetched: list[str] = []

    def fetch(gav: Gav) -> RawPom:
        if gav in local:
            return local[gav]
        if not remote:
            raise ModelError(f"{':'.join(gav)} is not in this project (envman init reads no repository)")
        if not remote_poms:
            from envman.cache import ArtifactCache
            from envman.http import HttpClient

            remote_poms.append(MavenRepositories(urls, HttpClient(), ArtifactCache()))
        fetched.append(":".join(gav))
        return remote_poms[0].raw_pom(gav)

    try:
        model = ModelBuilder(fetch, ActivationContext(java=java)).build(own)
    except (ModelError, PomError, ResolutionError, UnreachableError) as exc:
        first = str(exc).splitlines()[0]
        result.skipped.append(Skipped(str(path), None, ":".join(own), f"its effective POM cannot be built: {first}"
                                      + ("" if getattr(context, "repositories", ()) else "; pass --repository URL")))
        return result
    finally:
        for repos in remote_poms:
            repos.close()
    items: list[Any] = []
    for dep in model.dependencies:
        scope = dep.scope or "compile"
        if scope not in ("compile", "runtime"):
            continue
        name = f"{dep.group}:{dep.artifact}"
        if not dep.version or "${" in (dep.version + (dep.group or "") + (dep.artifact or "")):
            unknown = dep.version or "managed outside this project"
            result.skipped.append(Skipped(str(path), None, name, f"no version envman can read here ({unknown})"))
            continue
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
    section: dict[str, Any] = {}
    if fetched:
        section["repositories"] = [redact_url(u) for u in urls]
        result.notes.append(Note(str(path), None, f"read {', '.join(sorted(set(fetched)))} from {', '.join(redact_url(u) for u in urls)}"))
    section["dependencies"] = items
    result.sections = {"jvm": section}
    return result
