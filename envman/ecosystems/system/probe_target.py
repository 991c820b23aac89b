"""The dpkg database, read where it lives: standard library only, no envman imports.

Concatenated into the in-target probe script (Python 3.6 syntax, no relative imports) and
imported on the host for `local` and for folders copied out of a target without Python.
`/var/lib/dpkg/status` gives each installed package (no apt needed in the target); a deep
probe checks each package's files against `/var/lib/dpkg/info/<name>.md5sums`, leaving out
the paths dpkg itself was told not to install (`path-exclude` in /etc/dpkg/dpkg.cfg.d).
"""

import fnmatch
import hashlib
import os

__all__ = ["read_dpkg_status", "dpkg_path_filters", "dpkg_modified", "system_section"]

_DPKG_MAX_STATUS = 256 << 20  # a status file this large is not read
_DPKG_PRESENT = ("installed", "half-configured", "unpacked", "half-installed", "triggers-awaited", "triggers-pending")
_DPKG_MAX_LISTED = 50  # modified files listed per package (the count is exact)


def _dpkg_stanzas(text):
    stanza, last = {}, None
    for line in text.split("\n"):
        if not line.strip():
            if stanza:
                yield stanza
            stanza, last = {}, None
        elif line[0] in " \t":
            if last is not None:
                stanza[last] += "\n" + line.strip()
        else:
            key, sep, value = line.partition(":")
            if sep:
                last = key.strip()
                stanza[last] = value.strip()
    if stanza:
        yield stanza


def _dpkg_names(value):
    names = []
    for clause in (value or "").split(","):
        for alternative in clause.split("|"):
            word = alternative.strip().split(" ", 1)[0].split("(", 1)[0].split(":", 1)[0]
            if word:
                names.append(word)
    return names


def read_dpkg_status(root, problems):
    """[{name, version, architecture, depends, provides}] of the installed packages under root."""
    path = os.path.join(root, "var/lib/dpkg/status")
    try:
        with open(path, "rb") as handle:
            data = handle.read(_DPKG_MAX_STATUS + 1)
    except OSError as exc:
        problems.append("system: cannot read %s: %s" % (path, exc.strerror or exc))
        return None
    if len(data) > _DPKG_MAX_STATUS:
        problems.append("system: %s is too large to read" % path)
        return None
    rows = []
    for stanza in _dpkg_stanzas(data.decode("utf-8", "replace")):
        status = stanza.get("Status", "").split()
        name = stanza.get("Package")
        if not name or len(status) != 3 or status[2] not in _DPKG_PRESENT:
            continue
        row = {
            "name": name,
            "version": stanza.get("Version", ""),
            "architecture": stanza.get("Architecture", ""),
            "depends": sorted(set(_dpkg_names(stanza.get("Depends")) + _dpkg_names(stanza.get("Pre-Depends")))),
            "provides": sorted(set(_dpkg_names(stanza.get("Provides")))),
        }
        if status[2] != "installed":
            row["state"] = status[2]
        rows.append(row)
    return rows


def dpkg_path_filters(root):
    """dpkg's path-exclude / path-include options, in the order dpkg reads them."""
    filters = []
    files = [os.path.join(root, "etc/dpkg/dpkg.cfg")]
    folder = os.path.join(root, "etc/dpkg/dpkg.cfg.d")
    try:
        files += [os.path.join(folder, n) for n in sorted(os.listdir(folder)) if not n.startswith(".")]
    except OSError:
        pass
    for path in files:
        try:
            with open(path, encoding="utf-8", errors="replace") as handle:
                lines = handle.read().splitlines()
        except OSError:
            continue
        for line in lines:
            words = line.strip().split(None, 1)
            if len(words) == 2 and words[0].lstrip("-") in ("path-exclude", "path-include"):
                filters.append((words[0].lstrip("-") == "path-include", words[1].strip()))
    return filters


def _dpkg_installed(path, filters):
    """False when dpkg's filters left this path out (the last matching filter decides)."""
    keep = True
    for include, pattern in filters:
        if fnmatch.fnmatchcase(path, pattern):
            keep = include
    return keep


def _dpkg_md5(path):
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        while True:
            chunk = handle.read(1 << 20)
            if not chunk:
                break
            digest.update(chunk)
    return digest.hexdigest()


def dpkg_modified(root, name, architecture, filters):
    """(files that differ from the package's md5sums or are gone, their count)."""
    info = os.path.join(root, "var/lib/dpkg/info")
    text = None
    for candidate in ("%s:%s.md5sums" % (name, architecture), "%s.md5sums" % name):
        try:
            with open(os.path.join(info, candidate), encoding="utf-8", errors="replace") as handle:
                text = handle.read()
            break
        except OSError:
            continue
    if text is None:
        return [], 0
    changed, count = [], 0
    for line in text.splitlines():
        digest, _, rel = line.strip().partition("  ")
        if not rel or len(digest) != 32:
            continue
        target = "/" + rel.lstrip("/")
        if not _dpkg_installed(target, filters):
            continue
        path = os.path.join(root, rel.lstrip("/"))
        try:
            if os.path.islink(path) or not os.path.isfile(path):
                problem = True
            else:
                problem = _dpkg_md5(path) != digest
        except OSError:
            problem = True
        if problem:
            count += 1
            if len(changed) < _DPKG_MAX_LISTED:
                changed.append(target)
    return changed, count


def system_section(options, deep, problems):
    """The probe's "system" section; options: root (the file system's root), files (0: only
    the dpkg database was copied out, file hashes cannot be checked)."""
    root = options.get("root") or "/"
    rows = read_dpkg_status(root, problems)
    if rows is None:
        return {"packages": [], "dpkg": False}
    if deep and options.get("files") == "0":
        problems.append("system: the target has no Python, so --deep did not check files against dpkg's md5sums")
    elif deep:
        filters = dpkg_path_filters(root)
        for row in rows:
            changed, count = dpkg_modified(root, row["name"], row["architecture"], filters)
            if count:
                row["modified"], row["modified-count"] = changed, count
    return {"packages": rows, "dpkg": True}
