"""Render check and diff results as text: table (rich), json, markdown, junit (pure: values -> str)."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING, Any

from envman.report.model import CheckResult, DiffResult, TargetResult
from envman.report.text import printable, printable_lines

if TYPE_CHECKING:
    from envman.drift.compare import Finding

__all__ = ["CHECK_FORMATS", "DIFF_FORMATS", "render_check", "render_diff"]

CHECK_FORMATS = ("table", "json", "markdown", "junit")
DIFF_FORMATS = ("table", "json", "markdown")
KIND_STYLE = {"missing": "red", "extra": "yellow", "changed": "magenta", "modified": "red", "runtime": "cyan"}


_XML = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}
_XML_ATTR = {**_XML, ord('"'): "&quot;", ord("\n"): "&#10;", ord("\r"): "&#13;", ord("\t"): "&#9;"}
# characters XML 1.0 cannot carry at all
_XML_INVALID = {i: "\ufffd" for i in range(32) if i not in (9, 10, 13)}


def escape(text: str) -> str:
    """XML text (xml.sax.saxutils would pull in urllib and ssl: 30 ms at start-up); text
    from outside is made printable first (C1 controls are valid XML but not safe to view)."""
    return printable_lines(text).translate(_XML_INVALID).translate(_XML)


def quoteattr(text: str) -> str:
    return '"' + printable_lines(text).translate(_XML_INVALID).translate(_XML_ATTR) + '"'


def _order() -> dict[str, int]:
    """Rows sort by the registry's order of ecosystems, runtime differences last."""
    from envman.ecosystems import names

    order = {name: i for i, name in enumerate(names())}
    order["runtime"] = len(order)
    return order


def _dash(value: str | None) -> str:
    return "—" if value is None else value


def _t(value: str) -> Any:
    """Plain cell text: never parsed as rich markup (names may hold brackets), and with
    every control character escaped (names come from targets)."""
    from rich.text import Text

    return Text(printable(value))


def _md(value: str | None) -> str:
    text = "—" if value is None else printable(value.replace("\n", " "))
    return text.replace("|", "\\|")


def _sorted_findings(target: TargetResult) -> list[Any]:
    """Runtime mismatches (Python, R, Java versions) first: they explain the rest."""
    order = _order()
    return sorted(target.findings, key=lambda f: (f.kind != "runtime", order.get(f.ecosystem, 9), f.name.lower(), f.kind))


# -- check ----------------------------------------------------------------------------


def render_check(result: CheckResult, fmt: str, color: bool | None = None) -> str:
    if fmt == "json":
        return json.dumps(result.to_data(), indent=2) + "\n"
    if fmt == "markdown":
        return _check_markdown(result)
    if fmt == "junit":
        return _check_junit(result)
    return _check_table(result, color)


def _console(buffer: io.StringIO, color: bool | None) -> Any:
    import shutil

    from rich.console import Console

    width = shutil.get_terminal_size((120, 24)).columns if color else 120
    return Console(file=buffer, force_terminal=bool(color), no_color=not color, width=width, highlight=False, soft_wrap=False)


def _check_table(result: CheckResult, color: bool | None) -> str:
    from rich.table import Table

    buffer = io.StringIO()
    console = _console(buffer, color)
    for target in result.targets:
        head = f"{target.target}  (environment {target.environment}, {target.platform})"  # _t escapes it
        if target.error is not None:
            console.print(_t(f"ERROR {target.target}: not checked: {target.error}"), style="bold red" if color else None)
            continue
        if target.in_sync:
            console.print(_t(f"OK {head}: in sync"), style="green" if color else None)
            continue
        console.print(_t(f"DRIFT {head}: {len(target.findings)} finding(s)"), style="bold" if color else None)
        for eco in sorted({f.ecosystem for f in target.findings}, key=lambda e: _order().get(e, 9)):
            table = Table(title=eco, title_justify="left", show_edge=False, pad_edge=False)
            for column in ("kind", "name", "expected", "actual", "detail"):
                table.add_column(column, overflow="fold")
            for f in _sorted_findings(target):
                if f.ecosystem != eco:
                    continue
                kind = _t(f.kind)
                if color:
                    kind.stylize(KIND_STYLE.get(f.kind, "white"))
                table.add_row(kind, _t(f.name), _t(_dash(f.expected)), _t(_dash(f.actual)), _t(f.detail or ""))
            console.print(table)
        for problem in target.problems:
            console.print(_t(f"note: {problem}"))
    drifted = sum(1 for t in result.targets if not t.in_sync)
    if len(result.targets) > 1:
        console.print(f"{len(result.targets) - drifted} of {len(result.targets)} target(s) in sync")
    return _strip(buffer.getvalue())


def _strip(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.splitlines()) + "\n"


def _check_markdown(result: CheckResult) -> str:
    lines = ["# envman check", ""]
    lines.append(f"**{'In sync' if result.in_sync else 'Drift found'}** — {len(result.targets)} target(s)")
    for target in result.targets:
        if target.error is not None:
            lines += ["", f"## `{_md(target.target)}`", "", f"**Not checked**: {_md(target.error)}"]
            continue
        lines += ["", f"## `{_md(target.target)}`", "", f"Environment `{_md(target.environment)}`, platform `{_md(target.platform)}`: "
                  + ("in sync." if target.in_sync else f"{len(target.findings)} finding(s).")]
        if target.in_sync:
            continue
        lines += ["", "| ecosystem | name | kind | expected | actual | detail |", "|---|---|---|---|---|---|"]
        for f in _sorted_findings(target):
            detail = _md(f.detail) if f.detail else ""
            lines.append(f"| {_md(f.ecosystem)} | {_md(f.name)} | {f.kind} | {_md(f.expected)} | {_md(f.actual)} | {detail} |")
        for problem in target.problems:
            lines.append(f"\n> note: {_md(problem)}")
    return "\n".join(lines) + "\n"


def _finding_message(f: Finding) -> str:
    text = {
        "missing": f"{f.name} {f.expected} is locked but not installed",
        "extra": f"{f.name} {f.actual} is installed but not locked",
        "changed": f"{f.name} is {f.actual}, the lock says {f.expected}",
        "modified": f"{f.name} {f.actual}: installed files differ from the artifact",
        "runtime": f"{f.name} is {f.actual}, expected {f.expected}",
    }.get(f.kind, f.kind)
    return text + (f" ({f.detail})" if f.detail else "")


def _check_junit(result: CheckResult) -> str:
    """One testsuite per target, one testcase per locked package (and per extra/runtime finding)."""
    suites = []
    total = failures = errors = 0
    for target in result.targets:
        if target.error is not None:  # one test case that errored: the target was not checked
            total += 1
            errors += 1
            message = printable(target.error)
            suite_name = f"{target.target} [{target.environment}@{target.platform}]"
            suites.append(
                f"  <testsuite name={quoteattr(suite_name)} tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\">\n"
                f"    <testcase classname=\"envman.target\" name={quoteattr(target.target)} time=\"0\">"
                f"<error type=\"unreachable\" message={quoteattr(message)}>{escape(message)}</error></testcase>\n"
                "  </testsuite>"
            )
            continue
        cases = []
        by_name: dict[tuple[str, str], list[Finding]] = {}
        for f in target.findings:
            by_name.setdefault((f.ecosystem, f.name), []).append(f)
        names = [(eco, name) for eco, items in sorted((target.checked or {}).items()) for name in sorted(items)]
        names += sorted(k for k in by_name if k not in set(names))
        suite_failures = 0
        for eco, name in names:
            found = by_name.get((eco, name), [])
            body = ""
            if found:
                suite_failures += 1
                message = "; ".join(_finding_message(f) for f in found)
                kinds = ",".join(sorted({f.kind for f in found}))
                body = f"<failure type={quoteattr(kinds)} message={quoteattr(message)}>{escape(message)}</failure>"
            classname = f"envman.{eco}"
            cases.append(f'    <testcase classname={quoteattr(classname)} name={quoteattr(name)} time="0">{body}</testcase>')
        for problem in target.problems:
            cases.append(f'    <system-err>{escape(problem)}</system-err>')
        total += len(names)
        failures += suite_failures
        suite_name = f"{target.target} [{target.environment}@{target.platform}]"
        suites.append(
            f"  <testsuite name={quoteattr(suite_name)} tests=\"{len(names)}\" failures=\"{suite_failures}\" errors=\"0\" skipped=\"0\">\n"
            + "\n".join(cases)
            + ("\n" if cases else "")
            + "  </testsuite>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name="envman check" tests="{total}" failures="{failures}" errors="{errors}">\n'
        + "\n".join(suites)
        + ("\n" if suites else "")
        + "</testsuites>\n"
    )


# -- diff -----------------------------------------------------------------------------


def render_diff(result: DiffResult, fmt: str, color: bool | None = None) -> str:
    if fmt == "json":
        return json.dumps(result.to_data(), indent=2) + "\n"
    order = _order()
    ordered = sorted(result.differences, key=lambda d: (order.get(d.ecosystem, 9), d.name.lower()))
    if fmt == "markdown":
        lines = [f"# envman diff: `{_md(result.left)}` vs `{_md(result.right)}`", ""]
        if result.identical:
            lines.append("Identical.")
        else:
            header = f"| ecosystem | name | `{_md(result.left)}` | `{_md(result.right)}` |"
            lines += [f"{len(ordered)} difference(s).", "", header, "|---|---|---|---|"]
            lines += [f"| {_md(d.ecosystem)} | {_md(d.name)} | {_md(d.left)} | {_md(d.right)} |" for d in ordered]
        return "\n".join(lines) + "\n"
    from rich.table import Table

    buffer = io.StringIO()
    console = _console(buffer, color)
    if result.identical:
        console.print(_t(f"{result.left} and {result.right} are identical"))
        return buffer.getvalue()
    table = Table(show_edge=False, pad_edge=False)
    table.add_column("ecosystem")
    table.add_column("name", overflow="fold")
    table.add_column(_t(result.left), overflow="fold")
    table.add_column(_t(result.right), overflow="fold")
    for d in ordered:
        left, right = _t(_dash(d.left)), _t(_dash(d.right))
        if color:
            left.stylize("red" if d.left is not None else "dim")
            right.stylize("green" if d.right is not None else "dim")
        table.add_row(_t(d.ecosystem), _t(d.name), left, right)
    console.print(table)
    console.print(f"{len(ordered)} difference(s)")
    return _strip(buffer.getvalue())
