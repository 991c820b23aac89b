"""What an sdist needs to build: [build-system].requires of its pyproject.toml (PEP 518).

The sdist is untrusted input: pyproject.toml is read inside the archive (no extraction to
disk), only a regular member directly under the top folder, within the member_bytes limit;
a tar archive is walked header by header and given up before it inflates past
min(index_bytes, decompress_ratio x its size) or 100,000 members. Anything unreadable, and a
[build-system] table without a list of PEP 508 `requires`, is a ResolutionError (exit 3).
"""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from envman.errors import ResolutionError

__all__ = ["build_requirements", "DEFAULT_BUILD_REQUIRES"]

DEFAULT_BUILD_REQUIRES = ["setuptools>=40.8.0", "wheel"]  # PEP 518's default for an sdist without [build-system]
_MAX_TAR_MEMBERS = 100_000


def build_requirements(sdist_path: Path) -> list[str]:
    """[build-system].requires of the sdist's pyproject.toml (PEP 518's default when the file or
    the table is absent), each a valid PEP 508 requirement. Read inside the archive, bounded."""
    import tomllib

    from envman.ecosystems.python.section import validate_python_spec

    text = _pyproject_text(Path(sdist_path))
    if text is None:
        return list(DEFAULT_BUILD_REQUIRES)
    where = f"{Path(sdist_path).name}: pyproject.toml"
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ResolutionError(f"{where} is not valid TOML ({exc})") from None
    system = data.get("build-system")
    if system is None:
        return list(DEFAULT_BUILD_REQUIRES)
    requires = system.get("requires") if isinstance(system, dict) else None
    if not isinstance(requires, list) or not all(isinstance(item, str) for item in requires):
        raise ResolutionError(f"{where}: [build-system] has no list of strings `requires` (PEP 518)")
    try:
        return [validate_python_spec(item.strip()) for item in requires]
    except ValueError as exc:
        raise ResolutionError(f"{where}: a build requirement is refused: {exc}") from None


def _is_top_pyproject(name: str) -> bool:
    parts = PurePosixPath(name.removeprefix("./")).parts
    return len(parts) == 2 and parts[1] == "pyproject.toml" and parts[0] not in ("..", "/")


def _pyproject_text(path: Path) -> str | None:
    import tarfile
    import zipfile
    import zlib

    from envman.limits import LIMITS, limit

    maximum = limit("member_bytes")
    too_big = f"{path.name}: its pyproject.toml is over {maximum:,} bytes; set {LIMITS['member_bytes'][0]} to raise it"
    try:
        if path.name.endswith(".zip"):
            with zipfile.ZipFile(path) as archive:
                info = next((i for i in archive.infolist() if _is_top_pyproject(i.filename) and not i.is_dir()), None)
                if info is None:
                    return None
                if info.file_size > maximum:
                    raise ResolutionError(too_big)
                with archive.open(info) as member:
                    data = member.read(maximum + 1)
        else:
            scanned = min(limit("index_bytes"), path.stat().st_size * limit("decompress_ratio"))
            with tarfile.open(path, mode="r:*") as archive:
                data = b""
                for _ in range(_MAX_TAR_MEMBERS):
                    item = archive.next()
                    if item is None:
                        return None
                    if _is_top_pyproject(item.name) and item.isfile():
                        if item.size > maximum:
                            raise ResolutionError(too_big)
                        handle = archive.extractfile(item)
                        data = handle.read(maximum + 1) if handle else b""
                        break
                    if item.offset_data + item.size > scanned:  # a bomb: stop before inflating it
                        raise ResolutionError(f"{path.name}: the archive inflates past its limits before its pyproject.toml")
                else:
                    raise ResolutionError(f"{path.name}: more than {_MAX_TAR_MEMBERS:,} members before its pyproject.toml")
    except (OSError, EOFError, zlib.error, tarfile.TarError, zipfile.BadZipFile) as exc:
        raise ResolutionError(f"{path.name}: not a readable sdist ({exc})") from None
    if len(data) > maximum:
        raise ResolutionError(too_big)
    return data.decode("utf-8", "replace")
