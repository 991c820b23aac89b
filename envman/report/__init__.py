"""Writers for check results (table, json, markdown, junit) and diff results (table, json, markdown)."""

from envman.report.model import CheckResult, DiffResult, TargetResult
from envman.report.writers import CHECK_FORMATS, DIFF_FORMATS, render_check, render_diff

__all__ = ["CheckResult", "DiffResult", "TargetResult", "CHECK_FORMATS", "DIFF_FORMATS", "render_check", "render_diff"]
