"""Pure drift logic: expected vs installed -> findings; installed vs installed -> differences."""

from envman.drift.compare import KINDS, Difference, Finding, check, diff, package_key, same_version

__all__ = ["Finding", "Difference", "KINDS", "check", "diff", "package_key", "same_version"]
