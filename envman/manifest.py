"""Pydantic models of envman.yaml and its loader, which reports errors as FILE:LINE:COL."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator, model_validator

from envman import specs
from envman.errors import LocatedError

__all__ = [
    "Manifest",
    "PythonSection",
    "RSection",
    "JvmSection",
    "JvmDependency",
    "CondaSection",
    "SystemSection",
    "ImageSection",
    "EnvironmentOverlay",
    "ECOSYSTEMS",
    "load_manifest",
    "parse_manifest",
    "DEFAULT_ENVIRONMENT",
]

ECOSYSTEMS = ("python", "r", "jvm", "conda")
DEFAULT_ENVIRONMENT = "default"
KNOWN_PLATFORMS = ("linux-64", "linux-aarch64", "osx-64", "osx-arm64", "win-64")


def _hyphen(name: str) -> str:
    return name.replace("_", "-")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", alias_generator=_hyphen, populate_by_name=True, frozen=True)


PythonSpec = Annotated[str, AfterValidator(specs.validate_python_spec)]
RSpec = Annotated[str, AfterValidator(specs.validate_r_spec)]
JvmCoordinate = Annotated[str, AfterValidator(specs.validate_jvm_coordinates)]
JvmExclusion = Annotated[str, AfterValidator(specs.validate_jvm_exclusion)]
CondaSpec = Annotated[str, AfterValidator(specs.validate_conda_spec)]
AptName = Annotated[str, AfterValidator(specs.validate_apt_name)]
Url = Annotated[str, AfterValidator(specs.validate_url)]

_PY_VERSION = re.compile(r"^3\.(\d+)(?:\.(\d+))?$")


def _version_text(value: Any) -> Any:
    """YAML reads `3.10` as the number 3.1: ask for quotes instead of guessing."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f"write the version as a string in quotes, e.g. \"{value}\" (YAML reads 3.10 as 3.1)")
    return value


VersionText = BeforeValidator(_version_text)


def _validate_python_version(value: str) -> str:
    match = _PY_VERSION.match(value)
    if not match or not 8 <= int(match.group(1)) <= 15:
        raise ValueError(f"unknown Python version {value!r} (expected 3.8 to 3.15, as X.Y or X.Y.Z)")
    return value


class PythonSection(Strict):
    version: Annotated[str, VersionText, AfterValidator(_validate_python_version)] | None = None
    index_url: Url | None = None
    extra_index_urls: list[Url] = []
    find_links: list[str] = []
    resolver: Literal["uv", "pip-tools"] = "uv"
    packages: list[PythonSpec] = []


class RSection(Strict):
    version: Annotated[str, VersionText, Field(pattern=r"^\d+\.\d+(\.\d+)?$")] | None = None
    repositories: dict[Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_.\-]*$")], Url] = {}
    packages: list[RSpec] = []


class JvmDependency(Strict):
    artifact: JvmCoordinate
    scope: Literal["compile", "runtime"] = "compile"
    exclusions: list[JvmExclusion] = []


class JvmSection(Strict):
    java: Annotated[str, Field(pattern=r"^\d+$")] | None = None

    @field_validator("java", mode="before")
    @classmethod
    def _java_number(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value
    repositories: list[Url] = []
    dependencies: list[JvmCoordinate | JvmDependency] = []


class CondaSection(Strict):
    channels: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-/:]+$")]] = ["conda-forge"]
    packages: list[CondaSpec] = []


class SystemSection(Strict):
    apt: list[AptName] = []


class ImageSection(Strict):
    base: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._\-/:@]*$")]


class _PythonOverlay(Strict):
    packages: list[PythonSpec] = []


class _ROverlay(Strict):
    packages: list[RSpec] = []


class _JvmOverlay(Strict):
    dependencies: list[JvmCoordinate | JvmDependency] = []


class _CondaOverlay(Strict):
    packages: list[CondaSpec] = []


class _SystemOverlay(Strict):
    apt: list[AptName] = []


class EnvironmentOverlay(Strict):
    """What an environment adds to the top-level sets."""

    python: _PythonOverlay | None = None
    r: _ROverlay | None = None
    jvm: _JvmOverlay | None = None
    conda: _CondaOverlay | None = None
    system: _SystemOverlay | None = None


def _schema_version(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"unsupported manifest version {value!r}; this envman reads version 1")
    return value


class Manifest(Strict):
    version: Annotated[Literal[1], BeforeValidator(_schema_version)]
    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")] | None = None
    platforms: list[Literal[KNOWN_PLATFORMS]] = ["linux-64"]  # type: ignore[valid-type]
    python: PythonSection | None = None
    r: RSection | None = None
    jvm: JvmSection | None = None
    conda: CondaSection | None = None
    system: SystemSection | None = None
    image: ImageSection | None = None
    environments: dict[Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$")], EnvironmentOverlay | None] = {}

    @field_validator("platforms")
    @classmethod
    def _platforms_unique(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("at least one platform is needed")
        if len(set(value)) != len(value):
            raise ValueError("platforms are listed more than once")
        return value

    @model_validator(mode="after")
    def _one_ecosystem(self) -> "Manifest":
        if not any(getattr(self, name) is not None for name in ECOSYSTEMS):
            raise ValueError("declare at least one ecosystem: python, r, jvm or conda")
        for env_name, overlay in self.environments.items():
            if overlay is None:
                continue
            for eco in ECOSYSTEMS:
                if getattr(overlay, eco) is not None and getattr(self, eco) is None:
                    raise ValueError(
                        f"environment {env_name!r} adds to `{eco}` but the manifest has no top-level `{eco}` section"
                    )
        return self

    # -- convenience views ------------------------------------------------------------
    def environment_names(self) -> list[str]:
        return sorted(self.environments) if self.environments else [DEFAULT_ENVIRONMENT]

    def declared_ecosystems(self) -> list[str]:
        return [name for name in ECOSYSTEMS if getattr(self, name) is not None]

    def requirements(self, ecosystem: str, environment: str) -> list[Any]:
        """The top-level set of `ecosystem` plus what `environment` adds, in order, deduplicated."""
        section = getattr(self, ecosystem)
        if section is None:
            return []
        key = "dependencies" if ecosystem == "jvm" else "packages"
        items: list[Any] = list(getattr(section, key))
        overlay = self.environments.get(environment) if self.environments else None
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

    def requirements_apt(self, environment: str) -> list[str]:
        """Debian packages for `environment`: the top-level list plus its additions."""
        top = list(self.system.apt) if self.system else []
        overlay = self.environments.get(environment) if self.environments else None
        if overlay is not None and overlay.system is not None:
            top.extend(overlay.system.apt)
        return sorted(set(top))

    def default_environment(self) -> str:
        names = self.environment_names()
        if len(names) == 1:
            return names[0]
        return "production" if "production" in names else names[0]


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
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and part < len(current):
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
    model: Any = Manifest
    models: list[Any] = [Manifest]
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
    return [_hyphen(name) for name in model.model_fields]


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and ("[" in p or p in ("str", "function-after"))))
    where = ".".join(str(p) for p in loc) or "manifest"
    if kind == "extra_forbidden":
        key = str(loc[-1])
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

    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        raise LocatedError(filename, mark.line + 1 if mark else None, mark.column + 1 if mark else None, f"invalid YAML: {problem}") from None
    except YAMLError as exc:
        raise LocatedError(filename, None, None, f"invalid YAML: {exc}") from None
    if data is None:
        raise LocatedError(filename, 1, 1, "the manifest is empty; `envman init` writes a starting point")
    if not isinstance(data, dict):
        raise LocatedError(filename, 1, 1, "the manifest must be a mapping of sections (version, python, r, jvm, conda, …)")
    try:
        return Manifest.model_validate(_plain(data))
    except ValidationError as exc:
        errors = sorted(exc.errors(), key=lambda e: _sort_key(data, e))
        first = _best_error(errors)
        loc = _clean_loc(tuple(first["loc"]))
        if first["type"] == "extra_forbidden":
            line, col = _key_position(data, loc)
        else:
            line, col = _position(data, loc)
        raise LocatedError(filename, line, col, _message({**first, "loc": loc})) from None


def _sort_key(data: Any, error: dict[str, Any]) -> tuple[int, int]:
    line, col = _position(data, _clean_loc(tuple(error["loc"])))
    return (line or 0, col or 0)


def _best_error(errors: list[dict[str, Any]]) -> dict[str, Any]:
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


def load_manifest(path: str | Path) -> Manifest:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise LocatedError(str(path), None, None, "no such manifest; `envman init` writes one") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise LocatedError(str(path), None, None, f"cannot read the manifest: {exc}") from None
    return parse_manifest(text, str(path))
