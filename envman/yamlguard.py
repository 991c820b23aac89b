"""Refuse hostile YAML before it is built into data: aliases (billion-laughs bombs), deep
nesting, and integers too long to convert. Runs libyaml's event parser (C, no data built),
so a bomb is refused in milliseconds; the loaders that follow see only plain documents.
"""

from __future__ import annotations

from envman.errors import LocatedError
from envman.limits import LIMITS, limit

__all__ = ["check_yaml", "MAX_PLAIN_DIGITS"]

# Python refuses to convert integers of more than 4,300 digits; no version or count needs 100.
MAX_PLAIN_DIGITS = 100


def check_yaml(text: str, filename: str, what: str = "envman.yaml") -> None:
    """LocatedError (exit 2, FILE:LINE:COL) for an alias or anchor, nesting deeper than the
    yaml_depth limit, or a plain number of more than MAX_PLAIN_DIGITS digits. Syntax errors
    are left to the loader, which words them."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    depth = 0
    maximum = limit("yaml_depth")
    try:
        for event in yaml.parse(text, Loader=loader):
            line, column = (event.start_mark.line + 1, event.start_mark.column + 1) if event.start_mark else (None, None)
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise LocatedError(filename, line, column, f"YAML anchors and aliases (&name, *name) are not allowed in {what}")
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > maximum:
                    raise LocatedError(
                        filename, line, column,
                        f"nested more than {maximum} levels deep (set {LIMITS['yaml_depth'][0]} to raise the limit)",
                    )
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
            if isinstance(event, yaml.ScalarEvent) and event.style is None and len(event.value) > MAX_PLAIN_DIGITS:
                digits = event.value.lstrip("+-").replace("_", "")
                if digits.isdigit():
                    raise LocatedError(filename, line, column, f"a number of {len(digits)} digits; write it as a string in quotes")
    except yaml.MarkedYAMLError as exc:
        if "nesting depth" in str(exc.problem or ""):  # libyaml's own bound on flow nesting
            mark = exc.problem_mark
            raise LocatedError(
                filename, mark.line + 1 if mark else None, mark.column + 1 if mark else None,
                f"nested more than {maximum} levels deep (set {LIMITS['yaml_depth'][0]} to raise the limit)",
            ) from None
        return  # other syntax errors: the loader reports them with its own wording
    except yaml.YAMLError:
        return
