"""What every manifest section shares: the strict model base and common field types.

The sections themselves live with their ecosystems (envman/ecosystems/NAME/section.py);
envman.manifest assembles them into the manifest model through the registry.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict

from envman import specs

__all__ = ["Strict", "Url", "AptName", "VersionText", "hyphen"]


def hyphen(name: str) -> str:
    return name.replace("_", "-")


class Strict(BaseModel):
    """Unknown keys are errors; keys are written with hyphens (index-url)."""

    model_config = ConfigDict(extra="forbid", alias_generator=hyphen, populate_by_name=True, frozen=True)


Url = Annotated[str, AfterValidator(specs.validate_url)]
AptName = Annotated[str, AfterValidator(specs.validate_apt_name)]


def _version_text(value: Any) -> Any:
    """YAML reads `3.10` as the number 3.1: ask for quotes instead of guessing."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        raise ValueError(f"write the version as a string in quotes, e.g. \"{value}\" (YAML reads 3.10 as 3.1)")
    return value


VersionText = BeforeValidator(_version_text)
