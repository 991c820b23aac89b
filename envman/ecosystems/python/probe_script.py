"""The in-target probe's driver: options in, one JSON document out. Standard library only.

envman sends the target's own interpreter (`python -c SOURCE OPTIONS...`; on this machine,
through `docker exec`, or in a one-off container of an image; envman need not be installed
there) one script: the probe_target modules of each ecosystem (r/, jvm/, conda/, python/),
then this module, concatenated (see PROBE_MODULES and envman.ecosystems.python.probe.
probe_source). So a container costs one `docker exec`. It prints one JSON document:

    {"python": {"version", "executable", "markers", "paths", "packages": [...]},
     "r": {"version", "libraries", "packages"}, "jvm": {"java", "packages"},
     "conda": {"prefixes", "packages"}, "problems": [...]}

Options (`KEY=VALUE` arguments, see encode_options): python, deep (flags), rlib (dir,
repeatable, or "auto"), rscript (path or "auto"), jar (dir, repeatable), java ("auto" or a
path), conda (prefix, repeatable, or "auto"). Neither the json module nor `re` is imported
on the common path (they cost more than the scan itself), hence the small encoder below.

On the host, `collect` runs the same way over the imported modules (local folders need no
interpreter). Everything here must stay compatible with Python 3.6+.
"""

import sys

# the modules concatenated before this one, in this order (paths relative to envman/ecosystems)
PROBE_MODULES = ("r/probe_target.py", "jvm/probe_target.py", "conda/probe_target.py", "python/probe_target.py")

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


def collect(options, probes):
    """The probe's result for decoded options; probes maps probe_python, probe_r,
    probe_jars, java_version and probe_conda to the functions (globals() in the target)."""
    deep = bool(options.get("deep"))
    problems = []
    result = {"problems": problems}
    if options.get("python"):
        result["python"] = probes["probe_python"](deep)
    if options.get("rlibs") or options.get("rscript"):
        result["r"] = probes["probe_r"](options.get("rlibs") or [], options.get("rscript"), deep, problems)
    if options.get("jars") is not None or options.get("java"):
        result["jvm"] = {
            "java": probes["java_version"](options["java"], problems) if options.get("java") else None,
            "packages": probes["probe_jars"](options.get("jars") or [], deep, problems),
        }
    if options.get("conda"):
        result["conda"] = probes["probe_conda"](options["conda"], deep, problems)
    return result


def main(argv):
    options = decode_options(argv[1:]) if len(argv) > 1 else {"python": True}
    result = collect(options, globals())
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
