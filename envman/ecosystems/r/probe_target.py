"""R libraries, probed where they live: standard library only, no envman imports.

Imported normally on the host (rlib:DIR, rscript:PATH, envman.ecosystems.r.probe) and
concatenated into the in-target probe script (envman/targets/probe_runner.py assembles it), so it
must keep to Python 3.6 syntax, define no name another probe module defines differently,
and use no relative imports.

A package is a sub-folder whose DESCRIPTION has Package (equal to the folder name, as R
requires) and Version; `00LOCK-*` leftovers of interrupted installs and hidden folders are
ignored; a DESCRIPTION that is not DCF is skipped.

A target's files are untrusted: only regular files are opened (never blocking, so a FIFO
cannot hang the probe), a DESCRIPTION or MD5 file over R_MAX_DESCRIPTION_BYTES (options
may lower or raise it) is skipped with a problem line, and --deep hashes only regular
files inside the package folder.
"""

import os
import stat

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
R_MAX_DESCRIPTION_BYTES = 1 << 20  # the host passes its member_bytes limit (envman.limits)
R_MAX_ANSWER_BYTES = 1 << 20  # what is kept of Rscript's output (its version and libraries)


def _r_open_regular(path, maximum):
    """(fd, None) for a regular file no larger than maximum, opened without blocking, else
    (None, why): a FIFO, a device or an oversized file is never read. OSError when absent."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
    info = os.stat(path)
    if not stat.S_ISREG(info.st_mode):
        return None, "not a regular file"
    fd = os.open(path, flags)
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):  # replaced between the two looks
        os.close(fd)
        return None, "not a regular file"
    if maximum is not None and info.st_size > maximum:
        os.close(fd)
        return None, "%d bytes, over the limit of %d" % (info.st_size, maximum)
    return fd, None


def _r_read_bounded(path, maximum):
    """(bytes, None) of a regular file within maximum bytes, else (None, why). OSError when absent."""
    fd, why = _r_open_regular(path, maximum)
    if fd is None:
        return None, why
    chunks = []
    total = 0
    try:
        while True:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                break
            total += len(chunk)
            if total > maximum:  # grew while being read
                return None, "over the limit of %d bytes" % maximum
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks), None


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


def _description(path, maximum=R_MAX_DESCRIPTION_BYTES, problems=None):
    """DESCRIPTION fields (UTF-8, else Latin-1 as old packages have), None when unreadable or
    not DCF; a special file (FIFO, device) or one over maximum bytes is skipped with a problem."""
    try:
        data, why = _r_read_bounded(path, maximum)
    except OSError:
        return None
    if data is None:
        if problems is not None:
            problems.append("skipped %s: %s" % (path, why))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    try:
        return parse_description(text)
    except ValueError:
        return None


def _r_md5(path):
    """md5 of a regular file, read in blocks; None when it is not a regular file."""
    import hashlib

    fd, _why = _r_open_regular(path, None)
    if fd is None:
        return None
    digest = hashlib.md5()
    try:
        while True:
            block = os.read(fd, 1 << 20)
            if not block:
                break
            digest.update(block)
    finally:
        os.close(fd)
    return digest.hexdigest()


def _verify_md5(pkg_dir, maximum=R_MAX_DESCRIPTION_BYTES, problems=None):
    """Files whose md5 differs from the package's MD5 file, or that are gone. Only regular
    files are read; a listed path that is absolute or has `..` is reported, not followed."""
    bad = []
    md5_file = os.path.join(pkg_dir, "MD5")
    try:
        data, why = _r_read_bounded(md5_file, max(maximum, 16 << 20))
    except OSError:
        return bad
    if data is None:
        if problems is not None:
            problems.append("skipped %s: %s" % (md5_file, why))
        return bad
    for line in data.decode("utf-8", "replace").splitlines():
        digest, _, rel = line.partition(" *")
        if not rel:
            continue
        path = os.path.join(pkg_dir, rel)
        if os.path.isabs(rel) or ".." in rel.replace("\\", "/").split("/"):
            bad.append(rel + " (outside the package)")
            continue
        try:
            actual = _r_md5(path)
        except OSError:
            bad.append(rel + " (missing)")
            continue
        if actual is None:
            bad.append(rel + " (not a regular file)")
        elif actual != digest.strip():
            bad.append(rel)
    return bad


def read_rlib(lib, deep=False, maximum=R_MAX_DESCRIPTION_BYTES, problems=None):
    """Rows {name, version, location (the library), priority?, built?, modified?} of one
    library folder, sorted by folder name. OSError when the folder cannot be listed.
    DESCRIPTIONs are read within maximum bytes; problems (a list) gets what was skipped."""
    rows = []
    for name in sorted(os.listdir(lib)):
        if name.startswith((".", "00LOCK")):
            continue
        fields = _description(os.path.join(lib, name, "DESCRIPTION"), maximum, problems)
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
            bad = _verify_md5(os.path.join(lib, name), maximum, problems)
            if bad:
                row["modified"] = bad[:_R_MAX_LISTED]
                row["modified_count"] = len(bad)
        rows.append(row)
    return rows


def _r_run_bounded(argv, timeout, maximum):
    """(returncode, stdout, stderr) of argv; each output kept to its first `maximum` bytes
    (the rest is read and dropped, so the program never blocks), the program killed after
    `timeout` seconds. OSError when it cannot be run or did not finish in time."""
    import subprocess
    import threading

    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    kept = {}

    def drain(stream, key):
        chunks = []
        total = 0
        while True:
            chunk = stream.read(1 << 16)
            if not chunk:
                break
            if total < maximum:
                chunks.append(chunk[: maximum - total])
            total += len(chunk)
        kept[key] = b"".join(chunks)

    readers = [threading.Thread(target=drain, args=(proc.stdout, "out")), threading.Thread(target=drain, args=(proc.stderr, "err"))]
    for reader in readers:
        reader.daemon = True
        reader.start()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise OSError("no answer within %d s" % timeout) from None
    finally:
        for reader in readers:
            reader.join(5)
    return proc.returncode, kept.get("out", b""), kept.get("err", b"")


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


def probe_r(libs, rscript, deep, problems, maximum=R_MAX_DESCRIPTION_BYTES):
    """The probe's "r" section: libs (folders, or "auto" for the usual places) and, with
    rscript (a path, or "auto" for Rscript on PATH), that R's version and .libPaths().
    maximum: the size limit of one DESCRIPTION, in bytes."""
    version = None
    if rscript:
        exe = rscript
        if rscript == "auto":
            import shutil

            exe = shutil.which("Rscript")
        if exe:
            try:
                returncode, stdout, stderr = _r_run_bounded([exe, "-e", R_ASK], 60, R_MAX_ANSWER_BYTES)
                version, asked = parse_r_answer(stdout.decode("utf-8", "replace"))
                if returncode == 0 and version:
                    libs = ([] if libs == "auto" else list(libs)) + asked
                else:
                    version = None
                    problems.append("Rscript failed: " + stderr.decode("utf-8", "replace").strip()[-300:])
            except OSError as exc:
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
            packages.extend(read_rlib(lib, deep, maximum, problems))
        except OSError as exc:
            problems.append("cannot read the R library %s: %s" % (lib, exc))
    if version is None:
        for row in packages:
            if row["name"] == "base":
                version = row["version"]
    return {"version": version, "libraries": [folder for folder in libs if os.path.isdir(folder)], "packages": packages}


def r_section(options, deep, problems):
    """The probe's "r" section; options: libs (folders, or "auto"), rscript (a path or
    "auto"), max_bytes (the size limit of one DESCRIPTION)."""
    maximum = options.get("max_bytes")
    if not isinstance(maximum, int) or isinstance(maximum, bool) or maximum <= 0:
        maximum = R_MAX_DESCRIPTION_BYTES
    return probe_r(options.get("libs") or [], options.get("rscript"), deep, problems, maximum)
