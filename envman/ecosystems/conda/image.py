"""Image data for the conda packages of one environment: the prefix /opt/envman/conda, made
in a builder stage by the same installer as `envman sync conda:PREFIX` (install.py).

Conda packages embed their prefix (text and binary placeholders are replaced by the path
they are linked at), so the prefix is made at its final path inside the builder stage, and
the final image gets that folder only (COPY --from). What the stage needs comes from the host,
so the build is offline:
- every locked package file (conda/pkgs/<file name>), fetched into the content-addressed
  cache by url and verified by sha256 like every artifact, and checked whole on the host
  here (verify.py: a corrupt package is exit 3, a hostile one exit 5, before any build; a
  package that passed is remembered in the cache by its sha256 and lock identity);
- conda/packages.json, the lock's packages for install.py (url, sha256, md5, depends);
- install.py itself, and py-rattler: the host's own installed copy (the one envman runs
  with), each file checked against its RECORD, in conda/lib/ and put on PYTHONPATH. No index,
  no download and no uv are needed; py-rattler is an abi3 wheel for CPython >= 3.10, so the
  builder stage (image.base, or image.builder) must have python3 >= 3.10, and, like uv for
  the Python layer, the host's architecture is the image's.
"""

from __future__ import annotations

import base64
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from envman.ecosystems.base import Artifact, Fragment, FragmentContext
from envman.errors import BuildError

__all__ = ["CONDA_DIR", "to_fragment", "rattler_files"]

CONDA_DIR = "/opt/envman/conda"
_CHECKED = "envman:conda-package-checked:"  # cache key prefix of packages verify.py accepted


def to_fragment(entries: list[Any], context: FragmentContext, label: str) -> Fragment:
    from envman.ecosystems.conda import install
    from envman.ecosystems.conda.sync import package_data, platform_of
    from envman.ecosystems.conda.verify import package_file_name

    if not entries:
        return Fragment(ecosystem="conda")
    ordered = sorted(entries, key=lambda e: (e.name, e.version, e.build))
    names = {e.name: package_file_name(e.url) for e in ordered}
    _check_packages(ordered, context)
    listing = {
        "format": install.PACKAGES_FORMAT,
        "platform": platform_of(ordered) or context.platform,
        "packages": [package_data(e, f"pkgs/{names[e.name]}") for e in ordered],
    }
    files: dict[str, bytes | Path] = {
        "conda/packages.json": (json.dumps(listing, indent=1, sort_keys=True) + "\n").encode(),
        "conda/install.py": Path(install.__file__),
    }
    files.update({f"conda/lib/{rel}": path for rel, path in rattler_files().items()})
    return Fragment(
        ecosystem="conda",
        template="conda",
        rank=10,  # native libraries and runtimes change least often: the lowest layer
        install_dir=CONDA_DIR,
        artifacts=[Artifact(url=e.url, sha256=e.sha256.removeprefix("sha256:"), path=f"conda/pkgs/{names[e.name]}") for e in ordered],
        files=files,
        data={"prefix": CONDA_DIR, "count": len(ordered)},
        env={"PATH": f"{CONDA_DIR}/bin:$PATH", "CONDA_PREFIX": CONDA_DIR},
        labels={label: CONDA_DIR},  # where envman.targets probes
    )


def _check_packages(entries: list[Any], context: FragmentContext) -> None:
    """Fetch (verified) and check each package whole on the host before it reaches a build."""
    from envman.ecosystems.conda.sync import fetch_package
    from envman.ecosystems.conda.verify import unpack_checked

    services = context.services
    cache = services.cache
    todo = [e for e in entries if cache.get_index(_checked_key(e)) is None]
    if not todo:
        return
    services.progress(f"conda: checking {len(todo)} packages")
    for entry in todo:
        artifact = fetch_package(entry, services, "conda")
        with tempfile.TemporaryDirectory(prefix="envman-conda-") as tmp:
            unpack_checked(artifact, entry, Path(tmp) / "package", "conda")
        cache.put_index(_checked_key(entry), b"ok\n")


def _checked_key(entry: Any) -> str:
    return f"{_CHECKED}{entry.sha256.removeprefix('sha256:')}:{entry.name}-{entry.version}-{entry.build}"


def rattler_files() -> dict[str, Path]:
    """Relative path -> host file of the installed py-rattler package (`rattler/…`, without
    bytecode), each checked against the distribution's RECORD."""
    from importlib import metadata

    try:
        dist = metadata.distribution("py-rattler")
    except metadata.PackageNotFoundError:
        raise BuildError("the conda layer needs py-rattler installed beside envman (pip install py-rattler)") from None
    found: dict[str, Path] = {}
    for item in dist.files or []:
        rel = str(item).replace("\\", "/")
        if item.parts[0] != "rattler" or "__pycache__" in item.parts:
            continue
        path = Path(str(item.locate()))
        if item.hash is None or item.hash.mode != "sha256" or _record_hash(path) != item.hash.value:
            raise BuildError(f"py-rattler's {rel} ({path}) is not the file its RECORD lists; reinstall py-rattler")
        found[rel] = path
    if "rattler/__init__.py" not in found:
        raise BuildError("the installed py-rattler lists no rattler/__init__.py in its RECORD; reinstall py-rattler")
    return found


def _record_hash(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except OSError:
        return None
    return base64.urlsafe_b64encode(digest.digest()).rstrip(b"=").decode()
