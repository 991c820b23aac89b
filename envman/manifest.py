"""Pydantic models of envman.yaml and its loader, which reports errors as FILE:LINE:COL."""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, Field, ValidationError, create_model, field_validator, model_validator

from envman.errors import LocatedError
from envman.lockfile.paths import DEFAULT_ENVIRONMENT, default_environment
from envman.sections import Strict, hyphen

if TYPE_CHECKING:
    from pydantic_core import ErrorDetails

__all__ = [
    "Manifest",
    "ImageSection",
    "manifest_model",
    "load_manifest",
    "read_manifest",
    "read_manifest_text",
    "parse_manifest",
    "DEFAULT_ENVIRONMENT",
    "KNOWN_PLATFORMS",
]

KNOWN_PLATFORMS = ("linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64")
_NAME = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"


_IMAGE_REF = r"^[a-z0-9][a-z0-9._\-/:@]*$"


class ImageSection(Strict):
    base: Annotated[str, Field(pattern=_IMAGE_REF)]
    # an image with the base's runtimes plus build tools (r-base-dev): compiled packages are
    # built there, offline; without it the builder stage installs the tools with apt
    builder: Annotated[str, Field(pattern=_IMAGE_REF)] | None = None
    templates: Annotated[str, Field(pattern=r"^[^\x00-\x1f]+$")] | None = None  # a team's own Dockerfile templates


def _schema_version(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"unsupported manifest version {value!r}; this envman reads version 1")
    return value


class Manifest(Strict):
    """envman.yaml. The ecosystem sections (and `environments`) are fields that
    manifest_model() adds from the registry; reach them with section(name)."""

    version: Annotated[Literal[1], BeforeValidator(_schema_version)]
    name: Annotated[str, Field(pattern=_NAME)] | None = None
    platforms: list[Literal[KNOWN_PLATFORMS]] = ["linux-64"]  # type: ignore[valid-type]

    @field_validator("platforms")
    @classmethod
    def _platforms_unique(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one platform is needed")
        if len(set(value)) != len(value):
            raise ValueError("platforms are listed more than once")
        return value

    @model_validator(mode="after")
    def _one_ecosystem(self) -> Manifest:
        from envman import ecosystems

        names = ecosystems.names()
        if not any(self.section(name) is not None for name in names):
            listed = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
            raise ValueError(f"declare at least one ecosystem: {listed}")
        for env_name, overlay in self.overlays().items():
            if overlay is None:
                continue
            for eco in names:
                if getattr(overlay, eco, None) is not None and self.section(eco) is None:
                    raise ValueError(
                        f"environment {env_name!r} adds to `{eco}` but the manifest has no top-level `{eco}` section"
                    )
        return self

    # -- convenience views ------------------------------------------------------------
    def section(self, name: str) -> Any:
        """The section of one ecosystem (or image), None when not declared."""
        return getattr(self, name, None)

    def overlays(self) -> dict[str, Any]:
        return dict(getattr(self, "environments", None) or {})

    def environment_names(self) -> list[str]:
        return sorted(self.overlays()) or [DEFAULT_ENVIRONMENT]

    def declared_ecosystems(self) -> list[str]:
        from envman import ecosystems

        return [name for name in ecosystems.names() if self.section(name) is not None]

    def requirements(self, ecosystem: str, environment: str) -> list[Any]:
        """The top-level set of `ecosystem` plus what `environment` adds, in order, deduplicated."""
        from envman import ecosystems

        section = self.section(ecosystem)
        if section is None:
            return []
        key = ecosystems.get(ecosystem).items_key
        items: list[Any] = list(getattr(section, key))
        overlay = self.overlays().get(environment)
        extra = getattr(overlay, ecosystem, None) if overlay else None
        if extra is not None:
            items.extend(getattr(extra, key))
        seen: set[str] = set()
        unique = []
        for item in items:
            marker = item if isinstance(item, str) else item.model_dump_json()
            if marker not in seen:
                seen.add(marker)
                unique.append(item)
        return unique

    def default_environment(self, requested: str | None = None) -> str:
        return default_environment(self.environment_names(), requested, where="envman.yaml")


_built: dict[tuple[tuple[str, int], ...], type[Manifest]] = {}


def manifest_model() -> type[Manifest]:
    """The manifest model for the ecosystems registered now (sections in registry order)."""
    from envman import ecosystems

    key = ecosystems.signature()
    if key not in _built:
        known = ecosystems.all_ecosystems()
        overlay_fields: dict[str, Any] = {eco.name: (eco.overlay_model() | None, None) for eco in known}
        overlay = create_model(
            "EnvironmentOverlay", __base__=Strict, __doc__="What an environment adds to the top-level sets.", **overlay_fields
        )
        fields: dict[str, Any] = {eco.name: (eco.section_model() | None, None) for eco in known}
        fields["image"] = (ImageSection | None, None)
        fields["environments"] = (dict[Annotated[str, Field(pattern=_NAME)], overlay | None], {})
        _built[key] = create_model("Manifest", __base__=Manifest, **fields)
    return _built[key]


# -- loading with positions -----------------------------------------------------------


def _position(node: Any, loc: tuple[Any, ...]) -> tuple[int | None, int | None]:
    """Walk ruamel round-trip data along a pydantic error location; 1-based line/col."""
    line = col = None
    current = node
    for part in loc:
        lc = getattr(current, "lc", None)
        if isinstance(current, dict) and isinstance(part, str):
            key = part
            if key not in current and key.replace("_", "-") in current:
                key = key.replace("_", "-")
            if key not in current:
                break
            if lc is not None:
                try:
                    line, col = lc.value(key) if not isinstance(current[key], (dict, list)) else lc.key(key)
                except (KeyError, TypeError):
                    pass
            current = current[key]
        elif isinstance(current, list) and isinstance(part, int):
            if part >= len(current):
                break
            if lc is not None:
                try:
                    line, col = lc.item(part)
                except (KeyError, TypeError):
                    pass
            current = current[part]
        else:
            continue  # pydantic's union branch labels and the like
    if line is None and hasattr(node, "lc"):
        line, col = node.lc.line, node.lc.col
    return (line + 1 if line is not None else None, col + 1 if col is not None else None)


def _key_position(node: Any, loc: tuple[Any, ...]) -> tuple[int | None, int | None]:
    parent_loc, key = loc[:-1], loc[-1]
    current = node
    for part in parent_loc:
        if (isinstance(current, dict) and part in current) or (isinstance(current, list) and isinstance(part, int) and part < len(current)):
            current = current[part]
    if isinstance(current, dict) and key in current and hasattr(current, "lc"):
        line, col = current.lc.key(key)
        return line + 1, col + 1
    return _position(node, parent_loc)


def _models_in(annotation: Any) -> list[Any]:
    """BaseModel classes reachable in an annotation (through Optional, Union, list, dict)."""
    import typing

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found: list[Any] = []
    for arg in typing.get_args(annotation):
        found.extend(_models_in(arg))
    return found


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The keys allowed in the mapping that holds loc[-1], for a did-you-mean hint."""
    model: Any = manifest_model()
    models: list[Any] = [model]
    expecting_key_of_dict = False
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        if expecting_key_of_dict:
            expecting_key_of_dict = False
            continue
        tagged = [m for m in models if m.__name__ == part]
        if tagged:  # pydantic names the union member it tried
            model = tagged[0]
            continue
        field = model.model_fields.get(str(part).replace("-", "_"))
        if field is None:
            return []
        models = _models_in(field.annotation)
        if not models:
            return []
        model = models[-1]
        expecting_key_of_dict = getattr(field.annotation, "__origin__", None) is dict
    return [hyphen(name) for name in model.model_fields]


def _printable(part: Any) -> str:
    """A key or index as written, or its repr when it holds characters a terminal would act on."""
    text = str(part)
    return text if text.isprintable() and text.strip() == text else repr(text)


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and ("[" in p or p in ("str", "function-after"))))
    where = ".".join(_printable(p) for p in loc) or "manifest"
    if kind == "extra_forbidden":
        key = _printable(loc[-1])
        allowed = _allowed_keys(loc)
        hint = difflib.get_close_matches(key, allowed, n=1)
        suggestion = f"; did you mean `{hint[0]}`?" if hint else (f"; allowed: {', '.join(allowed)}" if allowed else "")
        return f"unknown key `{key}`{suggestion}"
    if kind == "missing":
        return f"`{where}` is required"
    text = error["msg"]
    if text.startswith("Value error, "):
        text = text[len("Value error, "):]
    if kind == "literal_error" and loc == ("version",):
        return f"unsupported manifest version {error.get('input')!r}; this envman reads version 1"
    return f"{where}: {text}"


def _clean_loc(loc: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(p for p in loc if not (isinstance(p, str) and ("[" in p or p.startswith("function-") or p in ("str",))))


def parse_manifest(text: str, filename: str = "envman.yaml") -> Manifest:
    """Parse and validate manifest text; every failure is a LocatedError."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    from envman.yamlguard import check_yaml

    check_yaml(text, filename)
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        line, column = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise LocatedError(filename, line, column, f"invalid YAML: {problem}") from None
    except YAMLError as exc:
        raise LocatedError(filename, None, None, f"invalid YAML: {exc}") from None
    except (ValueError, RecursionError) as exc:  # what the guard lets through and Python still refuses
        raise LocatedError(filename, None, None, f"invalid YAML: {str(exc)[:200]}") from None
    if data is None:
        raise LocatedError(filename, 1, 1, "the manifest is empty; `envman init` writes a starting point")
    if not isinstance(data, dict):
        raise LocatedError(filename, 1, 1, f"the manifest must be a mapping of sections (version, {', '.join(_section_names())}, …)")
    try:
        manifest = manifest_model().model_validate(_plain(data))
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: _sort_key(data, e))
        first = _best_error(errors)
        loc = _clean_loc(tuple(first["loc"]))
        if first["type"] == "extra_forbidden":
            line, col = _key_position(data, loc)
        else:
            line, col = _position(data, loc)
        raise LocatedError(filename, line, col, _message({**first, "loc": loc})) from None
    from envman import ecosystems

    for eco in ecosystems.all_ecosystems():  # checks across fields, each with its place
        for where, message in eco.manifest_problems(manifest):
            line, col = _position(data, where)
            raise LocatedError(filename, line, col, message)
    return manifest


def _sort_key(data: Any, error: ErrorDetails) -> tuple[int, int]:
    line, col = _position(data, _clean_loc(tuple(error["loc"])))
    return (line or 0, col or 0)


def _best_error(errors: list[ErrorDetails]) -> ErrorDetails:
    """Union members each report an error for the same place; prefer the most telling one."""
    first_loc = _clean_loc(tuple(errors[0]["loc"]))
    same_place = [e for e in errors if _clean_loc(tuple(e["loc"]))[: len(first_loc)] == first_loc]
    for kind in ("value_error", "extra_forbidden", "literal_error", "string_pattern_mismatch"):
        for error in same_place:
            if error["type"] == kind:
                return error
    return errors[0]


def _plain(node: Any) -> Any:
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node


def read_manifest_text(path: str | Path) -> str:
    """The manifest's text: a regular file within the manifest_bytes limit (envman.limits)."""
    from envman.limits import LimitError, read_regular_text

    path = Path(path)
    try:
        return read_regular_text(path, "manifest_bytes", str(path))
    except FileNotFoundError:
        raise LocatedError(str(path), None, None, "no such manifest; `envman init` writes one") from None
    except LimitError:
        raise
    except UnicodeDecodeError as exc:
        raise LocatedError(str(path), None, None, f"cannot read the manifest: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise LocatedError(str(path), None, None, f"cannot read the manifest: {exc.strerror or exc}") from None


def read_manifest(path: str | Path) -> tuple[str, Manifest]:
    """(text, validated manifest), the file read once: what is hashed is what was parsed."""
    text = read_manifest_text(path)
    return text, parse_manifest(text, str(path))


def load_manifest(path: str | Path) -> Manifest:
    return read_manifest(path)[1]


def _section_names() -> tuple[str, ...]:
    from envman import ecosystems

    return ecosystems.names()
