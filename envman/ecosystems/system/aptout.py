"""Parsers of what apt says in the resolving container (pure: text in, data out).

The text comes from inside a container of the base image: it is untrusted, so every value
that becomes a lock entry is checked again by the entry model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime

__all__ = ["AptAnswer", "JobAnswer", "parse_answer", "parse_records", "parse_madison", "release_list_name", "utc_date", "relation_names"]

_INST = re.compile(r"^Inst (?P<name>\S+) (?:\[(?P<old>[^\]]*)\] )?\((?P<version>\S+) (?P<origin>.*?)(?: \[(?P<arch>[^\]]+)\])?\)")
_REMV = re.compile(r"^Remv (?P<name>\S+)")


@dataclass
class JobAnswer:
    name: str
    status: int = -1
    simulate: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    show: list[str] = field(default_factory=list)
    madison: list[str] = field(default_factory=list)

    def installs(self) -> list[tuple[str, str, str | None, str | None]]:
        """(name, version, architecture, old version) of each `Inst` line, in apt's order."""
        found = []
        for line in self.simulate:
            match = _INST.match(line)
            if match:
                found.append((match["name"], match["version"], match["arch"], match["old"]))
        return found

    def removals(self) -> list[str]:
        return [m["name"] for m in map(_REMV.match, self.simulate) if m]

    def explanation(self) -> list[str]:
        """apt's own lines about why it cannot satisfy the relations."""
        keep = [line.rstrip() for line in self.simulate if line.startswith((" ", "E:")) and line.strip()]
        return keep[-12:]


@dataclass
class AptAnswer:
    arch: str = ""
    update_status: int = 0
    update_log: list[str] = field(default_factory=list)
    releases: dict[str, str] = field(default_factory=dict)  # list file name -> Date
    base: dict[str, tuple[str, str]] = field(default_factory=dict)  # installed package -> (version, architecture)
    jobs: list[JobAnswer] = field(default_factory=list)
    complete: bool = False


def parse_answer(text: str) -> AptAnswer:
    answer = AptAnswer()
    section = ""
    job: JobAnswer | None = None
    for line in text.splitlines():
        if line.startswith("@@"):
            word, _, rest = line[2:].partition(" ")
            section = word
            if word == "update":
                answer.update_status = _int(rest)
            elif word == "job":
                job = JobAnswer(rest.strip())
                answer.jobs.append(job)
            elif word == "simulate" and job is not None:
                job.status = _int(rest)
            elif word == "end":
                answer.complete = True
            continue
        if section == "arch" and line.strip():
            answer.arch = line.strip()
        elif section == "update":
            answer.update_log.append(line)
        elif section == "releases":
            name, _, date = line.partition("\t")
            if name:
                answer.releases[name] = date.strip()
        elif section == "base":
            parts = line.split("\t")
            if len(parts) == 4 and parts[3].startswith("ii"):
                answer.base[parts[0]] = (parts[1], parts[2])
        elif job is not None:
            if section == "simulate":
                job.simulate.append(line)
            elif section == "unknown" and line.strip():
                job.unknown.append(line.strip())
            elif section == "show":
                job.show.append(line)
            elif section == "madison":
                job.madison.append(line)
    return answer


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        return -1


def parse_records(lines: list[str]) -> list[dict[str, str]]:
    """deb822 stanzas (apt-cache show): field -> value (continuation lines joined)."""
    records: list[dict[str, str]] = []
    current: dict[str, str] = {}
    last = ""
    for line in lines:
        if not line.strip():
            if current:
                records.append(current)
            current, last = {}, ""
        elif line[0] in " \t" and last:
            current[last] += "\n" + line.strip()
        else:
            key, sep, value = line.partition(":")
            if sep and key and " " not in key:
                current[key] = value.strip()
                last = key
    if current:
        records.append(current)
    return records


def parse_madison(lines: list[str]) -> dict[tuple[str, str], tuple[str, str]]:
    """(name, version) -> (archive root, suite) of the first source that has it."""
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for line in lines:
        parts = [p.strip() for p in line.split("|")]
        if len(parts) != 3:
            continue
        words = parts[2].split()
        if len(words) < 3 or not words[-1].endswith("Packages"):
            continue
        root, where = words[0], words[1]
        suite = where.rsplit("/", 1)[0] if "/" in where else where
        found.setdefault((parts[0], parts[1]), (root, suite))
    return found


def release_list_name(root: str, suite: str) -> list[str]:
    """The names apt gives the Release files of (root, suite) in /var/lib/apt/lists."""
    bare = re.sub(r"^[a-z]+://", "", root.rstrip("/"))
    bare = re.sub(r"^[^/@]*@", "", bare)  # user:password@ is not part of the name
    stem = f"{bare}/dists/{suite}/".replace("/", "_")
    return [stem + "InRelease", stem + "Release"]


def utc_date(text: str) -> str | None:
    """A Release file's `Date` as YYYY-MM-DDTHH:MM:SSZ; None when it cannot be read."""
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        return None

    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def relation_names(field_value: str) -> list[str]:
    """Package names a Depends field mentions (every alternative), without versions or arch."""
    names = []
    for clause in field_value.split(","):
        for alternative in clause.split("|"):
            word = alternative.strip().split(" ", 1)[0].split("(", 1)[0]
            word = word.split(":", 1)[0]
            if word:
                names.append(word)
    return names
