"""Text that came from outside (a target, a package, a snapshot) made safe to print.

Names, versions, locations, details and problems come from targets and packages, which may
be hostile: `\\x1b]0;…\\x07` retitles a terminal, `\\x1b[1A\\x1b[2K` erases the line above,
so a target could fake an "OK" line. `printable` turns every character a terminal or a
report could act on into a visible escape, as repr() writes it; ordinary text (including
non-ASCII letters) is returned unchanged.
"""

from __future__ import annotations

__all__ = ["printable", "printable_lines", "shorten", "tail"]

_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(char: str) -> str:
    named = _NAMED.get(char)
    if named is not None:
        return named
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def printable(text: object) -> str:
    """`text` with every non-printable character escaped: C0 and C1 controls (ESC, BEL,
    CSI `\\x9b`, newlines), DEL, format characters (bidi overrides, zero-width), line and
    paragraph separators and lone surrogates (from undecodable file names)."""
    value = text if isinstance(text, str) else str(text)
    if value.isprintable():
        return value
    return "".join(char if char.isprintable() else _escape(char) for char in value)


def printable_lines(text: str) -> str:
    """A block of lines (a plan, a message) with each line made printable; newlines kept."""
    return "\n".join(printable(line) for line in text.split("\n"))


def shorten(text: str, limit: int = 1024) -> str:
    """At most `limit` characters: the start, an ellipsis and how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit:,} more characters)"


def tail(data: bytes, max_bytes: int = 1024, lines: int = 1) -> str:
    """The last `lines` non-empty lines of a target's output, from at most its last
    `max_bytes` bytes, decoded and made printable (for one-line error messages): nothing
    else ever sees the rest of it."""
    end = data[-max_bytes:] if len(data) > max_bytes else data
    found = [line.strip() for line in end.decode("utf-8", "replace").splitlines() if line.strip()]
    return " | ".join(printable(line) for line in found[-lines:])
