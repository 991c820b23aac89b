"""`envman init --from requirements.txt`: pip requirement files -> the python section.

Requirements as people write them: `-r` includes (relative to the including file, cycles
refused), `-c` constraints files (-> `python.constraints`), `--index-url`,
`--extra-index-url`, `--find-links`, markers, `--hash` options (dropped: the lock hashes
every artifact itself), URL, path and VCS requirements (`name @ URL`, bare URLs with
`#egg=`, wheel and sdist file names), editables (`-e git+…#egg=name`, `-e .`: installed as
plain direct references, said in a note). A line that cannot be carried over is listed with
the reason; the import goes on.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envman.ecosystems.imports import ImportContext, ImportResult, Note, Skipped
from envman.ecosystems.python.section import validate_python_spec

__all__ = ["read_requirements", "import_requirements", "local_project_name"]

_MAX_INCLUDES = 50
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._\-]*)")
_WHEEL = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._]*)-[^-]+(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")
_SDIST = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._\-]*?)-(\d[^-]*)\.(tar\.gz|zip|tar\.bz2|tgz)$")
_VCS = ("git+", "hg+", "svn+", "bzr+")
# pip options with nothing to carry over to (the lock decides binaries, hosts, hashes …)
_NO_EQUIVALENT = {
    "--trusted-host": "envman trusts the system CA bundle; add the host's CA there instead",
    "--no-binary": "envman locks the files uv chooses; no per-package binary policy",
    "--only-binary": "envman locks the files uv chooses; no per-package binary policy",
    "--prefer-binary": "envman locks the files uv chooses; no binary preference",
    "--pre": "allow pre-releases per package with an explicit pre-release specifier (name>=2.0rc1)",
    "--no-index": "envman resolves from python.index-url; use python.find-links with an empty index only by hand",
    "--use-feature": "a pip switch with no meaning for envman",
    "--use-deprecated": "a pip switch with no meaning for envman",
    "--require-hashes": "envman's lock always has hashes",
    "--config-settings": "build settings are not carried over",
    "--global-option": "build settings are not carried over",
    "--install-option": "build settings are not carried over",
}


@dataclass
class _State:
    context: ImportContext
    result: ImportResult
    packages: list[str] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    seen_files: set[Path] = field(default_factory=set)


def read_requirements(path: Path, text: str) -> dict[str, Any]:
    """The sections only (the older importer interface)."""
    return import_requirements(path, text, ImportContext(manifest_dir=Path.cwd())).sections


def import_requirements(path: Path, text: str, context: ImportContext) -> ImportResult:
    state = _State(context=context, result=ImportResult())
    _read_file(state, path, text, constraints=False)
    section: dict[str, Any] = {}
    if state.index_url:
        section["index-url"] = state.index_url
    if state.extra_index_urls:
        section["extra-index-urls"] = state.extra_index_urls
    if state.find_links:
        section["find-links"] = state.find_links
    section["packages"] = state.packages
    if state.constraints:
        section["constraints"] = state.constraints
    state.result.sections = {"python": section}
    return state.result


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """(first line number, text) with `\\` continuations joined and comments removed."""
    logical: list[tuple[int, str]] = []
    pending: tuple[int, str] | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        pending = (pending[0], pending[1] + " " + raw.strip()) if pending is not None else (number, raw)
        if pending[1].rstrip().endswith("\\"):
            pending = (pending[0], pending[1].rstrip()[:-1])
            continue
        logical.append(pending)
        pending = None
    if pending is not None:
        logical.append(pending)
    out = []
    for number, line in logical:
        line = re.sub(r"(^|\s)#.*$", "", line).strip()  # a comment starts at `#` after a space
        if line:
            out.append((number, line))
    return out


def _read_file(state: _State, path: Path, text: str, constraints: bool) -> None:
    real = path.resolve()
    if real in state.seen_files:
        state.result.skipped.append(Skipped(str(path), None, str(path), "included twice (an -r/-c cycle); read once"))
        return
    if len(state.seen_files) >= _MAX_INCLUDES:
        state.result.skipped.append(Skipped(str(path), None, str(path), f"more than {_MAX_INCLUDES} included files"))
        return
    state.seen_files.add(real)
    state.result.files.append(str(path))
    for number, line in _logical_lines(text):
        _read_line(state, path, number, line, constraints)


def _option_value(line: str, names: tuple[str, ...]) -> str | None:
    for name in names:
        if line == name:
            return ""
        if line.startswith(name + "=") and name.startswith("--"):
            return line[len(name) + 1:].strip()
        if line.startswith(name + " ") or (not name.startswith("--") and line.startswith(name) and len(line) > len(name)):
            return line[len(name):].strip().lstrip("=").strip()
    return None


def _read_line(state: _State, path: Path, number: int, line: str, constraints: bool) -> None:
    def skip(reason: str) -> None:
        state.result.skipped.append(Skipped(str(path), number, line, reason))

    if "${" in line:
        skip("environment variables are not expanded; write the value")
        return
    includes: tuple[tuple[tuple[str, ...], str], ...] = ((("-r", "--requirement"), "r"), (("-c", "--constraint"), "c"))
    for names, kind in includes:
        value = _option_value(line, names)
        if value is not None:
            _include(state, path, number, line, value, constraints or kind == "c")
            return
    options: tuple[tuple[tuple[str, ...], str], ...] = (
        (("-i", "--index-url"), "index"), (("--extra-index-url",), "extra"), (("-f", "--find-links"), "links"),
    )
    for names, key in options:
        value = _option_value(line, names)
        if value is not None:
            _index_option(state, path, number, line, key, value)
            return
    editable = _option_value(line, ("-e", "--editable"))
    if editable is not None:
        spec = _direct_spec(state, path, number, line, editable)
        if spec:
            state.result.notes.append(Note(str(path), number, f"{line} -> {spec} (installed as a plain, non-editable direct reference)"))
            (state.constraints if constraints else state.packages).append(spec)
        return
    if line.startswith("-"):
        option = line.split()[0].split("=")[0]
        reason = _NO_EQUIVALENT.get(option)
        skip(f"pip option {option}: {reason}" if reason else f"pip option {option} has no envman equivalent")
        return
    spec, hashes = _strip_hashes(line)
    if hashes:
        dropped = f"--hash options of {spec.split()[0]} dropped: envman's lock hashes every artifact"
        state.result.notes.append(Note(str(path), number, dropped))
    first = spec.split(";")[0].strip()
    if _looks_like_location(first):
        direct = _direct_spec(state, path, number, line, spec)
        if direct:
            (state.constraints if constraints else state.packages).append(direct)
        return
    spec = _rebase_direct(spec, path, state.context.manifest_dir)
    try:
        validate_python_spec(spec)
    except ValueError as exc:
        skip(str(exc))
        return
    (state.constraints if constraints else state.packages).append(spec)


def _strip_hashes(line: str) -> tuple[str, bool]:
    stripped = re.sub(r"\s+--hash[= ]\S+", "", line)
    return stripped.strip(), stripped != line


def _include(state: _State, path: Path, number: int, line: str, value: str, constraints: bool) -> None:
    if not value or "://" in value:
        state.result.skipped.append(Skipped(str(path), number, line, "only local files can be included"))
        return
    target = (path.parent / value) if not os.path.isabs(value) else Path(value)
    from envman.limits import read_regular_text

    try:
        text = read_regular_text(target, "manifest_bytes", str(target))
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        state.result.skipped.append(Skipped(str(path), number, line, f"cannot read {target}: {reason}"))
        return
    _read_file(state, target, text, constraints)


def _index_option(state: _State, path: Path, number: int, line: str, key: str, value: str) -> None:
    from envman.specs import validate_url

    if key == "links" and "://" not in value:  # a local folder, relative to the requirements file
        folder = Path(value) if os.path.isabs(value) else path.parent / value
        state.find_links.append(_relative_to(folder, state.context.manifest_dir))
        return
    try:
        validate_url(value)
    except ValueError as exc:
        state.result.skipped.append(Skipped(str(path), number, line, str(exc)))
        return
    if key == "index":
        if state.index_url and state.index_url != value:
            state.result.skipped.append(Skipped(str(path), number, line, f"a second --index-url (kept {state.index_url})"))
            return
        state.index_url = value
    elif key == "extra":
        if value not in state.extra_index_urls:
            state.extra_index_urls.append(value)
    elif value not in state.find_links:
        state.find_links.append(value)


def _looks_like_location(text: str) -> bool:
    return text.startswith(_VCS) or "://" in text or text.startswith((".", "/", "~")) or text.startswith("file:") or (
        text.endswith((".whl", ".tar.gz", ".zip")) and "==" not in text
    )


def _relative_to(target: Path, base: Path) -> str:
    try:
        rel = os.path.relpath(target.resolve(), base.resolve())
    except ValueError:
        return str(target.resolve())
    return rel if rel.startswith("..") or rel == "." else f"./{rel}"


def _direct_spec(state: _State, path: Path, number: int, line: str, location: str) -> str | None:
    """`NAME @ URL ; marker` for a bare URL, path or VCS location (or `-e` value), or None
    (skipped, with the reason) when the name cannot be told."""
    location, _, marker = location.partition(";")
    location = location.strip()
    marker = marker.strip()
    def skip(reason: str) -> None:
        state.result.skipped.append(Skipped(str(path), number, line, reason))

    if " @ " in location:  # `-e name @ url`
        spec = _rebase_direct(location, path, state.context.manifest_dir)
    else:
        name = None
        egg = _EGG.search(location)
        if egg:
            name = egg.group(1)
            location = re.sub(r"[#&]egg=[^&]*", "", location).rstrip("#&")
        url = location
        if url.startswith(_VCS) or "://" in url:
            if name is None:
                name = _name_from_file(url.rsplit("/", 1)[-1].split("#")[0].split("?")[0])
            if name is None:
                skip("cannot tell the package name of this URL; write it as NAME @ URL (or add #egg=NAME)")
                return None
        else:
            local = Path(os.path.expanduser(url.removeprefix("file:")))
            local = local if local.is_absolute() else path.parent / local
            name = name or _name_from_file(local.name) or local_project_name(local)
            if name is None:
                skip(f"cannot tell the package name of {url} (no pyproject.toml, setup.cfg or setup.py name there); "
                     "write it as NAME @ file:PATH")
                return None
            url = f"file:{_relative_to(local, state.context.manifest_dir)}"
        spec = f"{name} @ {url}"
    if marker:
        spec += f" ; {marker}"
    try:
        validate_python_spec(spec)
    except ValueError as exc:
        skip(str(exc))
        return None
    return spec


def _rebase_direct(spec: str, path: Path, manifest_dir: Path) -> str:
    """A `name @ file:relative` requirement, relative to the requirements file, made relative
    to the manifest (other specs are returned as they are)."""
    match = re.match(r"^(?P<head>[^@;]+?)\s*@\s*(?P<url>[^\s;]+)(?P<tail>.*)$", spec)
    if not match:
        return spec
    url = match.group("url")
    relative = url.removeprefix("file:") if url.startswith("file:") and not url.startswith("file://") else (
        url if url.startswith(".") else None
    )
    if relative is None:
        return spec
    rebased = _relative_to(path.parent / relative, manifest_dir)
    return f"{match.group('head')} @ file:{rebased}{match.group('tail')}"


def _name_from_file(filename: str) -> str | None:
    for pattern in (_WHEEL, _SDIST):
        match = pattern.match(filename)
        if match:
            return match.group(1)
    return None


def local_project_name(folder: Path) -> str | None:
    """The project name of a local folder: pyproject.toml [project].name, setup.cfg
    [metadata] name, or a literal `name=` in setup.py."""
    import configparser
    import tomllib

    try:
        data = tomllib.loads((folder / "pyproject.toml").read_text(encoding="utf-8"))
        name = data.get("project", {}).get("name")
        if isinstance(name, str):
            return name
        poetry = data.get("tool", {}).get("poetry", {}).get("name")
        if isinstance(poetry, str):
            return poetry
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        pass
    parser = configparser.ConfigParser()
    try:
        parser.read(folder / "setup.cfg", encoding="utf-8")
        if parser.has_option("metadata", "name"):
            return parser.get("metadata", "name")
    except (configparser.Error, UnicodeDecodeError):
        pass
    try:
        setup = (folder / "setup.py").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    match = re.search(r"""\bname\s*=\s*['"]([A-Za-z0-9][A-Za-z0-9._\-]*)['"]""", setup)
    return match.group(1) if match else None

