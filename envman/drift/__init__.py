"""Pure drift logic: expected vs installed -> findings; installed vs installed -> differences."""

from envman.drift.compare import INSTALLER_TOOLING, KINDS, Difference, Finding, check, diff, package_key, runtime_matches, same_version

__all__ = ["Finding", "Difference", "KINDS", "INSTALLER_TOOLING", "check", "diff", "package_key", "same_version", "runtime_matches"]
