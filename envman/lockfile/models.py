"""Lock models. The per-ecosystem lists of a platform come from the registry: each
ecosystem's entry_model() (and platform_fields()) is one field of PlatformLock."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, create_model

from envman.lockfile.entry_base import LockModel
from envman.lockfile.paths import no_such_platform

__all__ = ["ImagePin", "PlatformLockBase", "LockBase", "Lock", "PlatformLock", "lock_model"]


_SHA256 = r"^sha256:[0-9a-f]{64}$"


class ImagePin(LockModel):
    """Read back from an untrusted lock into a FROM line: every field is held to its grammar."""

    base: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9._\-/:@]*$")]
    digest: Annotated[str, Field(pattern=_SHA256)] | None = None  # the registry's manifest digest
    id: Annotated[str, Field(pattern=_SHA256)] | None = None  # a base only the local engine has: its image ID


class PlatformLockBase(LockModel):
    """What one environment locks for one platform; ecosystem lists are added by lock_model()."""

    image: ImagePin | None = None

    def entries(self, ecosystem: str) -> list[Any]:
        """The lock entries of one ecosystem (empty when it has none here)."""
        return list(getattr(self, ecosystem, None) or [])


class LockBase(LockModel):
    version: Literal[1]
    manifest_hash: dict[str, str]

    environments: Any  # dict[str, dict[str, PlatformLock]], typed by lock_model()

    def platform_lock(self, environment: str, platform: str) -> Any:
        try:
            return self.environments[environment][platform]
        except KeyError:
            raise no_such_platform(self.environments, environment, platform) from None


_built: dict[tuple[tuple[str, int], ...], tuple[type[LockBase], type[PlatformLockBase]]] = {}


def lock_model() -> tuple[type[LockBase], type[PlatformLockBase]]:
    """(Lock, PlatformLock) for the ecosystems registered now."""
    from envman import ecosystems

    key = ecosystems.signature()
    if key not in _built:
        fields: dict[str, Any] = {}
        for eco in ecosystems.all_ecosystems():
            fields.update(eco.platform_fields())
        for eco in ecosystems.all_ecosystems():
            fields[eco.name] = (list[eco.entry_model()], [])  # type: ignore[misc]
        platform = create_model("PlatformLock", __base__=PlatformLockBase, **fields)
        lock = create_model(
            "Lock",
            __base__=LockBase,
            environments=(dict[str, dict[str, platform]], Field(default_factory=dict)),
        )
        _built[key] = (lock, platform)
    return _built[key]


if TYPE_CHECKING:  # at run time, module __getattr__ below builds them for the registered ecosystems
    Lock: type[LockBase]
    PlatformLock: type[PlatformLockBase]


def __getattr__(name: str) -> Any:
    if name == "Lock":
        return lock_model()[0]
    if name == "PlatformLock":
        return lock_model()[1]
    raise AttributeError(f"module 'envman.lockfile.models' has no attribute {name!r}")
