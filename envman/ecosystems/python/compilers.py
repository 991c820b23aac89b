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
from dataclasses import dataclass, field
from pathlib import Path

from envman.errors import BadInputError, ResolutionError, UnreachableError
from envman.redact import redact_text

__all__ = ["CompileJob", "compile_with_uv", "compile_with_piptools", "pylock_hashes_with_uv"]

_UNREACHABLE = re.compile(
    r"(Failed to fetch|error sending request|Could not connect|connection refused|Connection refused|"
    r"dns error|HTTP status (server|client) error|status code: 5\d\d|timed out|Max retries exceeded|"
    r"NewConnectionError|Failed to establish a new connection|ProxyError|500 Server Error|"
    r"Failed to read from the distribution cache|Network connectivity is disabled)",
)
_INDEX_URL = re.compile(r"(https?|file)://[^\s`'\"]+")


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


def _write(path: Path, lines: list[str]) -> Path:
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
        return ResolutionError(f"no Python resolution: the requirements conflict:\n{summary}")
    return ResolutionError(f"{tool} could not resolve the Python section:\n{summary}")


def _selection_args(job: CompileJob, work: Path) -> list[str]:
    """Flags both resolvers share: sources, constraints, upgrades, cache."""
    args = _source_args(job)
    if job.constraints:
        args += ["--constraint", str(_write(work / "constraints.txt", job.constraints))]
    if job.upgrade:
        args.append("--upgrade")
    for name in job.upgrade_packages:
        args += ["--upgrade-package", name]
    if job.cache_dir:
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
    argv += _selection_args(job, work)
    if job.offline:
        argv.append("--offline")
    return argv


def _run(argv: list[str], tool: str, job: CompileJob) -> None:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, env=_clean_env(), timeout=1800)
    except FileNotFoundError as exc:
        raise UnreachableError(f"{tool} is not installed: {exc}") from None
    if done.returncode != 0:
        raise _explain_failure(tool, job, done.stderr + "\n" + done.stdout)


def compile_with_uv(job: CompileJob) -> str:
    """Pins with every published hash and `# via` / `# from` annotations."""
    with tempfile.TemporaryDirectory(prefix="envman-uv-") as tmp:
        work = Path(tmp)
        output = _write(work / "requirements.txt", job.preferences)
        argv = _uv_common(job, output, work) + ["--generate-hashes", "--emit-index-annotation"]
        _run(argv, "uv", job)
        return output.read_text(encoding="utf-8")


def pylock_hashes_with_uv(job: CompileJob, pins: list[str]) -> dict[str, tuple[str, list[str]]]:
    """For exact pins on job.platform: name -> (version, sha256 of each file install may pick).

    uv's pylock output lists only the wheels compatible with --python-platform (and the
    sdist), so this narrows the hashes to what an install on that platform can use.
    """
    import tomllib

    from packaging.utils import canonicalize_name

    with tempfile.TemporaryDirectory(prefix="envman-uv-") as tmp:
        work = Path(tmp)
        output = work / "pylock.toml"
        narrowed = CompileJob(
            **{**job.__dict__, "requirements": pins, "constraints": [], "preferences": [], "upgrade": False, "upgrade_packages": []}
        )
        # The resolution just fetched every page this pass needs: read them from uv's cache
        # (offline, ~1 s for 50 pins) instead of revalidating each one (~8 s); go online only
        # when the cache cannot answer.
        cached = CompileJob(**{**narrowed.__dict__, "offline": True})
        try:
            _run(_uv_common(cached, output, work) + ["--format", "pylock.toml", "--no-deps"], "uv", cached)
        except (ResolutionError, UnreachableError):
            if job.offline:
                raise
            _run(_uv_common(narrowed, output, work) + ["--format", "pylock.toml", "--no-deps"], "uv", narrowed)
        try:
            data = tomllib.loads(output.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ResolutionError(f"uv wrote an unreadable pylock.toml: {exc}") from None
    result: dict[str, tuple[str, list[str]]] = {}
    for package in data.get("packages", []):
        files = list(package.get("wheels", []))
        if "sdist" in package:
            files.append(package["sdist"])
        hashes = sorted({f"sha256:{f['hashes']['sha256']}" for f in files if "sha256" in f.get("hashes", {})})
        result[str(canonicalize_name(package["name"]))] = (str(package["version"]), hashes)
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
        output = _write(work / "requirements.txt", job.preferences)
        argv = [
            sys.executable, "-m", "piptools", "compile", str(requirements), "--output-file", str(output),
            "--generate-hashes", "--no-header", "--quiet", "--no-emit-index-url", "--strip-extras",
            "--resolver", "backtracking", "--no-config",
        ]
        argv += _selection_args(job, work)
        if job.index_url is None:
            argv += ["--index-url", "https://pypi.org/simple"]
        if job.offline:
            argv += ["--pip-args", "--no-index"]
        _run(argv, "pip-compile", job)
        return output.read_text(encoding="utf-8")
