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

__all__ = ["encode_options", "decode_options", "dump_json", "collect", "main", "reads_report"]


def encode_options(options):
    """{"deep": bool, ECO: {KEY: str | list | None}} as argv items (used on the host side)."""
    argv = ["deep=1"] if options.get("deep") else []
    if options.get("reads"):
        argv.append("reads=1")
    for eco, values in options.items():
        if eco in ("deep", "reads") or not isinstance(values, dict):
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
        if key in ("deep", "reads"):
            options[key] = value == "1"
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


# -- reads=1: what the probe read (envman.targets.replicas decides from it whether another
# container of the same image and configuration would give the same answer) -----------

_SPAWNING = ("system", "popen", "fork", "forkpty", "execv", "execve", "execl", "execle", "execlp", "execlpe", "execvp",
             "execvpe", "spawnv", "spawnve", "spawnl", "spawnle", "spawnlp", "spawnlpe", "spawnvp", "spawnvpe",
             "posix_spawn", "posix_spawnp")
_MAX_READS = 100000  # paths in a reads report; a probe that read more is not shared
_UNTRACEABLE = ("subprocess", "_posixsubprocess", "multiprocessing", "ctypes", "_ctypes")


class _Reads(object):
    """Every path the probe stats, opens or lists, noted as it runs (a path relative to the
    working folder is made absolute; a call relative to a folder descriptor, or a program
    started, makes the probe untraceable: whatever that program read is unknown)."""

    def __init__(self, os_module):
        self.os = os_module
        self.nodes = set()
        self.lists = set()
        self.why_not = []
        self.modules = set(sys.modules)
        self.undo = []

    def note(self, kinds, path, dir_fd=None):
        if isinstance(path, int):
            return  # an open descriptor (fstat): what opened it was noted
        if dir_fd is not None:
            self.why_not.append("a call relative to a folder descriptor")
            return
        try:
            text = self.os.fsdecode(self.os.fspath(path))
        except TypeError:
            return
        if not text.startswith("/"):
            text = self.os.path.join(self.os.getcwd(), text)
        kinds.add(self.os.path.normpath(text))

    def wrap(self, module, name, kinds, default=None):
        real = getattr(module, name, None)
        if real is None:
            return
        reads = self

        def traced(*args, **kwargs):
            if args:
                path = args[0]
            else:
                path = kwargs.get("path", kwargs.get("file", default))
            if path is not None:
                reads.note(kinds, path, kwargs.get("dir_fd"))
            return real(*args, **kwargs)

        setattr(module, name, traced)
        self.undo.append((module, name, real))

    def refuse(self, module, name):
        real = getattr(module, name, None)
        if real is None:
            return
        reads = self

        def spawning(*args, **kwargs):
            reads.why_not.append("it started a program (%s)" % name)
            return real(*args, **kwargs)

        setattr(module, name, spawning)
        self.undo.append((module, name, real))

    def start(self):
        import builtins
        import io

        os = self.os
        for module, name in ((builtins, "open"), (io, "open"), (io, "open_code"), (os, "open"), (os, "stat"), (os, "lstat"),
                             (os, "access"), (os, "readlink")):
            self.wrap(module, name, self.nodes)
        self.wrap(os, "listdir", self.lists, ".")
        self.wrap(os, "scandir", self.lists, ".")
        for name in _SPAWNING:
            self.refuse(os, name)
        # a probe module that bound one of them to its own name (`from os import stat`) reads untraced
        originals = set(id(real) for _module, _name, real in self.undo)
        script = getattr(sys.modules.get("__main__"), "__dict__", {})
        if any(id(value) in originals for value in list(script.values())):
            self.why_not.append("a probe module holds its own reference to a file function")

    def stop(self):
        for module, name, real in reversed(self.undo):
            setattr(module, name, real)
        self.undo = []


def _chain(os, path, out, hops=40):
    """The path with every symlink on the way resolved; each symlink met goes into out."""
    done = "/"
    todo = [part for part in reversed(path.split("/")) if part]
    while todo:
        part = todo.pop()
        if part == ".":
            continue
        if part == "..":
            done = os.path.dirname(done) or "/"
            continue
        step = os.path.join(done, part)
        try:
            link = os.path.islink(step)
        except OSError:
            link = False
        if not link or hops <= 0:
            done = step
            continue
        hops -= 1
        out.add(step)
        try:
            target = os.readlink(step)
        except OSError:
            done = step
            continue
        if target.startswith("/"):
            done = "/"
        todo.extend(part for part in reversed(target.split("/")) if part)
    return done


def _startup_reads(os):
    """(trees, nodes) read before the probe's first line: sys.path (imports), the
    interpreter and the files it maps, what sets its prefix and its user site."""
    here = os.getcwd()
    trees = set(p if p.startswith("/") else os.path.join(here, p) for p in sys.path if p)
    nodes = set(["/etc/ld.so.preload", "/etc/ld.so.cache"])
    version = "python%d.%d" % sys.version_info[:2]
    executables = [sys.executable, getattr(sys, "_base_executable", "") or ""]
    executables.append(os.path.realpath(executables[0]) if executables[0] else "")
    for exe in executables:
        if not exe:
            continue
        nodes.add(exe)
        folder = os.path.dirname(exe)
        while True:
            for rel in ("pyvenv.cfg", "pybuilddir.txt", "Modules/Setup.local", "lib/%s/os.py" % version,
                        "lib/%s/lib-dynload" % version, "lib64/%s/os.py" % version):
                nodes.add(os.path.join(folder, rel))
            if folder in ("/", ""):
                break
            folder = os.path.dirname(folder)
    try:
        import site

        for name in ("USER_SITE", "USER_BASE"):
            value = getattr(site, name, None)
            if isinstance(value, str):
                nodes.add(value)
    except Exception:
        pass
    try:
        with open("/proc/self/maps") as handle:
            for line in handle:
                path = line.split(None, 5)[5].strip() if len(line.split(None, 5)) == 6 else ""
                if path.startswith("/") and not path.endswith("(deleted)"):
                    nodes.add(path)
    except (OSError, IndexError):
        pass
    for module in list(sys.modules.values()):
        where = getattr(module, "__file__", None)
        if isinstance(where, str) and where.startswith("/"):
            nodes.add(where)
        for folder in list(getattr(module, "__path__", None) or []):
            if isinstance(folder, str) and folder.startswith("/"):
                trees.add(folder)
    return trees, nodes


def _under(path, roots):
    """Whether path is one of the roots or inside one (roots: a set of normalized paths)."""
    while True:
        if path in roots:
            return True
        parent = path.rsplit("/", 1)[0] or "/"
        if parent == path:
            return False
        path = parent


def reads_report(reads):
    """{"trees", "lists", "nodes", "untraceable"}: trees are read with everything in them
    (import paths), lists are folders whose names were listed, nodes are single paths
    stated or opened; each symlink met on the way and each path it leads to are in too."""
    os = reads.os
    reads.stop()
    if not os.path.isabs(os.getcwd()):
        reads.why_not.append("no working folder")
    new = set(sys.modules) - reads.modules
    untraceable = sorted(name for name in new if name.split(".")[0] in _UNTRACEABLE)
    if untraceable:
        reads.why_not.append("it imported " + ", ".join(untraceable))
    trees, nodes = _startup_reads(os)
    nodes |= reads.nodes
    lists = set(reads.lists)
    for folder in list(lists):  # a listed name that is a symlink: where it leads counts
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.is_symlink():
                    nodes.add(entry.path)
            except OSError:
                pass
    links = set()
    resolved = {}
    for group in (trees, lists, nodes):
        for path in list(group):
            real = _chain(os, os.path.normpath(path), links)
            if real != path:
                resolved.setdefault(id(group), set()).add(real)
    trees |= resolved.get(id(trees), set())
    lists |= resolved.get(id(lists), set())
    nodes |= resolved.get(id(nodes), set()) | links
    trees = set(os.path.normpath(p) for p in trees)
    kept_trees = sorted(p for p in trees if not _under(os.path.dirname(p), trees) or p == "/")
    inside = set(kept_trees)
    report = {
        "trees": kept_trees,
        "lists": sorted(p for p in lists if not _under(p, inside)),
        "nodes": sorted(p for p in nodes if not _under(p, inside)),
        "untraceable": sorted(set(reads.why_not))[:5],
    }
    if len(report["trees"]) + len(report["lists"]) + len(report["nodes"]) > _MAX_READS:
        return {"trees": [], "lists": [], "nodes": [], "untraceable": ["it read more than %d paths" % _MAX_READS]}
    return report


def main(argv):
    options = decode_options(argv[1:])
    reads = None
    if options.get("reads"):
        import os

        reads = _Reads(os)
        reads.start()
    try:
        result = collect(options, globals().get("_PROBES", []))
    finally:
        if reads is not None:
            reads.stop()
    if reads is not None:
        result["reads"] = reads_report(reads)
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
