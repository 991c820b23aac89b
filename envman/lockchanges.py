"""What `envman lock` changed, per environment, platform and ecosystem, as uv reports it
("Updated requests v2.31.0 -> v2.32.5"): added, removed, upgraded, downgraded."""

from __future__ import annotations

from typing import Any, NamedTuple

from envman import ecosystems

__all__ = ["Change", "lock_changes", "change_lines"]


class Change(NamedTuple):
    environment: str
    platform: str
    ecosystem: str
    name: str
    kind: str  # added | removed | upgraded | downgraded | changed (same version, other build/hashes)
    old: str | None
    new: str | None

    def as_dict(self) -> dict[str, Any]:
        return self._asdict()


def lock_changes(old: Any | None, new: Any) -> list[Change]:
    """Differences between two locks (old None: everything is added), sorted."""
    changes: list[Change] = []
    for env, platforms in sorted(new.environments.items()):
        for platform, plock in sorted(platforms.items()):
            before = _platform(old, env, platform)
            for eco in ecosystems.all_ecosystems():
                was = {e.name: e for e in (before.entries(eco.name) if before is not None else [])}
                now = {e.name: e for e in plock.entries(eco.name)}
                for name in sorted(set(was) | set(now)):
                    a, b = was.get(name), now.get(name)
                    if a is None and b is not None:
                        changes.append(Change(env, platform, eco.name, name, "added", None, b.version))
                    elif b is None and a is not None:
                        changes.append(Change(env, platform, eco.name, name, "removed", a.version, None))
                    elif a is not None and b is not None and a.version != b.version:
                        order = eco.compare_versions(a.version, b.version)
                        kind = "upgraded" if order < 0 else "downgraded" if order > 0 else "changed"
                        changes.append(Change(env, platform, eco.name, name, kind, a.version, b.version))
                    elif a is not None and b is not None and a != b:
                        changes.append(Change(env, platform, eco.name, name, "changed", a.version, b.version))
    for env, platforms in sorted((old.environments if old is not None else {}).items()):
        for platform, plock in sorted(platforms.items()):
            if _platform(new, env, platform) is None:
                for eco in ecosystems.all_ecosystems():
                    changes.extend(Change(env, platform, eco.name, e.name, "removed", e.version, None) for e in plock.entries(eco.name))
    return changes


def _platform(lock: Any | None, env: str, platform: str) -> Any | None:
    if lock is None:
        return None
    return lock.environments.get(env, {}).get(platform)


_WORDS = {"added": "Added", "removed": "Removed", "upgraded": "Updated", "downgraded": "Downgraded", "changed": "Changed"}


def change_lines(changes: list[Change]) -> list[str]:
    """One line per package change, grouped under `environment@platform` headings; a change
    that is the same in every environment and platform is shown once, under `all`."""
    groups: dict[tuple[str, str, str, str | None, str | None], list[str]] = {}
    for change in changes:
        key = (change.ecosystem, change.name, change.kind, change.old, change.new)
        groups.setdefault(key, []).append(f"{change.environment}@{change.platform}")
    every = sorted({f"{c.environment}@{c.platform}" for c in changes})
    by_heading: dict[str, list[tuple[str, str, str]]] = {}
    for (eco, name, kind, old, new), where in groups.items():
        heading = "all" if sorted(where) == every and len(every) > 1 else ", ".join(sorted(where))
        if kind == "added":
            text = f"{_WORDS[kind]} {name} v{new}"
        elif kind == "removed":
            text = f"{_WORDS[kind]} {name} v{old}"
        else:
            text = f"{_WORDS[kind]} {name} v{old} -> v{new}"
        by_heading.setdefault(heading, []).append((eco, name, f"  {eco}: {text}"))
    lines: list[str] = []
    for heading in sorted(by_heading, key=lambda h: (h != "all", h)):
        lines.append(heading if heading != "all" else "every environment and platform")
        lines.extend(line for _, _, line in sorted(by_heading[heading]))
    return lines
