"""Pure sync planning: check findings -> the actions that make a target match the lock."""

from __future__ import annotations

from dataclasses import dataclass

from envman.drift.compare import Finding

__all__ = ["Action", "plan_sync", "format_plan"]


@dataclass(frozen=True)
class Action:
    """op: install | change | reinstall | remove | none (cannot be fixed by sync: `note` says why)."""

    op: str
    ecosystem: str
    name: str
    installed: str | None
    locked: str | None
    note: str | None = None

    def line(self) -> str:
        if self.op == "install":
            text = f"install   {self.name} {self.locked}"
        elif self.op == "change":
            text = f"change    {self.name} {self.installed} -> {self.locked}"
        elif self.op == "reinstall":
            text = f"reinstall {self.name} {self.locked} (installed files were modified)"
        elif self.op == "remove":
            text = f"remove    {self.name} {self.installed}"
        else:
            text = f"cannot fix {self.name}: {self.note}"
        return f"[{self.ecosystem}] {text}"


def plan_sync(findings: list[Finding]) -> list[Action]:
    """One action per finding; ordered removals, changes, installs, reinstalls, then unfixable ones."""
    actions: list[Action] = []
    for f in findings:
        if f.kind == "missing":
            actions.append(Action("install", f.ecosystem, f.name, None, f.expected))
        elif f.kind == "changed":
            actions.append(Action("change", f.ecosystem, f.name, f.actual, f.expected))
        elif f.kind == "modified":
            actions.append(Action("reinstall", f.ecosystem, f.name, f.actual, f.expected))
        elif f.kind == "extra":
            if f.detail and f.detail.startswith("second copy"):
                why = f"a duplicate outside the target's own folder ({f.detail})"
                actions.append(Action("none", f.ecosystem, f.name, f.actual, None, why))
            else:
                actions.append(Action("remove", f.ecosystem, f.name, f.actual, None))
        else:
            why = f"{f.name} is {f.actual}, expected {f.expected}: envman installs packages, not runtimes"
            actions.append(Action("none", f.ecosystem, f.name, f.actual, f.expected, why))
    order = {"remove": 0, "change": 1, "install": 2, "reinstall": 3, "none": 4}
    return sorted(actions, key=lambda a: (order[a.op], a.ecosystem, a.name.lower()))


def format_plan(target: str, actions: list[Action], dry_run: bool) -> str:
    if not actions:
        return f"{target}: in sync, nothing to do\n"
    head = f"{target}: {'would do' if dry_run else 'doing'} {sum(1 for a in actions if a.op != 'none')} change(s)"
    return "\n".join([head] + ["  " + a.line() for a in actions]) + "\n"
