"""Lock models, canonical (byte-stable) read and write, and manifest hashing."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from envman.atomic import atomic_write_text
from envman.errors import BadInputError, LocatedError
from envman.lockfast import content_digest, stale_sections

__all__ = [
    "Lock",
    "PlatformLock",
    "PythonEntry",
    "REntry",
    "JvmEntry",
    "CondaEntry",
    "ImagePin",
    "ENTRY_MODELS",
    "manifest_hashes",
    "stale_sections",
    "read_lock",
    "dump_lock",
    "write_lock_atomic",
    "lock_path_for",
    "atomic_write_text",
]


def _hyphen(name: str) -> str:
    return name.replace("_", "-")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=_hyphen, populate_by_name=True)


class PythonEntry(_Strict):
    name: str
    version: str
    hashes: list[str] = []
    requires: list[str] = []
    source: str | None = None
    marker: str | None = None


class REntry(_Strict):
    name: str
    version: str
    sha256: str
    repository: str
    url: str
    md5: str | None = None
    requires: list[str] = []
    needs_compilation: bool | None = None


class JvmEntry(_Strict):
    name: str
    version: str
    sha256: str
    url: str
    scope: Literal["compile", "runtime"] = "compile"
    type: str = "jar"
    requires: list[str] = []


class CondaEntry(_Strict):
    name: str
    version: str
    build: str
    url: str
    sha256: str
    md5: str | None = None
    subdir: str | None = None
    channel: str | None = None
    requires: list[str] = []


class ImagePin(_Strict):
    base: str
    digest: str | None = None


class PlatformLock(_Strict):
    image: ImagePin | None = None
    python_version: str | None = None
    python: list[PythonEntry] = []
    r: list[REntry] = []
    jvm: list[JvmEntry] = []
    conda: list[CondaEntry] = []
    apt: list[str] = []


ENTRY_MODELS: dict[str, type[BaseModel]] = {
    "python": PythonEntry,
    "r": REntry,
    "jvm": JvmEntry,
    "conda": CondaEntry,
}


class Lock(_Strict):
    version: Literal[1]
    manifest_hash: dict[str, str]
    environments: dict[str, dict[str, PlatformLock]] = Field(default_factory=dict)

    def platform_lock(self, environment: str, platform: str) -> PlatformLock:
        try:
            return self.environments[environment][platform]
        except KeyError:
            known = ", ".join(f"{e}@{p}" for e, ps in sorted(self.environments.items()) for p in sorted(ps))
            raise BadInputError(f"the lock has no environment {environment!r} for platform {platform!r} (it has: {known or 'none'})") from None


# -- hashing ------------------------------------------------------------------------



def manifest_hashes(manifest_text: str) -> dict[str, str]:
    """Hashes of a manifest's text (see envman.lockfast.manifest_hashes_from_data)."""
    from envman.lockfast import manifest_data, manifest_hashes_from_data

    data = manifest_data(manifest_text)
    if not isinstance(data, dict):
        raise BadInputError("the manifest is not a YAML mapping")
    return manifest_hashes_from_data(data)


# -- canonical text -----------------------------------------------------------------


def _entry_dict(entry: BaseModel) -> dict[str, Any]:
    data = entry.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {k: v for k, v in data.items() if v != [] or k in ("requires",)}


def lock_to_data(lock: Lock) -> dict[str, Any]:
    environments: dict[str, Any] = {}
    for env in sorted(lock.environments):
        platforms: dict[str, Any] = {}
        for platform in sorted(lock.environments[env]):
            plock = lock.environments[env][platform]
            body: dict[str, Any] = {}
            if plock.image is not None:
                body["image"] = plock.image.model_dump(mode="json", by_alias=True, exclude_none=True)
            if plock.python_version:
                body["python-version"] = plock.python_version
            for eco in ("python", "r", "jvm", "conda"):
                entries = getattr(plock, eco)
                if entries:
                    body[eco] = [_entry_dict(e) for e in sorted(entries, key=lambda e: (e.name.lower(), e.version))]
            if plock.apt:
                body["apt"] = sorted(plock.apt)
            platforms[platform] = body
        environments[env] = platforms
    return {
        "version": 1,
        "manifest-hash": dict(sorted(lock.manifest_hash.items())),
        "environments": environments,
    }


def dump_lock(lock: Lock) -> str:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    body = yaml.dump(
        lock_to_data(lock), Dumper=dumper, sort_keys=False, default_flow_style=False, width=4096, allow_unicode=False
    )
    header = f"# envman.lock: written by `envman lock`; do not edit by hand. content: {content_digest(body)}\n"
    return header + body


def _node_position(text: str, path: tuple[Any, ...]) -> tuple[int | None, int | None]:
    """Line/col (1-based) of a value in YAML text, walking composed nodes along path."""
    import yaml

    try:
        node = yaml.compose(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError:
        return None, None
    best = node
    for part in path:
        if isinstance(node, yaml.MappingNode):
            for key_node, value_node in node.value:
                if key_node.value == str(part):
                    node = value_node
                    best = key_node if not isinstance(value_node, yaml.ScalarNode) else value_node
                    break
            else:
                break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            best = node
        else:
            break
    if best is None:
        return None, None
    return best.start_mark.line + 1, best.start_mark.column + 1


def parse_lock(text: str, filename: str = "envman.lock") -> Lock:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise LocatedError(filename, mark.line + 1 if mark else None, mark.column + 1 if mark else None, f"invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise LocatedError(filename, None, None, f"invalid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise LocatedError(filename, 1, 1, "not an envman lock (expected a mapping with `version: 1`)")
    if data.get("version") != 1:
        line, col = _node_position(text, ("version",))
        raise LocatedError(filename, line, col, f"unsupported lock version {data.get('version')!r}; this envman reads version 1")
    try:
        return Lock.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        line, col = _node_position(text, loc)
        where = ".".join(str(p) for p in loc)
        raise LocatedError(filename, line, col, f"invalid lock at {where}: {error['msg']} (the lock was edited by hand? run `envman lock`)") from None


def read_lock(path: str | Path) -> Lock:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BadInputError(f"{path}: no lock yet; run `envman lock`") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInputError(f"{path}: cannot read the lock: {exc}") from None
    return parse_lock(text, str(path))


def write_lock_atomic(path: str | Path, text: str) -> bool:
    """Write text to path via temp file + fsync + rename; return False when unchanged."""
    path = Path(path)
    try:
        if path.read_text(encoding="utf-8") == text:
            return False
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    atomic_write_text(path, text)
    return True


def lock_path_for(manifest_path: str | Path) -> Path:
    return Path(manifest_path).with_name("envman.lock")
