"""Debian Control File (DCF) parsing, as R reads PACKAGES and DESCRIPTION files.

Records are separated by blank lines; `Field: value` starts a field; a line starting with
whitespace continues the previous field. Pure functions: text in, dicts out.
"""

from __future__ import annotations

from envman.errors import ResolutionError

__all__ = ["DcfError", "parse_dcf", "parse_dcf_record", "decode_dcf_bytes"]


class DcfError(ResolutionError, ValueError):  # envman's hierarchy (exit 3); ValueError for the catch sites
    """A malformed DCF line; `line` is 1-based within the parsed text."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(f"line {line}: {message}")
        self.line = line


def decode_dcf_bytes(data: bytes) -> str:
    """DESCRIPTION and PACKAGES are UTF-8 nowadays; old ones may be Latin-1."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


def parse_dcf(text: str) -> list[dict[str, str]]:
    """All records of a DCF document, in order. Continuation lines are joined with a newline."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    records: list[dict[str, str]] = []
    record: dict[str, str] = {}
    last: str | None = None
    for line_no, line in enumerate(text.split("\n"), 1):
        if not line or line.isspace():
            if record:
                records.append(record)
                record = {}
            last = None
            continue
        if line[0] in " \t":
            if last is None:
                raise DcfError(line_no, "continuation line before any field")
            record[last] += "\n" + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or " " in name:
            raise DcfError(line_no, f"expected `Field: value`, got {line[:60]!r}")
        last = name
        record[name] = value.strip()
    if record:
        records.append(record)
    return records


def parse_dcf_record(text: str) -> dict[str, str]:
    """The first record of a DCF document (a DESCRIPTION file has exactly one)."""
    records = parse_dcf(text)
    return records[0] if records else {}
