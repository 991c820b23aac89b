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
    """Text that `pip install --require-hashes --no-deps -r` and `uv pip sync` accept."""
    lines: list[str] = []
    if header:
        lines.extend(f"# {line}" for line in header.splitlines())
    if index_url:
        lines.append(f"--index-url {index_url}")
    lines.extend(f"--extra-index-url {url}" for url in extra_index_urls)
    lines.extend(f"--find-links {link}" for link in find_links)
    if len(lines) > (len(header.splitlines()) if header else 0):
        lines.append("")
    for entry in sorted(entries, key=lambda e: e.name):
        requirement = f"{entry.name}=={entry.version}"
        if entry.marker:
            requirement += f" ; {entry.marker}"
        if entry.hashes:
            lines.append(requirement + " \\")
            for index, digest in enumerate(entry.hashes):
                tail = " \\" if index < len(entry.hashes) - 1 else ""
                lines.append(f"    --hash={digest}{tail}")
        else:
            lines.append(requirement)
    return "\n".join(lines) + "\n"
