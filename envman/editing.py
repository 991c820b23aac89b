"""`envman add` and `envman remove`: edit envman.yaml as a person would (ruamel round-trip:
comments, order, flow or block lists and quoting kept), validate the result, lock, and put
the manifest back as it was when the lock fails, so nothing is lost."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from envman import ecosystems
from envman.errors import BadInputError

__all__ = ["infer_ecosystem", "owner_of", "edit_manifest", "apply_edit", "spec_name"]



def infer_ecosystem(spec: str, declared: list[str], chosen: str | None) -> str:
    """The flag, else the ecosystem whose spec form this is (Ecosystem.claims_spec: a Maven
    coordinate, an R `(>= …)`, a conda `channel::name`), else the only declared section,
    else the declared section that takes plain names by default (Python)."""
    if chosen:
        return chosen
    for eco in ecosystems.all_ecosystems():
        if eco.claims_spec(spec):
            return eco.name
    if len(declared) == 1:
        return declared[0]
    defaults = [eco.name for eco in ecosystems.all_ecosystems() if eco.add_default and eco.name in declared]
    if defaults:
        return defaults[0]
    flags = ", ".join(f"--{name}" for name in declared)
    raise BadInputError(f"cannot tell which section {spec!r} belongs to; add one of {flags}")


def owner_of(name: str, manifest: Any, environment: str | None, chosen: str | None) -> str:
    """For `remove`: the ecosystem whose list (top-level or the environment's) has `name`."""
    if chosen:
        return chosen
    found = []
    for eco in ecosystems.all_ecosystems():
        if manifest.section(eco.name) is None:
            continue
        for item in manifest.requirements(eco.name, environment or manifest.environment_names()[0]):
            text = str(getattr(item, "artifact", None) or item)
            if eco.normalize_name(spec_name(eco, text)) == eco.normalize_name(spec_name(eco, name)) or (
                ":" in text and ":" not in name and text.split(":")[1] == name
            ):
                found.append(eco.name)
                break
    if len(found) == 1:
        return found[0]
    if not found:
        raise BadInputError(f"{name!r} is not in the manifest")
    raise BadInputError(f"{name!r} is in more than one section ({', '.join(found)}); add --{found[0]} or another")


def spec_name(eco: Any, spec: str) -> str:
    try:
        return next(iter(eco.root_names([spec])), spec)
    except ValueError:  # not this ecosystem's grammar: it names nothing here
        return spec


def _indentation(text: str) -> tuple[int, int]:
    """(mapping indent, how far "- " sits right of its key) as the file writes them."""
    mapping, offset = 0, None
    previous_key_indent = None
    for line in text.splitlines():
        stripped = line.lstrip(" ")
        if not stripped or stripped.startswith("#"):
            continue
        indent = len(line) - len(stripped)
        if stripped.startswith("- "):
            if offset is None and previous_key_indent is not None:
                offset = max(0, indent - previous_key_indent)
            continue
        if re.match(r"^[A-Za-z0-9_.\-\"']+\s*:", stripped):
            if indent and not mapping:
                mapping = indent
            previous_key_indent = indent
    return mapping or 2, offset or 0


def edit_manifest(text: str, path: str, ecosystem: str, environment: str | None, add: list[str], remove: list[str]) -> str:
    """The manifest text with `add` specs put in (replacing a spec of the same name) and the
    packages named in `remove` taken out, in the top-level section or the environment's."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.scalarstring import DoubleQuotedScalarString

    mapping, offset = _indentation(text)
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096
    yaml.indent(mapping=mapping, sequence=mapping + offset if offset else mapping, offset=offset)
    data = yaml.load(text)
    eco = ecosystems.get(ecosystem)
    holder: Any = data
    if environment is not None:
        envs = data.setdefault("environments", CommentedMap())
        if environment not in envs:
            raise BadInputError(f"{path}: no environment {environment!r} (it has: {', '.join(envs) or 'none'})")
        if envs[environment] is None:
            envs[environment] = CommentedMap()
        holder = envs[environment]
    section = holder.get(ecosystem)
    if section is None:
        if remove and not add:
            raise BadInputError(f"{path}: no `{ecosystem}` section{f' in {environment}' if environment else ''}")
        section = holder[ecosystem] = CommentedMap()
    items = section.get(eco.items_key)
    if items is None:
        items = CommentedSeq()
        items.fa.set_flow_style()
        section[eco.items_key] = items
    names = [spec_name(eco, str(item if not isinstance(item, dict) else item.get("artifact", ""))) for item in items]
    quoted = any(isinstance(item, DoubleQuotedScalarString) for item in items) or not items
    for name in remove:
        wanted = spec_name(eco, name)
        hits = [
            i for i, have in enumerate(names)
            if eco.normalize_name(have) == eco.normalize_name(wanted) or (":" in have and ":" not in name and have.split(":")[1] == name)
        ]
        if not hits:
            raise BadInputError(f"{path}: {name!r} is not among the {ecosystem} packages{f' of {environment}' if environment else ''}")
        for index in reversed(hits):
            del items[index]
            del names[index]
    for spec in add:
        value = DoubleQuotedScalarString(spec) if quoted else spec
        name = eco.normalize_name(spec_name(eco, spec))
        hits = [i for i, have in enumerate(names) if eco.normalize_name(have) == name]
        if hits:
            items[hits[0]] = value
        else:
            items.append(value)
            names.append(spec_name(eco, spec))
    out = io.StringIO()
    yaml.dump(data, out)
    return _keep_comment_columns(text, out.getvalue())


_INLINE_COMMENT = re.compile(r"^(?P<body>\s*[A-Za-z0-9_.\-\"']+\s*:.*?\S)(?P<gap>\s+)(?P<comment>#.*)$")


def _keep_comment_columns(before: str, after: str) -> str:
    """ruamel moves a comment that follows an edited flow list next to it: give it back the
    space the file had before it (the same key's line, the same comment)."""
    columns: dict[tuple[str, str], int] = {}
    for line in before.splitlines():
        match = _INLINE_COMMENT.match(line)
        if match:
            key = match.group("body").split(":", 1)[0]
            columns[(key, match.group("comment"))] = len(match.group("gap"))
    lines = []
    for line in after.splitlines(keepends=True):
        match = _INLINE_COMMENT.match(line.rstrip("\n"))
        if match:
            body = match.group("body")
            gap = columns.get((body.split(":", 1)[0], match.group("comment")))
            if gap is not None:
                line = body + " " * gap + match.group("comment") + ("\n" if line.endswith("\n") else "")
        lines.append(line)
    return "".join(lines)


def apply_edit(manifest_path: Path, new_text: str, old_text: str, lock: Any) -> Any:
    """Validate and write the new manifest, lock; on any failure put the old text back."""
    from envman.atomic import atomic_write_text
    from envman.manifest import parse_manifest

    parse_manifest(new_text, str(manifest_path))  # exit 2 with FILE:LINE:COL before anything is written
    atomic_write_text(manifest_path, new_text)
    try:
        return lock()
    except BaseException:
        atomic_write_text(manifest_path, old_text)
        raise
