"""`envman report`: what the page shows, as data (the lock's environments and each target
side by side, drift per target, recent history), then HTML (envman.report.html) or markdown.

Targets are probed as `check` probes them (concurrently; an unreachable one is shown with
its error) and checked against the first environment shown, with envman.drift's rules.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from envman import ecosystems
from envman.errors import EnvmanError

__all__ = ["REPORT_FORMATS", "Cell", "Column", "Row", "TargetSection", "ReportData", "collect_report", "render_report"]

REPORT_FORMATS = ("html", "markdown")


@dataclass
class Cell:
    text: str  # the version, or "" where the package is absent
    state: str  # same | differs (lock columns); ok | changed | missing | extra | modified | absent (targets)


@dataclass
class Column:
    label: str
    kind: str  # lock | target
    environment: str
    in_sync: bool | None = None
    error: str | None = None


@dataclass
class Row:
    ecosystem: str
    name: str
    cells: list[Cell]

    @property
    def drift(self) -> bool:
        return any(c.state in ("changed", "missing", "extra", "modified") for c in self.cells)

    @property
    def differs(self) -> bool:
        return any(c.state == "differs" for c in self.cells)


@dataclass
class TargetSection:
    target: str
    environment: str
    platform: str
    findings: list[Any]
    error: str | None = None


@dataclass
class ReportData:
    project: str
    platform: str
    generated: str
    columns: list[Column]
    rows: list[Row]
    counts: dict[str, list[int]]  # ecosystem -> packages per column
    targets: list[TargetSection]
    history: list[Any] = field(default_factory=list)  # envman.history.timeline.Revision
    history_note: str | None = None
    ecosystems: list[str] = field(default_factory=list)


def _versions(snap: Any, eco: str) -> dict[str, str]:
    rules = ecosystems.get(eco)
    out: dict[str, str] = {}
    for pkg in snap.of(eco):
        key = rules.normalize_name(pkg.name)
        out.setdefault(key, rules.shown(pkg))
    return out


def collect_report(manifest_path: Path, targets: list[str], environments: list[str], ctx: Any, history: int) -> ReportData:
    from envman.drift import check
    from envman.redact import redact_text
    from envman.targets import parse_target
    from envman.targets.checking import with_known_artifacts
    from envman.targets.context import DEFAULT_PLATFORM
    from envman.targets.probe import probe_many, snapshot_from_lock
    from envman.targets.spec import TargetSpec

    project = ctx.project
    lock = project.lock()
    names = list(lock.environments)
    try:
        first = project.environment(None)
    except EnvmanError:  # several environments, none of them `production`: in name order
        first = None
    chosen = environments or sorted(names, key=lambda e: (e != first, e))
    for env in chosen:
        if env not in lock.environments:
            from envman.errors import BadInputError

            raise BadInputError(f"--env {env!r}: the lock has {', '.join(sorted(names))}")
    platforms = sorted({p for env in chosen for p in lock.environments[env]})
    platform = ctx.platform or (DEFAULT_PLATFORM if DEFAULT_PLATFORM in platforms or not platforms else platforms[0])
    ctx = ctx._replace(environment=chosen[0], platform=platform)
    lock_snaps = {env: snapshot_from_lock(TargetSpec(f"lock:{env}@{platform}", "lock", env, platform), ctx) for env in chosen}
    reference = lock_snaps[chosen[0]]
    specs = [parse_target(t) for t in targets]
    probed = probe_many(specs, with_known_artifacts(ctx, specs), keep_going=True) if specs else []
    columns = [Column(f"lock:{env}", "lock", env) for env in chosen]
    sections: list[TargetSection] = []
    target_data: list[tuple[dict[tuple[str, str], str], dict[str, dict[str, str]]]] = []
    for spec, snap in zip(specs, probed, strict=True):
        if isinstance(snap, EnvmanError):
            columns.append(Column(spec.text, "target", chosen[0], None, redact_text(str(snap))))
            sections.append(TargetSection(spec.text, chosen[0], platform, [], redact_text(str(snap))))
            target_data.append(({}, {}))
            continue
        findings = check(reference, snap)
        columns.append(Column(spec.text, "target", chosen[0], not findings))
        sections.append(TargetSection(spec.text, chosen[0], platform, findings))
        kinds = {(f.ecosystem, ecosystems.get(f.ecosystem).normalize_name(f.name)): f.kind for f in findings}
        target_data.append((kinds, {eco: _versions(snap, eco) for eco in snap.ecosystems}))
    eco_names = [e for e in ecosystems.names() if any(e in s.ecosystems for s in lock_snaps.values())]
    rows: list[Row] = []
    counts: dict[str, list[int]] = {}
    for eco in eco_names:
        rules = ecosystems.get(eco)
        env_versions = [_versions(lock_snaps[env], eco) for env in chosen]
        shown_names: dict[str, str] = {}
        for env in chosen:
            for pkg in lock_snaps[env].of(eco):
                shown_names.setdefault(rules.normalize_name(pkg.name), pkg.name)
        for section in sections:
            for f in section.findings:
                if f.ecosystem == eco and f.kind == "extra":
                    shown_names.setdefault(rules.normalize_name(f.name), f.name)
        counts[eco] = [len(v) for v in env_versions] + [
            len([k for k in installed.get(eco, {}) if k in shown_names]) for _, installed in target_data
        ]
        for key in sorted(shown_names, key=str.lower):
            cells = []
            ref = env_versions[0].get(key)
            for locked in env_versions:
                here = locked.get(key)
                cells.append(Cell(here or "", "same" if here == ref else "differs"))
            for kinds, installed in target_data:
                found = installed.get(eco, {}).get(key)
                kind = kinds.get((eco, key))
                cells.append(Cell(found or "", kind or ("ok" if found else "absent")))
            rows.append(Row(eco, shown_names[key], cells))
    timeline, note = _history(manifest_path, history)
    return ReportData(
        project=_project_name(manifest_path),
        platform=platform,
        generated=time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        columns=columns,
        rows=rows,
        counts=counts,
        targets=sections,
        history=timeline,
        history_note=note,
        ecosystems=eco_names,
    )


def _project_name(manifest_path: Path) -> str:
    data = None
    try:
        import yaml

        data = yaml.safe_load(manifest_path.read_text(encoding="utf-8"))
    except Exception:
        data = None
    name = data.get("name") if isinstance(data, dict) else None
    return str(name) if name else manifest_path.resolve().parent.name


def _history(manifest_path: Path, count: int) -> tuple[list[Any], str | None]:
    if count <= 0:
        return [], None
    from envman.history.timeline import load_timeline

    try:
        timeline = load_timeline(manifest_path, limit=count)
    except EnvmanError as exc:
        return [], str(exc)
    note = None
    if timeline.shallow and timeline.stops_at is not None:
        note = f"shallow clone: history stops at {timeline.stops_at.short}"
    return timeline.revisions, note


def render_report(data: ReportData, fmt: str) -> str:
    if fmt == "markdown":
        from envman.report.html import report_markdown

        return report_markdown(data)
    from envman.report.html import report_html

    return report_html(data)
