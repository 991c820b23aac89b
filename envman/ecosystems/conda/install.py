"""Link conda packages into a prefix with py-rattler: the one installer of `envman sync
conda:PREFIX` and of the image's conda layer.

Standard library and py-rattler only, no envman import: the same file runs on the host
(imported by envman.ecosystems.conda.sync, after envman has fetched every package by url and
sha256 and checked it whole: verify.py) and, copied into the build context, in the image's
conda builder stage (`python3 install.py packages.json PREFIX`, templates/ecosystems/conda/),
where the packages were fetched and checked on the host when the image was rendered.

Each package is a dict: name, version, build, url (the lock's), sha256, md5, file (the
package file, `.conda` or `.tar.bz2`, on this machine) and optionally depends (the
channel's match specs, which conda-meta records like conda does). The file is extracted by
rattler into `cache` (a package cache folder of this run only; the host extracts there
itself while checking) and the record is read from the package's own info/index.json, so
the conda-meta records carry what the package carries; url, channel, sha256 and md5 are
the lock's. rattler then computes the transaction against what the prefix holds (removing
what is not wanted, unless `ignored`), copies the files (never hard links or symlinks into
the throwaway cache), replaces the prefix placeholders (text and binary) and writes
`conda-meta/<name>-<version>-<build>.json`. Link scripts are never run.

Afterwards each record written is made reproducible and honest: the paths into this run's
package cache (`extracted_package_dir`, `link` {source, type}, `package_tarball_full_path`)
are dropped, and the file is made readable by everyone (rattler writes 0600), with the
package's own data unchanged.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["PACKAGES_FORMAT", "stem", "file_name", "channel_url", "extract", "link_prefix", "tidy_records", "main"]

PACKAGES_FORMAT = 1  # the "format" of packages.json, written by envman.ecosystems.conda.image
# copies only: the package cache is thrown away, and a hard link would tie the prefix's
# files to it (and make the link type, written into conda-meta, depend on the file system)
_CONFIG = "allow-hard-links = false\nallow-ref-links = false\n"
_RUN_PATHS = ("extracted_package_dir", "package_tarball_full_path", "link")  # link: {source: the cache folder, type}


def stem(package: Mapping[str, Any]) -> str:
    """`name-version-build`: the package's folder in a package cache."""
    return f"{package['name']}-{package['version']}-{package['build']}"


def file_name(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[-1]


def channel_url(url: str) -> str:
    """The channel of a package URL (`…/<channel>/<subdir>/<file>` -> `…/<channel>`), as
    conda records it."""
    return url.rsplit("/", 2)[0]


def extract(archive: str | os.PathLike[str], folder: str | os.PathLike[str]) -> None:
    """rattler's extraction of a `.conda` or `.tar.bz2` file into folder."""
    from rattler.package_streaming import extract as rattler_extract

    rattler_extract(Path(archive), Path(folder))


def _record(package: Mapping[str, Any], folder: Path) -> Any:
    """The package's RepoDataRecord: from its info/index.json when it is extracted, else (a
    package this run leaves alone) from the lock's fields."""
    from rattler import BuildString, PackageRecord, RepoDataRecord

    url = str(package["url"])
    sha256, md5 = package.get("sha256"), package.get("md5")
    index = folder / "info" / "index.json"
    if index.is_file():
        size = os.stat(package["file"]).st_size if package.get("file") else None
        record = PackageRecord.from_index_json(index, size=size, sha256=sha256, md5=md5)
    else:
        record = PackageRecord(
            str(package["name"]),
            str(package["version"]),
            BuildString(str(package["build"])),
            int(package.get("build_number") or 0),
            str(package.get("subdir") or "noarch"),
            sha256=bytes.fromhex(sha256) if sha256 else None,
            md5=bytes.fromhex(md5) if md5 else None,
        )
    if package.get("depends") is not None:
        record.depends = [str(spec) for spec in package["depends"]]
    return RepoDataRecord(record, file_name(url), url, channel_url(url))


def link_prefix(
    prefix: str | os.PathLike[str],
    packages: Sequence[Mapping[str, Any]],
    cache: str | os.PathLike[str],
    *,
    platform: str | None = None,
    reinstall: Iterable[str] = (),
    ignored: Iterable[str] = (),
    installed: list[Any] | None = None,
) -> list[str]:
    """Make prefix hold exactly `packages` (those in `ignored` left as they are); returns
    the names of the packages whose records this call wrote.

    A package whose folder `cache/<name>-<version>-<build>` is missing is extracted there
    from its `file` first. installed: rattler PrefixRecords of what the prefix holds (None:
    rattler reads conda-meta itself)."""
    from rattler import Config, PackageCache, install
    from rattler.platform import Platform

    cache_dir = Path(cache)
    records = []
    for package in packages:
        folder = cache_dir / stem(package)
        if not (folder / "info" / "index.json").is_file() and package.get("file"):
            extract(package["file"], folder)
        records.append(_record(package, folder))
    root = Path(prefix)
    before = _record_stamps(root)
    asyncio.run(
        install(
            records,
            target_prefix=root,
            installed_packages=installed,
            reinstall_packages=set(reinstall) or None,
            ignored_packages=set(ignored) or None,
            platform=Platform(platform) if platform else None,
            execute_link_scripts=False,
            show_progress=False,
            config=Config.from_toml(_CONFIG),
            package_cache=PackageCache(cache_dir),
        )
    )
    written = sorted(name for name, stamp in _record_stamps(root).items() if before.get(name) != stamp)
    tidy_records(root, written)
    return [name.rsplit("-", 2)[0] for name in written]


def _record_stamps(prefix: Path) -> dict[str, tuple[int, int, int]]:
    """conda-meta record stem -> (inode, size, mtime_ns): which records a transaction wrote."""
    found = {}
    meta = prefix / "conda-meta"
    if meta.is_dir():
        for path in meta.iterdir():
            if path.name.endswith(".json") and path.is_file() and not path.is_symlink():
                info = path.stat()
                found[path.name[: -len(".json")]] = (info.st_ino, info.st_size, info.st_mtime_ns)
    return found


def tidy_records(prefix: str | os.PathLike[str], stems: Iterable[str]) -> None:
    """Drop the paths of this run's package cache from the named conda-meta records and make
    them world-readable, keeping everything else as rattler wrote it."""
    meta = Path(prefix) / "conda-meta"
    for name in stems:
        path = meta / f"{name}.json"
        record = json.loads(path.read_text(encoding="utf-8"))
        for key in _RUN_PATHS:
            record.pop(key, None)
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)


def main(argv: Sequence[str] | None = None) -> int:
    """`python3 install.py PACKAGES_JSON PREFIX`: the image's builder stage. PACKAGES_JSON:
    {"format": 1, "platform": …, "packages": [{name, version, build, url, sha256, md5,
    depends, file}]} with `file` relative to the JSON file's folder."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 2:
        print("usage: install.py PACKAGES_JSON PREFIX", file=sys.stderr)
        return 2
    listing = Path(args[0]).resolve()
    data = json.loads(listing.read_text(encoding="utf-8"))
    if data.get("format") != PACKAGES_FORMAT:
        print(f"{listing}: unknown format {data.get('format')!r}", file=sys.stderr)
        return 2
    packages = [{**p, "file": str(listing.parent / p["file"])} for p in data["packages"]]
    cache = listing.parent / "cache"
    cache.mkdir(exist_ok=True)
    names = link_prefix(args[1], packages, cache, platform=data.get("platform"))
    print(f"conda: {len(names)} packages linked into {args[1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
