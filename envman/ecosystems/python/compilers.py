"""Thin shells around the two resolvers: `uv pip compile` and pip-tools' `pip-compile`.

Each takes requirement lines, constraint lines and preference pins and returns the
compiled requirements text; failures become ResolutionError (3) or UnreachableError (4).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from envman.errors import BadInputError, ResolutionError, UnreachableError
from envman.redact import redact_text

__all__ = ["CompileJob", "compile_with_uv", "compile_with_piptools", "pylock_files_with_uv", "resolver_timeout", "uv_cache_dir"]

DEFAULT_RESOLVER_TIMEOUT = 1800.0  # seconds for one run of uv or pip-compile (ENVMAN_RESOLVER_TIMEOUT)

_UNREACHABLE = re.compile(
    r"(Failed to fetch|error sending request|Could not connect|connection refused|Connection refused|"
    r"dns error|HTTP status (server|client) error|status code: 5\d\d|timed out|Max retries exceeded|"
    r"NewConnectionError|Failed to establish a new connection|ProxyError|500 Server Error|"
    r"Failed to read from the distribution cache|Network connectivity is disabled)",
)
_INDEX_URL = re.compile(r"(https?|file)://[^\s`'\"]+")
# The resolver could not use its cache (read-only, full, not ours): it is retried without one.
_CACHE_UNUSABLE = re.compile(
    r"(Failed to initialize cache|Could not acquire lock|failed to create directory|"
    r"cache.*(Read-only file system|Permission denied|No space left on device|Not a directory|os error (13|28|30))|"
    r"(Read-only file system|Permission denied|No space left on device).*cache)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class CompileJob:
    requirements: list[str]
    python_version: str
    platform: str | None = None  # uv --python-platform; pip-tools resolves for the host
    index_url: str | None = None
    extra_index_urls: list[str] = field(default_factory=list)
    find_links: list[str] = field(default_factory=list)
    constraints: list[str] = field(default_factory=list)
    preferences: list[str] = field(default_factory=list)  # name==version of the old lock
    upgrade: bool = False
    upgrade_packages: list[str] = field(default_factory=list)
    offline: bool = False
    cache_dir: str | None = None
    no_cache: bool = False  # the cache cannot be written: uv --no-cache, pip-compile a temporary one
    interpreter: str | None = None  # uv --python: the interpreter for sdist builds (saves uv's search of PATH)
    config_file: str | None = None  # uv --config-file: a uv.toml of sdist metadata (sdist_metadata.py), nothing else


def _write(path: Path, lines: list[str]) -> Path:
    """One requirement per line; a value that would break its line (a tampered lock's
    version, say) is refused rather than handed to the resolver as extra options."""
    for line in lines:
        if not line.isprintable() or line != line.strip():
            raise BadInputError(f"refusing to give the resolver a requirement with a line break or control character: {line!r}")
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def _explain_failure(tool: str, job: CompileJob, stderr: str) -> Exception:
    text = redact_text(stderr.strip())
    lines = [line for line in text.splitlines() if line.strip()]
    summary = "\n".join(lines[-25:]) if lines else f"{tool} failed without a message"
    lowered = text.lower()
    offline_words = ("offline", "network was disabled", "not found in the cache", "network connectivity is disabled")
    if job.offline and any(word in lowered for word in offline_words):
        return UnreachableError(f"offline and the cache lacks what the Python resolution needs:\n{summary}")
    if _UNREACHABLE.search(text) and "No solution found" not in text and "ResolutionImpossible" not in text:
        indexes = [job.index_url or "https://pypi.org/simple", *job.extra_index_urls]
        named = sorted({m.group(0).rstrip(".,:)") for m in _INDEX_URL.finditer(text)}) or [redact_text(u) for u in indexes]
        return UnreachableError(
            f"Python package index unreachable ({', '.join(redact_text(u) for u in named[:3])}):\n{summary}"
        )
    if "No solution found" in text or "ResolutionImpossible" in text or "Could not find a version" in text or "not found in the" in text:
        return ResolutionError(f"no Python resolution: the requirements conflict:\n{summary}{_suggestions(job, text)}")
    return ResolutionError(f"{tool} could not resolve the Python section:\n{summary}")


def _suggestions(job: CompileJob, text: str) -> str:
    from envman.ecosystems.python.suggest import advice, missing_projects
    from envman.http import HttpClient

    missing = missing_projects(text)
    if not missing or job.offline:
        return ""
    return advice(missing, job.index_url or "https://pypi.org/simple", HttpClient())


def _selection_args(job: CompileJob, work: Path, tool: str = "uv") -> list[str]:
    """Flags both resolvers share: sources, constraints, upgrades, cache."""
    args = _source_args(job)
    if job.constraints:
        args += ["--constraint", str(_write(work / "constraints.txt", job.constraints))]
    if job.upgrade:
        args.append("--upgrade")
    for name in job.upgrade_packages:
        args += ["--upgrade-package", name]
    if job.no_cache:
        if tool == "uv":
            args.append("--no-cache")
        else:  # pip-compile has no such flag: a cache of its own for this run only
            args += ["--cache-dir", str(work / "pip-tools-cache")]
    elif job.cache_dir:
        args += ["--cache-dir", job.cache_dir]
    return args


def _source_args(job: CompileJob) -> list[str]:
    args: list[str] = []
    if job.index_url:
        args += ["--index-url", job.index_url]
    for url in job.extra_index_urls:
        args += ["--extra-index-url", url]
    for link in job.find_links:
        args += ["--find-links", link]
    return args


def _clean_env() -> dict[str, str]:
    """The environment for resolvers: user pip/uv settings must not change the lock."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "UV_"))}
    for keep in ("PIP_CERT",):
        if keep in os.environ:
            env[keep] = os.environ[keep]
    env["UV_NO_CONFIG"] = "1"
    env["UV_PYTHON_DOWNLOADS"] = "never"  # a full python.version uv has no interpreter for must not fetch one
    # uv's HTTP timeout (a read timeout) is envman's request deadline; the whole run is
    # bounded by resolver_timeout().
    from envman.http import request_timeout

    env["UV_HTTP_TIMEOUT"] = str(max(1, round(request_timeout())))
    env["PIP_CONFIG_FILE"] = os.devnull  # pip-compile must not read /etc/pip.conf, ~/.config/pip …
    env.setdefault("SSL_CERT_FILE", os.environ.get("SSL_CERT_FILE", "/etc/ssl/certs/ca-certificates.crt"))
    return env


def _uv_bin() -> str:
    from uv import find_uv_bin

    return find_uv_bin()


def _uv_common(job: CompileJob, output: Path, work: Path) -> list[str]:
    requirements = _write(work / "requirements.in", job.requirements)
    argv = [
        _uv_bin(), "pip", "compile", str(requirements), "-o", str(output),
        "--python-version", job.python_version, "--no-header", "--quiet",
    ]
    if job.platform:
        argv += ["--python-platform", job.platform]
    if job.interpreter:
        argv += ["--python", job.interpreter]
    if job.config_file:
        argv += ["--config-file", job.config_file]
    argv += _selection_args(job, work)
    if job.offline:
        argv.append("--offline")
    return argv


def uv_cache_dir(job: CompileJob) -> str | None:
    """The folder uv's runs for job use as their cache (None: none, or uv cannot say)."""
    if job.no_cache:
        return None
    if job.cache_dir:
        return job.cache_dir
    try:
        done = subprocess.run([_uv_bin(), "cache", "dir"], capture_output=True, text=True, env=_clean_env(), timeout=60)
    except (OSError, subprocess.TimeoutExpired):
        return None
    folder = done.stdout.strip()
    return folder if done.returncode == 0 and folder and os.path.isabs(folder) else None


def resolver_timeout() -> float:
    """Seconds one resolver run may take (ENVMAN_RESOLVER_TIMEOUT, default 1800)."""
    raw = os.environ.get("ENVMAN_RESOLVER_TIMEOUT", "").strip()
    try:
        value = float(raw)
    except ValueError:
        return DEFAULT_RESOLVER_TIMEOUT
    return value if 0 < value < float("inf") else DEFAULT_RESOLVER_TIMEOUT


class _CacheUnusable(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _run_once(argv: list[str], tool: str, job: CompileJob) -> None:
    limit = resolver_timeout()
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=_clean_env(), timeout=limit)
    except FileNotFoundError as exc:
        raise UnreachableError(f"{tool} is not installed: {exc}") from None
    except subprocess.TimeoutExpired:
        indexes = [job.index_url or "https://pypi.org/simple", *job.extra_index_urls, *job.find_links]
        raise UnreachableError(
            f"{tool} did not finish resolving the Python section within {limit:g} s "
            f"(indexes: {', '.join(redact_text(u) for u in indexes)}); set ENVMAN_RESOLVER_TIMEOUT to allow more"
        ) from None
    if done.returncode != 0:
        output = done.stderr + "\n" + done.stdout
        problem = _CACHE_UNUSABLE.search(output)
        if problem and not job.no_cache:
            first = next((line.strip() for line in redact_text(output).splitlines() if line.strip()), problem.group(0))
            raise _CacheUnusable(first)
        raise _explain_failure(tool, job, output)


_unusable_caches: set[tuple[str, str | None]] = set()  # (tool, cache_dir) found unusable in this run


def _run(build: Callable[[CompileJob], list[str]], tool: str, job: CompileJob) -> CompileJob:
    """Run the resolver with the argv build(job) gives; when it cannot use its cache (read-only
    or full), run it again without one (and go without it for the rest of this run).
    Returns the job that ran."""
    if (tool, job.cache_dir) in _unusable_caches and not job.offline:
        job = replace(job, no_cache=True)
    try:
        _run_once(build(job), tool, job)
        return job
    except _CacheUnusable as exc:
        _unusable_caches.add((tool, job.cache_dir))
        if job.offline:
            raise UnreachableError(
                f"--offline needs {tool}'s cache, which cannot be used ({exc.detail}); "
                "run without --offline, or point ENVMAN_CACHE_DIR at a writable folder"
            ) from None
    fallback = replace(job, no_cache=True)
    _run_once(build(fallback), tool, fallback)
    return fallback


def compile_with_uv(job: CompileJob) -> str:
    """Pins with every published hash and `# via` / `# from` annotations."""
    with tempfile.TemporaryDirectory(prefix="envman-uv-") as tmp:
        work = Path(tmp)
        output = work / "requirements.txt"

        def build(this: CompileJob) -> list[str]:
            _write(output, this.preferences)  # (again for a second run: uv rewrote it)
            return _uv_common(this, output, work) + ["--generate-hashes", "--emit-index-annotation"]

        _run(build, "uv", job)
        return output.read_text(encoding="utf-8")


def pylock_files_with_uv(job: CompileJob, pins: list[str]) -> dict[tuple[str, str], dict[str, str]]:
    """For exact pins: (name, version) -> {sha256 hex: file name} of every file the index lists
    for that version, for any platform (uv's `--universal` PEP 751 pylock.toml, `--no-deps`).

    The resolutions just fetched every index page this needs, so uv reads them from its cache
    (`--offline`, about a second for 200 pins, no network round trip); it goes online only
    when the cache cannot answer (pip-tools resolved, or the cache was unusable). Which of
    the files a platform may install is decided by the caller (envman.ecosystems.python.hashes)."""
    import tomllib

    with tempfile.TemporaryDirectory(prefix="envman-uv-") as tmp:
        work = Path(tmp)
        output = work / "pylock.toml"
        files_job = replace(job, requirements=pins, platform=None, constraints=[], preferences=[], upgrade=False, upgrade_packages=[])

        def build(this: CompileJob) -> list[str]:
            return _uv_common(this, output, work) + ["--universal", "--format", "pylock.toml", "--no-deps"]

        if job.no_cache or job.offline:  # no cache to read from: straight online; offline: the cache or nothing
            _run(build, "uv", files_job)
        else:
            try:
                _run(build, "uv", replace(files_job, offline=True))
            except (ResolutionError, UnreachableError):
                _run(build, "uv", files_job)
        try:
            data = tomllib.loads(output.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            raise ResolutionError(f"uv wrote an unreadable pylock.toml: {exc}") from None
    return _pylock_files(data)


def _pylock_files(data: dict[str, object]) -> dict[tuple[str, str], dict[str, str]]:
    """(name, version) -> {sha256: file name} from a PEP 751 document (files without a sha256 or
    a usable name are left out)."""
    from urllib.parse import unquote, urlsplit

    from packaging.utils import canonicalize_name

    result: dict[tuple[str, str], dict[str, str]] = {}
    packages = data.get("packages")
    for package in packages if isinstance(packages, list) else []:
        if not isinstance(package, dict) or not isinstance(package.get("name"), str) or "version" not in package:
            continue
        wheels = package.get("wheels")
        files = [f for f in (wheels if isinstance(wheels, list) else []) if isinstance(f, dict)]
        if isinstance(package.get("sdist"), dict):
            files.append(package["sdist"])
        found: dict[str, str] = {}
        for item in files:
            hashes = item.get("hashes")
            digest = hashes.get("sha256") if isinstance(hashes, dict) else None
            where = item.get("name") or item.get("url") or item.get("path")
            if not isinstance(digest, str) or not isinstance(where, str):
                continue
            found[digest.lower()] = unquote(urlsplit(where).path.rpartition("/")[2]) if "/" in where else where
        key = (str(canonicalize_name(package["name"])), str(package["version"]))
        result.setdefault(key, {}).update(found)
    return result


def compile_with_piptools(job: CompileJob) -> str:
    """pip-compile resolves for the running interpreter and platform (it has no target flags)."""
    host = f"{sys.version_info.major}.{sys.version_info.minor}"
    wanted = ".".join(job.python_version.split(".")[:2])
    if host != wanted:
        raise BadInputError(
            f"python.resolver pip-tools resolves for the interpreter running envman (Python {host}), "
            f"but python.version is {job.python_version}; run envman with Python {wanted} or use the uv resolver"
        )
    with tempfile.TemporaryDirectory(prefix="envman-piptools-") as tmp:
        work = Path(tmp)
        requirements = _write(work / "requirements.in", job.requirements)
        output = work / "requirements.txt"

        def build(this: CompileJob) -> list[str]:
            _write(output, this.preferences)
            argv = [
                sys.executable, "-m", "piptools", "compile", str(requirements), "--output-file", str(output),
                "--generate-hashes", "--no-header", "--quiet", "--no-emit-index-url", "--strip-extras",
                "--resolver", "backtracking", "--no-config",
            ]
            argv += _selection_args(this, work, "pip-compile")
            if this.index_url is None:
                argv += ["--index-url", "https://pypi.org/simple"]
            pip_args = (["--no-index"] if this.offline else []) + (["--no-cache-dir"] if this.no_cache else [])
            if pip_args:
                argv += ["--pip-args", " ".join(pip_args)]
            return argv

        _run(build, "pip-compile", job)
        return output.read_text(encoding="utf-8")
