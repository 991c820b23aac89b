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
    direct = [e for e in entries if getattr(e, "url", None)]
    from_index = [e for e in entries if not getattr(e, "url", None)]
    section = context.section
    index_urls = [getattr(section, "index_url", None) or "https://pypi.org/simple", *(getattr(section, "extra_index_urls", None) or [])]
    files = select_files(
        from_index,
        python_version=str(context.platform_lock.python_version),
        platform=context.platform,
        index_urls=index_urls,
        find_links=list(getattr(section, "find_links", []) or []),
        http=context.services.http,
        cache=context.services.cache,
    )
    if direct:  # not from an index: the locked commit's tarball or the locked archive (image_direct)
        from envman.ecosystems.python.artifacts import applies_on
        from envman.ecosystems.python.image_direct import direct_files

        direct = [e for e in direct if applies_on(e.marker, str(context.platform_lock.python_version), context.platform)]
        files += direct_files(direct, context.project_dir, context.services.cache)
    digests = {f.name: f.sha256 for f in files}
    installed = [  # entries whose marker excludes the platform are left out; direct ones by their file
        e.model_copy(update={"url": None, "commit": None, "hashes": [f"sha256:{digests[e.name]}"]}) if e.url else e
        for e in entries if e.name in digests
    ]
    sdists = [f for f in files if f.sdist]
    build_files = _build_dependencies(sdists, context, index_urls) if sdists else []
    artifacts = [Artifact(url=f.download_url or f.url, sha256=f.sha256, path=f"python/wheels/{f.filename}") for f in files]
    artifacts += [Artifact(url=f.download_url or f.url, sha256=f.sha256, path=f"python/build/{f.filename}") for f in build_files]
    generated: dict[str, bytes | Path] = {"python/requirements.txt": requirements_text(installed).encode(), "python/uv": _uv_binary()}
    if direct:
        from envman.ecosystems.python.image_direct import direct_urls

        generated["python/direct-urls.json"] = direct_urls(direct, files)
    if build_files:
        generated["python/build-requirements.txt"] = "".join(f"{f.name}=={f.version}\n" for f in build_files).encode()
    return Fragment(
        ecosystem="python",
        template="python",
        rank=30,
        install_dir=VENV_DIR,
        artifacts=artifacts,
        files=generated,
        data={"venv": VENV_DIR, "count": len(installed), "sdists": sorted(f.name for f in sdists), "direct": bool(direct)},
        build_apt=["gcc", "python3-dev"] if sdists else [],  # an sdist may hold C code: built in a builder stage
        env={"VIRTUAL_ENV": VENV_DIR, "PATH": f"{VENV_DIR}/bin:$PATH"},
        labels={label: f"{VENV_DIR}/bin/python"},  # where envman.targets probes
    )


def _build_dependencies(sdists: list[Any], context: FragmentContext, index_urls: list[str]) -> list[Any]:
    """Wheels of what the sdists need to build ([build-system].requires), resolved with uv for
    the image's interpreter and platform and fetched like the locked files. They are resolved
    when the image is rendered (they are not in the lock) and listed in
    python/build-requirements.txt; they stay in the builder stage."""
    from envman.ecosystems.python.artifacts import build_requirements, fetch_files, select_files
    from envman.ecosystems.python.compiled import parse_compiled
    from envman.ecosystems.python.compilers import CompileJob, compile_with_uv
    from envman.ecosystems.python.platforms import uv_platform

    services = context.services
    requires = sorted({r for _, path in fetch_files(sdists, services.http, services.cache) for r in build_requirements(path)})
    version = str(context.platform_lock.python_version)
    section = context.section
    services.progress(f"python: resolving the build requirements of {', '.join(sorted(f.name for f in sdists))}")
    job = CompileJob(
        requirements=requires,
        python_version=version,
        platform=uv_platform(context.platform),
        index_url=getattr(section, "index_url", None),
        extra_index_urls=list(getattr(section, "extra_index_urls", None) or []),
        find_links=list(getattr(section, "find_links", None) or []),
    )
    entries = parse_compiled(compile_with_uv(job), index_urls[0])
    return select_files(
        entries, python_version=version, platform=context.platform, index_urls=index_urls,
        find_links=job.find_links, http=services.http, cache=services.cache,
    )


def _uv_binary() -> Path:
    from uv import find_uv_bin

    return Path(find_uv_bin())
