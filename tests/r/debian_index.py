"""Turn Debian's r-cran-* metadata (tests/r/fixtures/debian-r-cran.dcf.gz) into a CRAN-like
PACKAGES index: about 1,100 real CRAN packages with their real dependency graph.

- names: CRAN spelling from the Homepage (`cran.r-project.org/package=X`, GitHub repository
  names, R's recommended set), else the Debian suffix;
- versions: upstream part of the Debian version (epoch, revision, +dfsg/+bN suffixes cut);
- Depends: every `r-cran-*` dependency becomes an Imports entry (Debian does not keep
  Imports/LinkingTo apart); a constraint the target's own version does not meet (Debian
  revisions in constraints) is dropped, so the graph stays resolvable as on Debian.
Used by the large-scale tests and by benchmarks/r_lock.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import tarfile
from pathlib import Path

from envman.ecosystems.r.constants import RECOMMENDED_PACKAGES
from envman.ecosystems.r.dcf import parse_dcf
from envman.ecosystems.r.versions import VersionError, parse_constraint, version_key

__all__ = ["FIXTURE", "debian_records", "packages_records", "packages_text", "write_repository"]

FIXTURE = Path(__file__).with_name("fixtures") / "debian-r-cran.dcf.gz"

_HOMEPAGE = [
    re.compile(r"cran\.r-project\.org/(?:web/)?packages?(?:=|/)([A-Za-z][A-Za-z0-9.]*)"),
    re.compile(r"CRAN\.R-project\.org/package=([A-Za-z][A-Za-z0-9.]*)", re.I),
    re.compile(r"github\.com/[^/]+/([A-Za-z][A-Za-z0-9.]*?)(?:\.git)?/?$"),
    re.compile(r"r-forge\.r-project\.org/projects/([A-Za-z][A-Za-z0-9.]*)"),
    re.compile(r"/([A-Za-z][A-Za-z0-9.]*)/?$"),
]
_RECOMMENDED = {n.lower(): n for n in RECOMMENDED_PACKAGES}
# CRAN spellings the Homepage heuristic misses, for some widely used packages
_SPELLING = {n.lower(): n for n in (
    "Rcpp", "RcppCCTZ", "RcppDate", "RcppSpdlog", "DEoptimR", "RcppEigen", "RcppArmadillo", "RcppParallel", "RcppTOML",
    "RSQLite", "RCurl", "XML", "RColorBrewer", "R6", "RUnit", "RJSONIO", "TTR", "Rglpk", "Rsolnp",
)}
_R_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9.]*[A-Za-z0-9]$")
_DEB_OPS = {">=": ">=", "<=": "<=", ">>": ">", "<<": "<", "=": "=="}


def debian_records(path: Path = FIXTURE) -> list[dict[str, str]]:
    return parse_dcf(gzip.decompress(path.read_bytes()).decode())


def _upstream(version: str) -> str | None:
    version = version.split(":", 1)[-1]
    if "-" in version:
        version = version.rsplit("-", 1)[0]
    version = re.split(r"[+~]", version, maxsplit=1)[0]
    version = re.sub(r"[^0-9.\-]", "", version).strip(".-")
    try:
        version_key(version)
    except VersionError:
        return None
    return version


def _cran_name(suffix: str, homepage: str) -> str:
    if suffix in _RECOMMENDED:
        return _RECOMMENDED[suffix]
    if suffix in _SPELLING:
        return _SPELLING[suffix]
    for pattern in _HOMEPAGE:
        match = pattern.search(homepage.strip())
        if match and match.group(1).lower() == suffix:
            return match.group(1)
    return suffix


def packages_records(path: Path = FIXTURE) -> list[dict[str, str]]:
    """PACKAGES records (Package, Version, Imports, NeedsCompilation), sorted by name."""
    debs: dict[str, dict[str, str]] = {}
    for record in debian_records(path):
        name = record.get("Package", "")
        if name.startswith("r-cran-") and name not in debs:
            debs[name] = record
    names = {deb: _cran_name(deb[len("r-cran-"):], rec.get("Homepage", "")) for deb, rec in debs.items()}
    versions = {deb: _upstream(rec.get("Version", "")) if _R_NAME.match(names[deb]) else None for deb, rec in debs.items()}
    out = []
    for deb, record in sorted(debs.items()):
        version = versions[deb]
        if version is None:
            continue
        imports: list[str] = []
        seen: set[str] = set()
        for alternative in record.get("Depends", "").split(","):
            first = alternative.split("|")[0].strip()
            match = re.match(r"^(r-cran-[a-z0-9.+\-]+)(?:\s*\((>=|<=|>>|<<|=)\s*([^)]+)\))?$", first)
            if not match or match.group(1) not in debs or versions.get(match.group(1)) is None:
                continue
            dep = match.group(1)
            if dep == deb or names[dep] in seen:
                continue
            seen.add(names[dep])
            entry = names[dep]
            if match.group(2):
                wanted = _upstream(match.group(3) + "-0")
                if wanted:
                    constraint = parse_constraint(_DEB_OPS[match.group(2)], wanted)
                    if constraint.allows(version_key(versions[dep])):
                        entry = f"{entry} ({constraint})"
            imports.append(entry)
        fields = {"Package": names[deb], "Version": version}
        if names[deb] in RECOMMENDED_PACKAGES:
            fields["Priority"] = "recommended"
        if imports:
            fields["Imports"] = ", ".join(imports)
        fields["NeedsCompilation"] = "no" if record.get("Architecture") == "all" else "yes"
        out.append(fields)
    return sorted(out, key=lambda r: r["Package"])


def _dcf(records: list[dict[str, str]]) -> str:
    return "\n".join("".join(f"{k}: {v}\n" for k, v in r.items()) for r in records)


def packages_text(path: Path = FIXTURE) -> str:
    return _dcf(packages_records(path))


def _tarball(record: dict[str, str]) -> bytes:
    name = record["Package"]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz", format=tarfile.USTAR_FORMAT) as tar:
        data = _dcf([{**record, "Title": "Stub", "Description": "Stub built from Debian metadata.", "License": "GPL-2"}]).encode()
        info = tarfile.TarInfo(f"{name}/DESCRIPTION")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_repository(root: Path, records: list[dict[str, str]] | None = None) -> Path:
    """A CRAN-like repository of stub tarballs (DESCRIPTION only) with MD5sums; returns root."""
    records = records if records is not None else packages_records()
    contrib = root / "src" / "contrib"
    contrib.mkdir(parents=True, exist_ok=True)
    index = []
    for record in records:
        data = _tarball(record)
        (contrib / f"{record['Package']}_{record['Version']}.tar.gz").write_bytes(data)
        index.append({**record, "MD5sum": hashlib.md5(data).hexdigest()})
    text = _dcf(index)
    (contrib / "PACKAGES").write_text(text)
    (contrib / "PACKAGES.gz").write_bytes(gzip.compress(text.encode(), mtime=0))
    return root
