"""The lock's canonical text: parse and validate, dump byte-stable, write atomically."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from envman.atomic import atomic_write_text
from envman.errors import BadInputError, LocatedError
from envman.lockfile.fastpath import content_digest
from envman.lockfile.models import LockBase, lock_model

__all__ = [
    "manifest_hashes",
    "read_lock",
    "read_lock_text",
    "edited_by_hand",
    "parse_lock",
    "dump_lock",
    "lock_to_data",
    "full_data",
    "write_lock_atomic",
]


# -- hashing ------------------------------------------------------------------------



def manifest_hashes(manifest_text: str) -> dict[str, str]:
    """Hashes of a manifest's text (see envman.lockfile.fastpath.manifest_hashes_from_data)."""
    from envman.lockfile.fastpath import manifest_data, manifest_hashes_from_data

    data = manifest_data(manifest_text)
    if not isinstance(data, dict):
        raise BadInputError("the manifest is not a YAML mapping")
    return manifest_hashes_from_data(data)


# -- canonical text -----------------------------------------------------------------


def _entry_dict(entry: BaseModel) -> dict[str, Any]:
    data = entry.model_dump(mode="json", by_alias=True, exclude_none=True)
    return {k: v for k, v in data.items() if v != [] or k in ("requires",)}


def lock_to_data(lock: LockBase) -> dict[str, Any]:
    """The lock as plain data in canonical order: image, the ecosystems' platform fields,
    their entry lists (sorted by name, version)."""
    from envman import ecosystems

    known = ecosystems.all_ecosystems()
    extra_fields = [name for eco in known for name in eco.platform_fields()]
    environments: dict[str, Any] = {}
    for env in sorted(lock.environments):
        platforms: dict[str, Any] = {}
        for platform in sorted(lock.environments[env]):
            plock = lock.environments[env][platform]
            body: dict[str, Any] = {}
            if plock.image is not None:
                body["image"] = plock.image.model_dump(mode="json", by_alias=True, exclude_none=True)
            for name in extra_fields:
                value = getattr(plock, name, None)
                if value:
                    body[name.replace("_", "-")] = value
            for eco in known:
                entries = plock.entries(eco.name)
                if entries:
                    body[eco.name] = [_entry_dict(e) for e in sorted(entries, key=lambda e: (e.name.lower(), e.version))]
            platforms[platform] = body
        environments[env] = platforms
    return {
        "version": 1,
        "manifest-hash": dict(sorted(lock.manifest_hash.items())),
        "environments": environments,
    }


def full_data(lock: LockBase) -> dict[str, Any]:
    """The lock as plain data with every field, defaults included, under the models'
    attribute names (for envman.lockfile.view)."""
    data: dict[str, Any] = lock.model_dump(mode="json")
    return data


def dump_lock(lock: LockBase) -> str:
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


def parse_lock(text: str, filename: str = "envman.lock") -> LockBase:
    import yaml

    from envman.yamlguard import check_yaml

    check_yaml(text, filename, "envman.lock")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        data = yaml.load(text, Loader=loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise LocatedError(filename, line, column, f"invalid YAML: {exc.problem}") from None
    except yaml.YAMLError as exc:
        raise LocatedError(filename, None, None, f"invalid YAML: {exc}") from None
    except (ValueError, RecursionError) as exc:
        raise LocatedError(filename, None, None, f"invalid YAML: {str(exc)[:200]}") from None
    if not isinstance(data, dict):
        raise LocatedError(filename, 1, 1, "not an envman lock (expected a mapping with `version: 1`)")
    if type(data.get("version")) is not int or data.get("version") != 1:  # not True, not 1.0
        line, col = _node_position(text, ("version",))
        raise LocatedError(filename, line, col, f"unsupported lock version {data.get('version')!r}; this envman reads version 1")
    try:
        return lock_model()[0].model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        loc = tuple(error["loc"])
        line, col = _node_position(text, loc)
        where = ".".join(str(p) for p in loc)
        raise LocatedError(
            filename, line, col, f"invalid lock at {where}: {error['msg']} (the lock was edited by hand? run `envman lock`)"
        ) from None


def read_lock_text(path: str | Path) -> str:
    """The lock's text: a regular file within the lock_bytes limit (envman.limits)."""
    from envman.limits import LimitError, read_regular_text

    path = Path(path)
    try:
        return read_regular_text(path, "lock_bytes", str(path))
    except FileNotFoundError:
        raise BadInputError(f"{path}: no lock yet; run `envman lock`") from None
    except LimitError:
        raise
    except UnicodeDecodeError:
        raise BadInputError(f"{path}: cannot read the lock: not UTF-8 text") from None
    except OSError as exc:
        raise BadInputError(f"{path}: cannot read the lock: {exc.strerror or exc}") from None


def read_lock(path: str | Path) -> LockBase:
    return parse_lock(read_lock_text(path), str(Path(path)))


def edited_by_hand(text: str) -> bool:
    """True when the lock's first line does not carry the sha256 of the rest: somebody (or
    something) changed the file after envman wrote it."""
    from envman.lockfile.fastpath import trusted_manifest_hashes

    return trusted_manifest_hashes(text) is None


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
