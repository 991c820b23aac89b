"""The report as one self-contained HTML page (a Jinja2 template beside this module: inline
CSS and a little JS, no network) or as markdown for a pull-request comment (pure)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from envman.report.html_model import ReportData

__all__ = ["report_html", "report_markdown"]

TEMPLATES = Path(__file__).resolve().parent / "templates"


def report_html(data: ReportData) -> str:
    import jinja2

    from envman.history.text import count_text
    from envman.history.timeline import iso_date

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["iso_date"] = iso_date
    env.filters["count_text"] = count_text
    return env.get_template("report.html.j2").render(data=data, drift_rows=sum(r.drift for r in data.rows))


def _md(text: Any) -> str:
    from envman.report.text import printable

    return printable(str(text)).replace("|", "\\|").replace("\n", " ")


def report_markdown(data: ReportData) -> str:
    from envman.history.text import count_text
    from envman.history.timeline import iso_date

    out = [f"## envman report: {_md(data.project)} ({_md(data.platform)})", ""]
    header = ["ecosystem", *(c.label for c in data.columns)]
    out += ["| " + " | ".join(_md(h) for h in header) + " |", "|" + "---|" * len(header)]
    for eco, numbers in data.counts.items():
        out.append("| " + " | ".join([_md(eco), *(str(n) for n in numbers)]) + " |")
    shown = [r for r in data.rows if r.drift or r.differs]
    out += ["", f"### Packages that differ ({len(shown)} of {len(data.rows)})", ""]
    if shown:
        head = ["ecosystem", "package", *(c.label for c in data.columns)]
        out += ["| " + " | ".join(_md(h) for h in head) + " |", "|" + "---|" * len(head)]
        for row in shown:
            cells = []
            for cell in row.cells:
                text = _md(cell.text) if cell.text else "—"
                cells.append(text if cell.state in ("same", "ok", "absent") else f"**{text}** ({cell.state})")
            out.append("| " + " | ".join([_md(row.ecosystem), _md(row.name), *cells]) + " |")
    else:
        out.append("Every environment and target has the same packages.")
    for target in data.targets:
        out += ["", f"### `{_md(target.target)}` against lock:{_md(target.environment)}", ""]
        if target.error:
            out.append(f"Not checked: {_md(target.error)}")
        elif not target.findings:
            out.append("In sync.")
        else:
            out += ["| ecosystem | package | kind | expected | found |", "|---|---|---|---|---|"]
            for f in target.findings:
                out.append(f"| {_md(f.ecosystem)} | {_md(f.name)} | {_md(f.kind)} | {_md(f.expected or '—')} | {_md(f.actual or '—')} |")
    if data.history or data.history_note:
        out += ["", "### Recent history", ""]
        for rev in data.history:
            parts = "; ".join(f"{env} {eco}: {count_text(k)}" for env, ecos in rev.counts().items() for eco, k in ecos.items())
            out.append(f"- `{rev.commit.short}` {iso_date(rev.commit.time)[:10]} {_md(rev.commit.subject)} ({_md(rev.commit.author)})"
                       + (f": {_md(parts)}" if parts else ""))
        if data.history_note:
            out.append(f"- {_md(data.history_note)}")
    return "\n".join(out) + "\n"
