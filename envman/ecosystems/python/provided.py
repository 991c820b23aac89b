"""Python packages resolved on top of another ecosystem's solution (conda and PyPI together,
as pixi does).

When an ecosystem resolved before Python provides the interpreter and Python distributions
(ResolveRequest.provided: a conda solution's `python` and, say, `numpy`), each platform is
resolved

- for that interpreter's full version (`uv pip compile --python-version 3.11.9`); a
  `python.version` the provided interpreter does not match is exit 3;
- with every provided distribution pinned to the provided version and taken from a stub
  index written for this run (one wheel per distribution, with no dependencies and no
  files), given to uv as the first extra index: uv's default `first-index` strategy takes a
  name found there from there only, so a provided package is never fetched from PyPI, its
  PyPI dependencies are not pulled in (conda's solution already has what it needs), and a
  requirement it cannot satisfy is a conflict (exit 3) naming it.

The entries are then marked: `manager: conda` (the provider) and `provider: <its entry>`
for the provided ones, which keep no hashes or source (uv never installs them: sync, the
requirements export and images leave them to the provider), `manager: pypi` for the rest.
"""

from __future__ import annotations

import base64
import hashlib
import html
import io
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from envman.ecosystems.base import Fragment, ResolveRequest, Services
from envman.errors import ResolutionError

__all__ = ["PYPI", "RUNTIME", "resolve_on_top", "write_stub_index", "installed_by_other", "is_provided_ground"]

PYPI = "pypi"  # the manager of the entries uv installs, once another ecosystem provides some
RUNTIME = "python"  # the runtime key (Ecosystem.runtime) of the interpreter
_STUB_DATE = (2000, 1, 1, 0, 0, 0)

Resolve = Callable[[ResolveRequest, Services], dict[str, dict[str, list[Any]]]]


def is_provided_ground(request: ResolveRequest) -> bool:
    """True when another ecosystem provides the interpreter or Python packages somewhere."""
    return any(request.provided_runtime(RUNTIME, p) or request.provided_packages("python", p) for p in request.platforms)


def installed_by_other(entry: Any) -> bool:
    """The entry is installed by another ecosystem (`manager: conda`), not by uv."""
    manager = getattr(entry, "manager", None)
    return manager is not None and manager != PYPI


def resolve_on_top(request: ResolveRequest, services: Services, resolve: Resolve) -> dict[str, dict[str, list[Any]]]:
    """environment -> platform -> entries, each platform resolved on top of what is provided
    there (platforms without a provided interpreter or packages resolve as usual). The
    platforms are resolved at the same time (one uv process each, over one uv cache)."""
    from concurrent.futures import ThreadPoolExecutor

    platforms = list(request.platforms)
    with ThreadPoolExecutor(max_workers=max(1, len(platforms)), thread_name_prefix="envman-python-on-top") as pool:
        futures = {p: pool.submit(_one_platform, request, services, resolve, p) for p in platforms}
        solved = {p: futures[p].result() for p in platforms}  # the first platform's error, in the manifest's order
    return {env: {p: solved[p][env] for p in platforms} for env in request.environments}


def _one_platform(request: ResolveRequest, services: Services, resolve: Resolve, platform: str) -> dict[str, list[Any]]:
    """environment -> entries of one platform."""
    from packaging.version import InvalidVersion, Version

    section = request.section
    runtime = request.provided_runtime(RUNTIME, platform)
    given = request.provided_packages("python", platform)
    if runtime is None and not given:
        solved = resolve(replace(request, platforms=[platform], provided={}), services)
        return {env: solved.get(env, {}).get(platform, []) for env in request.environments}
    update: dict[str, Any] = {}
    if runtime is not None:
        version, by = runtime
        if section.version and not _matches(str(section.version), version):
            raise ResolutionError(
                f"python.version is {section.version}, but the {by} solution has python {version} on {platform}: "
                f"change python.version, or the {by} python spec, so that they agree (or drop python.version)"
            )
        update["version"] = version
    stubs: dict[str, str] = {}
    for name, (by, package) in sorted(given.items()):
        try:
            stubs[name] = str(Version(package.version))
        except InvalidVersion:
            services.progress(f"python: {by}'s {package.provider} {package.version} is no PEP 440 version; not used as {name}")
    with tempfile.TemporaryDirectory(prefix="envman-provided-") as tmp:
        if stubs:
            update["extra_index_urls"] = [write_stub_index(Path(tmp), stubs), *section.extra_index_urls]
        providers = sorted({by for by, _ in given.values()} | ({runtime[1]} if runtime else set()))
        services.progress(f"python: resolving {platform} on top of {', '.join(providers)}")
        sub = replace(request, section=section.model_copy(update=update), platforms=[platform], provided={})
        solved = resolve(sub, services)
    return {env: _marked(solved.get(env, {}).get(platform, []), request, platform, env, stubs) for env in request.environments}


def _matches(expected: str, actual: str) -> bool:
    want, have = expected.split("."), actual.split(".")
    return want == have[: len(want)]


def _marked(entries: list[Any], request: ResolveRequest, platform: str, env: str, stubs: dict[str, str]) -> list[Any]:
    """Provided entries say who installs them; the others are uv's (`manager: pypi`)."""
    here = request.provided_packages("python", platform, env)
    out = []
    for entry in entries:
        if entry.name not in stubs:
            out.append(entry.model_copy(update={"manager": PYPI}))
            continue
        if entry.name not in here:
            by, package = request.provided_packages("python", platform)[entry.name]
            raise ResolutionError(
                f"python: environment {env!r} needs {entry.name}, which {by} installs in other environments "
                f"({package.provider} {package.version}) but not in {env!r} on {platform}; "
                f"add {package.provider} to that environment's {by} packages (or to the top-level ones)"
            )
        by, package = here[entry.name]
        out.append(entry.model_copy(update={"manager": by, "provider": package.provider, "hashes": [], "source": None}))
    return out


def write_stub_index(root: Path, packages: dict[str, str]) -> str:
    """A PEP 503 index under root with one dependency-free wheel per (normalized name,
    version): what the resolver sees of the provided packages. Returns its file:// URL."""
    simple = root / "simple"
    files = root / "files"
    files.mkdir(parents=True, exist_ok=True)
    links = []
    for name, version in sorted(packages.items()):
        wheel = _stub_wheel(name, version)
        filename = f"{name.replace('-', '_')}-{version}-py3-none-any.whl"
        (files / filename).write_bytes(wheel)
        digest = hashlib.sha256(wheel).hexdigest()
        (simple / name).mkdir(parents=True, exist_ok=True)
        anchor = f'<a href="../../files/{html.escape(filename)}#sha256={digest}">{html.escape(filename)}</a>'
        (simple / name / "index.html").write_text(f"<!DOCTYPE html><html><body>\n{anchor}\n</body></html>\n", encoding="utf-8")
        links.append(f'<a href="{html.escape(name)}/">{html.escape(name)}</a>')
    simple.mkdir(parents=True, exist_ok=True)
    (simple / "index.html").write_text("<!DOCTYPE html><html><body>\n" + "\n".join(links) + "\n</body></html>\n", encoding="utf-8")
    return simple.resolve().as_uri()


def _stub_wheel(name: str, version: str) -> bytes:
    info = f"{name.replace('-', '_')}-{version}.dist-info"
    members = {
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\nSummary: provided by another ecosystem\n",
        f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: envman\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record_lines = []
    for path, text in members.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record_lines.append(f"{path},sha256={digest},{len(text.encode())}")
    record_lines.append(f"{info}/RECORD,,")
    members[f"{info}/RECORD"] = "\n".join(record_lines) + "\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for path, text in members.items():
            archive.writestr(zipfile.ZipInfo(path, date_time=_STUB_DATE), text)
    return buffer.getvalue()


def fragment_on_top(entries: list[Any], context: Any, label: str) -> Fragment | None:
    """The image's Python layer when another ecosystem installs the interpreter (conda and
    PyPI together): the `manager: pypi` packages only, installed by uv with the conda prefix's
    own python into a separate folder (`uv pip install --prefix`) in a stage made from the
    conda stage, then copied over the prefix in the final image, so that no conda file is
    in two layers and nothing is installed twice."""
    from dataclasses import replace as replace_fragment

    from envman.ecosystems.python.image import to_fragment
    from envman.errors import BuildError

    theirs = {str(e.manager) for e in entries if installed_by_other(e)}
    if theirs != {"conda"}:
        raise BuildError(f"python: the image cannot install on top of {', '.join(sorted(theirs))} (only conda's prefix)")
    from envman.ecosystems.conda.image import CONDA_DIR  # the prefix conda's layer makes

    own = [e for e in entries if not installed_by_other(e)]
    if not own:
        return None
    fragment = to_fragment(own, context, label=label)
    python = f"{CONDA_DIR}/bin/python"
    return replace_fragment(
        fragment,
        install_dir=CONDA_DIR,
        data={**fragment.data, "onto": CONDA_DIR, "onto_stage": "envman-conda", "target": ONTO_TARGET},
        env={},  # conda's layer puts the prefix on PATH
        labels={label: python},
    )


ONTO_TARGET = "/tmp/envman/python-prefix"  # where the stage installs the PyPI part (copied over the prefix)
