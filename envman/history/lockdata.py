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

import re
from typing import Any

from envman import ecosystems
from envman.errors import BadInputError
from envman.lockfile.paths import no_such_platform

__all__ = ["Entry", "HistoryLock", "HistoryLockError", "read_history_lock", "package_versions"]


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
            self._fields = {m.group(1).replace("-", "_"): _scalar(m.group(2)) for m in _FIELD.finditer(self._text)}
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


class HistoryPlatform:
    """One environment and platform: `entries(ecosystem)` as on the lock models."""

    __slots__ = ("_rows",)

    def __init__(self, rows: dict[str, list[Entry]]) -> None:
        self._rows = rows

    def entries(self, ecosystem: str) -> list[Entry]:
        return self._rows.get(ecosystem, [])


class HistoryLock:
    """`environments[env][platform]` and `platform_lock()`, as on the lock models."""

    def __init__(self, data: dict[str, dict[str, dict[str, list[Entry]]]]) -> None:
        self.environments = {env: {p: HistoryPlatform(rows) for p, rows in platforms.items()} for env, platforms in data.items()}

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


_HEADING = re.compile(
    r"^(?:  (?P<env>[^ \n][^\n]*):|    (?P<platform>[^ \n][^\n]*):|      (?P<key>[^ \n-][^:\n]*):(?P<value>[^\n]*)"
    r"|(?P<top>[^ \n#][^\n]*))$",
    re.M,
)
_ENTRY = re.compile(r"^      - name: ([^\n]*)\n        version: ([^\n]*)\n((?:        [^\n]*\n)*)", re.M)


def _canonical(text: str) -> dict[str, dict[str, dict[str, list[Entry]]]] | None:
    """{env: {platform: {ecosystem: entries}}} by a scan of envman's layout; None otherwise.
    Headings are found by one scan, each ecosystem's entries by one findall (no Python loop
    over lines)."""
    marker = "\nenvironments:\n"
    start = text.find(marker)
    if start < 0:
        return {} if "\nenvironments: {}" in text else None
    body = text[start + len(marker) :]
    if not body.endswith("\n"):
        body += "\n"
    known = set(ecosystems.names())
    out: dict[str, dict[str, dict[str, list[Entry]]]] = {}
    env: dict[str, dict[str, list[Entry]]] | None = None
    platform: dict[str, list[Entry]] | None = None
    headings = list(_HEADING.finditer(body))
    for i, match in enumerate(headings):
        kind = match.lastgroup
        if kind == "top":
            break
        if kind == "env":
            env = out.setdefault(match.group("env"), {})
            platform = None
        elif kind == "platform":
            if env is None:
                return None
            platform = env.setdefault(match.group("platform"), {})
        else:
            if platform is None:
                return None
            key = match.group("key")
            if key not in known or match.group("value").strip():
                continue
            end = headings[i + 1].start() if i + 1 < len(headings) else len(body)
            section = body[match.end() + 1 : end]
            found = _ENTRY.findall(section)
            if len(found) != section.count("\n      - ") + section.startswith("      - "):
                return None  # an entry that does not start with name and version: not envman's layout
            platform[key] = [Entry(_scalar(n), _scalar(v), n + "\n" + v + "\n" + rest) for n, v, rest in found]
    return out


def _from_yaml(text: str, where: str) -> dict[str, dict[str, dict[str, list[Entry]]]]:
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
    out: dict[str, dict[str, dict[str, list[Entry]]]] = {}
    for env, platforms in (data.get("environments") or {}).items():
        if not isinstance(platforms, dict):
            raise HistoryLockError(f"{where}: environment {env!r} is not a mapping")
        for platform, body in platforms.items():
            if not isinstance(body, dict):
                raise HistoryLockError(f"{where}: {env}@{platform} is not a mapping")
            for key, items in body.items():
                if key not in known or not isinstance(items, list):
                    continue
                rows = out.setdefault(str(env), {}).setdefault(str(platform), {}).setdefault(str(key), [])
                for item in items:
                    if not isinstance(item, dict) or "name" not in item or "version" not in item:
                        raise HistoryLockError(f"{where}: a {key} entry in {env}@{platform} without name and version")
                    fields = {str(k).replace("-", "_"): v if isinstance(v, list) else str(v) for k, v in item.items()}
                    rows.append(Entry(str(item["name"]), str(item["version"]), repr(sorted(fields.items())), fields))
            out.setdefault(str(env), {}).setdefault(str(platform), {})
    return out


def read_history_lock(text: str, where: str) -> HistoryLock:
    """The lock's environments, platforms and entries from a committed lock's text."""
    if not text.lstrip().startswith(("#", "version:")) or "\nversion: 1\n" not in "\n" + text:
        data = _from_yaml(text, where)
    else:
        try:
            scanned = _canonical(text)
        except ValueError:
            scanned = None
        data = scanned if scanned is not None else _from_yaml(text, where)
    return HistoryLock(data)


def package_versions(lock: Any, env: str, platform: str) -> dict[str, dict[str, str]]:
    """{ecosystem: {name: version}} of one environment and platform (empty when absent)."""
    body = lock.environments.get(env, {}).get(platform)
    if body is None:
        return {}
    return {eco: {e.name: e.version for e in body.entries(eco)} for eco in ecosystems.names() if body.entries(eco)}
