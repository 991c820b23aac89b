"""`envman init --from environment.yml | conda-lock.yml`: conda packages -> manifest sections.

environment.yml: its channels (`nodefaults` dropped) and dependencies as written, its pip
list as the python section. conda-lock.yml (version 1 or 2): its channels, and its top-level
packages (those no other package of the file depends on) pinned to the locked version and
build (`name ==1.2 build_0`; version only when platforms differ in build, name only when
they differ in version); `envman lock` solves the rest again. pip packages of a conda-lock
file go to the python section as `name==version`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from envman.errors import LocatedError

__all__ = ["read_environment_yml", "read_conda_lock", "is_conda_lock"]


def _load(path: Path, text: str) -> Any:
    """YAML data; hostile YAML (aliases, deep nesting) is refused before it is built."""
    import yaml

    from envman.yamlguard import check_yaml

    check_yaml(text, str(path), path.name)
    try:
        return yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise LocatedError(str(path), None, None, f"invalid YAML: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise LocatedError(str(path), None, None, f"invalid YAML: {str(exc)[:200]}") from None


def is_conda_lock(data: Any) -> bool:
    return isinstance(data, dict) and "package" in data and "metadata" in data and data.get("version") in (1, 2)


def read_environment_yml(path: Path, text: str) -> dict[str, Any]:
    """environment.yml -> the conda (and python) sections; a conda-lock file given under
    another name is read as one. A file of another shape is exit 2 naming it."""
    data = _load(path, text)
    if is_conda_lock(data):
        return _from_conda_lock(path, data)
    if not isinstance(data, dict):
        raise LocatedError(str(path), 1, 1, "not a conda environment file (expected a mapping with `dependencies:`)")
    dependencies = data.get("dependencies") or []
    if not isinstance(dependencies, list):
        raise LocatedError(str(path), None, None, "`dependencies` is not a list")
    conda: list[str] = []
    pip: list[str] = []
    for dep in dependencies:
        if isinstance(dep, dict) and "pip" in dep:
            if not isinstance(dep["pip"], list):
                raise LocatedError(str(path), None, None, "`pip` under `dependencies` is not a list")
            pip.extend(str(x) for x in dep["pip"])
        elif isinstance(dep, str):
            conda.append(dep)
    result: dict[str, Any] = {}
    if conda:
        channels = data.get("channels", ["conda-forge"])
        if not isinstance(channels, list):
            raise LocatedError(str(path), None, None, "`channels` is not a list")
        result["conda"] = {"channels": [str(c) for c in channels if str(c) != "nodefaults"], "packages": conda}
    if pip:
        result["python"] = _pip_section(pip)
    return result


def import_environment_yml(path: Path, text: str, context: Any) -> Any:
    """The fuller form (issue 14): the `pip:` lines read as requirements files are (the Python
    importer: `-e git+…#egg=`, `-e .`, URLs, options), each line not carried over listed."""
    from envman.ecosystems.base import ImportResult, Note, Skipped
    from envman.ecosystems.python.importers import import_requirements

    sections = read_environment_yml(path, text)
    result = ImportResult(sections=sections, files=[str(path)])
    data = _load(path, text)
    if is_conda_lock(data) or not isinstance(data, dict) or not isinstance(data.get("dependencies"), list):
        return result
    pip = [str(x) for dep in data["dependencies"] if isinstance(dep, dict) and isinstance(dep.get("pip"), list) for x in dep["pip"]]
    if not pip:
        return result
    found = import_requirements(path, "\n".join(pip) + "\n", context)
    result.sections["python"] = found.sections["python"]
    result.skipped.extend(Skipped(s.file, None, f"pip: {s.text}", s.reason) for s in found.skipped)
    result.notes.extend(Note(n.file, None, f"pip: {n.text}") for n in found.notes)
    return result


def _pip_section(lines: list[str]) -> dict[str, Any]:
    """An environment.yml's `pip:` list as the python section: requirements, and the index
    options pip reads there (`--index-url`, `--extra-index-url`); other options are dropped."""
    section: dict[str, Any] = {}
    packages = []
    for line in lines:
        option, _, value = line.strip().partition(" ")
        if option == "--index-url" and value.strip():
            section["index-url"] = value.strip()
        elif option == "--extra-index-url" and value.strip():
            section.setdefault("extra-index-urls", []).append(value.strip())
        elif not line.strip().startswith("-"):
            packages.append(line.strip())
    section["packages"] = packages
    return section


def read_conda_lock(path: Path, text: str) -> dict[str, Any]:
    """conda-lock.yml -> the conda (and python) sections (see the module's docstring)."""
    data = _load(path, text)
    if not is_conda_lock(data):
        raise LocatedError(str(path), 1, 1, "not a conda-lock file (expected `version: 1` or `2`, `metadata:` and `package:`)")
    return _from_conda_lock(path, data)


def _from_conda_lock(path: Path, data: dict[str, Any]) -> dict[str, Any]:
    packages = data.get("package")
    metadata = data.get("metadata")
    if not isinstance(packages, list) or not isinstance(metadata, dict):
        raise LocatedError(str(path), None, None, "`package` is not a list or `metadata` not a mapping")
    conda: dict[str, dict[str, tuple[str, str]]] = {}  # name -> platform -> (version, build)
    needed: set[str] = set()
    pip: dict[str, str] = {}
    for item in packages:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise LocatedError(str(path), None, None, "a `package` item has no name")
        name, version = item["name"], str(item.get("version", ""))
        deps = item.get("dependencies") or {}
        if not isinstance(deps, dict):
            raise LocatedError(str(path), None, None, f"`dependencies` of {name!r} is not a mapping")
        if item.get("manager") == "pip":
            pip.setdefault(name, version)
            continue
        needed.update(str(dep).lower() for dep in deps)
        build = str(item.get("build") or _build_from_url(str(item.get("url", ""))))
        conda.setdefault(name, {})[str(item.get("platform", ""))] = (version, build)
    specs = []
    for name in sorted(conda):
        if name.lower() in needed or name.startswith("__"):
            continue
        pins = set(conda[name].values())
        versions = {version for version, _build in pins}
        if len(pins) == 1:
            version, build = next(iter(pins))
            specs.append(f"{name} =={version} {build}" if build else f"{name} =={version}")
        elif len(versions) == 1:
            specs.append(f"{name} =={next(iter(versions))}")
        else:
            specs.append(name)
    channels = []
    for channel in metadata.get("channels") or []:
        url = channel.get("url") if isinstance(channel, dict) else channel
        if isinstance(url, str) and url and url != "nodefaults":
            channels.append(url)
    result: dict[str, Any] = {}
    if specs:
        result["conda"] = {"channels": channels or ["conda-forge"], "packages": specs}
    if pip:
        # pip packages a conda package depends on are not roots either
        result["python"] = {"packages": [f"{name}=={version}" for name, version in sorted(pip.items()) if name.lower() not in needed]}
    return result


def _build_from_url(url: str) -> str:
    """The build string of a package file name (`name-version-build.conda`)."""
    stem = url.rsplit("/", 1)[-1]
    for suffix in (".conda", ".tar.bz2"):
        stem = stem.removesuffix(suffix)
    parts = stem.rsplit("-", 2)
    return parts[2] if len(parts) == 3 else ""
