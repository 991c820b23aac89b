"""Which layers of the final image belong together: `# envman-layer: NAME` comments in the
Dockerfile mark groups, and `envman build` squashes each group into one layer (so the CA
certificate copied for apt and deleted by the next step is in no layer, and each ecosystem is
one layer). Read from the rendered text, so a team's own templates group their layers too."""

from __future__ import annotations

import re

__all__ = ["layer_groups", "logical_lines"]

_MARKER = re.compile(r"^#\s*envman-layer:\s*([A-Za-z0-9_.-]+)\s*$")
_FROM = re.compile(r"^FROM\s+(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?\s*$", re.IGNORECASE)
_LAYER_INSTRUCTIONS = ("RUN", "COPY", "ADD")


def layer_groups(dockerfile: str) -> list[tuple[str, int]]:
    """[(group name, number of layer-making instructions)] for the final stage, following its
    FROM chain back through earlier stages; instructions before any marker are "dockerfile"."""
    stages: list[tuple[str, str | None, list[str]]] = []  # (from, name, logical lines)
    for line in logical_lines(dockerfile):
        match = _FROM.match(line)
        if match:
            stages.append((match.group(1), (match.group(2) or "").lower() or None, []))
        elif stages:
            stages[-1][2].append(line)
    if not stages:
        return []
    chain = [stages[-1]]
    names = {name: index for index, (_, name, _) in enumerate(stages) if name}
    seen = {len(stages) - 1}
    while chain[0][0].lower() in names and names[chain[0][0].lower()] not in seen:
        index = names[chain[0][0].lower()]
        seen.add(index)
        chain.insert(0, stages[index])
    groups: list[tuple[str, int]] = []
    current = "dockerfile"
    for _, _, lines in chain:
        for line in lines:
            marker = _MARKER.match(line)
            if marker:
                current = marker.group(1)
                continue
            if line.split(None, 1)[0].upper() in _LAYER_INSTRUCTIONS:
                if groups and groups[-1][0] == current:
                    groups[-1] = (current, groups[-1][1] + 1)
                else:
                    groups.append((current, 1))
    return groups


def logical_lines(text: str) -> list[str]:
    """Instructions joined across `\\` continuations; comments kept as their own lines."""
    lines: list[str] = []
    pending = ""
    for raw in text.splitlines():
        stripped = raw.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            if stripped:
                lines.append(stripped)
            continue
        if pending and stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        lines.append((pending + stripped).strip())
        pending = ""
    if pending.strip():
        lines.append(pending.strip())
    return lines
