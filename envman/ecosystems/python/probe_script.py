"""The in-target probe: a self-contained, standard-library-only script.

envman runs it with the target's own interpreter (`python -c SOURCE OPTIONS_JSON`), on this
machine, through `docker exec`, or in a one-off container of an image; envman need not be
installed there. It prints one JSON document:

    {"python": {"version", "executable", "markers", "paths", "packages": [...]},
     "r": {"version", "libraries", "packages"}, "jvm": {"java", "packages"},
     "conda": {"prefixes", "packages"}, "problems": [...]}

Options (`KEY=VALUE` arguments, see encode_options): python, deep (flags), rlib (dir,
repeatable, or "auto"), rscript (path or "auto"), jar (dir, repeatable), java ("auto" or a
path), conda (prefix, repeatable, or "auto"). Neither the json module nor `re` is imported
on the common path (they cost more than the scan itself), hence the small encoder below.

It scans `*.dist-info`/`*.egg-info` folders on sys.path directly (reading only the
metadata header), which is faster than importlib.metadata and `pip freeze`. It must stay
compatible with Python 3.6+ and import nothing outside the standard library.
"""

import os
import sys

# Everything else is imported where it is needed: the probe runs once per target (20
# containers at once on a small machine), so its start-up cost matters.

_MAX_LISTED = 20


def _header(path, fields):
    """Fields of an RFC 822 style header (METADATA, PKG-INFO), up to the first blank line."""
    found = {}
    try:
        with open(path, "r", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line in ("\n", "\r\n"):
                    break
                key, sep, value = line.partition(":")
                if sep and key in fields and key not in found:
                    found[key] = value.strip()
                    if len(found) == len(fields):
                        break
    except OSError:
        return None
    return found


def _sha256_file(path):
    import hashlib

    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest


def _verify_record(site, dist_dir):
    """Files whose sha256 differs from RECORD, or that are gone; [] when all match."""
    import base64
    import csv

    bad = []
    record = os.path.join(dist_dir, "RECORD")
    try:
        with open(record, "r", encoding="utf-8", errors="replace", newline="") as handle:
            rows = list(csv.reader(handle))
    except OSError:
        return ["RECORD (unreadable)"]
    for row in rows:
        if len(row) < 2 or not row[1].startswith("sha256="):
            continue
        rel, expected = row[0], row[1][7:]
        path = rel if os.path.isabs(rel) else os.path.normpath(os.path.join(site, rel))
        try:
            actual = base64.urlsafe_b64encode(_sha256_file(path).digest()).rstrip(b"=").decode()
        except OSError:
            bad.append(rel + " (missing)")
            continue
        if actual != expected.rstrip("="):
            bad.append(rel)
    return bad


def _python_version():
    info = sys.version_info
    text = "%d.%d.%d" % info[:3]
    if info.releaselevel != "final":
        text += {"alpha": "a", "beta": "b", "candidate": "rc"}.get(info.releaselevel, info.releaselevel) + str(info.serial)
    return text


def _markers():
    """PEP 508 marker environment (what packaging.markers.default_environment computes)."""
    uname = os.uname()
    impl = sys.implementation
    info = impl.version
    impl_version = "{0.major}.{0.minor}.{0.micro}".format(info)
    if info.releaselevel != "final":
        impl_version += info.releaselevel[0] + str(info.serial)
    return {
        "implementation_name": impl.name,
        "implementation_version": impl_version,
        "os_name": os.name,
        "platform_machine": uname.machine,
        "platform_release": uname.release,
        "platform_system": uname.sysname,
        "platform_version": uname.version,
        "python_full_version": _python_version(),
        "platform_python_implementation": {"cpython": "CPython", "pypy": "PyPy"}.get(impl.name, impl.name),
        "python_version": "%d.%d" % sys.version_info[:2],
        "sys_platform": sys.platform,
    }


def probe_python(deep):
    packages = []
    seen_dirs = set()
    paths = []
    for entry in sys.path:
        if not entry or not os.path.isdir(entry):
            continue
        real = os.path.realpath(entry)
        if real in seen_dirs:
            continue
        seen_dirs.add(real)
        paths.append(entry)
        try:
            names = sorted(os.listdir(entry))
        except OSError:
            continue
        for name in names:
            if name.endswith(".dist-info"):
                meta = os.path.join(entry, name, "METADATA")
            elif name.endswith(".egg-info"):
                full = os.path.join(entry, name)
                meta = os.path.join(full, "PKG-INFO") if os.path.isdir(full) else full
            else:
                continue
            head = _header(meta, ("Name", "Version"))
            if not head or "Name" not in head:
                continue
            row = {"name": head["Name"], "version": head.get("Version", ""), "location": entry, "metadata": name}
            if deep and name.endswith(".dist-info"):
                bad = _verify_record(entry, os.path.join(entry, name))
                if bad:
                    row["modified"] = bad[:_MAX_LISTED]
                    row["modified_count"] = len(bad)
            packages.append(row)
    return {
        "version": _python_version(),
        "executable": sys.executable,
        "prefix": sys.prefix,
        "markers": _markers(),
        "paths": paths,
        "packages": packages,
    }


# -- R --------------------------------------------------------------------------------

R_AUTO_LIBS = (
    "/usr/local/lib/R/site-library",
    "/usr/lib/R/site-library",
    "/usr/lib/R/library",
    "/usr/local/lib/R/library",
    "/opt/R/library",
)


def _dcf(path):
    fields = {}
    last = None
    with open(path, "r", encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line[:1] in (" ", "\t") and last:
                fields[last] += " " + line.strip()
                continue
            key, sep, value = line.partition(":")
            if sep:
                last = key.strip()
                fields[last] = value.strip()
    return fields


def _verify_md5(pkg_dir):
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


def probe_r(libs, rscript, deep, problems):
    version = None
    if rscript:
        exe = _which("Rscript") if rscript == "auto" else rscript
        if exe:
            import subprocess

            code = 'cat(R.version$major, ".", R.version$minor, "\\n", sep = ""); cat(.libPaths(), sep = "\\n")'
            try:
                out = subprocess.run([exe, "-e", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
                lines = out.stdout.decode("utf-8", "replace").splitlines()
                if out.returncode == 0 and lines:
                    version = lines[0].strip()
                    if libs == "auto":
                        libs = []
                    libs = list(libs) + [l for l in lines[1:] if l.strip()]
                else:
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
        for name in sorted(os.listdir(lib)):
            desc = os.path.join(lib, name, "DESCRIPTION")
            if not os.path.isfile(desc):
                continue
            try:
                fields = _dcf(desc)
            except OSError:
                continue
            if "Package" not in fields:
                continue
            row = {"name": fields["Package"], "version": fields.get("Version", ""), "location": lib}
            if fields.get("Priority"):
                row["priority"] = fields["Priority"]
            if fields.get("Built"):
                row["built"] = fields["Built"]
            if deep:
                bad = _verify_md5(os.path.join(lib, name))
                if bad:
                    row["modified"] = bad[:_MAX_LISTED]
                    row["modified_count"] = len(bad)
            packages.append(row)
    if version is None:
        for row in packages:
            if row["name"] == "base":
                version = row["version"]
    return {"version": version, "libraries": [l for l in libs if os.path.isdir(l)], "packages": packages}


# -- JVM ------------------------------------------------------------------------------


def _properties(text):
    props = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        key, sep, value = line.partition("=")
        if sep:
            props[key.strip()] = value.strip()
    return props


def _jar_coordinates(path):
    import zipfile

    base = os.path.basename(path)[:-4]
    try:
        with zipfile.ZipFile(path) as jar:
            poms = [n for n in jar.namelist() if n.startswith("META-INF/maven/") and n.endswith("/pom.properties")]
            candidates = []
            for name in poms:
                props = _properties(jar.read(name).decode("utf-8", "replace"))
                if props.get("groupId") and props.get("artifactId") and props.get("version"):
                    candidates.append(props)
    except Exception:  # zipfile raises many kinds on a damaged or hostile jar
        return None, "not a readable jar"
    chosen = None
    for props in candidates:
        if base.startswith(props["artifactId"] + "-" + props["version"]):
            chosen = props
            break
    if chosen is None and len(candidates) == 1:
        chosen = candidates[0]
    if chosen is None:
        return None, None
    name = chosen["groupId"] + ":" + chosen["artifactId"]
    stem = chosen["artifactId"] + "-" + chosen["version"] + "-"
    if base.startswith(stem) and len(base) > len(stem):
        name += ":" + base[len(stem):]
    return (name, chosen["version"]), None


def probe_jars(dirs, deep, problems):
    packages = []
    for top in dirs:
        if not os.path.isdir(top):
            continue
        for root, subdirs, files in os.walk(top):
            subdirs.sort()
            for fname in sorted(files):
                if not fname.endswith(".jar"):
                    continue
                path = os.path.join(root, fname)
                if os.path.islink(path):
                    continue
                coords, problem = _jar_coordinates(path)
                row = {"file": path}
                if coords:
                    row["name"], row["version"] = coords
                if problem:
                    row["problem"] = problem
                if deep or not coords:
                    try:
                        row["sha256"] = _sha256_file(path).hexdigest()
                    except OSError:
                        pass
                packages.append(row)
    return packages


def _java_version(java, problems):
    exe = _which("java") if java == "auto" else java
    if not exe:
        home = os.environ.get("JAVA_HOME")
        if home and os.path.isfile(os.path.join(home, "bin", "java")):
            exe = os.path.join(home, "bin", "java")
    if not exe:
        return None
    import re
    import subprocess
    try:
        out = subprocess.run([exe, "-version"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        problems.append("cannot run java: %s" % exc)
        return None
    match = re.search(r'version "([^"]+)"', out.stderr.decode("utf-8", "replace") + out.stdout.decode("utf-8", "replace"))
    return match.group(1) if match else None


# -- conda ----------------------------------------------------------------------------

CONDA_AUTO = ("/opt/conda", "/opt/miniconda3", "/opt/miniforge3", "/opt/mambaforge", "/opt/env", "/opt/pixi")


def _verify_conda(prefix, record):
    bad = []
    paths_data = record.get("paths_data")
    items = paths_data.get("paths") if isinstance(paths_data, dict) else None
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        rel = item.get("_path")
        if not isinstance(rel, str) or rel.startswith("/") or ".." in rel.split("/"):
            continue
        expected = item.get("sha256_in_prefix") or (None if item.get("prefix_placeholder") else item.get("sha256"))
        if not rel or not expected or item.get("path_type", "hardlink") not in ("hardlink", "softlink"):
            continue
        try:
            actual = _sha256_file(os.path.join(prefix, rel)).hexdigest()
        except OSError:
            bad.append(rel + " (missing)")
            continue
        if actual != expected:
            bad.append(rel)
    return bad


def probe_conda(prefixes, deep, problems):
    if prefixes == "auto":
        prefixes = [p for p in CONDA_AUTO if os.path.isdir(os.path.join(p, "conda-meta"))]
        if os.path.isdir("/opt"):
            for name in sorted(os.listdir("/opt")):
                p = os.path.join("/opt", name)
                if p not in prefixes and os.path.isdir(os.path.join(p, "conda-meta")):
                    prefixes.append(p)
    packages = []
    found = []
    for prefix in prefixes:
        meta = os.path.join(prefix, "conda-meta")
        if not os.path.isdir(meta):
            problems.append("not a conda prefix (no conda-meta): " + prefix)
            continue
        found.append(prefix)
        for fname in sorted(os.listdir(meta)):
            if not fname.endswith(".json"):
                continue
            try:
                import json

                with open(os.path.join(meta, fname), "r", encoding="utf-8") as handle:
                    record = json.load(handle)
            except (OSError, ValueError) as exc:
                problems.append("unreadable %s: %s" % (os.path.join(meta, fname), exc))
                continue
            if not isinstance(record, dict) or not isinstance(record.get("name"), str):
                problems.append("not a conda package record: " + os.path.join(meta, fname))
                continue
            row = {"name": record["name"], "version": str(record.get("version", "")), "location": prefix}
            for key in ("build", "channel", "sha256", "md5", "subdir"):
                if record.get(key):
                    row[key] = str(record[key])
            if deep:
                bad = _verify_conda(prefix, record)
                if bad:
                    row["modified"] = bad[:_MAX_LISTED]
                    row["modified_count"] = len(bad)
            packages.append(row)
    return {"prefixes": found, "packages": packages}


def _which(name):
    for folder in os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin").split(os.pathsep):
        path = os.path.join(folder, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return None


_LISTS = {"rlib": "rlibs", "jar": "jars", "conda": "conda"}


def encode_options(options):
    """The options dict as argv items (used by envman on the host side)."""
    argv = []
    for key in ("python", "deep"):
        if options.get(key):
            argv.append(key + "=1")
    for single in ("rscript", "java"):
        if options.get(single):
            argv.append(single + "=" + options[single])
    for item, key in _LISTS.items():
        value = options.get(key)
        if value == "auto":
            argv.append(item + "=auto")
        elif value is not None:
            argv.append(item + "s=")  # the list is present, maybe empty
            argv.extend(item + "=" + v for v in value)
    return argv


def decode_options(argv):
    options = {}
    for arg in argv:
        key, _, value = arg.partition("=")
        if key in ("python", "deep"):
            options[key] = value == "1"
        elif key in ("rscript", "java"):
            options[key] = value
        elif key.endswith("s") and key[:-1] in _LISTS:
            options.setdefault(_LISTS[key[:-1]], [])
        elif key in _LISTS:
            name = _LISTS[key]
            if value == "auto":
                options[name] = "auto"
            else:
                current = options.get(name)
                options[name] = (current if isinstance(current, list) else []) + [value]
    return options


_ESCAPES = {ord('"'): '\\"', ord("\\"): "\\\\"}
_ESCAPES.update((i, "\\u%04x" % i) for i in range(32))


def dump_json(value):
    """JSON text of dicts/lists/str/int/bool/None (lone surrogates left for the encoder to escape)."""
    if isinstance(value, str):
        return '"' + value.translate(_ESCAPES) + '"'
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ",".join(dump_json(str(k)) + ":" + dump_json(v) for k, v in value.items()) + "}"
    return "[" + ",".join(dump_json(v) for v in value) + "]"


def main(argv):
    options = decode_options(argv[1:]) if len(argv) > 1 else {"python": True}
    deep = bool(options.get("deep"))
    problems = []
    result = {"problems": problems}
    if options.get("python"):
        result["python"] = probe_python(deep)
    if options.get("rlibs") or options.get("rscript"):
        result["r"] = probe_r(options.get("rlibs") or [], options.get("rscript"), deep, problems)
    if options.get("jars") is not None or options.get("java"):
        result["jvm"] = {
            "java": _java_version(options["java"], problems) if options.get("java") else None,
            "packages": probe_jars(options.get("jars") or [], deep, problems),
        }
    if options.get("conda"):
        result["conda"] = probe_conda(options["conda"], deep, problems)
    # undecodable file names arrive as lone surrogates: backslashreplace writes them as
    # \udcXX, which is a valid JSON escape
    out = getattr(sys.stdout, "buffer", None)
    text = dump_json(result) + "\n"
    if out is not None:
        out.write(text.encode("utf-8", "backslashreplace"))
        out.flush()
    else:  # pragma: no cover
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
