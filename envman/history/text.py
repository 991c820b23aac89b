"""History and identify as text for people: a table (plain, aligned) and markdown (pure)."""

from __future__ import annotations

from envman.history.identify import Candidate, Identification
from envman.history.timeline import KINDS, Revision, Timeline, iso_date
from envman.lockchanges import change_lines
from envman.report.text import printable

__all__ = ["HISTORY_FORMATS", "render_history", "render_identify", "count_text"]

HISTORY_FORMATS = ("table", "json", "markdown")
_SIGN = {"added": "+", "removed": "-", "upgraded": "↑", "downgraded": "↓", "changed": "~"}


def count_text(kinds: dict[str, int]) -> str:
    return ", ".join(f"{kinds[k]} {k}" for k in KINDS if kinds.get(k))


def _state(rev: Revision) -> str | None:
    if rev.error:
        return f"unreadable lock: {rev.error}"
    if rev.deleted:
        return "envman.lock removed"
    if rev.boundary:
        return "history stops here (shallow clone): what this commit changed is not known"
    if not rev.changes:
        return "no package changed (hashes, manifest hash or layout only)"
    return None


def _stops(timeline: Timeline) -> list[str]:
    if not timeline.shallow:
        return []
    if timeline.stops_at is None:
        return ["note: shallow clone; history may be incomplete (git fetch --unshallow for all of it)"]
    c = timeline.stops_at
    return [f"note: shallow clone: history stops at {c.short} ({iso_date(c.time)[:10]}); git fetch --unshallow for the rest"]


def render_history(timeline: Timeline, fmt: str, verbose: bool = False) -> str:
    if fmt == "markdown":
        return _markdown(timeline, verbose)
    lines: list[str] = []
    if not timeline.revisions:
        lines.append(f"no commit changed {timeline.lock_path}" + (f" since {timeline.since}" if timeline.since else ""))
    for rev in timeline.revisions:
        c = rev.commit
        created = " (lock created)" if rev.created else ""
        lines.append(printable(f"{c.short}  {iso_date(c.time)[:10]}  {c.author}  {c.subject}{created}"))
        state = _state(rev)
        if state:
            lines.append(printable(f"    {state}"))
        for env, ecos in rev.counts().items():
            for eco, kinds in ecos.items():
                lines.append(printable(f"    {env:<12} {eco:<8} {count_text(kinds)}"))
        if verbose and rev.changes:
            lines.extend(printable("      " + line) for line in change_lines(rev.changes))
    lines.extend(_stops(timeline))
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return printable(text).replace("|", "\\|").replace("\n", " ")


def _markdown(timeline: Timeline, verbose: bool) -> str:
    out = [f"### History of `{_md(timeline.lock_path)}`", ""]
    if not timeline.revisions:
        out.append(f"No commit changed `{_md(timeline.lock_path)}`.")
    else:
        out += ["| date | commit | author | subject | changes |", "|---|---|---|---|---|"]
        for rev in timeline.revisions:
            c = rev.commit
            parts = [
                f"{env} {eco}: " + " ".join(f"{_SIGN[k]}{n}" for k, n in kinds.items())
                for env, ecos in rev.counts().items()
                for eco, kinds in ecos.items()
            ]
            state = _state(rev)
            cell = "<br>".join(_md(p) for p in parts) or _md(state or "")
            out.append(f"| {iso_date(c.time)[:10]} | `{c.short}` | {_md(c.author)} | {_md(c.subject)} | {cell} |")
        if verbose:
            for rev in timeline.revisions:
                if rev.changes:
                    out += ["", f"<details><summary><code>{rev.commit.short}</code> {_md(rev.commit.subject)}</summary>", "", "```"]
                    out += [printable(line) for line in change_lines(rev.changes)]
                    out += ["```", "</details>"]
        out.append("")
        out.append("+ added, - removed, ↑ upgraded, ↓ downgraded, ~ same version, other artifact")
    out += ["", *_stops(timeline)] if timeline.shallow else []
    return "\n".join(out) + "\n"


def _where(c: Candidate) -> str:
    return f"lock:{c.environment} at {c.commit.short} ({iso_date(c.commit.time)[:10]}, {c.commit.subject!r})"


def render_identify(result: Identification, fmt: str) -> str:
    lines: list[str] = []
    if result.exact is not None:
        e = result.exact
        lines.append(printable(f"{result.target} matches {_where(e)} exactly"))
        if e.since is not None and e.since.sha != e.commit.sha:
            since = f"{e.since.short} ({iso_date(e.since.time)[:10]}, {e.since.subject!r})"
            lines.append(printable(f"  the same lock:{e.environment} since {since}"))
    else:
        lines.append(printable(f"{result.target} matches no revision of the lock exactly ({result.revisions} compared); closest:"))
        for c in result.closest:
            lines.append(printable(f"  {_where(c)}: {len(c.findings)} difference(s)"))
            for f in c.findings[:20]:
                lines.append(printable(f"    {f.ecosystem} {f.kind} {f.name}: expected {f.expected or '-'}, found {f.actual or '-'}"))
            if len(c.findings) > 20:
                lines.append(f"    … and {len(c.findings) - 20} more")
    if result.shallow:
        lines.append("note: shallow clone: older revisions were not compared")
    if fmt == "markdown":
        return "\n".join(("- " + _md(line.strip())) if line.startswith(" ") else _md(line) for line in lines) + "\n"
    return "\n".join(lines) + "\n"
