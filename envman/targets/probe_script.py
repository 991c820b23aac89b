"""The in-target probe's driver: options in, one JSON document out. Standard library only.

envman sends the target's own interpreter (`python -c SOURCE OPTIONS...`; on this machine,
through `docker exec`, or in a one-off container of an image; envman need not be installed
there) one script: the probe_target module of each registered ecosystem, a `_PROBES` list
naming each one's section function, then this module, concatenated (see
envman.targets.probe_runner). So a container costs one `docker exec`. It prints one JSON
document: {"<ecosystem>": {...its section...}, …, "problems": [...]}.

Options (`KEY=VALUE` arguments, see encode_options): `deep=1`; `ECO=` asks for an
ecosystem's section; `ECO.KEY=VALUE` sets one of its options, `ECO.KEY:list=` starts a list
and `ECO.KEY+=VALUE` appends to it. Neither the json module nor `re` is imported on the
common path (they cost more than the scan itself), hence the small encoder below.

On the host, `collect` runs the same way over the imported modules (local folders need no
interpreter). Everything here must stay compatible with Python 3.6+.
"""

import sys

__all__ = ["encode_options", "decode_options", "dump_json", "collect", "main"]


def encode_options(options):
    """{"deep": bool, ECO: {KEY: str | list | None}} as argv items (used on the host side)."""
    argv = ["deep=1"] if options.get("deep") else []
    for eco, values in options.items():
        if eco == "deep" or not isinstance(values, dict):
            continue
        argv.append(eco + "=")
        for key, value in values.items():
            if value is None:
                continue
            if isinstance(value, (list, tuple)):
                argv.append(eco + "." + key + ":list=")
                argv.extend(eco + "." + key + "+=" + item for item in value)
            else:
                argv.append(eco + "." + key + "=" + str(value))
    return argv


def decode_options(argv):
    options = {}
    for arg in argv:
        key, _, value = arg.partition("=")
        if key == "deep":
            options["deep"] = value == "1"
            continue
        eco, dot, field = key.partition(".")
        values = options.setdefault(eco, {})
        if not dot:
            continue
        if field.endswith(":list"):
            values[field[:-5]] = []
        elif field.endswith("+"):
            current = values.get(field[:-1])
            values[field[:-1]] = (current if isinstance(current, list) else []) + [value]
        else:
            values[field] = value
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
    """The probe's result for decoded options; probes: (ecosystem, section function) pairs,
    in registry order. Each function takes (its options, deep, problems)."""
    deep = bool(options.get("deep"))
    problems = []
    result = {}
    for eco, function in probes:
        values = options.get(eco)
        if isinstance(values, dict):
            result[eco] = function(values, deep, problems)
    result["problems"] = problems
    return result


def main(argv):
    options = decode_options(argv[1:])
    result = collect(options, globals().get("_PROBES", []))
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
