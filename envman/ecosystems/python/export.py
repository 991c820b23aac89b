"""Export Python lock entries as a pip-tools style requirements file with --hash lines."""

from __future__ import annotations

from envman.ecosystems.python.entry import PythonEntry

__all__ = ["requirements_text"]


def requirements_text(
    entries: list[PythonEntry],
    index_url: str | None = None,
    extra_index_urls: list[str] | tuple[str, ...] = (),
    find_links: list[str] | tuple[str, ...] = (),
    header: str | None = None,
) -> str:
    """Text that `pip install --require-hashes --no-deps -r` and `uv pip sync` accept.

    Every value must stay on its line: a line break or other control character in an index
    URL, a find-links entry or a lock entry (a tampered lock) would add options or packages
    to the file, so it is refused (exit 2) instead of written."""
    lines: list[str] = []
    if header:
        lines.extend(f"# {line}" for line in header.splitlines())
    if index_url:
        lines.append(f"--index-url {_one_word(index_url, 'python.index-url')}")
    lines.extend(f"--extra-index-url {_one_word(url, 'python.extra-index-urls')}" for url in extra_index_urls)
    lines.extend(f"--find-links {_one_word(link, 'python.find-links')}" for link in find_links)
    if len(lines) > (len(header.splitlines()) if header else 0):
        lines.append("")
    for entry in sorted(entries, key=lambda e: e.name):
        requirement = f"{_one_word(entry.name, 'a locked name')}=={_one_word(entry.version, f'the version of {entry.name!r}')}"
        if getattr(entry, "url", None):  # a direct reference: the URL as locked (a VCS URL ends in its commit)
            requirement = f"{_one_word(entry.name, 'a locked name')} @ {_one_word(str(entry.url), f'the URL of {entry.name!r}')}"
        if entry.marker:
            requirement += f" ; {_one_line(entry.marker, f'the marker of {entry.name!r}')}"
        if entry.hashes:
            lines.append(requirement + " \\")
            for index, digest in enumerate(entry.hashes):
                tail = " \\" if index < len(entry.hashes) - 1 else ""
                lines.append(f"    --hash={_one_word(digest, f'a hash of {entry.name!r}')}{tail}")
        else:
            lines.append(requirement)
    return "\n".join(lines) + "\n"


def _one_line(value: str, what: str, forbidden: str = "\\#") -> str:
    """value, unless it could end its line or start a comment (a marker holds spaces)."""
    from envman.errors import BadInputError

    if not value.isprintable() or value != value.strip() or any(ch in value for ch in forbidden):
        raise BadInputError(
            f"{what} holds a line break, a control character, `\\` or `#`; refusing to write it into a requirements file"
        )
    return value


def _one_word(value: str, what: str) -> str:
    """value, unless it could end its line or be read as two words."""
    from envman.errors import BadInputError

    _one_line(value, what, "\\")
    if " " in value:
        raise BadInputError(f"{what} holds a space; refusing to write it into a requirements file")
    return value
