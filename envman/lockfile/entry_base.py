"""The strict base of every lock entry model (each ecosystem defines its own in entry.py)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

__all__ = ["LockModel"]


def _hyphen(name: str) -> str:
    return name.replace("_", "-")


class LockModel(BaseModel):
    """Unknown keys are errors; keys are written with hyphens."""

    model_config = ConfigDict(extra="forbid", alias_generator=_hyphen, populate_by_name=True)
