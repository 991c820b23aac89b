"""An inventory's YAML, read safely (envman.yamlguard first) with FILE:LINE:COL for errors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from envman.errors import LocatedError

__all__ = ["load_yaml_located", "Locate"]

Locate = Callable[[tuple[Any, ...], str], LocatedError]


def load_yaml_located(text: str, filename: str) -> tuple[Any, Locate]:
    """(data, locate): ruamel's round-trip data (dicts and lists that know their lines) and a
    function that makes a LocatedError at a path of keys and indexes in it."""
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    from envman.yamlguard import check_yaml

    check_yaml(text, filename, "an inventory")
    try:
        data = YAML(typ="rt").load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        raise LocatedError(filename, line, col, f"invalid YAML: {exc.problem or exc}") from None
    except (YAMLError, ValueError) as exc:
        raise LocatedError(filename, None, None, f"invalid YAML: {str(exc)[:200]}") from None

    def locate(path: tuple[Any, ...], message: str) -> LocatedError:
        node, line, col = data, None, None
        for part in path:
            lc = getattr(node, "lc", None)
            try:
                if isinstance(node, dict) and part in node:
                    if lc is not None:
                        line, col = lc.key(part)
                    node = node[part]
                elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                    if lc is not None:
                        line, col = lc.item(part)
                    node = node[part]
                else:
                    break
            except (KeyError, TypeError, AttributeError):
                break
        return LocatedError(filename, None if line is None else line + 1, None if col is None else col + 1, message)

    return data, locate
