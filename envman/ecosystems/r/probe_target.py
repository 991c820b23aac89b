"""R libraries, probed where they live: standard library only, no envman imports.

Imported normally on the host (rlib:DIR, rscript:PATH, envman.ecosystems.r.probe) and
concatenated into the in-target probe script (envman/targets/probe_runner.py assembles it), so it
must keep to Python 3.6 syntax, define no name another probe module defines differently,
and use no relative imports.

A package is a sub-folder whose DESCRIPTION has Package (equal to the folder name, as R
requires) and Version; `00LOCK-*` leftovers of interrupted installs and hidden folders are
ignored; a DESCRIPTION that is not DCF is skipped.
"""

import os

__all__ = ["R_AUTO_LIBS", "R_ASK", "parse_description", "read_rlib", "parse_r_answer", "probe_r", "r_section"]

R_AUTO_LIBS = (
    "/usr/local/lib/R/site-library",
    "/usr/lib/R/site-library",
    "/usr/lib/R/library",
    "/usr/local/lib/R/library",
    "/opt/R/library",
)

# what R is asked: its version and its libraries, one per line, tagged
R_ASK = (
    'cat("ENVMAN-R-VERSION\\t", R.version$major, ".", R.version$minor, "\\n", sep = ""); '
    'for (lib in .libPaths()) cat("ENVMAN-LIB\\t", normalizePath(lib, mustWork = FALSE), "\\n", sep = "")'
)

_R_MAX_LISTED = 20


def parse_description(text):
    """Fields of the first DCF record (continuation lines joined with a newline).

    Raises ValueError on a line that is neither `Field: value` nor a continuation."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    fields = {}
    last = None
    for number, line in enumerate(text.split("\n"), 1):
        if not line or line.isspace():
            if fields:
                break
            continue
        if line[0] in " \t":
            if last is None:
                raise ValueError("line %d: continuation line before any field" % number)
            fields[last] += "\n" + line.strip()
            continue
        name, colon, value = line.partition(":")
        if not colon or not name or name != name.strip() or " " in name:
            raise ValueError("line %d: expected `Field: value`, got %r" % (number, line[:60]))
        last = name
        fields[name] = value.strip()
    return fields


def _description(path):
    """DESCRIPTION fields (UTF-8, else Latin-1 as old packages have), None when unreadable or not DCF."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    try:
        return parse_description(text)
    except ValueError:
        return None


def _verify_md5(pkg_dir):
    """Files whose md5 differs from the package's MD5 file, or that are gone."""
    import hashlib

    bad = []
    try:
        with open(os.path.join(pkg_dir, "MD5"), "r", encoding="utf-8", errors="replace") as handle:
            lines = handle.read().splitlines()
    except OSError:
        return bad
    for line in lines:
        digest, _, rel = line.partition(" *")
        if not rel:
            continue
        try:
            with open(os.path.join(pkg_dir, rel), "rb") as handle:
                actual = hashlib.md5(handle.read()).hexdigest()
        except OSError:
            bad.append(rel + " (missing)")
            continue
        if actual != digest.strip():
            bad.append(rel)
    return bad


def read_rlib(lib, deep=False):
    """Rows {name, version, location (the library), priority?, built?, modified?} of one
    library folder, sorted by folder name. OSError when the folder cannot be listed."""
    rows = []
    for name in sorted(os.listdir(lib)):
        if name.startswith((".", "00LOCK")):
            continue
        fields = _description(os.path.join(lib, name, "DESCRIPTION"))
        if not fields:
            continue
        package, version = fields.get("Package", "").strip(), fields.get("Version", "").strip()
        if not package or not version or package != name:
            continue
        row = {"name": package, "version": version, "location": lib}
        if fields.get("Priority"):
            row["priority"] = fields["Priority"].strip()
        if fields.get("Built"):
            row["built"] = fields["Built"]
        if deep:
            bad = _verify_md5(os.path.join(lib, name))
            if bad:
                row["modified"] = bad[:_R_MAX_LISTED]
                row["modified_count"] = len(bad)
        rows.append(row)
    return rows


def parse_r_answer(text):
    """(R version or None, libraries) from R's answer to R_ASK."""
    version = None
    libs = []
    for line in text.splitlines():
        tag, _, value = line.partition("\t")
        if tag == "ENVMAN-R-VERSION" and value.strip():
            version = value.strip()
        elif tag == "ENVMAN-LIB" and value.strip():
            libs.append(value.strip())
    return version, libs


def probe_r(libs, rscript, deep, problems):
    """The probe's "r" section: libs (folders, or "auto" for the usual places) and, with
    rscript (a path, or "auto" for Rscript on PATH), that R's version and .libPaths()."""
    version = None
    if rscript:
        exe = rscript
        if rscript == "auto":
            import shutil

            exe = shutil.which("Rscript")
        if exe:
            import subprocess

            try:
                out = subprocess.run([exe, "-e", R_ASK], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
                version, asked = parse_r_answer(out.stdout.decode("utf-8", "replace"))
                if out.returncode == 0 and version:
                    libs = ([] if libs == "auto" else list(libs)) + asked
                else:
                    version = None
                    problems.append("Rscript failed: " + out.stderr.decode("utf-8", "replace").strip()[-300:])
            except (OSError, subprocess.TimeoutExpired) as exc:
                problems.append("cannot run Rscript: %s" % exc)
        elif rscript != "auto":
            problems.append("no Rscript at " + rscript)
    if libs == "auto":
        libs = [d for d in R_AUTO_LIBS if os.path.isdir(d)]
    packages = []
    seen = set()
    for lib in libs:
        real = os.path.realpath(lib)
        if real in seen or not os.path.isdir(lib):
            continue
        seen.add(real)
        try:
            packages.extend(read_rlib(lib, deep))
        except OSError as exc:
            problems.append("cannot read the R library %s: %s" % (lib, exc))
    if version is None:
        for row in packages:
            if row["name"] == "base":
                version = row["version"]
    return {"version": version, "libraries": [folder for folder in libs if os.path.isdir(folder)], "packages": packages}


def r_section(options, deep, problems):
    """The probe's "r" section; options: libs (folders, or "auto"), rscript (a path or "auto")."""
    return probe_r(options.get("libs") or [], options.get("rscript"), deep, problems)
