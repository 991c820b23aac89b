"""`envman lock` for `system.apt`: apt's own answer for the pinned `image.base`.

The union of every environment's relations is resolved first (the old lock's versions as
apt preferences, Pin-Priority 990, dropped for --upgrade/--upgrade-package and retried
without when apt cannot keep them); an environment that asks for less is then resolved with
the union's versions pinned (Pin-Priority 1001), so a package has one version everywhere.
Each package apt would install (what the base lacks, or has at another version) becomes an
entry with the Packages index's Filename, Size and SHA256 and the Date of its Release file.
"""

from __future__ import annotations

import re
from typing import Any

from envman.ecosystems.system.aptout import (
    AptAnswer,
    JobAnswer,
    parse_answer,
    parse_madison,
    parse_records,
    relation_names,
    release_list_name,
    utc_date,
)
from envman.ecosystems.system.container import AptJob, image_reference, run_apt
from envman.ecosystems.system.entry import SystemEntry
from envman.ecosystems.system.section import parse_apt_spec
from envman.errors import BadInputError, ResolutionError, UnreachableError

__all__ = ["resolve_request", "DEBIAN_ARCH", "entries_from_job", "base_runtimes", "runtime_of", "preferences_text"]

DEBIAN_ARCH = {"linux-64": "amd64", "linux-aarch64": "arm64"}  # envman platform -> dpkg architecture

_RUNTIMES = (
    (re.compile(r"^python(3\.\d+)-minimal$"), "python"),
    (re.compile(r"^r-base-core$"), "R"),
    (re.compile(r"^openjdk-\d+-jre-headless$"), "java"),
)


def runtime_of(name: str, version: str) -> str | None:
    """"python 3.11.2" when the package provides a runtime envman checks, else None."""
    for pattern, runtime in _RUNTIMES:
        if pattern.match(name):
            upstream = version.split(":", 1)[-1].split("-", 1)[0].split("+", 1)[0].split("~", 1)[0]
            match = re.match(r"\d+(?:\.\d+){0,2}", upstream)
            return f"{runtime} {match.group(0)}" if match else None
    return None


def preferences_text(pins: dict[str, str], priority: int) -> str:
    """An apt_preferences(5) file pinning each package to one version."""
    return "".join(f"Package: {name}\nPin: version {version}\nPin-Priority: {priority}\n\n" for name, version in sorted(pins.items()))


def resolve_request(request: Any, services: Any) -> dict[str, dict[str, list[Any]]]:
    image = request.image
    if image is None:
        raise BadInputError("system.apt is resolved for the base image: add `image: {base: …}` to the manifest")
    reference = image_reference(image, image.base)
    shown = image.base if reference == image.base else f"{image.base} ({reference[:19]}…)"
    result: dict[str, dict[str, list[Any]]] = {env: {} for env in request.environments}
    union = [parse_apt_spec(str(item)).relation() for item in request.union()]
    for platform in request.platforms:
        arch = DEBIAN_ARCH.get(platform)
        if arch is None:  # no Debian packages on macOS or Windows
            for env in result:
                result[env][platform] = []
            continue
        old = request.old_entries(platform)
        keep = request.preferences(platform)
        entries = _resolve_union(reference, shown, union, keep, old, request.offline, services, arch, platform)
        pinned = {e.name: e.version for e in entries}
        others: dict[str, list[str]] = {}
        for env, items in request.environments.items():
            relations = [parse_apt_spec(str(item)).relation() for item in items]
            if sorted(set(relations)) == sorted(set(union)):
                result[env][platform] = list(entries)
            elif not relations:  # an environment without Debian packages of its own
                result[env][platform] = [e for e in entries if e.base]
            else:
                others[env] = relations
        if others:
            jobs = [AptJob(rels, preferences_text(pinned, 1001)) for rels in others.values()]
            answer = _ask(reference, jobs, True, services)
            for (env, _rels), job in zip(others.items(), answer.jobs, strict=True):
                _raise_for(job, shown, answer)
                names = {name.split(":", 1)[0] for name, *_ in job.installs()}
                result[env][platform] = [e for e in entries if e.name in names or e.base]
    return result


def _ask(reference: str, jobs: list[AptJob], offline: bool, services: Any) -> AptAnswer:
    answer = parse_answer(run_apt(reference, jobs, offline))
    if not answer.complete:
        raise UnreachableError(f"system.apt: apt's answer from a container of {reference} was cut short")
    if answer.update_status != 0:
        tail = [line for line in answer.update_log if line.startswith(("E:", "W:", "Err"))][-4:]
        detail = " / ".join(tail) or "no detail"
        raise UnreachableError(f"system.apt: apt-get update failed in a container of {reference}: {detail}")
    if not answer.releases:
        hint = " (run `envman lock` online once)" if offline else ""
        raise UnreachableError(f"system.apt: no apt lists of {reference}'s sources are available{hint}")
    return answer


def _resolve_union(
    reference: str, shown: str, union: list[str], keep: dict[str, str], old: dict[str, Any],
    offline: bool, services: Any, arch: str, platform: str,
) -> list[Any]:
    if not union:
        return []
    services.progress(f"asking apt in a container of {shown}")
    jobs = [AptJob(union, preferences_text(keep, 990))] if keep else []
    jobs.append(AptJob(union, fallback=bool(keep)))
    answer = _ask(reference, jobs, offline, services)
    if answer.arch != arch:
        have = answer.arch or "of an unknown architecture"
        raise ResolutionError(f"system.apt: the base image {shown} is {have}, not {arch} ({platform})")
    job = answer.jobs[-1] if answer.jobs[-1].status >= 0 else answer.jobs[0]
    for candidate in answer.jobs:
        if candidate.status == 0:
            job = candidate
            break
    _raise_for(job, shown, answer)
    entries = entries_from_job(job, answer, old)
    entries += base_runtimes(answer, {e.name for e in entries})
    _tell_runtimes(entries, services)
    return entries


def _raise_for(job: JobAnswer, reference: str, answer: AptAnswer) -> None:
    if job.status == 0:
        removed = job.removals()
        if removed:
            raise ResolutionError(
                f"system.apt: apt would remove {', '.join(removed)} from the base image {reference}; "
                "envman installs packages, it does not remove the base's"
            )
        return
    if job.unknown:
        names = ", ".join(sorted(set(job.unknown)))
        raise ResolutionError(f"system.apt: no package {names} in the apt sources of {reference}")
    detail = "\n  ".join(job.explanation()) or "no detail from apt"
    raise ResolutionError(f"system.apt: apt cannot install these together in {reference}:\n  {detail}")


def entries_from_job(job: JobAnswer, answer: AptAnswer, old: dict[str, Any]) -> list[Any]:
    """Lock entries of the packages a successful job would install (pure)."""
    records = parse_records(job.show)
    places = parse_madison(job.madison)
    installs = job.installs()
    locked = {name.split(":", 1)[0] for name, *_ in installs}
    provided: dict[str, str] = {}
    for stanza in records:
        for virtual in relation_names(stanza.get("Provides", "")):
            provided.setdefault(virtual, stanza.get("Package", ""))
    entries = []
    for qualified, version, arch, _old in installs:
        name = qualified.split(":", 1)[0]
        matching = [r for r in records if r.get("Package") == name and r.get("Version") == version]
        record = next((r for r in matching if r.get("Architecture") in (arch, "all")), matching[0] if matching else {})
        if not record:
            raise UnreachableError(f"system.apt: apt did not show the record of {name} {version}")
        root, suite = places.get((name, version), ("", ""))
        if not root.startswith(("http://", "https://")):
            where = root or "an unknown source"
            raise UnreachableError(f"system.apt: {name} {version} comes from {where}; envman fetches .debs over http(s) only")
        date = None
        for list_name in release_list_name(root, suite):
            if list_name in answer.releases:
                date = utc_date(answer.releases[list_name])
                break
        depends = relation_names(record.get("Depends", "") + "," + record.get("Pre-Depends", ""))
        requires = sorted({provided.get(d, d) for d in depends} & locked - {name})
        try:
            entry = SystemEntry(
                name=name, version=version, architecture=record.get("Architecture", arch or ""),
                filename=record.get("Filename", ""), size=int(record.get("Size", "0") or 0),
                sha256=record.get("SHA256", "").lower(), url=f"{root.rstrip('/')}/{record.get('Filename', '')}",
                release_date=date, requires=requires, runtime=runtime_of(name, version),
            )
        except ValueError as exc:
            reason = str(exc).splitlines()[0]
            raise UnreachableError(f"system.apt: the Packages index's record of {name} {version} is not usable: {reason}") from None
        previous = old.get(name)
        if previous is not None and previous.version == entry.version and previous.sha256 == entry.sha256 and previous.release_date:
            entry = entry.model_copy(update={"release_date": previous.release_date})  # first seen in that Release
        entries.append(entry)
    return sorted(entries, key=lambda e: e.name)


def base_runtimes(answer: AptAnswer, locked: set[str]) -> list[Any]:
    """Entries (base: true) for the base's packages that provide a runtime (pure)."""
    found = []
    for name, (version, arch) in sorted(answer.base.items()):
        runtime = runtime_of(name, version)
        if runtime and name not in locked:
            try:
                found.append(SystemEntry(name=name, version=version, architecture=arch, base=True, runtime=runtime))
            except ValueError:
                continue  # a name or version outside Debian's grammar: not recorded
    return found


def _tell_runtimes(entries: list[Any], services: Any) -> None:
    for entry in entries:
        if entry.runtime:
            where = "in the base image" if entry.base else "locked"
            services.progress(f"{entry.runtime} comes from the Debian package {entry.name} {entry.version} ({where})")
