"""What every manifest section shares: the strict model base and common field types.

The sections themselves live with their ecosystems (envman/ecosystems/NAME/section.py);
envman.manifest assembles them into the manifest model through the registry. One field
type per kind of field (envman.specs has the rules): Url, FindLink (a path or a URL), Name,
AptName, PackageSpec, and VersionText for versions YAML could read as numbers.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, model_validator

from envman import specs

__all__ = ["Strict", "Url", "FindLink", "Name", "AptName", "PackageSpec", "VersionText", "hyphen"]


def hyphen(name: str) -> str:
    return name.replace("_", "-")


class Strict(BaseModel):
    """Unknown keys are errors; keys are written with hyphens (index-url).

    Every string a model holds (in lists, dict keys and values too) is held to the text
    rule of envman.specs.validate_text after the fields' own validators ran, so a field
    declared as a plain `str` still refuses control characters, surrounding whitespace and
    shell metacharacters."""

    model_config = ConfigDict(extra="forbid", alias_generator=hyphen, populate_by_name=True, frozen=True)

    @model_validator(mode="after")
    def _strings_are_text(self) -> Any:
        for name in type(self).model_fields:
            _check_strings(getattr(self, name, None), hyphen(name))
        return self


def _check_strings(value: Any, where: str) -> None:
    if isinstance(value, str):
        try:
            specs.validate_text(value, "a manifest field")
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_strings(item, f"{where}[{index}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_strings(key, f"{where} (a key)")
            _check_strings(item, f"{where}.{key}")
    # nested Strict models ran this validator themselves


Url = Annotated[str, AfterValidator(specs.validate_url)]
FindLink = Annotated[str, AfterValidator(specs.validate_find_link)]
Name = Annotated[str, AfterValidator(specs.validate_name)]
AptName = Annotated[str, AfterValidator(specs.validate_apt_name)]
PackageSpec = Annotated[str, AfterValidator(specs.validate_package_spec)]


def _version_text(value: Any) -> Any:
    """YAML reads `3.10` as the number 3.1: ask for quotes instead of guessing."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f"write the version as a string in quotes, e.g. \"{value}\" (YAML reads 3.10 as 3.1)")
    if isinstance(value, str):
        specs.validate_name(value, "a version")
    return value


VersionText = BeforeValidator(_version_text)
