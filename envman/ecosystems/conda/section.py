"""The `conda:` manifest section and its requirement grammar (conda match specs)."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from envman.sections import Strict
from envman.specs import reject_shell_meta, validate_name

__all__ = ["CondaSection", "CondaOverlay", "validate_conda_spec"]

# conda MatchSpec, the common subset: [channel::]name[ version[ build]] or name[=|==|>=...]
_CONDA_SPEC = re.compile(
    r"^(?:[A-Za-z0-9_.\-/:]+::)?[A-Za-z0-9_][A-Za-z0-9_.\-]*"
    r"(?:\s*[<>=!~]{0,2}\s*[A-Za-z0-9_.*+,<>=!|\- ]*)?(?:\[[A-Za-z0-9_=.,*'\" \-]*\])?$"
)


def validate_conda_spec(spec: str) -> str:
    reject_shell_meta(spec)
    if not _CONDA_SPEC.match(spec.strip()):
        raise ValueError("not a valid conda match spec")
    return spec


CondaSpec = Annotated[str, AfterValidator(validate_conda_spec)]


class CondaSection(Strict):
    channels: list[Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-/:]+$"), AfterValidator(validate_name)]] = ["conda-forge"]
    packages: list[CondaSpec] = []


class CondaOverlay(Strict):
    packages: list[CondaSpec] = []
