"""A lock as history reads it: per environment and platform, each ecosystem's entries, read
fast from the text of a committed lock (pure; text in, data out).

History reads hundreds of old locks. Their full validation (PyYAML, then the pydantic
models) costs about 20 ms per 300 packages; a lock written by envman has a fixed layout
(envman.lockfile.canonical), so it is read here with one regular-expression scan, and an
entry's fields are parsed only when something asks for them (identify, `changed`). Text
that is not in that layout (edited by hand, another writer) is read with PyYAML's safe
loader after envman.yamlguard's checks; text that is not a lock at all is an error for
that revision only (HistoryLockError), never a traceback.
"""

from __future__ import annotations

import functools
import re
from typing import Any

from envman import ecosystems
from envman.errors import BadInputError
from envman.lockfile.paths import no_such_platform

__all__ = ["Entry", "Section", "HistoryLock", "HistoryPlatform", "HistoryLockError", "read_history_lock", "changed_only", "row_entry"]


class HistoryLockError(BadInputError):
    """A committed lock that cannot be read (one revision; history reports it and goes on)."""


class Entry:
    """One lock entry: name and version at once, the other fields on first use."""

    __slots__ = ("name", "version", "_text", "_fields")

    def __init__(self, name: str, version: str, text: str, fields: dict[str, Any] | None = None) -> None:
        self.name = name
        self.version = version
        self._text = text
        self._fields = fields

    def _parsed(self) -> dict[str, Any]:
        if self._fields is None:
            self._fields = {m.group(1).replace("-", "_"): _field_value(m.group(2)) for m in _FIELD.finditer(self._text)}
        return self._fields

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        fields = self._parsed()
        if name in fields:
            return fields[name]
        raise AttributeError(name)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Entry) and self._text == other._text

    def __hash__(self) -> int:
        return hash(self._text)

    def __repr__(self) -> str:
        return f"Entry({self.name!r}, {self.version!r})"


class Section:
    """One ecosystem's entries in one environment and platform: the text of a canonical lock's
    list (parsed when first asked for, and then only once per distinct text) or entries
    already read from YAML."""

    __slots__ = ("text", "_entries")

    def __init__(self, text: str | None, entries: list[Entry] | None = None) -> None:
        self.text = text
        self._entries = entries

    def entries(self) -> list[Entry]:
        if self._entries is None:
            self._entries = list(_section_entries(self.text or ""))
        return self._entries

    def rows(self) -> frozenset[str] | None:
        """Each entry's text as written, for set arithmetic between revisions; None for
        entries read from YAML."""
        return None if self.text is None else _section_rows(self.text)


class HistoryPlatform:
    """One environment and platform: `entries(ecosystem)` and the platform's own fields
    (`python_version`) as on the lock models."""

    __slots__ = ("sections", "fields")

    def __init__(self, sections: dict[str, Section], fields: dict[str, Any] | None = None) -> None:
        self.sections = sections
        self.fields = fields or {}

    def entries(self, ecosystem: str) -> list[Entry]:
        section = self.sections.get(ecosystem)
        return section.entries() if section is not None else []

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name in HistoryPlatform.__slots__:
            raise AttributeError(name)
        try:
            return self.fields[name]
        except KeyError:
            raise AttributeError(name) from None


class HistoryLock:
    """`environments[env][platform]` and `platform_lock()`, as on the lock models."""

    def __init__(
        self, data: dict[str, dict[str, dict[str, Section]]], fields: dict[tuple[str, str], dict[str, Any]] | None = None
    ) -> None:
        fields = fields or {}
        self.environments = {
            env: {p: HistoryPlatform(rows, fields.get((env, p))) for p, rows in platforms.items()} for env, platforms in data.items()
        }

    def platform_lock(self, environment: str, platform: str) -> HistoryPlatform:
        try:
            return self.environments[environment][platform]
        except KeyError:
            raise no_such_platform(self.environments, environment, platform) from None


_FIELD = re.compile(r"^        ([A-Za-z0-9_.-]+): ?([^\n]*)$", re.M)
_SPECIAL = frozenset("'\"&*!|>{[")


def _scalar(value: str) -> Any:
    if value and value[0] not in _SPECIAL and value[-1] != " ":
        return value
    value = value.strip()
    if value.startswith("'") and value.endswith("'") and len(value) >= 2:
        return value[1:-1].replace("''", "'")
    if value == "[]":
        return []
    if value[:1] in _SPECIAL:
        raise ValueError(value)
    return value


# Each pattern starts with a newline, not `^` under re.M (which the re module tries at every
# character): the search then jumps from newline to newline, and the lookahead drops the
# lines of entries (most of the text) at once.
_HEADING = re.compile(
    r"\n(?!        |      - )(?:  (?P<env>[^ \n][^\n]*):|    (?P<platform>[^ \n][^\n]*):|      (?P<key>[^ \n-][^:\n]*):(?P<value>[^\n]*)"
    r"|(?P<top>[^ \n#][^\n]*))(?=\n)",
)
_ENTRY_HEAD = re.compile(r"name: ([^\n]*)\n        version: ([^\n]*)")
_ENTRY_SEP = "\n      - "


@functools.lru_cache(maxsize=8192)
def _section_rows(text: str) -> frozenset[str]:
    """Each entry's text (after its `- `), as a set: str.split, no regular expression."""
    return frozenset(text.split(_ENTRY_SEP)[1:])


def row_entry(row: str) -> Entry:
    """The entry of one row of _section_rows; ValueError when it does not start with name and
    version (a list edited by hand: the caller reads that section as YAML instead)."""
    head = _ENTRY_HEAD.match(row)
    if head is None:
        raise ValueError("an entry that does not start with name and version")
    return Entry(_scalar(head.group(1)), _scalar(head.group(2)), row)


@functools.lru_cache(maxsize=8192)
def _section_entries(text: str) -> tuple[Entry, ...]:
    rows = text.split(_ENTRY_SEP)
    if rows[0] == "":
        try:
            return tuple(row_entry(row) for row in rows[1:])
        except ValueError:
            pass
    # entries in another order of fields (edited by hand): the list read as YAML
    import textwrap

    import yaml

    try:
        items = yaml.load(textwrap.dedent(text), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise HistoryLockError(f"a lock list that is not YAML ({str(exc).splitlines()[0]})") from None
    return tuple(_yaml_entries(items if isinstance(items, list) else [], "the lock"))


def _yaml_entries(items: list[Any], where: str) -> list[Entry]:
    out = []
    for item in items:
        if not isinstance(item, dict) or "name" not in item or "version" not in item:
            raise HistoryLockError(f"{where}: an entry without name and version")
        fields = {str(k).replace("-", "_"): v if isinstance(v, list) else str(v) for k, v in item.items()}
        out.append(Entry(str(item["name"]), str(item["version"]), repr(sorted(fields.items())), fields))
    return out


def _field_value(value: str) -> Any:
    """A field's value: plain or single-quoted at once, anything else (a double-quoted marker)
    by PyYAML's safe loader; a value it cannot read is kept as written."""
    try:
        return _scalar(value)
    except ValueError:
        import yaml

        try:
            loaded = yaml.load(value, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except yaml.YAMLError:
            return value.strip()
        return loaded if isinstance(loaded, (str, list)) else str(loaded)


def _canonical(text: str, fields: dict[tuple[str, str], dict[str, Any]]) -> dict[str, dict[str, dict[str, Section]]] | None:
    """{env: {platform: {ecosystem: entries}}} by a scan of envman's layout; None otherwise.
    Headings are found by one scan, each ecosystem's entries by one findall (no Python loop
    over lines)."""
    marker = "\nenvironments:\n"
    start = text.find(marker)
    if start < 0:
        return {} if "\nenvironments: {}" in text else None
    body = text[start + len(marker) - 1 :]  # from the newline before the first environment
    if not body.endswith("\n"):
        body += "\n"
    known = set(ecosystems.names())
    out: dict[str, dict[str, dict[str, Section]]] = {}
    env: dict[str, dict[str, Section]] | None = None
    platform: dict[str, Section] | None = None
    headings = list(_HEADING.finditer(body))
    for i, match in enumerate(headings):
        kind = match.lastgroup
        if kind == "top":
            break
        if kind == "env":
            env_name = match.group("env")
            env = out.setdefault(env_name, {})
            platform = None
        elif kind == "platform":
            if env is None:
                return None
            platform_name = match.group("platform")
            platform = env.setdefault(platform_name, {})
        else:
            if platform is None:
                return None
            key, value = match.group("key"), match.group("value").strip()
            if value and key not in known:  # a platform field: python-version: 3.11.9
                fields.setdefault((env_name, platform_name), {})[key.replace("-", "_")] = _scalar(value)
            if key not in known or value:
                continue
            end = headings[i + 1].start() if i + 1 < len(headings) else len(body)
            platform[key] = Section(body[match.end() : end].rstrip("\n"))
    return out


def _from_yaml(text: str, where: str, fields: dict[tuple[str, str], dict[str, Any]]) -> dict[str, dict[str, dict[str, Section]]]:
    import yaml

    from envman.yamlguard import check_yaml

    check_yaml(text, where)
    try:
        data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise HistoryLockError(f"{where}: not YAML ({str(exc).splitlines()[0]})") from None
    if not isinstance(data, dict) or data.get("version") != 1 or not isinstance(data.get("environments", {}), dict):
        raise HistoryLockError(f"{where}: not an envman lock of version 1")
    known = set(ecosystems.names())
    out: dict[str, dict[str, dict[str, Section]]] = {}
    for env, platforms in (data.get("environments") or {}).items():
        if not isinstance(platforms, dict):
            raise HistoryLockError(f"{where}: environment {env!r} is not a mapping")
        for platform, body in platforms.items():
            if not isinstance(body, dict):
                raise HistoryLockError(f"{where}: {env}@{platform} is not a mapping")
            for key, items in body.items():
                if isinstance(items, (str, int, float)) and not isinstance(items, bool):
                    fields.setdefault((str(env), str(platform)), {})[str(key).replace("-", "_")] = str(items)
                if key not in known or not isinstance(items, list):
                    continue
                entries = _yaml_entries(items, f"{where}: {key} in {env}@{platform}")
                out.setdefault(str(env), {}).setdefault(str(platform), {})[str(key)] = Section(None, entries)
            out.setdefault(str(env), {}).setdefault(str(platform), {})
    return out


def read_history_lock(text: str, where: str) -> HistoryLock:
    """The lock's environments, platforms and entries from a committed lock's text."""
    fields: dict[tuple[str, str], dict[str, Any]] = {}
    scanned = None
    if text.lstrip().startswith(("#", "version:")) and "\nversion: 1\n" in "\n" + text:
        try:
            scanned = _canonical(text, fields)
        except ValueError:
            scanned = None
    if scanned is None:
        fields = {}
        scanned = _from_yaml(text, where, fields)
    return HistoryLock(scanned, fields)


def changed_only(before: HistoryLock | None, now: HistoryLock) -> tuple[HistoryLock | None, HistoryLock]:
    """The two locks reduced to the entries whose text differs between them (whole sections
    when a platform is new or gone), for envman.lockchanges.lock_changes: the same changes,
    without reading the hundreds of entries two neighbouring revisions share. Sections with
    the same text are skipped; the others are compared as sets of entry texts."""
    if before is None:
        return None, now
    old: dict[str, dict[str, dict[str, Section]]] = {}
    new: dict[str, dict[str, dict[str, Section]]] = {}
    for env, platforms in now.environments.items():
        for plat, body in platforms.items():
            was = before.environments.get(env, {}).get(plat)
            if was is None:
                new.setdefault(env, {})[plat] = body.sections
                continue
            for eco in set(body.sections) | set(was.sections):
                a, b = was.sections.get(eco), body.sections.get(eco)
                if a is not None and b is not None and a.text is not None and a.text == b.text:
                    continue
                a_rows, b_rows = (a.rows() if a else frozenset()), (b.rows() if b else frozenset())
                try:
                    if a_rows is None or b_rows is None:
                        raise ValueError("read from YAML")
                    a_keep = [row_entry(row) for row in a_rows - b_rows]  # only the rows that differ become entries
                    b_keep = [row_entry(row) for row in b_rows - a_rows]
                except ValueError:  # read from YAML, or edited by hand: compare whole entries
                    names = {e.name for e in (a.entries() if a else [])} ^ {e.name for e in (b.entries() if b else [])} | {
                        e.name for e in (a.entries() if a else []) if e not in (b.entries() if b else [])}
                    a_keep = [e for e in (a.entries() if a else []) if e.name in names]
                    b_keep = [e for e in (b.entries() if b else []) if e.name in names]
                if a_keep or b_keep:
                    old.setdefault(env, {}).setdefault(plat, {})[eco] = Section(None, a_keep)
                    new.setdefault(env, {}).setdefault(plat, {})[eco] = Section(None, b_keep)
            old.setdefault(env, {}).setdefault(plat, {})
            new.setdefault(env, {}).setdefault(plat, {})
    for env, platforms in before.environments.items():
        for plat, body in platforms.items():
            if plat not in now.environments.get(env, {}):
                old.setdefault(env, {})[plat] = body.sections
    return HistoryLock(old), HistoryLock(new)
