"""Writers for check results (table, json, markdown, junit) and diff results (table, json, markdown).

The names below are imported when first used, so that `envman.report.text` (printable
text for anything that came from a target) is light to import from the probing code.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from envman.report.model import CheckResult, DiffResult, TargetResult
    from envman.report.writers import CHECK_FORMATS, DIFF_FORMATS, render_check, render_diff

__all__ = ["CheckResult", "DiffResult", "TargetResult", "CHECK_FORMATS", "DIFF_FORMATS", "render_check", "render_diff"]

_HOME = {
    "CheckResult": "envman.report.model",
    "DiffResult": "envman.report.model",
    "TargetResult": "envman.report.model",
    "CHECK_FORMATS": "envman.report.writers",
    "DIFF_FORMATS": "envman.report.writers",
    "render_check": "envman.report.writers",
    "render_diff": "envman.report.writers",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'envman.report' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
