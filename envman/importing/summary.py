"""Words for what `init --from` carried over differently or not at all."""

from __future__ import annotations

from envman.ecosystems.base import Note, Skipped

__all__ = ["summary_lines"]


def _where(file: str, line: int | None) -> str:
    return f"{file}:{line}" if line is not None else file


def summary_lines(skipped: list[Skipped], notes: list[Note]) -> list[str]:
    lines: list[str] = []
    if notes:
        lines.append(f"envman: note: {len(notes)} thing(s) carried over differently:")
        lines.extend(f"  {_where(n.file, n.line)}: {n.text}" for n in notes)
    if skipped:
        lines.append(f"envman: warning: {len(skipped)} line(s) not carried over:")
        lines.extend(f"  {_where(s.file, s.line)}: {s.text}  ({s.reason})" for s in skipped)
    return lines
