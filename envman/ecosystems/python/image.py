"""Image data for the Python packages of one environment: the wheels the lock chose for the
platform and interpreter, a hashed requirements file, and uv (a static binary, used only in
the builder stage) to install them offline into a virtual environment."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from envman.ecosystems.base import Artifact, Fragment, FragmentContext

__all__ = ["VENV_DIR", "to_fragment"]

VENV_DIR = "/opt/envman/venv"


def to_fragment(entries: list[Any], context: FragmentContext, label: str) -> Fragment:
    from envman.ecosystems.python.artifacts import select_files
    from envman.ecosystems.python.export import requirements_text

    if not entries:
        return Fragment(ecosystem="python")
    section = context.section
    index_urls = [getattr(section, "index_url", None) or "https://pypi.org/simple", *(getattr(section, "extra_index_urls", None) or [])]
    files = select_files(
        entries,
        python_version=str(context.platform_lock.python_version),
        platform=context.platform,
        index_urls=index_urls,
        find_links=list(getattr(section, "find_links", []) or []),
        http=context.services.http,
        cache=context.services.cache,
    )
    wanted = {f.name for f in files}
    installed = [e for e in entries if e.name in wanted]  # entries whose marker excludes the platform are left out
    return Fragment(
        ecosystem="python",
        template="python",
        rank=30,
        install_dir=VENV_DIR,
        artifacts=[Artifact(url=f.url, sha256=f.sha256, path=f"python/wheels/{f.filename}") for f in files],
        files={"python/requirements.txt": requirements_text(installed).encode(), "python/uv": _uv_binary()},
        data={"venv": VENV_DIR, "count": len(installed), "sdists": sorted(f.name for f in files if f.sdist)},
        env={"VIRTUAL_ENV": VENV_DIR, "PATH": f"{VENV_DIR}/bin:$PATH"},
        labels={label: f"{VENV_DIR}/bin/python"},  # where envman.targets probes
    )


def _uv_binary() -> Path:
    from uv import find_uv_bin

    return Path(find_uv_bin())
