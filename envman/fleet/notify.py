"""Notifications of changes of state through apprise (Slack, Teams, e-mail, webhooks, ntfy, …
from one URL each). The message names the target, its environment and what drifted; the
markdown report of the changed targets is attached where the service takes attachments."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from envman.errors import BadInputError, UnreachableError
from envman.fleet.state import Change

__all__ = ["Notifier", "message_for"]

_TITLES = {
    "appeared": "drift found",
    "changed": "drift changed",
    "cleared": "back in sync",
    "unreachable": "unreachable",
    "back": "reachable again, in sync",
}


def message_for(changes: Sequence[Change]) -> tuple[str, str]:
    """(title, body) of one notification for a run's changes (pure)."""
    worst = "drift" if any(c.after.status == "drift" for c in changes) else (
        "unreachable" if any(c.after.status == "unreachable" for c in changes) else "ok"
    )
    if len(changes) == 1:
        change = changes[0]
        title = f"envman: {change.target} {_TITLES[change.kind]}"
    else:
        title = f"envman: {len(changes)} targets changed state" + ("" if worst == "ok" else f" ({worst})")
    lines = []
    for change in changes:
        after = change.after
        line = f"- {change.target} [environment {after.environment or '?'}]: {_TITLES[change.kind]}"
        if after.summary:
            line += f": {after.summary}"
        lines.append(line)
    return title, "\n".join(lines)


class Notifier:
    """apprise URLs, checked when made (a URL apprise does not know is bad input, exit 2)."""

    def __init__(self, urls: Sequence[str]) -> None:
        import apprise

        from envman.redact import redact_text

        self.urls = list(urls)
        self._apprise = apprise.Apprise()
        for url in self.urls:
            if not self._apprise.add(url):
                raise BadInputError(f"--notify {redact_text(url)!r}: not a notification URL apprise knows (see apprise's list of services)")

    def send(self, changes: Sequence[Change], report_markdown: str | None) -> None:
        """One notification for the run's changes; UnreachableError when no service took it."""
        import apprise

        if not changes or not self.urls:
            return
        title, body = message_for(changes)
        failure = None
        with tempfile.TemporaryDirectory(prefix="envman-notify-") as tmp:
            attach: Any = None
            if report_markdown:
                path = Path(tmp) / "envman-check.md"
                path.write_text(report_markdown, encoding="utf-8")
                attach = apprise.AppriseAttachment(str(path))
            try:
                sent = bool(self._apprise.notify(title=title, body=body, body_format=apprise.NotifyFormat.MARKDOWN, attach=attach))
            except Exception as exc:  # a plugin's own failure: still one message
                sent, failure = False, f"{type(exc).__name__}: {exc}"
        if not sent:
            detail = f" ({failure})" if failure else " (see the service's answer above)"
            raise UnreachableError("a notification could not be delivered" + detail)
