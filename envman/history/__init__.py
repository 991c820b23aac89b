"""The lock's git history: timeline (`envman history`), identify, rollback (`--at`).

Modules: git (the three git processes), lockdata (old locks read fast), timeline, identify,
rollback, text (table and markdown).
"""

from __future__ import annotations

__all__: list[str] = []
