"""Which of a locked version's files a platform's hashes cover (pure: no I/O).

A platform's hashes are the sha256 of every file that any machine of that platform may
install for the lock's CPython X.Y, and nothing else:

- the sdist (a machine for which no wheel fits builds it);
- every wheel whose tags (packaging.utils.parse_wheel_filename) meet the platform's
  supported tags (envman.ecosystems.python.artifacts.supported_tags): for linux-64 and
  linux-aarch64 every manylinux level (glibc 2.5 up: manylinux1, 2010, 2014, manylinux_2_X),
  for osx-64 and osx-arm64 every macOS level plus the universal2 (and, on Intel, the older
  fat) wheels, for win-64 win_amd64; with the abi3 and pure-Python (py3-none-any) wheels.

Not covered: musllinux wheels (linux-64 means glibc, as in conda), plain linux_* wheels (not
portable), other architectures, other Python versions. The file names come from the index
(uv's universal pylock.toml, see compilers.pylock_files_with_uv); a locked hash whose file
the index no longer names for that version is dropped, and an entry the listing does not
know at all keeps its hashes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from envman.ecosystems.python.entry import PythonEntry

__all__ = ["FileNames", "pin_layers", "platform_hashes", "narrow_entries", "file_installs"]

FileNames = Mapping[tuple[str, str], Mapping[str, str]]  # (name, normalized version) -> {sha256 hex: file name}


def normal_version(version: str) -> str:
    from packaging.version import InvalidVersion, Version

    try:
        return str(Version(version))
    except InvalidVersion:
        return version


def pin_layers(entries: Iterable[PythonEntry]) -> list[list[str]]:
    """`name==version` pins of every hashed entry, split so that no layer names a project twice
    (a project locked at different versions on different platforms goes into several layers)."""
    versions: dict[str, set[str]] = {}
    for entry in entries:
        if entry.hashes:
            versions.setdefault(entry.name, set()).add(entry.version)
    layers: list[list[str]] = []
    for name in sorted(versions):
        for depth, version in enumerate(sorted(versions[name])):
            if depth == len(layers):
                layers.append([])
            layers[depth].append(f"{name}=={version}")
    return layers


def file_installs(filename: str, python_version: str, platform: str) -> bool:
    """Whether a machine of platform with CPython python_version may install this file: an
    sdist always may; a wheel when one of its tags is supported there."""
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    from envman.ecosystems.python.artifacts import supported_tags

    if not filename.endswith(".whl"):
        return True  # an sdist (the listing names only wheels and sdists)
    try:
        _, _, _, tags = parse_wheel_filename(filename)
    except InvalidWheelFilename:
        return False
    return not tags.isdisjoint(supported_tags(python_version, platform))


def platform_hashes(entry: PythonEntry, files: FileNames, python_version: str, platform: str) -> list[str]:
    """entry's hashes narrowed to the files of platform (unchanged when files does not know the
    entry, or when nothing would be left: the lock then says what the resolver gave)."""
    named = files.get((entry.name, normal_version(entry.version)))
    if not named:
        return entry.hashes
    kept = []
    for digest in entry.hashes:
        name = named.get(digest.removeprefix("sha256:").lower())
        if name and file_installs(name, python_version, platform):
            kept.append(digest)
    return kept or entry.hashes


def narrow_entries(entries: Sequence[PythonEntry], files: FileNames, python_version: str, platform: str) -> list[PythonEntry]:
    out = []
    for entry in entries:
        hashes = platform_hashes(entry, files, python_version, platform)
        out.append(entry if hashes == entry.hashes else entry.model_copy(update={"hashes": hashes}))
    return out
