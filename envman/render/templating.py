"""The Jinja2 environment that turns an ImagePlan into Dockerfile and script text: templates
from `image.templates` first (a team's own), then the ones shipped with envman; StrictUndefined,
so a missing value is an error and never an empty string in a Dockerfile."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

from envman.errors import BadInputError

__all__ = ["shipped_templates", "template_environment", "render_template", "docker_quote", "shell_quote"]


def shipped_templates() -> Path:
    """templates/ at the top of a source checkout, or envman/_templates inside the wheel."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "_templates", package.parent / "templates"):
        if (candidate / "Dockerfile.j2").is_file():
            return candidate
    raise BadInputError(f"envman's Dockerfile templates are missing (looked in {package / '_templates'}); reinstall envman")


def shell_quote(value: object) -> str:
    """One shell word; refuses control characters (a line break would start a new command)."""
    text = str(value)
    _one_line(text)
    return shlex.quote(text)


def docker_quote(value: object) -> str:
    """A double-quoted Dockerfile value (ENV, LABEL): JSON string escapes, which the Dockerfile
    parser reads the same way; `$` is left alone so ENV PATH=...:$PATH still expands."""
    text = str(value)
    _one_line(text)
    return json.dumps(text)


def _one_line(text: str) -> None:
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        raise BadInputError(f"refusing to put a value with a control character into a Dockerfile: {text[:60]!r}")


def template_environment(user_dir: Path | None) -> Any:
    import jinja2

    loaders: list[Any] = []
    if user_dir is not None:
        if not user_dir.is_dir():
            raise BadInputError(f"image.templates: {user_dir} is not a folder")
        loaders.append(jinja2.FileSystemLoader(str(user_dir)))
    loaders.append(jinja2.FileSystemLoader(str(shipped_templates())))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=False,
    )
    env.filters["shell_quote"] = shell_quote
    env.filters["docker_quote"] = docker_quote
    return env


def render_template(env: Any, name: str, values: dict[str, Any]) -> str:
    """Render one template; template errors become exit 2 naming the file and line."""
    import jinja2

    try:
        return str(env.get_template(name).render(**values))
    except jinja2.TemplateNotFound as exc:
        raise BadInputError(f"template {exc.name} not found (image.templates or envman's own)") from None
    except jinja2.UndefinedError as exc:
        raise BadInputError(f"template {name}: {exc.message}") from None
    except jinja2.TemplateSyntaxError as exc:
        raise BadInputError(f"{exc.filename or exc.name}:{exc.lineno}: {exc.message}") from None
